/**
 * The media data channel's sending rules (docs/protocol.md §Media chunks): never a message over
 * 64 KiB (larger ones silently close wrtc and Janus channels), and backpressure from
 * `bufferedAmount`: above the high-water mark a message is dropped and counted rather than queued,
 * so a slow link never grows an unbounded queue. Frames are sent all-or-nothing.
 */
import { hasCode, RoomdError } from '../core/errors.ts';
import { MAX_DATA_CHANNEL_MESSAGE } from '../protocol/limits.ts';
import type { DataChannel } from './peer.ts';

/** About 0.8 s of 2.5 Mbit/s video: more queue than that is latency, not smoothing. */
export const DEFAULT_HIGH_WATER_MARK = 256 * 1024;

export interface MediaChannelStats {
  sent: number;
  bytesSent: number;
  dropped: number;
  bytesDropped: number;
}

export class MediaChannel {
  readonly channel: DataChannel;
  readonly highWaterMark: number;
  readonly stats: MediaChannelStats = { sent: 0, bytesSent: 0, dropped: 0, bytesDropped: 0 };

  constructor(channel: DataChannel, options: { highWaterMark?: number } = {}) {
    this.channel = channel;
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  get open(): boolean {
    return this.channel.readyState === 'open';
  }

  get bufferedAmount(): number {
    return this.channel.bufferedAmount;
  }

  /** True when `bytes` more would still fit under the high-water mark. */
  fits(bytes: number): boolean {
    return this.channel.bufferedAmount + bytes <= this.highWaterMark;
  }

  /**
   * Sends one message if the channel is open and has room; otherwise drops it and counts the drop.
   * Throws transport.message_too_large for a message over 64 KiB (a bug in the caller, never sent).
   */
  trySend(message: Uint8Array): boolean {
    guardSize(message);
    if (!this.open || !this.fits(message.byteLength)) {
      this.stats.dropped++;
      this.stats.bytesDropped += message.byteLength;
      return false;
    }
    try {
      this.channel.send(message);
    } catch (error) {
      // The channel closed under us between the check and the send: a drop like any other.
      if (!hasCode(error, 'transport.closed')) throw error;
      this.stats.dropped++;
      this.stats.bytesDropped += message.byteLength;
      return false;
    }
    this.stats.sent++;
    this.stats.bytesSent += message.byteLength;
    return true;
  }

  /** Sends every chunk of one frame, or none of them when they do not all fit. */
  trySendAll(messages: readonly Uint8Array[]): boolean {
    let total = 0;
    for (const m of messages) {
      guardSize(m);
      total += m.byteLength;
    }
    if (!this.open || !this.fits(total)) {
      this.stats.dropped += messages.length;
      this.stats.bytesDropped += total;
      return false;
    }
    for (const m of messages) this.trySend(m);
    return true;
  }

  onMessage(listener: (data: Uint8Array) => void): void {
    this.channel.onMessage(listener);
  }

  close(): void {
    this.channel.close();
  }
}

export function guardSize(message: Uint8Array): void {
  if (message.byteLength > MAX_DATA_CHANNEL_MESSAGE) {
    throw new RoomdError('transport.message_too_large', {
      message: `A data-channel message of ${message.byteLength} bytes is over the 64 KiB limit and was not sent.`,
      context: { size: message.byteLength, limit: MAX_DATA_CHANNEL_MESSAGE },
    });
  }
}
