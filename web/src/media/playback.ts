/**
 * Decrypted media from the others, played in the page: each participant's video is decoded with
 * WebCodecs and painted on its tile's canvas; its audio is decoded with WebCodecs and scheduled on
 * one Web Audio context through a small jitter buffer (a playout point TARGET_DELAY_MS behind the
 * first packet, re-anchored when the stream runs dry or drifts past MAX_DELAY_MS). A decoder that
 * fails is replaced and waits for the next keyframe, which the media link is asked for; the
 * receiver already drops frames after a gap until a keyframe (docs/protocol.md §Media chunks).
 */
import { webCodecsVideoCodec } from '../../../src/media/codec-string.ts';
import { paintSize } from '../../../src/media/paint-size.ts';
import type { ReceivedMedia } from '../../../src/meeting/media-link.ts';
import { ignoreRefusal } from './web-errors.ts';

export const TARGET_DELAY_MS = 60;
export const MAX_DELAY_MS = 300;

export interface PlaybackCounters {
  videoFramesDecoded: number;
  videoDecoderErrors: number;
  /** Deltas dropped because decoding fell behind (each then waits for a keyframe). */
  videoFramesSkipped: number;
  audioPacketsPlayed: number;
  audioDecoderErrors: number;
  /** Opus packets dropped because decoding fell behind. */
  audioPacketsDropped: number;
  /** Frames from someone who left (after the page forgot them). */
  framesFromGone: number;
  /** Keyframes whose codec WebCodecs cannot be configured for (not video, H.264 without an SPS). */
  unsupported: number;
}

/** Frames waiting in a decoder above which deltas are dropped until the next keyframe. */
export const MAX_DECODE_QUEUE = 30;
/** A tile asks its sender for a keyframe at most this often. */
export const KEYFRAME_ASK_MS = 1000;
/** Opus packets waiting in a decoder above which new ones are dropped (a second of audio). */
export const MAX_AUDIO_DECODE_QUEUE = 50;

/** WebCodecs' errors for a chunk or configuration it refuses (DOMException names). */
const DECODE_REFUSALS = new Set(['DataError', 'InvalidStateError', 'EncodingError', 'NotSupportedError']);

function refusal(error: unknown): string | null {
  return error instanceof Error && DECODE_REFUSALS.has(error.name) ? error.name : null;
}

/** One participant's camera or shared content: decoder → canvas. */
class VideoTile {
  #decoder: VideoDecoder | null = null;
  #needKeyframe = true;
  #codec = '';
  canvas: HTMLCanvasElement | null = null;
  /** The newest frame, when it arrived before the canvas did. */
  #pending: VideoFrame | null = null;
  /** Wall time the last frame was painted and its capture time, for the page's figures. */
  lastPaint: { at: number; captureTs: number } | null = null;
  /** Told of the first picture painted on the current canvas (the tile then drops its placeholder). */
  #onFirstPaint: (() => void) | null = null;
  #askedAt = Number.NEGATIVE_INFINITY;
  /** Codec strings this browser cannot decode: their keyframes are not asked for again. */
  readonly #unsupported = new Set<string>();

  constructor(
    readonly counters: PlaybackCounters,
    readonly askKeyframe: () => void,
    readonly now: () => number,
  ) {}

