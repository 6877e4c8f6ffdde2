/**
 * The browser's camera and microphone as frame sources for the shared media link
 * (src/meeting/media-link.ts `FrameSource`): each track's raw frames are read with
 * MediaStreamTrackProcessor and encoded with WebCodecs — VP8 for video, Opus (mono, 20 ms) for audio,
 * the codecs and frame shapes the room sends (docs/protocol.md "Frame envelope (inside SFrame)").
 * The capture time of each frame is the wall clock when its raw frame was read, carried to the
 * encoded chunk by its timestamp, so receivers measure glass-to-glass from the camera's frame.
 *
 * Keyframes are made on request only (and every KEYFRAME_SAFETY_MS), as the room's encoders do
 * (docs/decisions/0005-media-keyframes-on-demand.md). A frame arriving while the encoder is still
 * busy with two is dropped: a live camera never queues. Muted audio and a camera that is off are
 * not encoded at all; the control channel says so to the others.
 */
import type { Clock } from '../../../src/core/clock.ts';
import type { MediaFrame, MediaKind } from '../../../src/media/types.ts';
import type { FrameSource } from '../../../src/meeting/media-link.ts';
import { ignoreRefusal, isWebRefusal } from './web-errors.ts';

/** Chromium's reader of a track's raw frames (not in TypeScript's DOM library). */
interface TrackProcessor<T> {
  readonly readable: ReadableStream<T>;
}
type TrackProcessorConstructor = new (init: {
  track: MediaStreamTrack;
}) => TrackProcessor<VideoFrame | AudioData>;

