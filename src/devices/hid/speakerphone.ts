/**
 * Speakerphone HID driver (docs/hardware.md §Speakerphone): finds the
 * hook switch and phone mute inputs and the mute/microphone/off-hook/ring LEDs in the report
 * descriptor, goes off-hook on open (or the mute button stays dead), turns button reports into
 * MuteState changes and hook events, and writes the LED report after every change from any source
 * so device and roomd agree.
 *
 * Phone Mute and Hook Switch are On/Off Controls (HID Usage Tables §3.4.1.2, the forms Google's
 * libhidtelephony reads): two buttons (Relative, No Preferred, Logical −1..1: +1 on, −1 off), a
 * toggle button (Relative, Preferred State, 0..1: each 0→1 flips) or a switch (Absolute: the value
 * is the state). The host answers both: LED Mute and LED Microphone follow the mute state, LED
 * Off-Hook follows the hook state. Output reports go to hidraw with the report number first, 0 when
 * the device has no numbered reports (Linux Documentation/hid/hidraw.rst, write()).
 * docs/hardware.md §Conformance.
 */
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { MuteState } from '../mute.ts';
import {
  findFields,
  type HidField,
  parseReportDescriptor,
  type ReportDescriptor,
  readField,
  USAGE,
  usage,
  usageActive,
  writeField,
} from './descriptor.ts';
import type { HidrawDevice } from './hidraw.ts';

/** How an On/Off Control reports (HID Usage Tables §3.4.1.2). */
export type OnOffControl = 'toggle' | 'level' | 'on-off';
export type MuteButtonMode = 'auto' | OnOffControl;

export interface SpeakerphoneOptions {
  readonly device: HidrawDevice;
  readonly mute: MuteState;
  readonly muteButton?: MuteButtonMode;
}

export type SpeakerphoneEvents = {
  hook: { offHook: boolean };
  leds: { muted: boolean; offHook: boolean; ring: boolean };
};

const MUTE_IN = usage(USAGE.telephony, USAGE.phoneMute);
const HOOK_IN = usage(USAGE.telephony, USAGE.hookSwitch);
const LED_MUTE = usage(USAGE.led, USAGE.ledMute);
const LED_MIC = usage(USAGE.led, USAGE.ledMicrophone);
const LED_HOOK = usage(USAGE.led, USAGE.ledOffHook);
const LED_RING = usage(USAGE.led, USAGE.ledRing);

/**
 * The On/Off Control form of a field. An array selector is momentary (a toggle button); an
 * Absolute field reports the state, with or without a Preferred State.
 */
export function onOffControl(f: HidField): OnOffControl {
  if (!f.variable) return 'toggle';
  if (f.relative && f.logicalMin === -1 && f.logicalMax === 1) return 'on-off';
  return f.relative ? 'toggle' : 'level';
}

/**
 * One On/Off input: its field, form and last raw reading. `everyReport`: a switch's value is the
 * state in every report (the hook); otherwise only a change of the switch counts, because roomd's
 * state may have moved on from another source since (the mute, set from the panel).
 */
class OnOffInput {
  #last = 0;

  constructor(
    readonly field: HidField,
    readonly form: OnOffControl,
    readonly id: number,
    readonly everyReport: boolean,
  ) {}

  /** The state this report asks for, given the current one; null when it asks for nothing. */
  read(body: Uint8Array, current: boolean): boolean | null {
    const f = this.field;
    const v = f.variable ? readField(body, f) : usageActive(body, f, this.id) ? 1 : 0;
    const last = this.#last;
    this.#last = v;
    if (this.form === 'on-off') return v > 0 ? true : v < 0 ? false : null;
    if (this.form === 'toggle') return v !== 0 && last === 0 ? !current : null;
    return this.everyReport || v !== last ? v !== 0 : null;
  }
}

export class Speakerphone {
  readonly #device: HidrawDevice;
  readonly #mute: MuteState;
  readonly #mode: MuteButtonMode;
  readonly #events = new EventBus<SpeakerphoneEvents>();
  readonly #offs: Unsubscribe[] = [];
  #desc: ReportDescriptor | null = null;
  #muteIn: OnOffInput | null = null;
  #hookIn: OnOffInput | null = null;
  #offHook = true;
  #ring = false;
  readonly counters = { reports: 0, ledWrites: 0, ledWriteFailures: 0, presses: 0, ignored: 0 };

  constructor(o: SpeakerphoneOptions) {
    this.#device = o.device;
    this.#mute = o.mute;
    this.#mode = o.muteButton ?? 'auto';
  }

