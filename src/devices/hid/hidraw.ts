/**
 * The hidraw seam (docs/hardware.md §Speakerphone): roomd reads /dev/hidrawN only through it. A
 * HidrawDevice delivers input reports, writes output reports and hands out its report
 * descriptor. The real one reads `/dev/hidrawN` and the descriptor from sysfs
 * (`/sys/class/hidraw/hidrawN/device/report_descriptor`); tests use the emulator's fake.
 */
import { open, readFile, realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';

export type HidrawEvents = {
  report: Uint8Array;
  close: { disconnected: boolean };
};

export interface HidrawDevice {
  readonly path: string;
  readDescriptor(): Promise<Uint8Array>;
  /**
   * Output report: the report number first — the report ID, or 0 when the device has no numbered
   * reports — then the report data (Linux Documentation/hid/hidraw.rst, write()). hidraw refuses a
   * write under 2 bytes (EINVAL); `checkHidrawWrite` applies the same rule.
   */
  write(report: Uint8Array): Promise<void>;
  on<K extends keyof HidrawEvents>(event: K, fn: (p: HidrawEvents[K]) => void): Unsubscribe;
  close(): Promise<void>;
}

export type HidrawOpener = (path: string) => Promise<HidrawDevice>;

/** The shortest write hidraw accepts: the report number and one byte of data (hidraw.c). */
export const HIDRAW_MIN_WRITE = 2;
/** hidraw's buffer limit (HID_MAX_BUFFER_SIZE). */
export const HIDRAW_MAX_WRITE = 16384;

/** hidraw's own checks on an output report, so every HidrawDevice refuses what the kernel refuses. */
export function checkHidrawWrite(report: Uint8Array): void {
  if (report.length < HIDRAW_MIN_WRITE || report.length > HIDRAW_MAX_WRITE) {
    throw new RoomdError('device.protocol_error', {
      message: 'hidraw takes an output report as its report number followed by the report data.',
      context: { device: 'speakerphone', length: report.length },
    });
  }
}

/**
 * Linux hidraw node. Reads run on the libuv pool (one report per read); a read error after
 * unplug ends it with `disconnected: true`. A blocked read ends when the next report or the
 * unplug arrives, so `close()` does not wait for it.
 */
export class LinuxHidraw implements HidrawDevice {
  readonly path: string;
  readonly #events = new EventBus<HidrawEvents>();
  readonly #fh: Awaited<ReturnType<typeof open>>;
  readonly #sysName: string;
  #open = true;

  private constructor(path: string, fh: Awaited<ReturnType<typeof open>>, sysName: string) {
    this.path = path;
    this.#fh = fh;
    this.#sysName = sysName;
    void this.#readLoop();
  }

  static async open(path: string): Promise<LinuxHidraw> {
    try {
      const real = await realpath(path);
      const fh = await open(real, 'r+');
      return new LinuxHidraw(path, fh, basename(real));
    } catch (cause) {
      throw new RoomdError('device.unavailable', {
        message: 'The speakerphone could not be opened.',
        context: { device: 'speakerphone', path },
        cause,
      });
    }
  }

  async readDescriptor(): Promise<Uint8Array> {
    return new Uint8Array(await readFile(`/sys/class/hidraw/${this.#sysName}/device/report_descriptor`));
  }

  async write(report: Uint8Array): Promise<void> {
    if (!this.#open) throw new RoomdError('device.unavailable', { context: { device: 'speakerphone' } });
    checkHidrawWrite(report);
    await this.#fh.write(report);
  }

  on<K extends keyof HidrawEvents>(event: K, fn: (p: HidrawEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#events.emit('close', { disconnected: false });
    await this.#fh.close().catch(() => {});
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(256);
    while (this.#open) {
      let bytesRead = 0;
      try {
        ({ bytesRead } = await this.#fh.read(buf, 0, buf.length, null));
      } catch (error) {
        // A read error from the kernel (ENODEV, EIO, … when the device goes away; EBADF once closed)
        // ends the stream like end of file; anything else is a bug.
        if (typeof (error as NodeJS.ErrnoException).code !== 'string') throw error;
      }
      if (bytesRead === 0) {
        if (!this.#open) return;
        this.#open = false;
        this.#events.emit('close', { disconnected: true });
        await this.#fh.close().catch(() => {});
        return;
      }
      if (this.#open) this.#events.emit('report', buf.slice(0, bytesRead));
    }
  }
}

export const openLinuxHidraw: HidrawOpener = (path) => LinuxHidraw.open(path);
