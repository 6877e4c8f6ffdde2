/**
 * Sending side of one media stream on the wire (docs/protocol.md "Media chunks"): numbers frames, cuts each
 * (already SFrame-encrypted, opaque) frame into ≤ 16 KiB chunks with the cleartext routing header of
 * src/protocol/media-header.ts, and counts what was sent.
 */
import { chunkFrame, type StreamKind } from '../protocol/media-header.ts';
import { MediaStats } from './stats.ts';

export interface StreamSenderOptions {
  readonly kind: Extract<StreamKind, 'audio' | 'video'>;
  /** Per-sender stream id, 0..255 (e.g. 0 camera, 1 microphone). */
  readonly streamId: number;
  readonly stats?: MediaStats;
  /** First frame number (default 0); wraps at 2^32. */
  readonly firstFrameNumber?: number;
}

export class StreamSender {
  readonly kind: StreamKind;
  readonly streamId: number;
  readonly stats: MediaStats;
  #frameNumber: number;

  constructor(options: StreamSenderOptions) {
    if (!Number.isInteger(options.streamId) || options.streamId < 0 || options.streamId > 255) {
      throw new RangeError('StreamSender: streamId must be 0..255');
    }
    this.kind = options.kind;
    this.streamId = options.streamId;
    this.stats = options.stats ?? new MediaStats();
    this.#frameNumber = (options.firstFrameNumber ?? 0) >>> 0;
  }

  /** Frame number the next `chunk` call will use. */
  get nextFrameNumber(): number {
    return this.#frameNumber;
  }

  /** Chunks for one encrypted frame; send them all on the media channel (unordered is fine). */
  chunk(encrypted: Uint8Array, keyframe: boolean): Uint8Array[] {
    const frameNumber = this.#frameNumber;
    const chunks = chunkFrame(encrypted, { kind: this.kind, streamId: this.streamId, keyframe, frameNumber });
    this.#frameNumber = (frameNumber + 1) >>> 0;
    this.stats.recordSent(encrypted.length, keyframe);
    return chunks;
  }

  /** A receiver asked this stream for a keyframe (counted; the caller forwards it to the encoder). */
  noteKeyframeRequest(): void {
    this.stats.keyframeRequests += 1;
  }
}
