/**
 * TCP byte stream (`tcp://host:port`) for serial device servers and remote emulators
 * (docs/hardware.md §Transport behaviour). A peer reset or end is reported as `disconnected`.
 */
import net from 'node:net';
import { RoomdError } from '../../core/errors.ts';
import { BaseByteStream } from './stream.ts';

export function parseTcpPath(path: string): { host: string; port: number } {
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(path);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (m === null || !(port > 0 && port < 65536)) {
    throw new RoomdError('core.invalid_argument', {
      message: `Not a tcp://host:port address: ${path}`,
      context: { path },
    });
  }
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return { host, port };
}

export class TcpByteStream extends BaseByteStream {
  readonly #socket: net.Socket;
  #closing = false;

  private constructor(path: string, socket: net.Socket) {
    super(path);
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.emitData(new Uint8Array(chunk)));
    socket.on('error', () => {});
    socket.on('close', () => this.markClosed({ disconnected: !this.#closing, reason: 'socket closed' }));
  }

  static open(path: string, timeoutMs = 5000): Promise<TcpByteStream> {
    const { host, port } = parseTcpPath(path);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const fail = (cause: unknown) => {
        socket.destroy();
        reject(new RoomdError('transport.open_failed', { context: { path }, cause }));
      };
      socket.setTimeout(timeoutMs, () => fail(new Error('connect timeout')));
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.setTimeout(0);
        socket.off('error', fail);
        resolve(new TcpByteStream(path, socket));
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen)
      return Promise.reject(new RoomdError('transport.closed', { context: { path: this.path } }));
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err) =>
        err
          ? reject(new RoomdError('transport.disconnected', { context: { path: this.path }, cause: err }))
          : resolve(),
      );
    });
  }

  close(): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    this.#closing = true;
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }
}
