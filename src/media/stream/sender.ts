/**
 * The sending half of one encrypted stream, for every kind (docs/protocol.md "Media chunks"):
 * payload → envelope → SFrame seal with the current send key → numbered chunks with the cleartext
 * routing header → the media channel, all or nothing per frame. Counts what it sent and why it did not.
 *
 * Video and screen frames pass a DependencyGate: once a frame is not sent, for whatever reason, the
 * delta frames after it are not sent either (they could not be decoded) until the next keyframe,
 * and the encoder is asked for that keyframe at once. Audio and data frames stand alone.
 */
import { RoomdError } from '../../core/errors.ts';
import { chunkFrame } from '../../protocol/media-header.ts';
import { STREAM_ID, type StreamKind } from '../../protocol/vocabulary.ts';
import { type FramePayload, packFrame } from '../envelope.ts';
import { MediaStats } from '../stats.ts';
import { DependencyGate } from './dependency-gate.ts';
import { frameMetadata, type KeySource } from './frame.ts';

/** Where chunks go: the relay connection's media channel. */
export interface ChunkOut {
  /** Whether the channel is open at both ends. */
  readonly mediaOpen: boolean;
  /** Sends every chunk of one frame, or none of them (backpressure); false when none were sent. */
  sendChunks(chunks: readonly Uint8Array[]): boolean;
}

export interface StreamSenderOptions {
  readonly kind: StreamKind;
  readonly keys: KeySource;
  readonly out: ChunkOut;
  readonly stats?: MediaStats;
  /** First frame number (default 0); wraps at 2^32. */
  readonly firstFrameNumber?: number;
  /**
   * Ask this stream's encoder for a keyframe (MediaCapture.requestKeyframe, which coalesces
   * repeated requests): after a frame was not sent, and for every request from a receiver.
   */
  readonly requestKeyframe?: () => void;
}

/**
 * Why a frame was not sent: no key or channel yet, congestion, the send key is used up, or it is a
 * delta frame that depends on a frame that was not sent.
 */
export type SendOutcome = 'sent' | 'not-ready' | 'congested' | 'key-exhausted' | 'skipped';

export class StreamSender {
  readonly kind: StreamKind;
  readonly streamId: number;
  readonly stats: MediaStats;
  /** Frames not sent because no send key or no open channel was there yet. */
  notReady = 0;
  /** Frames dropped whole under backpressure. */
  framesDropped = 0;
  /** Frames refused because the send key's counter ran out (a rekey brings a fresh key). */
  keyExhausted = 0;
  readonly #o: StreamSenderOptions;
  /** Video and screen only: whether the next delta frame still has all it depends on. */
  readonly #gate: DependencyGate | undefined;
  #frameNumber: number;

  constructor(options: StreamSenderOptions) {
    this.#o = options;
    this.kind = options.kind;
    this.streamId = STREAM_ID[options.kind];
    this.stats = options.stats ?? new MediaStats();
    this.#frameNumber = (options.firstFrameNumber ?? 0) >>> 0;
    this.#gate = options.kind === 'video' || options.kind === 'screen' ? new DependencyGate() : undefined;
  }

  /** Delta frames not sent because a frame they depend on was not sent (in `stats` too). */
  get dependentFramesSkipped(): number {
    return this.stats.dependentFramesSkipped;
  }

  /** Times a frame that was not sent made this sender ask its encoder for a keyframe (in `stats` too). */
  get keyframesAskedAfterDrop(): number {
    return this.stats.keyframesAskedAfterDrop;
  }

  /** A receiver asked for a keyframe on this stream: counted, and passed to the encoder. */
  keyframeRequested(): void {
    this.stats.keyframeRequests += 1;
    this.#o.requestKeyframe?.();
  }

  /** Frame number the next sent frame will carry. */
  get nextFrameNumber(): number {
    return this.#frameNumber;
  }

  /** Encrypt, chunk and send one frame. */
  send(payload: FramePayload, keyframe: boolean): SendOutcome {
    const keys = this.#o.keys();
    if (keys === null || keys.sendEpoch === 0 || !this.#o.out.mediaOpen) {
      this.notReady++;
      this.#notSent(keyframe);
      return 'not-ready';
    }
    if (this.#gate !== undefined && !this.#gate.admit(keyframe)) {
      this.stats.dependentFramesSkipped += 1;
      return 'skipped';
    }
    const n = this.#frameNumber;
    let sealed: Uint8Array;
    try {
      sealed = keys.seal(this.kind, packFrame(payload), frameMetadata(this.kind, this.streamId, keyframe, n));
    } catch (err) {
      if (!(err instanceof RoomdError)) throw err;
      if (err.code === 'e2ee.counter_exhausted') {
        this.keyExhausted++;
        this.#notSent(keyframe);
        return 'key-exhausted';
      }
      if (err.code !== 'e2ee.unknown_key') throw err;
      this.notReady++;
      this.#notSent(keyframe);
      return 'not-ready';
    }
    this.#frameNumber = (n + 1) >>> 0;
    const chunks = chunkFrame(sealed, { kind: this.kind, streamId: this.streamId, keyframe, frameNumber: n });
    if (!this.#o.out.sendChunks(chunks)) {
      this.framesDropped++;
      this.#notSent(keyframe);
      return 'congested';
    }
    this.#gate?.sent(keyframe);
    this.stats.recordSent(sealed.length, keyframe);
    return 'sent';
  }

  #notSent(keyframe: boolean): void {
    if (this.#gate === undefined || !this.#gate.notSent(keyframe)) return;
    this.stats.keyframesAskedAfterDrop += 1;
    this.#o.requestKeyframe?.();
  }
}
