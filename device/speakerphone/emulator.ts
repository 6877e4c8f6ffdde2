/**
 * HID speakerphone emulator (device/README.md): a fake hidraw node with a real telephony report
 * descriptor, scripted button presses, and the LED state it was last told — the same bytes a USB
 * speakerphone exchanges with /dev/hidrawN, under hidraw's rules: a write is the report number
 * then the data (0 without numbered reports), and a write under 2 bytes fails with EINVAL
 * (Linux Documentation/hid/hidraw.rst). Like a real telephony device, its hook state follows the
 * host's Off-Hook LED and its own hook button.
 *
 * Profiles (docs/hardware.md §Conformance):
 * - `toggle`: report IDs; Phone Mute a toggle button (Relative, Preferred State); hook a switch.
 * - `level`: report IDs; Phone Mute a latching switch (Absolute, No Preferred).
 * - `no-report-ids`: no numbered reports; Phone Mute two buttons (Relative, −1..1), Hook Switch a
 *   toggle button, LED Microphone beside LED Mute, a 64-bit vendor feature field.
 * - `level-switch`: report IDs; Phone Mute a switch declared Absolute *with* a Preferred State, and
 *   its `Usage (Phone Mute)` comes before `Usage Page (Telephony)`; LED Microphone.
 */
import { RoomdError } from '../../src/core/errors.ts';
import { EventBus, type Unsubscribe } from '../../src/core/events.ts';
import type { HidrawDevice, HidrawEvents } from '../../src/devices/hid/hidraw.ts';

/** Mute as a momentary button (relative, preferred state): each press toggles. */
export const TOGGLE_DESCRIPTOR = buildDescriptor(0x06);
/** Mute as a latching switch (absolute, no preferred state): the report is the state. */
export const LEVEL_DESCRIPTOR = buildDescriptor(0x22);

function buildDescriptor(muteFlags: number): Uint8Array {
  // biome-ignore format: a descriptor item per line
  return Uint8Array.from([
    0x05, 0x0b, 0x09, 0x05, 0xa1, 0x01, // Usage Page (Telephony), Usage (Headset), Collection (Application)
    0x85, 0x01, 0x15, 0x00, 0x25, 0x01, // Report ID 1, Logical 0..1
    0x09, 0x20, 0x75, 0x01, 0x95, 0x01, 0x81, 0x22, // Hook Switch: Input (Data,Var,Abs,NoPref)
    0x09, 0x2f, 0x75, 0x01, 0x95, 0x01, 0x81, muteFlags, // Phone Mute
    0x75, 0x01, 0x95, 0x06, 0x81, 0x03, // padding
    0x05, 0x08, 0x85, 0x02, // Usage Page (LED), Report ID 2
    0x09, 0x17, 0x09, 0x09, 0x09, 0x18, // Off-Hook, Mute, Ring
    0x75, 0x01, 0x95, 0x03, 0x91, 0x22, // Output (Data,Var,Abs,NoPref)
    0x75, 0x05, 0x95, 0x01, 0x91, 0x03, // padding
    0xc0,
  ]);
}

/** No numbered reports: one input byte, one output byte, one 8-byte vendor feature. */
// biome-ignore format: a descriptor item per line
export const NO_REPORT_ID_DESCRIPTOR = Uint8Array.from([
  0x05, 0x0b, 0x09, 0x05, 0xa1, 0x01, // Usage Page (Telephony), Usage (Headset), Collection (Application)
  0x09, 0x20, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, 0x06, // Hook Switch: toggle button (Rel, Pref)
  0x09, 0x2f, 0x15, 0xff, 0x25, 0x01, 0x75, 0x02, 0x95, 0x01, 0x81, 0x26, // Phone Mute: −1..1 buttons (Rel, NoPref)
  0x75, 0x05, 0x95, 0x01, 0x81, 0x03, // padding
  0x05, 0x08, 0x15, 0x00, 0x25, 0x01, // Usage Page (LED), Logical 0..1
  0x09, 0x17, 0x09, 0x09, 0x09, 0x18, 0x09, 0x21, // Off-Hook, Mute, Ring, Microphone
  0x75, 0x01, 0x95, 0x04, 0x91, 0x22, // Output (Data,Var,Abs,NoPref)
  0x75, 0x04, 0x95, 0x01, 0x91, 0x03, // padding
  0x06, 0x00, 0xff, 0x09, 0x01, 0x75, 0x40, 0x95, 0x01, 0xb1, 0x02, // vendor feature, Report Size 64
  0xc0,
]);

