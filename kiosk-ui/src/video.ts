/**
 * Video on the room screen (docs/kiosk-and-admin-api.md §Room screen: the live socket to the page,
 * WebCodecs VideoDecoder, canvas). Each socket message is one kiosk feed message, decoded by the
 * daemon's own codec (src/media/kiosk-feed.ts, docs/protocol.md "# Kiosk media feed"); a message
 * it refuses is dropped.
 *
 * roomd sends every stream from a keyframe on (and again after it skipped frames for a slow page),
 * so one VideoDecoder per stream decodes in order; the page still drops deltas until a keyframe
 * after a decoder error. Camera streams paint the participant's tile; self view paints the room's
 * own tile; content (the screen stream, whoever shares, the room too) paints the one share view
 * (docs/kiosk-and-admin-api.md §Content sharing).
 */
import { webCodecsVideoCodec } from '../../src/media/codec-string.ts';
import { paintSize } from '../../src/media/paint-size.ts';
import { decodeFeedMessage, type FeedFrame } from '../../src/media/kiosk-feed.ts';
import type { VideoCodec } from '../../src/media/types.ts';
import { feedTarget, SELF_VIEW } from './feed-target.ts';

export { SELF_VIEW, SHARE_VIEW } from './feed-target.ts';

/** WebCodecs codec string; H.264 takes profile/constraints/level from the keyframe's SPS. */
export function codecString(frame: FeedFrame): string | null {
  return webCodecsVideoCodec(frame.codec, frame.data);
}

interface Stream {
  decoder: VideoDecoder;
  codec: VideoCodec;
  waitingForKeyframe: boolean;
}

/** Routes decoded frames to the canvases the tiles register. */
export class VideoRouter {
  readonly #streams = new Map<string, Stream>();
  readonly #canvases = new Map<string, HTMLCanvasElement>();
  /** Targets whose canvas has been painted since it was attached. */
  readonly #painted = new Set<string>();
  readonly #listeners = new Set<(participantId: string) => void>();
  readonly supported = typeof globalThis.VideoDecoder === 'function';

  /**
   * Paint `target`'s frames on `canvas` (a participant's id, SELF_VIEW or SHARE_VIEW). A canvas
   * attached anew (a layout change remounts the tiles) hears its first frame again.
   */
  attach(target: string, canvas: HTMLCanvasElement): () => void {
    this.#canvases.set(target, canvas);
    this.#painted.delete(target);
    return () => {
      if (this.#canvases.get(target) !== canvas) return;
      this.#canvases.delete(target);
      this.#painted.delete(target);
    };
  }

  /** Hear when a target's first frame is painted on its canvas (tiles hide their placeholder). */
  onFirstFrame(listener: (participantId: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  push(message: Uint8Array): void {
    if (!this.supported) return;
    const decoded = decodeFeedMessage(message);
    if (!decoded.ok) return;
    const frame = decoded.frame;
    const target = feedTarget(frame);
    if (target === null) return;
    // One decoder per stream: content from two sharers (a change of sharer) never shares one.
    const key = `${frame.self ? SELF_VIEW : frame.participantId}/${frame.streamId}`;
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
    if (stream.decoder.decodeQueueSize > 3) {
      stream.waitingForKeyframe = true;
      return;
    }
    stream.decoder.decode(
      new EncodedVideoChunk({
        type: frame.keyframe ? 'key' : 'delta',
        timestamp: Math.round(frame.captureTs * 1000),
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
    const stream: Stream = {
      codec: frame.codec,
      waitingForKeyframe: true,
      decoder: new VideoDecoder({
        output: (video) => {
          const canvas = this.#canvases.get(target);
          if (canvas !== undefined) {
            const size = paintSize(video.displayWidth, video.displayHeight);
            if (canvas.width !== size.width || canvas.height !== size.height) {
              canvas.width = size.width;
              canvas.height = size.height;
            }
            canvas.getContext('2d')?.drawImage(video, 0, 0, size.width, size.height);
            if (!this.#painted.has(target)) {
              this.#painted.add(target);
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