function trackProcessor(): TrackProcessorConstructor | undefined {
  return (globalThis as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
}

/** What this browser lacks to send media, in words for the page (empty when it has everything). */
export function missingSendSupport(): string[] {
  const missing: string[] = [];
  if (trackProcessor() === undefined) missing.push('MediaStreamTrackProcessor');
  if (typeof VideoEncoder === 'undefined') missing.push('VideoEncoder');
  if (typeof AudioEncoder === 'undefined') missing.push('AudioEncoder');
  return missing;
}

export const VIDEO_BITRATE = 1_200_000;
export const AUDIO_BITRATE = 32_000;
export const KEYFRAME_SAFETY_MS = 10_000;
/** After an encoder failed, the next one is made no sooner than this. */
export const ENCODER_RETRY_MS = 1000;
/** Raw frames waiting in an encoder above which a new one is dropped. */
const MAX_ENCODE_QUEUE = 2;

export interface CaptureCounters {
  framesIn: number;
  framesEncoded: number;
  /** Raw frames dropped: the encoder was busy, or the source is paused (muted, camera off). */
  framesDropped: number;
  encoderErrors: number;
}

abstract class TrackSource<E extends { readonly state: string; close(): void }> implements FrameSource {
  abstract readonly kind: MediaKind;
  readonly counters: CaptureCounters = { framesIn: 0, framesEncoded: 0, framesDropped: 0, encoderErrors: 0 };
  protected readonly clock: Clock;
  protected readonly listeners = new Set<(frame: MediaFrame) => void>();
  /** Wall-clock capture time of each raw frame by its timestamp (µs), until its chunk comes out. */
  protected readonly captured = new Map<number, number>();
  protected paused = false;
  /** The current encoder (made on the first frame, and again after one failed). */
  protected encoder: E | null = null;
  protected failedAt = Number.NEGATIVE_INFINITY;
  #reader: ReadableStreamDefaultReader<VideoFrame | AudioData> | null = null;
  #stopped = false;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  onFrame(listener: (frame: MediaFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  abstract requestKeyframe(): void;

  /** Paused: raw frames are read and dropped (muted, camera off). */
  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  protected abstract take(raw: VideoFrame | AudioData): void;

  protected closeEncoder(): void {
    const e = this.encoder;
    this.encoder = null;
    if (e !== null && e.state !== 'closed') e.close();
  }

  /** `encoder` closed itself: a later frame makes a new one (a late report of a replaced one is ignored). */
  protected encoderLost(encoder: E): void {
    if (this.encoder !== encoder) return;
    this.encoderFailed();
    this.encoder = null;
  }

  protected startReading(track: MediaStreamTrack): void {
    const Processor = trackProcessor();
    if (Processor === undefined) return;
    const reader = new Processor({ track }).readable.getReader();
    this.#reader = reader;
    const pump = (): void => {
      reader.read().then(
        ({ value, done }) => {
          if (done || this.#stopped) {
            value?.close();
            return;
          }
          this.counters.framesIn++;
          try {
            this.take(value);
          } catch (error) {
            // An encoder that refuses the frame or its configuration (WebCodecs throws these
            // synchronously): the frame is lost, the encoder is made again later; reading goes on.
            value.close();
            if (!isWebRefusal(error)) throw error;
            this.closeEncoder();
            this.encoderFailed();
          }
          pump();
        },
        // The track ended or the reader was cancelled (stop): nothing more to read.
        ignoreRefusal,
      );
    };
    pump();
  }

  protected emit(frame: MediaFrame): void {
    this.counters.framesEncoded++;
    for (const l of this.listeners) l(frame);
  }

  protected captureTime(timestampUs: number): number {
    const at = this.captured.get(timestampUs);
    this.captured.delete(timestampUs);
    return at ?? this.clock.now();
  }

  /** Note when the raw frame at `timestampUs` was read; bounded, as an encoder may swallow frames. */
  protected noteCaptured(timestampUs: number): void {
    this.captured.set(timestampUs, this.clock.now());
    if (this.captured.size > 64) this.captured.delete(this.captured.keys().next().value as number);
  }

  /**
   * Whether a new encoder may be made now: after one failed, not again for ENCODER_RETRY_MS (an
   * encoder that cannot be configured would otherwise be remade for every frame).
   */
  protected mayMakeEncoder(): boolean {
    return this.clock.monotonic() - this.failedAt >= ENCODER_RETRY_MS;
  }

  protected encoderFailed(): void {
    this.counters.encoderErrors++;
    this.failedAt = this.clock.monotonic();
  }

  stop(): void {
    this.#stopped = true;
    // Cancelling a reader whose track already ended rejects; it is done either way.
    this.#reader?.cancel().catch(ignoreRefusal);
    this.#reader = null;
    this.closeEncoder();
    this.listeners.clear();
  }
}

/** Camera → VP8. */
export class VideoTrackSource extends TrackSource<VideoEncoder> {
  readonly kind = 'video' as const;
  #configured = '';
  #keyframeOwed = true;
  #lastKeyframeAt = Number.NEGATIVE_INFINITY;

  constructor(track: MediaStreamTrack, clock: Clock) {
    super(clock);
    this.startReading(track);
  }

  requestKeyframe(): void {
    this.#keyframeOwed = true;
  }

  override setPaused(paused: boolean): void {
    if (this.paused && !paused) this.#keyframeOwed = true;
    super.setPaused(paused);
  }

  protected take(raw: VideoFrame | AudioData): void {
    const frame = raw as VideoFrame;
    const encoder = this.paused ? null : this.#encoderFor(frame.displayWidth, frame.displayHeight);
    if (encoder === null || encoder.encodeQueueSize >= MAX_ENCODE_QUEUE) {
      this.counters.framesDropped++;
      frame.close();
      return;
    }
    const now = this.clock.monotonic();
    const keyFrame = this.#keyframeOwed || now - this.#lastKeyframeAt >= KEYFRAME_SAFETY_MS;
    if (keyFrame) {
      this.#keyframeOwed = false;
      this.#lastKeyframeAt = now;
    }
    this.noteCaptured(frame.timestamp);
    encoder.encode(frame, { keyFrame });
    frame.close();
  }

  #encoderFor(width: number, height: number): VideoEncoder | null {
    const shape = `${width}x${height}`;
    if (this.encoder !== null && this.encoder.state === 'configured' && this.#configured === shape)
      return this.encoder;
    this.closeEncoder();
    if (!this.mayMakeEncoder()) return null;
    const encoder: VideoEncoder = new VideoEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        this.emit({
          kind: 'video',
          codec: 'vp8',
          keyframe: chunk.type === 'key',
          captureTs: this.captureTime(chunk.timestamp),
          data,
        });
      },
      // A new encoder starts with a keyframe.
      error: () => this.encoderLost(encoder),
    });
    encoder.configure({
      codec: 'vp8',
      width,
      height,
      bitrate: VIDEO_BITRATE,
      framerate: 30,
      latencyMode: 'realtime',
    });
    this.encoder = encoder;
    this.#configured = shape;
    this.#keyframeOwed = true;
    return encoder;
  }
}

