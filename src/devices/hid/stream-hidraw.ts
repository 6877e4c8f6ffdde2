/**
 * hidraw over a byte stream, for the speakerphone emulator on a pty or a remote one over TCP
 * (docs/hardware.md §Emulators). Frames are `type len payload…` with type `?` (descriptor request, host →
 * device), `D` (descriptor), `I` (input report) and `O` (output report); len ≤ 255. Not a USB
 * protocol: it only carries hidraw's three operations, with hidraw's bytes (an output report
 * starts with its report number, 0 without numbered reports), so the same driver runs against
 * the emulator. Config paths `hidstream:/path/to/pty` or `tcp://host:port` select it.
 */
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { ByteStream, ByteStreamOpener } from '../../transport/serial/stream.ts';
import { checkHidrawWrite, type HidrawDevice, type HidrawEvents } from './hidraw.ts';

export const FRAME = { request: 0x3f, descriptor: 0x44, input: 0x49, output: 0x4f } as const;

export function encodeHidFrame(type: number, payload: Uint8Array): Uint8Array {
  if (payload.length > 255)
    throw new RoomdError('core.invalid_argument', { message: 'HID frame payload over 255 bytes.' });
  return Uint8Array.from([type, payload.length, ...payload]);
}

/** Incremental frame parser; unknown types are skipped byte by byte and counted. */
export class HidFrameParser {
  #buf: number[] = [];
  garbageBytes = 0;

  push(chunk: Uint8Array): { type: number; payload: Uint8Array }[] {
    const out: { type: number; payload: Uint8Array }[] = [];
    this.#buf.push(...chunk);
    for (;;) {
      const t = this.#buf[0];
      if (t === undefined) break;
      if (!(Object.values(FRAME) as number[]).includes(t)) {
        this.#buf.shift();
        this.garbageBytes++;
        continue;
      }
      const len = this.#buf[1];
      if (len === undefined || this.#buf.length < 2 + len) break;
      out.push({ type: t, payload: Uint8Array.from(this.#buf.slice(2, 2 + len)) });
      this.#buf.splice(0, 2 + len);
    }
    return out;
  }

  get buffered(): number {
    return this.#buf.length;
  }
}

export class StreamHidraw implements HidrawDevice {
  readonly path: string;
  readonly #stream: ByteStream;
  readonly #parser = new HidFrameParser();
  readonly #events = new EventBus<HidrawEvents>();
  #descriptor: ((d: Uint8Array) => void) | null = null;

  constructor(stream: ByteStream) {
    this.path = stream.path;
    this.#stream = stream;
    stream.on('data', (bytes) => {
      for (const f of this.#parser.push(bytes)) {
        if (f.type === FRAME.input) this.#events.emit('report', f.payload);
        else if (f.type === FRAME.descriptor) this.#descriptor?.(f.payload);
      }
    });
    stream.on('close', ({ disconnected }) => this.#events.emit('close', { disconnected }));
  }

  readDescriptor(timeoutMs = 2000): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.#descriptor = null;
        reject(
          new RoomdError('device.timeout', { message: 'The speakerphone did not send its descriptor.' }),
        );
      }, timeoutMs);
      this.#descriptor = (d) => {
        clearTimeout(t);
        this.#descriptor = null;
        resolve(d);
      };
      this.#stream.write(encodeHidFrame(FRAME.request, new Uint8Array(0))).catch((e: unknown) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  async write(report: Uint8Array): Promise<void> {
    checkHidrawWrite(report);
    await this.#stream.write(encodeHidFrame(FRAME.output, report));
  }

  on<K extends keyof HidrawEvents>(event: K, fn: (p: HidrawEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  close(): Promise<void> {
    return this.#stream.close();
  }
}

/** Opens `hidstream:<serial path>` or `tcp://…` as a StreamHidraw. */
export async function openStreamHidraw(path: string, opener: ByteStreamOpener): Promise<StreamHidraw> {
  const target = path.startsWith('hidstream:') ? path.slice('hidstream:'.length) : path;
  return new StreamHidraw(await opener(target));
}
