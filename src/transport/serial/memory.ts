/**
 * In-memory byte-stream pair for unit tests (docs/hardware.md §Transport behaviour): what one end writes
 * the other receives on a later microtask, like a real line. `unplug()` simulates a device
 * vanishing; `MemoryStreamHub` lets a supervisor "reopen" a path that a test plugs back in.
 */
import { RoomdError } from '../../core/errors.ts';
import { BaseByteStream, type ByteStream, type ByteStreamOpener } from './stream.ts';

export class MemoryByteStream extends BaseByteStream {
  peer: MemoryByteStream | null = null;
  /** Every chunk written, for assertions. */
  readonly written: Uint8Array[] = [];

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen) throw new RoomdError('transport.closed', { context: { path: this.path } });
    const copy = Uint8Array.from(bytes);
    this.written.push(copy);
    const peer = this.peer;
    queueMicrotask(() => peer?.receive(copy));
  }

  receive(bytes: Uint8Array): void {
    this.emitData(bytes);
  }

  async close(): Promise<void> {
    this.#end(false, 'closed');
  }

  /** The far end vanished: both ends see `disconnected: true`. */
  unplug(): void {
    this.#end(true, 'unplugged');
  }

  #end(disconnected: boolean, reason: string): void {
    const peer = this.peer;
    this.peer = null;
    this.markClosed({ disconnected, reason });
    if (peer !== null) {
      peer.peer = null;
      peer.markClosed({ disconnected: true, reason });
    }
  }
}

/** Two connected ends: `[host, device]`. */
export function createMemoryPair(path = 'memory:pair'): [MemoryByteStream, MemoryByteStream] {
  const a = new MemoryByteStream(path);
  const b = new MemoryByteStream(`${path}#device`);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/**
 * Paths a test can plug and unplug. `opener` opens the host end of whatever is plugged at a
 * path; `plug(path)` returns the device end for the emulator.
 */
export class MemoryStreamHub {
  readonly #waiting = new Map<string, ((device: MemoryByteStream) => void) | null>();
  readonly #plugged = new Map<string, MemoryByteStream>();
  opens = 0;

  plug(path: string, onOpen: (device: MemoryByteStream) => void): void {
    this.#waiting.set(path, onOpen);
  }

  unplug(path: string): void {
    this.#waiting.delete(path);
    this.#plugged.get(path)?.unplug();
    this.#plugged.delete(path);
  }

  readonly opener: ByteStreamOpener = async (path) => {
    const onOpen = this.#waiting.get(path);
    if (onOpen === undefined || onOpen === null) {
      throw new RoomdError('transport.open_failed', { context: { path }, message: `Nothing at ${path}.` });
    }
    const [host, device] = createMemoryPair(path);
    this.#plugged.set(path, host);
    this.opens++;
    onOpen(device);
    return host as ByteStream;
  };
}
