/**
 * The speakerphone driver against the published HID documents, byte for byte
 * (docs/hardware.md §Conformance):
 * - Linux Documentation/hid/hidraw.rst, "write()": the first byte is the report number, 0 when the
 *   device does not use numbered reports; drivers/hid/hidraw.c refuses writes under 2 bytes.
 * - HID Usage Tables 1.12 §3.4.1.2 On/Off Control: two buttons (Relative, No Preferred, −1..1),
 *   toggle button (Relative, Preferred State, 0..1), toggle switch (Absolute, 0..1) — the forms
 *   Google's libhidtelephony reads (getOnOffControlType); §14 Telephony page: Hook Switch 0x20 and
 *   Phone Mute 0x2F are OOC; §11 LED page: Mute 0x09, Off-Hook 0x17, Microphone 0x21.
 * - HID 1.11 §6.2.2.8 Local Items: "When the parser encounters a main item it concatenates the last
 *   declared Usage Page with a Usage to form a complete usage value" (Linux hid-core.c
 *   hid_concatenate_last_usage_page); §6.2.2.7 Report Size, which Linux accepts up to 256 bits.
 */
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../../src/core/errors.ts';
import { EventBus, type Unsubscribe } from '../../../../src/core/events.ts';
import { findFields, parseReportDescriptor, usage } from '../../../../src/devices/hid/descriptor.ts';
import type { HidrawDevice, HidrawEvents } from '../../../../src/devices/hid/hidraw.ts';
import { Speakerphone } from '../../../../src/devices/hid/speakerphone.ts';
import { StreamHidraw } from '../../../../src/devices/hid/stream-hidraw.ts';
import { MuteState } from '../../../../src/devices/mute.ts';
import { createMemoryPair } from '../../../../src/transport/serial/memory.ts';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** A hidraw node with the kernel's write rule and nothing else: what the driver must live with. */
class Node implements HidrawDevice {
  readonly path = '/dev/hidraw0';
  readonly writes: number[][] = [];
  readonly #events = new EventBus<HidrawEvents>();
  constructor(readonly descriptor: readonly number[]) {}
  async readDescriptor(): Promise<Uint8Array> {
    return Uint8Array.from(this.descriptor);
  }
  async write(report: Uint8Array): Promise<void> {
    if (report.length < 2) throw new Error('EINVAL');
    this.writes.push([...report]);
  }
  on<K extends keyof HidrawEvents>(event: K, fn: (p: HidrawEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }
  async close(): Promise<void> {}
  input(...bytes: number[]): void {
    this.#events.emit('report', Uint8Array.from(bytes));
  }
}

async function phone(descriptor: number[]) {
  const node = new Node(descriptor);
  const mute = new MuteState();
  const sp = new Speakerphone({ device: node, mute });
  const hooks: boolean[] = [];
  sp.on('hook', (h) => hooks.push(h.offHook));
  await sp.start();
  return { node, mute, sp, hooks };
}

// Pieces of descriptors (item bytes as in HID 1.11 §6.2.2).
const TELEPHONY = [0x05, 0x0b];
const LED = [0x05, 0x08];
const APP = [0x09, 0x05, 0xa1, 0x01];
const END = [0xc0];
const bit = (flags: number) => [0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x01, 0x81, flags];
const pad = (n: number, main = 0x81) => [0x75, n, 0x95, 0x01, main, 0x03];
const LED_OUT = (...leds: number[]) => [
  ...LED,
  0x15,
  0x00,
  0x25,
  0x01,
  ...leds.flatMap((u) => [0x09, u]),
  0x75,
  0x01,
  0x95,
  leds.length,
  0x91,
  0x22,
  ...pad(8 - leds.length, 0x91),
];

describe('hidraw writes (hidraw.rst, write())', () => {
  it('a device without numbered reports gets report number 0 before its one LED byte', async () => {
    // LED Mute as the only output: the report is one byte, so the write is [0x00, leds].
    const { node, mute } = await phone([...TELEPHONY, ...APP, ...LED_OUT(0x09), ...END]);
    expect(node.writes).toEqual([[0x00, 0x00]]);
    mute.set(true, 'panel');
    await settle();
    expect(node.writes.at(-1)).toEqual([0x00, 0x01]);
  });

  it('keeps the first data byte of a longer report: [0x00, byte 0, byte 1]', async () => {
    // 8 constant bits, then LED Off-Hook in the second byte.
    const desc = [...TELEPHONY, ...APP, ...pad(8, 0x91), ...LED_OUT(0x17), ...END];
    const { node } = await phone(desc);
    expect(node.writes).toEqual([[0x00, 0x00, 0x01]]);
  });

  it('the stream seam refuses what hidraw refuses (under 2 bytes)', async () => {
    const [host] = createMemoryPair('hidstream:/dev/pts/9');
    const dev = new StreamHidraw(host);
    await expect(dev.write(Uint8Array.of(0x01))).rejects.toBeInstanceOf(RoomdError);
    await expect(dev.write(Uint8Array.of(0x00, 0x01))).resolves.toBeUndefined();
  });
});

describe('On/Off Controls (HUT §3.4.1.2)', () => {
  it('two buttons (Relative, No Preferred, −1..1): +1 mutes, −1 unmutes, 0 does nothing', async () => {
    // Phone Mute: Logical −1..1 in 2 bits, Input (Data,Var,Rel,NoPref) = 0x26.
    const desc = [
      ...TELEPHONY,
      ...APP,
      ...[0x09, 0x2f, 0x15, 0xff, 0x25, 0x01, 0x75, 0x02, 0x95, 0x01, 0x81, 0x26],
      ...pad(6),
      ...END,
    ];
    const { node, mute, sp } = await phone(desc);
    node.input(0b01); // +1
    node.input(0b00);
    expect(mute.muted).toBe(true);
    node.input(0b11); // −1
    node.input(0b00);
    expect(mute.muted).toBe(false);
    node.input(0b00);
    node.input(0b11); // −1 again: still unmuted, not a toggle
    expect(mute.muted).toBe(false);
    expect(sp.buttonMode).toBe('on-off');
  });

  it('an Absolute mute with a Preferred State is a switch: its 0 unmutes', async () => {
    // Input (Data,Var,Abs) = 0x02: absolute, preferred state set.
    const { node, mute, sp } = await phone([
      ...TELEPHONY,
      ...APP,
      0x09,
      0x2f,
      ...bit(0x02),
      ...pad(7),
      ...END,
    ]);
    node.input(0x01);
    expect(mute.muted).toBe(true);
    node.input(0x00);
    expect(mute.muted).toBe(false);
    expect(sp.buttonMode).toBe('level');
  });

  it('a toggle-button hook switch flips the hook on each press, and LED Off-Hook answers it', async () => {
    // Hook Switch: Input (Data,Var,Rel) = 0x06, preferred state; LED Off-Hook in the output.
    const desc = [...TELEPHONY, ...APP, 0x09, 0x20, ...bit(0x06), ...pad(7), ...LED_OUT(0x17), ...END];
    const { node, sp, hooks } = await phone(desc);
    expect(sp.hookMode).toBe('toggle');
    expect(node.writes).toEqual([[0x00, 0x01]]); // off-hook on open
    node.input(0x01);
    node.input(0x00);
    await settle();
    expect(hooks).toEqual([false]);
    expect(node.writes.at(-1)).toEqual([0x00, 0x00]);
    node.input(0x01);
    node.input(0x00);
    await settle();
    expect(hooks).toEqual([false, true]);
    expect(node.writes.at(-1)).toEqual([0x00, 0x01]);
  });

  it('LED Off-Hook follows a hook switch that hangs up (Absolute)', async () => {
    const desc = [...TELEPHONY, ...APP, 0x09, 0x20, ...bit(0x22), ...pad(7), ...LED_OUT(0x17), ...END];
    const { node, hooks } = await phone(desc);
    node.input(0x01);
    await settle();
    expect(hooks).toEqual([]);
    node.input(0x00);
    await settle();
    expect(hooks).toEqual([false]);
    expect(node.writes.at(-1)).toEqual([0x00, 0x00]);
  });

  it('writes LED Microphone (0x21) with LED Mute (0x09)', async () => {
    const { node, mute } = await phone([...TELEPHONY, ...APP, ...LED_OUT(0x09, 0x21), ...END]);
    mute.set(true, 'kiosk');
    await settle();
    expect(node.writes.at(-1)).toEqual([0x00, 0b11]);
    mute.set(false, 'kiosk');
    await settle();
    expect(node.writes.at(-1)).toEqual([0x00, 0b00]);
  });
});

describe('report descriptor items (HID 1.11 §6.2.2)', () => {
  const MUTE = usage(0x0b, 0x2f);

  it('a Usage takes the last Usage Page declared before its Main item, even one after it', () => {
    // LED page in force, Usage (0x2F), then Usage Page (Telephony), then Input.
    const d = parseReportDescriptor(
      Uint8Array.from([...LED, 0x09, 0x2f, ...TELEPHONY, ...bit(0x06), ...pad(7)]),
    );
    expect(findFields(d, 'input', MUTE)).toHaveLength(1);
    expect(findFields(d, 'input', usage(0x08, 0x2f))).toHaveLength(0);
    // Linux walks back only to the first usage already on that page; 4-byte usages keep theirs.
    const mixed = parseReportDescriptor(
      Uint8Array.from([
        ...LED,
        0x09,
        0x09, // LED Mute, declared on the LED page
        ...TELEPHONY,
        0x09,
        0x20, // Hook Switch on the Telephony page: the walk stops here
        0x0b,
        0x21,
        0x00,
        0x08,
        0x00, // extended usage LED:0x21
        0x15,
        0x00,
        0x25,
        0x01,
        0x75,
        0x01,
        0x95,
        0x03,
        0x81,
        0x02,
      ]),
    );
    expect(mixed.fields.map((f) => f.usages[0])).toEqual([
      usage(0x08, 0x09),
      usage(0x0b, 0x20),
      usage(0x08, 0x21),
    ]);
  });

  it('accepts Report Size up to 256 bits as Linux does, and refuses 257', () => {
    const vendor = (size: number[]) => [0x06, 0x00, 0xff, 0x09, 0x01, 0x75, ...size, 0x95, 0x01, 0xb1, 0x02];
    const desc = [...TELEPHONY, ...APP, 0x09, 0x2f, ...bit(0x06), ...pad(7), ...vendor([0x40]), ...END];
    const d = parseReportDescriptor(Uint8Array.from(desc));
    expect(findFields(d, 'input', MUTE)).toHaveLength(1);
    expect(d.reportBytes.get('feature:0')).toBe(8);
    const wide = parseReportDescriptor(Uint8Array.from([0x76, 0x00, 0x01, 0x95, 0x01, 0xb1, 0x02]));
    expect(wide.reportBytes.get('feature:0')).toBe(32);
    expect(() => parseReportDescriptor(Uint8Array.from([0x76, 0x01, 0x01, 0x95, 0x01, 0xb1, 0x02]))).toThrow(
      /report size/,
    );
  });
});