/** The level of mono samples as −dBov (0 loudest … 127 silence), as RFC 6464 counts it. */
export function audioLevel(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as number;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  if (rms <= 0) return 127;
  return Math.min(127, Math.max(0, Math.round(-20 * Math.log10(rms))));
}

/** Microphone → Opus, mono, 20 ms packets, with each packet's level for the chunk header. */
export class AudioTrackSource extends TrackSource<AudioEncoder> {
  readonly kind = 'audio' as const;
  readonly #mixer = new MonoMixer();
  #rate = 0;
  /** The loudest level of the raw audio since the last packet came out. */
  #level = 127;

  constructor(track: MediaStreamTrack, clock: Clock) {
    super(clock);
    this.startReading(track);
  }

  /** Every Opus packet stands alone. */
  requestKeyframe(): void {}

  protected take(raw: VideoFrame | AudioData): void {
    const audio = raw as AudioData;
    const encoder = this.paused ? null : this.#encoderFor(audio.sampleRate);
    if (encoder === null || encoder.encodeQueueSize > 8) {
      this.counters.framesDropped++;
      audio.close();
      return;
    }
    const mono = this.#mixer.mix(audio);
    this.#level = Math.min(this.#level, audioLevel(mono));
    const data = new AudioData({
      format: 'f32',
      sampleRate: audio.sampleRate,
      numberOfFrames: audio.numberOfFrames,
      numberOfChannels: 1,
      timestamp: audio.timestamp,
      data: mono,
    });
    this.noteCaptured(audio.timestamp);
    audio.close();
    encoder.encode(data);
    data.close();
  }

  #encoderFor(sampleRate: number): AudioEncoder | null {
    if (this.encoder !== null && this.encoder.state === 'configured' && this.#rate === sampleRate)
      return this.encoder;
    this.closeEncoder();
    if (!this.mayMakeEncoder()) return null;
    const encoder: AudioEncoder = new AudioEncoder({
      output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        const level = this.#level;
        this.#level = 127;
        this.emit({
          kind: 'audio',
          codec: 'opus',
          keyframe: true,
          captureTs: this.captureTime(chunk.timestamp),
          durationMs: 20,
          audioLevel: level,
          data,
        });
      },
      error: () => this.encoderLost(encoder),
    });
    encoder.configure({
      codec: 'opus',
      sampleRate,
      numberOfChannels: 1,
      bitrate: AUDIO_BITRATE,
      opus: { frameDuration: 20_000, complexity: 5 },
    } as AudioEncoderConfig);
    this.encoder = encoder;
    this.#rate = sampleRate;
    return encoder;
  }
}

/**
 * The average of an AudioData's channels as 32-bit float samples, in buffers reused from one
 * AudioData to the next (a hundred a second; the AudioData made from the result copies it).
 */
class MonoMixer {
  #out = new Float32Array(0);
  #scratch = new Float32Array(0);

  mix(audio: AudioData): Float32Array<ArrayBuffer> {
    const n = audio.numberOfFrames;
    const channels = audio.numberOfChannels;
    const interleaved = !audio.format?.endsWith('-planar');
    const scratchSize = interleaved ? n * channels : n;
    if (this.#out.length < n) this.#out = new Float32Array(n);
    if (this.#scratch.length < scratchSize) this.#scratch = new Float32Array(scratchSize);
    const out = this.#out.subarray(0, n);
    const scratch = this.#scratch.subarray(0, scratchSize);
    if (interleaved) {
      audio.copyTo(scratch, { planeIndex: 0, format: 'f32' });
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < channels; c++) s += scratch[i * channels + c] as number;
        out[i] = s / channels;
      }
      return out;
    }
    out.fill(0);
    for (let c = 0; c < channels; c++) {
      audio.copyTo(scratch, { planeIndex: c, format: 'f32-planar' });
      for (let i = 0; i < n; i++) out[i] = (out[i] as number) + (scratch[i] as number) / channels;
    }
    return out;
  }
}
