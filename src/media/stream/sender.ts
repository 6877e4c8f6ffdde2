/**
 * The sending half of one encrypted stream, for every kind (docs/protocol.md "Media chunks"):
 * payload → envelope → SFrame seal with the current send key → numbered chunks with the cleartext
 * routing header → the media channel, all or nothing per frame. Counts what it sent and why it did not.
 */
import { RoomdError } from '../../core/errors.ts';
import { chunkFrame } from '../../protocol/media-header.ts';
import { STREAM_ID, type StreamKind } from '../../protocol/vocabulary.ts';
import { type FramePayload, packFrame } from '../envelope.ts';
import { MediaStats } from '../stats.ts';
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
}

/** Why a frame was not sent: no key or channel yet, congestion, or the send key is used up. */
export type SendOutcome = 'sent' | 'not-ready' | 'congested' | 'key-exhausted';

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
  #frameNumber: number;

  constructor(options: StreamSenderOptions) {
    this.#o = options;
    this.kind = options.kind;
    this.streamId = STREAM_ID[options.kind];
    this.stats = options.stats ?? new MediaStats();
    this.#frameNumber = (options.firstFrameNumber ?? 0) >>> 0;
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
      return 'not-ready';
    }
    const n = this.#frameNumber;
    let sealed: Uint8Array;
    try {
      sealed = keys.seal(this.kind, packFrame(payload), frameMetadata(this.kind, this.streamId, keyframe, n));
    } catch (err) {
      if (!(err instanceof RoomdError)) throw err;
      if (err.code === 'e2ee.counter_exhausted') {
        this.keyExhausted++;
        return 'key-exhausted';
      }
      if (err.code !== 'e2ee.unknown_key') throw err;
      this.notReady++;
      return 'not-ready';
    }
    this.#frameNumber = (n + 1) >>> 0;
    const chunks = chunkFrame(sealed, { kind: this.kind, streamId: this.streamId, keyframe, frameNumber: n });
    if (!this.#o.out.sendChunks(chunks)) {
      this.framesDropped++;
      return 'congested';
    }
    this.stats.recordSent(sealed.length, keyframe);
    return 'sent';
  }
}
