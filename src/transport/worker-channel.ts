/**
 * The data channel proxy of a connection in the media worker (worker-peer.ts,
 * docs/decisions/0013-media-worker.md): its state is mirrored from the worker's events, and
 * `bufferedAmount` counts the bytes still on their way to the worker plus what wrtc there holds.
 */
import { RoomdError } from '../core/errors.ts';
import { MAX_DATA_CHANNEL_MESSAGE } from '../protocol/limits.ts';
import type { ChannelState, DataChannel } from './peer.ts';
import { ChannelEvents } from './peer-events.ts';
import type { ToWorker } from './worker-protocol.ts';

/** A channel whose bytes in flight to the worker reach this closes, as a wrtc channel with a full buffer does. */
export const MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

export const closedError = () => new RoomdError('transport.closed', { message: 'The connection is closed.' });

/** What a channel needs of the connection it belongs to (worker-connection.ts WorkerPeerConnection). */
export interface ChannelConnection {
  /** The connection's worker, which takes what the channel sends. */
  readonly gen: { write(m: ToWorker): void };
  /** The channel with this id is closed: the connection no longer routes to it. */
  forget(channelId: number): void;
  close(): void;
}

export class WorkerDataChannel extends ChannelEvents implements DataChannel {
  readonly label: string;
  readonly #pc: ChannelConnection;
  readonly #id: number;
  #state: ChannelState = 'connecting';
  #sent = 0;
  #taken = 0;
  #workerBuffered = 0;

  constructor(pc: ChannelConnection, id: number, label: string) {
    super();
    this.#pc = pc;
    this.#id = id;
    this.label = label;
  }

  get readyState(): ChannelState {
    return this.#state;
  }

  /** @internal The connection this channel belongs to. */
  get connection(): ChannelConnection {
    return this.#pc;
  }

  /** Bytes sent and not yet taken by the worker, plus what wrtc in the worker still holds. */
  get bufferedAmount(): number {
    return this.#state === 'open' ? this.#sent - this.#taken + this.#workerBuffered : 0;
  }

  send(data: Uint8Array): void {
    if (this.#state !== 'open') throw closedError();
    if (data.byteLength > MAX_DATA_CHANNEL_MESSAGE) {
      throw new RoomdError('transport.message_too_large', {
        message: `A data-channel message of ${data.byteLength} bytes is over the 64 KiB limit and was not sent.`,
        context: { size: data.byteLength, limit: MAX_DATA_CHANNEL_MESSAGE },
      });
    }
    if (this.#sent - this.#taken + data.byteLength > MAX_IN_FLIGHT_BYTES) {
      this.close();
      throw closedError();
    }
    this.#sent += data.byteLength;
    this.#pc.gen.write({ type: 'send', ch: this.#id, data });
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#pc.gen.write({ type: 'close-channel', ch: this.#id });
    this.ended();
  }

  /** @internal The worker says it opened. */
  opened(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.emitOpen();
  }

  /** @internal One message from the far end (a copy: the read buffer is not ours to keep). */
  received(data: Uint8Array): void {
    if (this.#state !== 'open') return;
    this.emitMessage(data.slice());
  }

  /** @internal Send progress; false when it contradicts what we sent (a bad report, ignored). */
  progress(taken: number, buffered: number): boolean {
    if (taken < this.#taken || taken > this.#sent) return false;
    this.#taken = taken;
    this.#workerBuffered = buffered;
    return true;
  }

  /** @internal Closed by anyone: no more events but this one. */
  ended(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#pc.forget(this.#id);
    this.emitClose();
  }
}