  push(f: ReceivedMedia): void {
    let decoder = this.#decoder;
    if (f.keyframe) {
      const codec = webCodecsVideoCodec(f.codec, f.data);
      if (codec === null || this.#unsupported.has(codec)) {
        this.counters.unsupported++;
        return;
      }
      // A keyframe behind a backlog would only queue behind it: start a fresh decoder instead.
      if (decoder !== null && decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
        this.counters.videoFramesSkipped += decoder.decodeQueueSize;
        this.#reset();
      }
      decoder = this.#decoderFor(codec);
    } else if (decoder !== null && decoder.decodeQueueSize > MAX_DECODE_QUEUE) {
      // Decoding falls behind the sender: skip to its next keyframe rather than queue without end.
      this.counters.videoFramesSkipped++;
      this.#lost();
      return;
    }
    if (decoder === null || (this.#needKeyframe && !f.keyframe)) return;
    try {
      decoder.decode(
        new EncodedVideoChunk({
          type: f.keyframe ? 'key' : 'delta',
          timestamp: f.captureTs * 1000,
          data: f.data,
        }),
      );
    } catch (error) {
      // A chunk the decoder refuses (a "keyframe" that is none, a closed decoder): count, start over.
      if (refusal(error) === null) throw error;
      this.counters.videoDecoderErrors++;
      this.#lost();
      return;
    }
    this.#needKeyframe = false;
  }

  attach(canvas: HTMLCanvasElement | null, onFirstPaint: (() => void) | null = null): void {
    this.canvas = canvas;
    this.#onFirstPaint = onFirstPaint;
    const p = this.#pending;
    this.#pending = null;
    if (p !== null) this.#paint(p);
  }

  #reset(): void {
    const d = this.#decoder;
    this.#decoder = null;
    if (d !== null && d.state !== 'closed') d.close();
  }

  /** The picture is broken until the next keyframe: wait for one and ask for it, not too often. */
  #lost(): void {
    this.#needKeyframe = true;
    const now = this.now();
    if (now - this.#askedAt < KEYFRAME_ASK_MS) return;
    this.#askedAt = now;
    this.askKeyframe();
  }

  #decoderFor(codec: string): VideoDecoder {
    // A keyframe in another codec or H.264 profile (the sender changed its encoder): a new decoder.
    if (this.#decoder !== null && this.#decoder.state === 'configured' && this.#codec === codec)
      return this.#decoder;
    if (this.#decoder !== null && this.#decoder.state !== 'closed') this.#decoder.close();
    this.#codec = codec;
    this.#needKeyframe = true;
    const decoder: VideoDecoder = new VideoDecoder({
      output: (frame) => {
        this.counters.videoFramesDecoded++;
        if (this.canvas === null) {
          this.#pending?.close();
          this.#pending = frame;
          return;
        }
        this.#paint(frame);
      },
      error: (error) => {
        // A decoder already replaced reports nothing about the current one.
        if (this.#decoder !== decoder) return;
        this.counters.videoDecoderErrors++;
        this.#decoder = null;
        if (error.name === 'NotSupportedError') {
          this.#unsupported.add(codec);
          this.#needKeyframe = true;
          return;
        }
        this.#lost();
      },
    });
    decoder.configure({ codec, optimizeForLatency: true });
    this.#decoder = decoder;
    return decoder;
  }

  #paint(frame: VideoFrame): void {
    const c = this.canvas;
    if (c !== null) {
      const size = paintSize(frame.displayWidth, frame.displayHeight);
      if (c.width !== size.width || c.height !== size.height) {
        c.width = size.width;
        c.height = size.height;
      }
      c.getContext('2d')?.drawImage(frame, 0, 0, size.width, size.height);
      this.lastPaint = { at: this.now(), captureTs: frame.timestamp / 1000 };
      const first = this.#onFirstPaint;
      this.#onFirstPaint = null;
      first?.();
    }
    frame.close();
  }

  close(): void {
    this.#pending?.close();
    this.#pending = null;
    if (this.#decoder !== null && this.#decoder.state !== 'closed') this.#decoder.close();
    this.#decoder = null;
  }
}

/** One participant's audio: decoder → scheduled buffers on the shared context. */
class AudioStream {
  #decoder: AudioDecoder | null = null;
  /** Context time the next packet plays at; null until the first, or after running dry. */
  #next: number | null = null;

  constructor(
    readonly counters: PlaybackCounters,
    readonly context: () => AudioContext | null,
  ) {}

  push(f: ReceivedMedia): void {
    if (f.codec !== 'opus') {
      this.counters.unsupported++;
      return;
    }
    const decoder = this.#decoderFor();
    // Decoding fell behind: drop the packet (the jitter buffer re-anchors on the next one).
    if (decoder.decodeQueueSize > MAX_AUDIO_DECODE_QUEUE) {
      this.counters.audioPacketsDropped++;
      return;
    }
    try {
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: f.captureTs * 1000, data: f.data }));
    } catch (error) {
      // A packet the decoder refuses: that packet is lost, the next one tries again.
      if (refusal(error) === null) throw error;
      this.counters.audioDecoderErrors++;
    }
  }

  #decoderFor(): AudioDecoder {
    if (this.#decoder !== null && this.#decoder.state === 'configured') return this.#decoder;
    const decoder: AudioDecoder = new AudioDecoder({
      output: (data) => this.#play(data),
      error: () => {
        if (this.#decoder !== decoder) return;
        this.counters.audioDecoderErrors++;
        this.#decoder = null;
      },
    });
    decoder.configure({ codec: 'opus', sampleRate: 48_000, numberOfChannels: 1 });
    this.#decoder = decoder;
    return decoder;
  }

  #play(data: AudioData): void {
    const ctx = this.context();
    if (ctx === null || ctx.state !== 'running') {
      data.close();
      return;
    }
    const n = data.numberOfFrames;
    const buffer = ctx.createBuffer(1, n, data.sampleRate);
    const samples = new Float32Array(n);
    data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
    buffer.copyToChannel(samples, 0);
    data.close();
    const now = ctx.currentTime;
    let at = this.#next;
    // Dry (the stream paused, DTX) or too far behind or ahead: re-anchor at the target delay.
    if (at === null || at < now || at > now + MAX_DELAY_MS / 1000) at = now + TARGET_DELAY_MS / 1000;
    const src = ctx.createBufferSource();
    src.buffer = buffer;
    src.connect(ctx.destination);
    src.start(at);
    this.#next = at + buffer.duration;
    this.counters.audioPacketsPlayed++;
  }

