/**
 * One data channel inside the media worker, owned by one object (docs/decisions/0013-media-worker.md
 * §Sends that cannot race a close). In wrtc a WebRTC thread tears the native channel down when it
 * reaches `closed`, and any JS call on the channel at that moment (send, readyState, bufferedAmount)
 * can read a freed pointer. The owner keeps the JS side from ever adding to that window:
 *
 * - it sends only while it knows the channel is open, from the events it has seen, not by asking;
 * - it stops sending before it closes, calls the native close() once, and touches the channel
 *   never again afterwards (nor after the close event, a failed send or the connection failing);
 * - what the worker was asked to send before the channel opened waits in a bounded queue, sent in
 *   order on open and dropped on any close.
 *
 * A remote close still reaches the native code first; that window is the worker's to crash in, and
 * roomd survives it (worker-peer.ts).
 */
import { RoomdError } from '../core/errors.ts';
import type { DataChannel } from './peer.ts';

export type OwnedChannelState = 'connecting' | 'open' | 'closed';

export interface ChannelOwnerEvents {
  open(): void;
  message(data: Uint8Array): void;
  /** Exactly once, whatever closed it; nothing is sent or received after it. */
  closed(): void;
}

export interface ChannelOwnerStats {
  sent: number;
  bytesSent: number;
  dropped: number;
  bytesDropped: number;
}

/** Bounds of the before-open queue (a media channel opens within a round trip; this is slack). */
export const OWNER_QUEUE_MESSAGES = 256;
export const OWNER_QUEUE_BYTES = 512 * 1024;

/** The errors a send on a channel that is no longer open throws: wrtc's and the in-memory fake's. */
function isNotOpenError(error: unknown): boolean {
  if (error instanceof RoomdError) return error.code === 'transport.closed';
  return error instanceof Error && error.name === 'InvalidStateError';
}

export class ChannelOwner {
  readonly stats: ChannelOwnerStats = { sent: 0, bytesSent: 0, dropped: 0, bytesDropped: 0 };
  readonly #ch: DataChannel;
  readonly #events: ChannelOwnerEvents;
  #state: OwnedChannelState = 'connecting';
  #started = false;
  #queue: Uint8Array[] = [];
  #queueBytes = 0;
  /** Bytes handed to send() since the channel was made, sent or not (roomd's backpressure count). */
  #taken = 0;

  constructor(channel: DataChannel, events: ChannelOwnerEvents) {
    this.#ch = channel;
    this.#events = events;
  }

  get state(): OwnedChannelState {
    return this.#state;
  }

  get label(): string {
    return this.#ch.label;
  }

  get taken(): number {
    return this.#taken;
  }

  /** What is waiting: the queue before open, wrtc's own buffer while open, nothing after close. */
  get bufferedAmount(): number {
    if (this.#state === 'connecting') return this.#queueBytes;
    if (this.#state === 'open') return this.#ch.bufferedAmount;
    return 0;
  }

  /**
   * Subscribes to the channel and reads its state once (a channel the far end opened may already be
   * open). Separate from the constructor so the host can announce the channel before its events.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#ch.onOpen(() => this.#opened());
    this.#ch.onMessage((data) => {
      if (this.#state === 'open') this.#events.message(data);
    });
    this.#ch.onClose(() => this.#finish());
    const initial = this.#ch.readyState;
    if (initial === 'open') this.#opened();
    else if (initial === 'closing' || initial === 'closed') this.#finish();
  }

  /** Sends now when open, queues before open (bounded), drops after close; never throws on state. */
  send(data: Uint8Array): 'sent' | 'queued' | 'dropped' {
    this.#taken += data.byteLength;
    if (this.#state === 'open') return this.#sendNow(data) ? 'sent' : 'dropped';
    if (
      this.#state === 'connecting' &&
      this.#queue.length < OWNER_QUEUE_MESSAGES &&
      this.#queueBytes + data.byteLength <= OWNER_QUEUE_BYTES
    ) {
      this.#queue.push(data.slice());
      this.#queueBytes += data.byteLength;
      return 'queued';
    }
    this.#drop(data.byteLength);
    return 'dropped';
  }

  /** Local close: stop sending, drop the queue, close the native channel once, report closed. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#finish();
    try {
      this.#ch.close();
    } catch (error) {
      if (!isNotOpenError(error)) throw error;
    }
  }

  /**
   * The connection is going away (it failed, or is being closed with all its channels): stop and
   * report closed without touching the native channel; closing the connection closes it.
   */
  detach(): void {
    this.#finish();
  }

  #opened(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.#events.open();
    const queued = this.#queue;
    this.#queue = [];
    this.#queueBytes = 0;
    for (const data of queued) {
      // A failed send closes the owner; what is left of the queue is dropped, not sent.
      if (this.#isOpen()) this.#sendNow(data);
      else this.#drop(data.byteLength);
    }
  }

  #isOpen(): boolean {
    return this.#state === 'open';
  }

  #sendNow(data: Uint8Array): boolean {
    try {
      this.#ch.send(data);
    } catch (error) {
      if (!isNotOpenError(error)) throw error;
      // The channel left `open` before its close event reached us: stop here, for good.
      this.#drop(data.byteLength);
      this.#finish();
      return false;
    }
    this.stats.sent++;
    this.stats.bytesSent += data.byteLength;
    return true;
  }

  #drop(bytes: number): void {
    this.stats.dropped++;
    this.stats.bytesDropped += bytes;
  }

  #finish(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    for (const data of this.#queue) this.#drop(data.byteLength);
    this.#queue = [];
    this.#queueBytes = 0;
    this.#events.closed();
  }
}
