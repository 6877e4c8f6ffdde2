/**
 * serialport-backed byte stream for real lines and ptys (docs/hardware.md §Transport behaviour).
 * Open by stable path (`/dev/serial/by-id/…`, docs/hardware.md §Wiring and stable names); we
 * never call `SerialPort.list()` (it needs udev). A vanished device closes with `disconnected: true`.
 */
import { SerialPort } from 'serialport';
import { RoomdError } from '../../core/errors.ts';
import { BaseByteStream } from './stream.ts';

export class SerialPortByteStream extends BaseByteStream {
  readonly #port: SerialPort;
  #closing = false;

  private constructor(path: string, port: SerialPort) {
    super(path);
    this.#port = port;
    port.on('data', (chunk: Buffer) => this.emitData(new Uint8Array(chunk)));
    port.on('error', () => {});
    port.on('close', (err: (Error & { disconnected?: boolean }) | null) => {
      this.markClosed({
        disconnected: !this.#closing || err?.disconnected === true,
        reason: err?.message ?? 'closed',
      });
    });
  }

  static open(path: string, baudRate = 9600): Promise<SerialPortByteStream> {
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false, lock: false });
      port.open((err) => {
        if (err) {
          reject(new RoomdError('transport.open_failed', { context: { path }, cause: err }));
          return;
        }
        resolve(new SerialPortByteStream(path, port));
      });
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (!this.isOpen)
      return Promise.reject(new RoomdError('transport.closed', { context: { path: this.path } }));
    return new Promise((resolve, reject) => {
      this.#port.write(Buffer.from(bytes), (err) => {
        if (err)
          reject(new RoomdError('transport.disconnected', { context: { path: this.path }, cause: err }));
        else this.#port.drain(() => resolve());
      });
    });
  }

  setBaudRate(baudRate: number): Promise<void> {
    if (!this.isOpen)
      return Promise.reject(new RoomdError('transport.closed', { context: { path: this.path } }));
    return new Promise((resolve, reject) => {
      this.#port.update({ baudRate }, (err) => {
        if (err)
          reject(
            new RoomdError('transport.open_failed', {
              message: 'The line speed could not be set.',
              context: { path: this.path, baudRate },
              cause: err,
            }),
          );
        else resolve();
      });
    });
  }

  close(): Promise<void> {
    if (!this.isOpen || !this.#port.isOpen) {
      this.markClosed({ disconnected: false, reason: 'closed' });
      return Promise.resolve();
    }
    this.#closing = true;
    return new Promise((resolve) => {
      this.#port.close(() => {
        this.markClosed({ disconnected: false, reason: 'closed' });
        resolve();
      });
    });
  }
}