  close(): void {
    if (this.#decoder !== null && this.#decoder.state !== 'closed') this.#decoder.close();
    this.#decoder = null;
  }
}

type VideoKind = 'video' | 'screen';

/** A participant's camera and its shared content have a decoder and canvas each. */
function tileKey(participantId: string, kind: VideoKind): string {
  return `${participantId}/${kind}`;
}

const MAX_GONE = 1024;

export class Playback {
  readonly counters: PlaybackCounters = {
    videoFramesDecoded: 0,
    videoDecoderErrors: 0,
    videoFramesSkipped: 0,
    audioPacketsPlayed: 0,
    audioDecoderErrors: 0,
    audioPacketsDropped: 0,
    framesFromGone: 0,
    unsupported: 0,
  };
  readonly #video = new Map<string, VideoTile>();
  readonly #audio = new Map<string, AudioStream>();
  /** Participants who left, until the roster lists their id again (a new meeting instance may reuse it). */
  readonly #gone = new Set<string>();
  #context: AudioContext | null = null;
  readonly #askKeyframe: (participantId: string, kind: VideoKind) => void;
  readonly #now: () => number;

  /** `askKeyframe` asks a sender for a keyframe of its camera or shared content (through the relay). */
  constructor(askKeyframe: (participantId: string, kind: VideoKind) => void, now: () => number) {
    this.#askKeyframe = askKeyframe;
    this.#now = now;
  }

  /** Web Audio needs a user gesture in most browsers: the join click makes the context. */
  useAudio(context: AudioContext): void {
    this.#context = context;
  }

  push(f: ReceivedMedia): void {
    // Frames still on their way when someone left make no decoder for them again.
    if (this.#gone.has(f.participantId)) {
      this.counters.framesFromGone++;
      return;
    }
    if (f.kind === 'video' || f.kind === 'screen') this.#tile(f.participantId, f.kind).push(f);
    else if (f.kind === 'audio') {
      let a = this.#audio.get(f.participantId);
      if (a === undefined) {
        a = new AudioStream(this.counters, () => this.#context);
        this.#audio.set(f.participantId, a);
      }
      a.push(f);
    }
  }

  /** The canvas a participant's tile paints on (null when the tile goes), and who hears of its first picture. */
  attachCanvas(participantId: string, canvas: HTMLCanvasElement | null, onFirstPaint?: () => void): void {
    this.#attach(participantId, 'video', canvas, onFirstPaint);
  }

  /** The canvas a participant's shared content paints on (docs/protocol.md "# Content sharing"). */
  attachShareCanvas(
    participantId: string,
    canvas: HTMLCanvasElement | null,
    onFirstPaint?: () => void,
  ): void {
    this.#attach(participantId, 'screen', canvas, onFirstPaint);
  }

  #attach(id: string, kind: VideoKind, canvas: HTMLCanvasElement | null, onFirstPaint?: () => void): void {
    // A tile that goes (null) does not make a decoder for someone who may have left.
    if (canvas === null) this.#video.get(tileKey(id, kind))?.attach(null);
    else this.#tile(id, kind).attach(canvas, onFirstPaint ?? null);
  }

  /** When a participant's video was last painted (wall ms) and the capture time of that frame. */
  lastPaint(participantId: string): { at: number; captureTs: number } | null {
    return this.#video.get(tileKey(participantId, 'video'))?.lastPaint ?? null;
  }

  /** The roster lists `participantId`: its media plays again (a relay's restart may reuse an id). */
  present(participantId: string): void {
    this.#gone.delete(participantId);
  }

  /** Someone left: their decoders go, and what still comes from them is dropped. */
  forget(participantId: string): void {
    if (this.#gone.size >= MAX_GONE) this.#gone.delete(this.#gone.values().next().value as string);
    this.#gone.add(participantId);
    for (const key of [tileKey(participantId, 'video'), tileKey(participantId, 'screen')]) {
      this.#video.get(key)?.close();
      this.#video.delete(key);
    }
    this.#audio.get(participantId)?.close();
    this.#audio.delete(participantId);
  }

  close(): void {
    for (const t of this.#video.values()) t.close();
    this.#video.clear();
    for (const a of this.#audio.values()) a.close();
    this.#audio.clear();
    // Closing a context that is already closed rejects; there is nothing left to do then.
    void this.#context?.close().catch(ignoreRefusal);
    this.#context = null;
  }

  #tile(participantId: string, kind: VideoKind): VideoTile {
    const key = tileKey(participantId, kind);
    let t = this.#video.get(key);
    if (t === undefined) {
      t = new VideoTile(this.counters, () => this.#askKeyframe(participantId, kind), this.#now);
      this.#video.set(key, t);
    }
    return t;
  }
}
