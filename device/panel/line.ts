/**
 * Line speed for the panel emulator (docs/hardware.md §Emulators): a pty carries no bits, so it
 * passes bytes whatever speed either side set. To make a speed mismatch real, the emulator asks
 * for the host's speed as bytes pass and garbles both directions when it differs from its own.
 *
 * - `watchPtyRate(hostPath)`: reads the termios speed of the daemon's end of a socat pty through a
 *   second, read-only descriptor (no bytes are read from it, so nothing is taken from the daemon).
 *   Uses `@serialport/bindings-cpp`, the binding `serialport` itself is built on.
 * - `PanelLineHub`: in-memory lines whose host end has a speed (`setBaudRate`), for unit tests.
 */
import { constants, openSync } from 'node:fs';
import { LinuxPortBinding } from '@serialport/bindings-cpp';
import { RoomdError } from '../../src/core/errors.ts';
import { MemoryByteStream } from '../../src/transport/serial/memory.ts';
import type { ByteStream, ByteStreamOpener } from '../../src/transport/serial/stream.ts';
import type { HostRate } from './emulator.ts';

export interface PtyRateWatch {
  readonly read: HostRate;
  close(): Promise<void>;
}

/** Watch the speed the daemon sets on its end (`hostPath`) of a pty pair. Linux only. */
export function watchPtyRate(hostPath: string): PtyRateWatch {
  const fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  // The binding's constructor only wraps the descriptor: unlike `open`, it changes no settings.
  const binding = new LinuxPortBinding(fd, {} as ConstructorParameters<typeof LinuxPortBinding>[1]);
  let closed = false;
  return {
    read: async () => (await binding.getBaudRate()).baudRate,
    close: async () => {
      if (closed) return;
      closed = true;
      await binding.close();
    },
  };
}

/** The host end of an in-memory line, with a settable speed. */
export class BaudMemoryStream extends MemoryByteStream {
  baudRate: number;

  constructor(path: string, baudRate: number) {
    super(path);
    this.baudRate = baudRate;
  }

  async setBaudRate(baudRate: number): Promise<void> {
    if (!this.isOpen) throw new RoomdError('transport.closed', { context: { path: this.path } });
    this.baudRate = baudRate;
  }
}

/** Like `MemoryStreamHub`, but the opener honours `baudRate` and the device end can read it. */
export class PanelLineHub {
  readonly #waiting = new Map<string, (device: MemoryByteStream, hostRate: () => number) => void>();
  readonly #plugged = new Map<string, MemoryByteStream>();

  plug(path: string, onOpen: (device: MemoryByteStream, hostRate: () => number) => void): void {
    this.#waiting.set(path, onOpen);
  }

  unplug(path: string): void {
    this.#waiting.delete(path);
    this.#plugged.get(path)?.unplug();
    this.#plugged.delete(path);
  }

  readonly opener: ByteStreamOpener = async (path, options) => {
    const onOpen = this.#waiting.get(path);
    if (onOpen === undefined) {
      throw new RoomdError('transport.open_failed', { context: { path }, message: `Nothing at ${path}.` });
    }
    const host = new BaudMemoryStream(path, options?.baudRate ?? 9600);
    const device = new MemoryByteStream(`${path}#device`);
    host.peer = device;
    device.peer = host;
    this.#plugged.set(path, host);
    onOpen(device, () => host.baudRate);
    return host as ByteStream;
  };
}