  on<K extends keyof SpeakerphoneEvents>(event: K, fn: (p: SpeakerphoneEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  /** The form the mute button was found (or configured) to have. */
  get buttonMode(): OnOffControl {
    return this.#muteIn?.form ?? 'toggle';
  }

  /** The form of the hook switch, or null without one. */
  get hookMode(): OnOffControl | null {
    return this.#hookIn?.form ?? null;
  }

  get hasMuteButton(): boolean {
    return this.#muteIn !== null;
  }

  get offHook(): boolean {
    return this.#offHook;
  }

  async start(): Promise<void> {
    const desc = parseReportDescriptor(await this.#device.readDescriptor());
    this.#desc = desc;
    const mute = findFields(desc, 'input', MUTE_IN)[0];
    if (mute !== undefined) {
      const form = this.#mode === 'auto' ? onOffControl(mute) : this.#mode;
      this.#muteIn = new OnOffInput(mute, form, MUTE_IN, false);
    }
    const hook = findFields(desc, 'input', HOOK_IN)[0];
    if (hook !== undefined) this.#hookIn = new OnOffInput(hook, onOffControl(hook), HOOK_IN, true);
    this.#offs.push(
      this.#device.on('report', (r) => this.#onReport(r)),
      this.#mute.on('change', () => this.#refreshLeds()),
    );
    this.#offHook = true;
    await this.#writeLeds();
  }

  stop(): void {
    for (const off of this.#offs.splice(0)) off();
  }

  async setRing(ring: boolean): Promise<void> {
    this.#ring = ring;
    await this.#writeLeds();
  }

  #onReport(raw: Uint8Array): void {
    const desc = this.#desc;
    if (desc === null) return;
    this.counters.reports++;
    const id = desc.usesReportIds ? (raw[0] ?? 0) : 0;
    const body = desc.usesReportIds ? raw.subarray(1) : raw;
    const m = this.#muteIn;
    if (m !== null && m.field.reportId === id) {
      const want = m.read(body, this.#mute.muted);
      if (want !== null) {
        this.counters.presses++;
        // The device may already agree with roomd; still refresh the LEDs it may have changed.
        if (!this.#mute.set(want, 'button')) this.#refreshLeds();
      }
    }
    const h = this.#hookIn;
    if (h !== null && h.field.reportId === id) {
      const want = h.read(body, this.#offHook);
      if (want !== null && want !== this.#offHook) {
        this.#offHook = want;
        this.#events.emit('hook', { offHook: want });
        this.#refreshLeds();
      }
    }
  }

  /** Build and write every output report that holds one of our LEDs. */
  /**
   * Write the LEDs in the background: a device that went away is counted (the manager notices the
   * unplug on its own); anything else is a bug and surfaces.
   */
  #refreshLeds(): void {
    this.#writeLeds().catch((e: unknown) => {
      if (!(e instanceof RoomdError) || e.code !== 'device.unavailable') throw e;
      this.counters.ledWriteFailures++;
    });
  }

  async #writeLeds(): Promise<void> {
    const desc = this.#desc;
    if (desc === null) return;
    const state = { muted: this.#mute.muted, offHook: this.#offHook, ring: this.#ring };
    const byReport = new Map<number, Uint8Array>();
    const set = (u: number, on: boolean) => {
      for (const f of findFields(desc, 'output', u)) {
        let r = byReport.get(f.reportId);
        if (r === undefined) {
          r = new Uint8Array(desc.reportBytes.get(`output:${f.reportId}`) ?? 1);
          byReport.set(f.reportId, r);
        }
        if (f.variable) writeField(r, f, on ? Math.max(1, f.logicalMin) : Math.min(0, f.logicalMax));
        else if (on) writeField(r, f, f.logicalMin + f.usages.indexOf(u));
      }
    };
    set(LED_MUTE, state.muted);
    set(LED_MIC, state.muted);
    set(LED_HOOK, state.offHook);
    set(LED_RING, state.ring);
    for (const [id, body] of byReport) {
      // hidraw.rst: the first byte is the report number, 0 for a device without numbered reports.
      const report = Uint8Array.from([desc.usesReportIds ? id : 0, ...body]);
      try {
        await this.#device.write(report);
        this.counters.ledWrites++;
      } catch (cause) {
        throw new RoomdError('device.unavailable', { context: { device: 'speakerphone' }, cause });
      }
    }
    this.#events.emit('leds', state);
  }
}
