import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FakeSpeakerphone,
  LEVEL_DESCRIPTOR,
  TOGGLE_DESCRIPTOR,
} from '../../../../device/speakerphone/emulator.ts';
import { RoomdError } from '../../../../src/core/errors.ts';
import {
  findFields,
  MAX_FIELDS,
  parseReportDescriptor,
  readField,
  USAGE,
  usage,
  writeField,
} from '../../../../src/devices/hid/descriptor.ts';
import { Speakerphone } from '../../../../src/devices/hid/speakerphone.ts';
import { encodeHidFrame, FRAME, HidFrameParser } from '../../../../src/devices/hid/stream-hidraw.ts';
import { MuteState } from '../../../../src/devices/mute.ts';

const settle = () => new Promise((r) => setImmediate(r));

describe('HID report descriptor', () => {
  it('finds telephony inputs and LED outputs with offsets and flags', () => {
    const d = parseReportDescriptor(TOGGLE_DESCRIPTOR);
    expect(d.usesReportIds).toBe(true);
    const [mute] = findFields(d, 'input', usage(USAGE.telephony, USAGE.phoneMute));
    expect(mute).toMatchObject({ reportId: 1, bitOffset: 1, bitSize: 1, relative: true, noPreferred: false });
    const [hook] = findFields(d, 'input', usage(USAGE.telephony, USAGE.hookSwitch));
    expect(hook).toMatchObject({ reportId: 1, bitOffset: 0, noPreferred: true });
    const leds = [USAGE.ledOffHook, USAGE.ledMute, USAGE.ledRing].map(
      (u) => findFields(d, 'output', usage(USAGE.led, u))[0],
    );
    expect(leds.map((f) => f?.bitOffset)).toEqual([0, 1, 2]);
    expect(d.reportBytes.get('output:2')).toBe(1);
    expect(d.reportBytes.get('input:1')).toBe(1);
    const lvl = parseReportDescriptor(LEVEL_DESCRIPTOR);
    expect(findFields(lvl, 'input', usage(USAGE.telephony, USAGE.phoneMute))[0]).toMatchObject({
      relative: false,
      noPreferred: true,
    });
  });

  it('handles usage ranges, arrays, push/pop, long items and signed values', () => {
    const desc = Uint8Array.from([
      0x05,
      0x0b,
      0xa4,
      0x05,
      0x08,
      0xb4, // page telephony, push, page LED, pop → telephony
      0xfe,
      0x02,
      0x00,
      0xaa,
      0xbb, // long item, skipped
      0x19,
      0x20,
      0x29,
      0x2f,
      0x15,
      0x01,
      0x25,
      0x10,
      0x75,
      0x08,
      0x95,
      0x01,
      0x81,
      0x00, // array of 0x20..0x2f
      0x09,
      0x07,
      0x15,
      0xf8,
      0x25,
      0x07,
      0x75,
      0x04,
      0x95,
      0x01,
      0x81,
      0x02, // signed 4-bit
    ]);
    const d = parseReportDescriptor(desc);
    const arr = d.fields[0]!;
    expect(arr.variable).toBe(false);
    expect(arr.usages).toHaveLength(16);
    expect(arr.usages[15]).toBe(usage(0x0b, 0x2f));
    const signed = d.fields[1]!;
    const r = new Uint8Array(2);
    writeField(r, signed, -3);
    expect(readField(r, signed)).toBe(-3);
    expect(signed.logicalMin).toBe(-8);
  });

  it('rejects malformed descriptors with a typed error', () => {
    expect(() => parseReportDescriptor(Uint8Array.of(0x05))).toThrow(RoomdError);
    expect(() => parseReportDescriptor(Uint8Array.of(0xb4))).toThrow(/pop without push/);
    expect(() => parseReportDescriptor(new Uint8Array(5000))).toThrow(/too long/);
  });

  it('refuses a descriptor declaring more fields than MAX_FIELDS, quickly and in little memory', () => {
    // Each 14-byte group: report id, usages 0..65535, 8192 one-bit array fields.
    const arrayOf8192 = Array.from(Buffer.from('19002affff75019600208100', 'hex'));
    const group = (id: number) => [0x85, id, ...arrayOf8192];
    const one = parseReportDescriptor(Uint8Array.from(group(1)));
    expect(one.fields).toHaveLength(MAX_FIELDS);
    // The fields of one array item share one (capped) usage list instead of a copy each.
    expect(one.fields[0]!.usages).toHaveLength(1024);
    expect(one.fields[1]!.usages).toBe(one.fields[0]!.usages);
    const many = Uint8Array.from(Array.from({ length: 290 }, (_, i) => group((i % 255) + 1)).flat());
    expect(() => parseReportDescriptor(many)).toThrow(/too many fields/);
  });

  it('sign-extends a 31-bit field with a negative logical minimum', () => {
    const d = parseReportDescriptor(Uint8Array.of(0x15, 0x81, 0x25, 0x7f, 0x75, 31, 0x95, 1, 0x81, 0x02));
    const f = d.fields[0]!;
    expect(readField(Uint8Array.of(0xff, 0xff, 0xff, 0x7f), f)).toBe(-1);
    expect(readField(Uint8Array.of(0, 0, 0, 0x40), f)).toBe(-(2 ** 30));
    const r = new Uint8Array(4);
    writeField(r, f, -12345);
    expect(readField(r, f)).toBe(-12345);
  });

  it('fuzz: any bytes parse or fail with RoomdError, fields stay inside their reports', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          const d = parseReportDescriptor(bytes);
          for (const f of d.fields) {
            const len = d.reportBytes.get(`${f.kind}:${f.reportId}`) ?? 0;
            expect(f.bitOffset + f.bitSize).toBeLessThanOrEqual(len * 8);
            expect(f.usages.length).toBeLessThanOrEqual(1024);
            readField(new Uint8Array(len), f);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(RoomdError);
        }
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('Speakerphone', () => {
  it('goes off-hook on open and toggles mute on each button press, LEDs following', async () => {
    const dev = new FakeSpeakerphone('toggle');
    const mute = new MuteState();
    const sp = new Speakerphone({ device: dev, mute });
    await sp.start();
    expect(sp.buttonMode).toBe('toggle');
    expect(dev.leds).toEqual({ offHook: true, muted: false, ring: false });
    const changes: unknown[] = [];
    mute.on('change', (c) => changes.push(c));
    dev.pressMute();
    await settle();
    expect(mute.muted).toBe(true);
    expect(dev.leds.muted).toBe(true);
    dev.pressMute();
    await settle();
    expect(mute.muted).toBe(false);
    expect(dev.leds.muted).toBe(false);
    expect(changes).toEqual([
      { muted: true, source: 'button' },
      { muted: false, source: 'button' },
    ]);
    // Mute from another source (the panel) lights the LED too.
    mute.set(true, 'panel');
    await settle();
    expect(dev.leds).toEqual({ offHook: true, muted: true, ring: false });
    expect(dev.writes.at(-1)).toEqual(Uint8Array.of(2, 0b011));
    sp.stop();
  });

  it('follows a level switch and reports the hook switch', async () => {
    const dev = new FakeSpeakerphone('level');
    const mute = new MuteState();
    const sp = new Speakerphone({ device: dev, mute });
    const hooks: boolean[] = [];
    sp.on('hook', (h) => hooks.push(h.offHook));
    await sp.start();
    expect(sp.buttonMode).toBe('level');
    dev.pressMute();
    await settle();
    expect(mute.muted).toBe(true);
    mute.set(false, 'kiosk');
    await settle();
    expect(dev.leds.muted).toBe(false);
    dev.pressMute(); // switch goes back to off: agrees with roomd, LEDs refreshed
    await settle();
    expect(mute.muted).toBe(false);
    // The device took roomd's off-hook on open; hanging up on it turns LED Off-Hook off.
    expect(dev.hook).toBe(true);
    dev.setHook(false);
    await settle();
    expect(dev.leds.offHook).toBe(false);
    dev.setHook(true);
    await settle();
    expect(hooks).toEqual([false, true]);
    expect(dev.leds.offHook).toBe(true);
    sp.stop();
  });

  it('can be forced to toggle mode and ignores reports for other ids', async () => {
    const dev = new FakeSpeakerphone('level');
    const mute = new MuteState();
    const sp = new Speakerphone({ device: dev, mute, muteButton: 'toggle' });
    await sp.start();
    dev.sendReport(Uint8Array.of(7, 0xff));
    expect(mute.muted).toBe(false);
    dev.pressMute();
    expect(mute.muted).toBe(true);
    sp.stop();
  });
});

describe('hidstream framing', () => {
  it('round-trips frames and skips garbage with a bounded buffer', () => {
    const p = new HidFrameParser();
    const bytes = Uint8Array.from([0x00, 0x13, ...encodeHidFrame(FRAME.input, Uint8Array.of(1, 2)), 0x7e]);
    expect(p.push(bytes)).toEqual([{ type: FRAME.input, payload: Uint8Array.of(1, 2) }]);
    expect(p.garbageBytes).toBe(3);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), (chunks) => {
        const q = new HidFrameParser();
        for (const c of chunks) {
          for (const f of q.push(c)) expect(f.payload.length).toBeLessThanOrEqual(255);
          expect(q.buffered).toBeLessThanOrEqual(257);
        }
      }),
      { numRuns: 10_000 },
    );
  });
});