/** Report IDs; the mute switch declared after the LED page, Usage before Usage Page. */
// biome-ignore format: a descriptor item per line
export const LEVEL_SWITCH_DESCRIPTOR = Uint8Array.from([
  0x05, 0x0b, 0x09, 0x05, 0xa1, 0x01, // Usage Page (Telephony), Usage (Headset), Collection (Application)
  0x85, 0x01, 0x15, 0x00, 0x25, 0x01, // Report ID 1, Logical 0..1
  0x09, 0x20, 0x75, 0x01, 0x95, 0x01, 0x81, 0x22, // Hook Switch: Input (Data,Var,Abs,NoPref)
  0x75, 0x07, 0x95, 0x01, 0x81, 0x03, // padding
  0x05, 0x08, 0x85, 0x02, // Usage Page (LED), Report ID 2
  0x09, 0x17, 0x09, 0x09, 0x09, 0x18, 0x09, 0x21, // Off-Hook, Mute, Ring, Microphone
  0x75, 0x01, 0x95, 0x04, 0x91, 0x22, // Output (Data,Var,Abs,NoPref)
  0x75, 0x04, 0x95, 0x01, 0x91, 0x03, // padding
  0x85, 0x03, 0x09, 0x2f, 0x05, 0x0b, // Report ID 3, Usage (Phone Mute), then Usage Page (Telephony)
  0x75, 0x01, 0x95, 0x01, 0x81, 0x02, // Input (Data,Var,Abs): a switch with a preferred state
  0x75, 0x07, 0x95, 0x01, 0x81, 0x03, // padding
  0xc0,
]);

export type SpeakerphoneProfile = 'toggle' | 'level' | 'no-report-ids' | 'level-switch';
export const SPEAKERPHONE_PROFILES: readonly SpeakerphoneProfile[] = [
  'toggle',
  'level',
  'no-report-ids',
  'level-switch',
];

interface Layout {
  readonly descriptor: Uint8Array;
  /** Report number of the LED output report (0: no numbered reports). */
  readonly ledReport: number;
  readonly mute: 'toggle' | 'level' | 'on-off';
  readonly hook: 'level' | 'toggle';
  readonly microphoneLed: boolean;
}

const LAYOUTS: Record<SpeakerphoneProfile, Layout> = {
  toggle: {
    descriptor: TOGGLE_DESCRIPTOR,
    ledReport: 2,
    mute: 'toggle',
    hook: 'level',
    microphoneLed: false,
  },
  level: { descriptor: LEVEL_DESCRIPTOR, ledReport: 2, mute: 'level', hook: 'level', microphoneLed: false },
  'no-report-ids': {
    descriptor: NO_REPORT_ID_DESCRIPTOR,
    ledReport: 0,
    mute: 'on-off',
    hook: 'toggle',
    microphoneLed: true,
  },
  'level-switch': {
    descriptor: LEVEL_SWITCH_DESCRIPTOR,
    ledReport: 2,
    mute: 'level',
    hook: 'level',
    microphoneLed: true,
  },
};

export interface LedState {
  offHook: boolean;
  muted: boolean;
  ring: boolean;
  /** LED Microphone, on profiles that have it. */
  microphone?: boolean;
}

export class FakeSpeakerphone implements HidrawDevice {
  readonly path: string;
  readonly profile: SpeakerphoneProfile;
  readonly descriptor: Uint8Array;
  /** Every write the host made, accepted or not. */
  readonly writes: Uint8Array[] = [];
  /** Writes hidraw or the device refused (under 2 bytes, wrong report number). */
  rejectedWrites = 0;
  readonly leds: LedState;
  readonly ledEvents = new EventBus<{ leds: LedState }>();
  readonly #layout: Layout;
  readonly #events = new EventBus<HidrawEvents>();
  #open = true;
  #hook = false;
  #muteSwitch = false;

