/**
 * Speakerphone HID driver (hardware brief, "Speakerphone: USB audio + HID telephony"): finds the
 * hook switch and phone mute inputs and the mute/off-hook/ring LEDs in the report descriptor,
 * goes off-hook on open (or the mute button stays dead), turns button reports into MuteState
 * changes — a toggle button flips on each press, a level button reports the state itself — and
 * writes the LED report after every change from any source so device and roomd agree.
 */
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { MuteState } from '../mute.ts';
import {
  findFields,
  type HidField,
  parseReportDescriptor,
  type ReportDescriptor,
  USAGE,
  usage,
  usageActive,
  writeField,
} from './descriptor.ts';
import type { HidrawDevice } from './hidraw.ts';

export type MuteButtonMode = 'auto' | 'toggle' | 'level';

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
const LED_HOOK = usage(USAGE.led, USAGE.ledOffHook);
const LED_RING = usage(USAGE.led, USAGE.ledRing);

export class Speakerphone {
  readonly #device: HidrawDevice;
  readonly #mute: MuteState;
  readonly #mode: MuteButtonMode;
  readonly #events = new EventBus<SpeakerphoneEvents>();
  readonly #offs: Unsubscribe[] = [];
  #desc: ReportDescriptor | null = null;
  #muteField: HidField | null = null;
  #hookField: HidField | null = null;
  #buttonMode: 'toggle' | 'level' = 'toggle';
  #lastButton = false;
  #lastHook: boolean | null = null;
  #offHook = true;
  #ring = false;
  readonly counters = { reports: 0, ledWrites: 0, presses: 0, ignored: 0 };

  constructor(o: SpeakerphoneOptions) {
    this.#device = o.device;
    this.#mute = o.mute;
    this.#mode = o.muteButton ?? 'auto';
  }

  on<K extends keyof SpeakerphoneEvents>(event: K, fn: (p: SpeakerphoneEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  /** The mode the mute button was found (or configured) to use. */
  get buttonMode(): 'toggle' | 'level' {
    return this.#buttonMode;
  }

  get hasMuteButton(): boolean {
    return this.#muteField !== null;
  }

  async start(): Promise<void> {
    const desc = parseReportDescriptor(await this.#device.readDescriptor());
    this.#desc = desc;
    this.#muteField = findFields(desc, 'input', MUTE_IN)[0] ?? null;
    this.#hookField = findFields(desc, 'input', HOOK_IN)[0] ?? null;
    const f = this.#muteField;
    // HID usage tables: an on/off control as a momentary button with a preferred state (or
    // relative) toggles; an absolute latching switch without a preferred state is a level.
    const auto = f !== null && !f.relative && f.noPreferred && f.variable ? 'level' : 'toggle';
    this.#buttonMode = this.#mode === 'auto' ? auto : this.#mode;
    this.#offs.push(
      this.#device.on('report', (r) => this.#onReport(r)),
      this.#mute.on('change', () => void this.#writeLeds().catch(() => {})),
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
    const m = this.#muteField;
    if (m !== null && m.reportId === id) {
      const pressed = usageActive(body, m, MUTE_IN);
      if (this.#buttonMode === 'level') {
        if (pressed !== this.#lastButton) {
          this.counters.presses++;
          // A level button may already agree with roomd; still refresh the LEDs.
          if (!this.#mute.set(pressed, 'button')) void this.#writeLeds().catch(() => {});
        }
      } else if (pressed && !this.#lastButton) {
        this.counters.presses++;
        this.#mute.toggle('button');
      }
      this.#lastButton = pressed;
    }
    const h = this.#hookField;
    if (h !== null && h.reportId === id) {
      const offHook = usageActive(body, h, HOOK_IN);
      if (offHook !== this.#lastHook) {
        this.#lastHook = offHook;
        this.#events.emit('hook', { offHook });
      }
    }
  }

  /** Build and write every output report that holds one of our LEDs. */
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
    set(LED_HOOK, state.offHook);
    set(LED_RING, state.ring);
    for (const [id, body] of byReport) {
      const report = desc.usesReportIds ? Uint8Array.from([id, ...body]) : body;
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
