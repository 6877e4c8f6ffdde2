/**
 * The byte-stream seam every device driver talks through: hardware behind a small interface
 * (docs/hardware.md §Transport behaviour). A stream is opened already; it delivers data
 * events and one close event that says whether the far end went away (`disconnected`) or we
 * closed it. Implementations: serialport (serialport.ts), TCP (tcp.ts), in-memory (memory.ts).
 */
import { EventBus, type Unsubscribe } from '../../core/events.ts';

export interface StreamClose {
  /** True when the device/peer vanished (unplug, socket reset); false when closed by us. */
  readonly disconnected: boolean;
  readonly reason?: string;
}

export type ByteStreamEvents = {
  data: Uint8Array;
  close: StreamClose;
};

export interface ByteStream {
  /** The path it was opened with (`/dev/serial/by-id/…`, `tcp://host:port`, `memory:…`). */
  readonly path: string;
  readonly isOpen: boolean;
  /** Resolves when the bytes were handed to the OS; rejects with `transport.closed` if closed. */
  write(bytes: Uint8Array): Promise<void>;
  on<K extends keyof ByteStreamEvents>(event: K, fn: (payload: ByteStreamEvents[K]) => void): Unsubscribe;
  /** Idempotent. Emits `close` with `disconnected: false` if the stream was open. */
  close(): Promise<void>;
  /** Change the line speed of an open serial line; absent where there is none (TCP). */
  setBaudRate?(baudRate: number): Promise<void>;
}

export interface OpenOptions {
  /** Serial line speed; ignored by TCP and memory streams. */
  readonly baudRate?: number;
}

/** Opens a stream by path; rejects with `transport.open_failed`. */
export type ByteStreamOpener = (path: string, options?: OpenOptions) => Promise<ByteStream>;

/** Shared event plumbing for implementations. */
export abstract class BaseByteStream implements ByteStream {
  readonly path: string;
  protected readonly events = new EventBus<ByteStreamEvents>();
  #open = true;

  constructor(path: string) {
    this.path = path;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  on<K extends keyof ByteStreamEvents>(event: K, fn: (payload: ByteStreamEvents[K]) => void): Unsubscribe {
    return this.events.on(event, fn);
  }

  abstract write(bytes: Uint8Array): Promise<void>;
  abstract close(): Promise<void>;

  /** Called by implementations exactly when the underlying resource is gone. */
  protected markClosed(info: StreamClose): void {
    if (!this.#open) return;
    this.#open = false;
    this.events.emit('close', info);
  }

  protected emitData(bytes: Uint8Array): void {
    if (this.#open && bytes.length > 0) this.events.emit('data', bytes);
  }
}
