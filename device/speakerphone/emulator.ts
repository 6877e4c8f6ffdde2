/**
 * HID speakerphone emulator (issue 6, emulators): a fake hidraw node with a real telephony report
 * descriptor (hook switch + phone mute inputs in report 1, off-hook/mute/ring LEDs in report 2),
 * scripted button presses, and the LED state it was last told — the same bytes a USB
 * speakerphone exchanges with /dev/hidrawN.
 */
import { EventBus, type Unsubscribe } from '../../src/core/events.ts';
import { RoomdError } from '../../src/core/errors.ts';
import type { HidrawDevice, HidrawEvents } from '../../src/devices/hid/hidraw.ts';

/** Mute as a momentary button (relative, preferred state): each press toggles. */
export const TOGGLE_DESCRIPTOR = buildDescriptor(0x06);
/** Mute as a latching switch (absolute, no preferred state): the report is the state. */
export const LEVEL_DESCRIPTOR = buildDescriptor(0x22);

function buildDescriptor(muteFlags: number): Uint8Array {
  // prettier-ignore
  return Uint8Array.from([
    0x05,
    0x0b,
    0x09,
    0x05,
    0xa1,
    0x01, // Usage Page (Telephony), Usage (Headset), Collection (Application)
    0x85,
    0x01,
    0x15,
    0x00,
    0x25,
    0x01, // Report ID 1, Logical 0..1
    0x09,
    0x20,
    0x75,
    0x01,
    0x95,
    0x01,
    0x81,
    0x22, // Hook Switch: Input (Data,Var,Abs,NoPref)
    0x09,
    0x2f,
    0x75,
    0x01,
    0x95,
    0x01,
    0x81,
    muteFlags, // Phone Mute
    0x75,
    0x01,
    0x95,
    0x06,
    0x81,
    0x03, // padding
    0x05,
    0x08,
    0x85,
    0x02, // Usage Page (LED), Report ID 2
    0x09,
    0x17,
    0x09,
    0x09,
    0x09,
    0x18, // Off-Hook, Mute, Ring
    0x75,
    0x01,
    0x95,
    0x03,
    0x91,
    0x22, // Output (Data,Var,Abs,NoPref)
    0x75,
    0x05,
    0x95,
    0x01,
    0x91,
    0x03, // padding
    0xc0,
  ]);
}

export interface LedState {
  offHook: boolean;
  muted: boolean;
  ring: boolean;
}

export class FakeSpeakerphone implements HidrawDevice {
  readonly path: string;
  readonly descriptor: Uint8Array;
  readonly mode: 'toggle' | 'level';
  readonly writes: Uint8Array[] = [];
  readonly leds: LedState = { offHook: false, muted: false, ring: false };
  readonly ledEvents = new EventBus<{ leds: LedState }>();
  readonly #events = new EventBus<HidrawEvents>();
  #open = true;
  #hook = false;
  #muteSwitch = false;

  constructor(mode: 'toggle' | 'level' = 'toggle', path = '/dev/hidraw-fake') {
    this.mode = mode;
    this.path = path;
    this.descriptor = mode === 'toggle' ? TOGGLE_DESCRIPTOR : LEVEL_DESCRIPTOR;
  }

  async readDescriptor(): Promise<Uint8Array> {
    this.#check();
    return this.descriptor;
  }

  async write(report: Uint8Array): Promise<void> {
    this.#check();
    this.writes.push(Uint8Array.from(report));
    if (report[0] === 2 && report.length >= 2) {
      const b = report[1]!;
      this.leds.offHook = (b & 1) !== 0;
      this.leds.muted = (b & 2) !== 0;
      this.leds.ring = (b & 4) !== 0;
      this.ledEvents.emit('leds', { ...this.leds });
    }
  }

  on<K extends keyof HidrawEvents>(event: K, fn: (p: HidrawEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    this.#events.emit('close', { disconnected: false });
  }

  /** The cable is pulled. */
  unplug(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#events.emit('close', { disconnected: true });
  }

  /** A person presses the mute button: a pulse for a toggle button, a flip for a switch. */
  pressMute(): void {
    if (this.mode === 'toggle') {
      this.#report(true);
      this.#report(false);
    } else {
      this.#muteSwitch = !this.#muteSwitch;
      this.#report(this.#muteSwitch);
    }
  }

  setHook(offHook: boolean): void {
    this.#hook = offHook;
    this.#report(this.mode === 'level' ? this.#muteSwitch : false);
  }

  /** Any raw input report (fuzzing, odd devices). */
  sendReport(report: Uint8Array): void {
    this.#events.emit('report', report);
  }

  #report(mute: boolean): void {
    this.#events.emit('report', Uint8Array.of(1, (this.#hook ? 1 : 0) | (mute ? 2 : 0)));
  }

  #check(): void {
    if (!this.#open) throw new RoomdError('device.unavailable', { context: { device: 'speakerphone' } });
  }
}