  constructor(profile: SpeakerphoneProfile = 'toggle', path = '/dev/hidraw-fake') {
    this.profile = profile;
    this.path = path;
    this.#layout = LAYOUTS[profile];
    this.descriptor = this.#layout.descriptor;
    this.leds = this.#layout.microphoneLed
      ? { offHook: false, muted: false, ring: false, microphone: false }
      : { offHook: false, muted: false, ring: false };
  }

  /** How the mute control reports. */
  get mode(): 'toggle' | 'level' | 'on-off' {
    return this.#layout.mute;
  }

  /** The device's own hook state. */
  get hook(): boolean {
    return this.#hook;
  }

  async readDescriptor(): Promise<Uint8Array> {
    this.#check();
    return this.descriptor;
  }

  async write(report: Uint8Array): Promise<void> {
    this.#check();
    this.writes.push(Uint8Array.from(report));
    if (report.length < 2) {
      this.rejectedWrites++;
      throw new RoomdError('device.protocol_error', {
        message: 'EINVAL: hidraw takes the report number and at least one data byte.',
        context: { device: 'speakerphone', length: report.length },
      });
    }
    if (report[0] !== this.#layout.ledReport) {
      this.rejectedWrites++;
      return;
    }
    const b = report[1]!;
    this.leds.offHook = (b & 1) !== 0;
    this.leds.muted = (b & 2) !== 0;
    this.leds.ring = (b & 4) !== 0;
    if (this.#layout.microphoneLed) this.leds.microphone = (b & 8) !== 0;
    // A telephony device takes the host's hook state (off-hook starts the call on the device).
    this.#hook = this.leds.offHook;
    this.ledEvents.emit('leds', { ...this.leds });
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

  /**
   * A person presses the mute button: a pulse for a toggle button, a flip for a switch, and for
   * two-button mute the button that changes what the Mute LED shows (+1 mutes, −1 unmutes).
   */
  pressMute(): void {
    const form = this.#layout.mute;
    if (form === 'toggle') {
      this.#report({ mute: 1 });
      this.#report({ mute: 0 });
    } else if (form === 'on-off') {
      this.#report({ mute: this.leds.muted ? -1 : 1 });
      this.#report({ mute: 0 });
    } else {
      this.#muteSwitch = !this.#muteSwitch;
      this.#report({ mute: this.#muteSwitch ? 1 : 0 });
    }
  }

  /** A person picks up or hangs up on the device (a switch reports it; a toggle button is pressed). */
  setHook(offHook: boolean): void {
    if (this.#layout.hook === 'toggle') {
      if (offHook === this.#hook) return;
      this.#hook = offHook;
      this.#report({ hook: 1 });
      this.#report({ hook: 0 });
      return;
    }
    this.#hook = offHook;
    this.#report({ hook: offHook ? 1 : 0 });
  }

  /** Any raw input report (fuzzing, odd devices). */
  sendReport(report: Uint8Array): void {
    this.#events.emit('report', report);
  }

  /** The input report(s) carrying `signal`, with the device's other controls at rest. */
  #report(signal: { mute?: number; hook?: number }): void {
    const layout = this.#layout;
    const muteLevel = layout.mute === 'level' ? (this.#muteSwitch ? 1 : 0) : 0;
    const mute = signal.mute ?? muteLevel;
    const hook = signal.hook ?? (layout.hook === 'level' ? (this.#hook ? 1 : 0) : 0);
    switch (this.profile) {
      case 'toggle':
      case 'level':
        this.sendReport(Uint8Array.of(1, hook | (mute << 1)));
        return;
      case 'no-report-ids':
        this.sendReport(Uint8Array.of(hook | ((mute & 0b11) << 1)));
        return;
      case 'level-switch':
        if (signal.hook !== undefined) this.sendReport(Uint8Array.of(1, hook));
        if (signal.mute !== undefined) this.sendReport(Uint8Array.of(3, mute));
        return;
    }
  }

  #check(): void {
    if (!this.#open) throw new RoomdError('device.unavailable', { context: { device: 'speakerphone' } });
  }
}
