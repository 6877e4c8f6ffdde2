/**
 * Video on the room screen (docs/kiosk-and-admin-api.md §Room screen: the live socket to the page,
 * WebCodecs VideoDecoder, canvas). Parses the kiosk media feed (docs/protocol.md "# Kiosk media
 * feed"; big-endian):
 *
 *   0 u8 version (1) · 1 u8 flags (bit 0 keyframe, bit 1 self view) · 2 u8 codec (1 VP8, 2 VP9,
 *   3 H.264 Annex B) · 3 u8 stream id · 4 f64 capture time, ms · 12 u8 N · 13 N bytes participant id
 *   · 13+N the encoded frame.
 *
 * roomd sends every stream from a keyframe on (and again after it skipped frames for a slow page),
 * so one VideoDecoder per stream decodes in order; the page still drops deltas until a keyframe
 * after a decoder error. Camera streams (id 0) paint the participant's tile; self view paints the
 * room's own tile.
 */

export type FeedCodec = 'vp8' | 'vp9' | 'h264';

export interface FeedFrame {
  keyframe: boolean;
  self: boolean;
  codec: FeedCodec;
  streamId: number;
  captureMs: number;
  participantId: string;
  data: Uint8Array;
}

/** Where the room's own camera is painted (the self-view tile registers under this key). */
export const SELF_VIEW = '@self';

const CODECS: Record<number, FeedCodec> = { 1: 'vp8', 2: 'vp9', 3: 'h264' };
const textDecoder = new TextDecoder();

export function parseFeedMessage(bytes: Uint8Array): FeedFrame | null {
  if (bytes.length < 14 || bytes[0] !== 1) return null;
  const codec = CODECS[bytes[2] ?? 0];
  const n = bytes[12] ?? 0;
  if (codec === undefined || n === 0 || bytes.length < 13 + n) return null;
  const flags = bytes[1] ?? 0;
  return {
    keyframe: (flags & 1) !== 0,
    self: (flags & 2) !== 0,
    codec,
    streamId: bytes[3] ?? 0,
    captureMs: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(4),
    participantId: textDecoder.decode(bytes.subarray(13, 13 + n)),
    data: bytes.subarray(13 + n),
  };
}

/** WebCodecs codec string; H.264 takes profile/constraints/level from the keyframe's SPS. */
export function codecString(frame: FeedFrame): string | null {
  if (frame.codec === 'vp8') return 'vp8';
  if (frame.codec === 'vp9') return 'vp09.00.10.08';
  const d = frame.data;
  for (let i = 0; i + 7 < d.length; i++) {
    const startCode = d[i] === 0 && d[i + 1] === 0 && (d[i + 2] === 1 || (d[i + 2] === 0 && d[i + 3] === 1));
    if (!startCode) continue;
    const at = d[i + 2] === 1 ? i + 3 : i + 4;
    if (((d[at] ?? 0) & 0x1f) === 7) {
      const hex = (b: number | undefined) => (b ?? 0).toString(16).padStart(2, '0').toUpperCase();
      return `avc1.${hex(d[at + 1])}${hex(d[at + 2])}${hex(d[at + 3])}`;
    }
  }
  return null;
}

interface Stream {
  decoder: VideoDecoder;
  codec: FeedCodec;
  waitingForKeyframe: boolean;
}

/** Routes decoded frames to the canvases the tiles register. */
export class VideoRouter {
  readonly #streams = new Map<string, Stream>();
  readonly #canvases = new Map<string, HTMLCanvasElement>();
  readonly #listeners = new Set<(participantId: string) => void>();
  readonly supported = typeof globalThis.VideoDecoder === 'function';

  attach(participantId: string, canvas: HTMLCanvasElement): () => void {
    this.#canvases.set(participantId, canvas);
    return () => {
      if (this.#canvases.get(participantId) === canvas) this.#canvases.delete(participantId);
    };
  }

  /** Hear when a participant's first frame is painted (tiles hide their placeholder). */
  onFirstFrame(listener: (participantId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  push(message: Uint8Array): void {
    if (!this.supported) return;
    const frame = parseFeedMessage(message);
    if (frame === null || (frame.streamId !== 0 && !frame.self)) return;
    const target = frame.self ? SELF_VIEW : frame.participantId;
    const key = `${target}/${frame.streamId}`;
    let stream = this.#streams.get(key);
    if (stream === undefined || stream.codec !== frame.codec || stream.decoder.state === 'closed') {
      if (!frame.keyframe) return;
      if (stream !== undefined && stream.decoder.state !== 'closed') stream.decoder.close();
      const opened = this.#open(target, frame);
      if (opened === null) return;
      stream = opened;
      this.#streams.set(key, stream);
    }
    if (stream.waitingForKeyframe && !frame.keyframe) return;
    stream.waitingForKeyframe = false;
    if (stream.decoder.decodeQueueSize > 8) {
      stream.waitingForKeyframe = true;
      return;
    }
    stream.decoder.decode(
      new EncodedVideoChunk({
        type: frame.keyframe ? 'key' : 'delta',
        timestamp: Math.round(frame.captureMs * 1000),
        data: frame.data,
      }),
    );
  }

  close(): void {
    for (const s of this.#streams.values()) if (s.decoder.state !== 'closed') s.decoder.close();
    this.#streams.clear();
  }

  #open(target: string, frame: FeedFrame): Stream | null {
    const codec = codecString(frame);
    if (codec === null) return null;
    let painted = false;
    const stream: Stream = {
      codec: frame.codec,
      waitingForKeyframe: true,
      decoder: new VideoDecoder({
        output: (video) => {
          const canvas = this.#canvases.get(target);
          if (canvas !== undefined) {
            if (canvas.width !== video.displayWidth || canvas.height !== video.displayHeight) {
              canvas.width = video.displayWidth;
              canvas.height = video.displayHeight;
            }
            canvas.getContext('2d')?.drawImage(video, 0, 0);
            if (!painted) {
              painted = true;
              for (const l of this.#listeners) l(target);
            }
          }
          video.close();
        },
        error: () => {
          stream.waitingForKeyframe = true;
        },
      }),
    };
    stream.decoder.configure({ codec, optimizeForLatency: true });
    return stream;
  }
}
