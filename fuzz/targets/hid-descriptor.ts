/**
 * HID report descriptor (src/devices/hid/descriptor.ts): read from whatever USB device claims to be
 * the speakerphone. parseReportDescriptor returns a descriptor or throws device.protocol_error.
 * Invariants: every field is 1..256 bits (Linux's limit), inside its report's byte length, which is within the report
 * bit budget; report ids are 0..255; usage lists stay within their cap; reading a field gives a value
 * its bit size can hold, and write → read gives the value back.
 */
import fc from 'fast-check';
import {
  type HidField,
  MAX_DESCRIPTOR,
  MAX_REPORT_SIZE,
  parseReportDescriptor,
  readField,
  usageActive,
  writeField,
} from '../../src/devices/hid/descriptor.ts';
import { LEVEL_DESCRIPTOR, TOGGLE_DESCRIPTOR } from '../../device/speakerphone/emulator.ts';
import { EDGE_INTS, mutatedBytes } from '../lib/mutate.ts';
import { concatBytes, type FuzzTarget, invariant, typed } from '../lib/target.ts';

type Input = { readonly descriptor: Uint8Array; readonly report: Uint8Array };

const MAX_REPORT_BITS = 16384 * 8;
const MAX_USAGES = 1024;

/** Descriptor bytes written as hex, one item (or a few) per group. */
const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

/** The HID 1.11 appendix B.1 boot keyboard (array input of 6 keys, LED output, padding). */
const KEYBOARD = hex(`
  0501 0906 a101 0507 19e0 29e7 1500 2501 7501 9508 8102 9501 7508 8101
  9505 7501 0508 1901 2905 9102 9501 7503 9101 9506 7508 1500 2565 0507
  1900 2965 8100 c0`);

/** A consumer-control array with a signed logical range and a long item. */
const CONSUMER = hex(`
  050c 0901 a101 8503 1581 257f 7508 9502 1a0000 2a3c02 8100 fe0210aabb a4 7510 b4 c0`);

const SEEDS = [TOGGLE_DESCRIPTOR, LEVEL_DESCRIPTOR, KEYBOARD, CONSUMER];

/** One short item: prefix (tag, type, size code) and little-endian data; or a long item. */
const item: fc.Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 9,
    arbitrary: fc
      .record({
        tag: fc.nat(15),
        type: fc.nat(3),
        size: fc.constantFrom(0, 1, 2, 3),
        data: fc.oneof(fc.constantFrom(...EDGE_INTS, 0x20, 0x2f, 0x0b, 0x08, 31, 33, 0x81), fc.nat()),
      })
      .map(({ tag, type, size, data }) => {
        const n = [0, 1, 2, 4][size]!;
        const out = new Uint8Array(1 + n);
        out[0] = (tag << 4) | (type << 2) | size;
        for (let i = 0; i < n; i++) out[1 + i] = Math.floor(data / 256 ** i) % 256;
        return out;
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(255), fc.uint8Array({ maxLength: 8 }))
      .map(([len, data]) => Uint8Array.of(0xfe, len, 0x10, ...data)),
  },
);

/** Common idioms: big counts, deep pushes, wide usage ranges, many report ids. */
const idioms: fc.Arbitrary<Uint8Array> = fc.constantFrom(
  Uint8Array.of(0x75, 0x01, 0x96, 0x00, 0x20, 0x81, 0x02), // 8192 one-bit variables
  Uint8Array.of(0x19, 0x00, 0x2a, 0xff, 0xff, 0x75, 0x01, 0x96, 0x00, 0x20, 0x81, 0x00), // wide array
  Uint8Array.of(0x19, 0x00, 0x2a, 0xff, 0xff, 0x75, 0x01, 0x96, 0x00, 0x10, 0x81, 0x00),
  Uint8Array.of(0x85, 0xff, 0x75, 0x20, 0x95, 0xff, 0x91, 0x02), // report 255, 255 x 32 bits
  new Uint8Array(33).fill(0xa4), // push x 33
  new Uint8Array(40).fill(0xb4), // pop without push
  Uint8Array.of(...new Array(40).fill([0xa1, 0x01]).flat()), // collections x 40
  Uint8Array.of(0x75, 0x21, 0x95, 0x01, 0x81, 0x02), // 33-bit field
);

export const hidDescriptor: FuzzTarget<Input> = {
  name: 'hid-descriptor',
  about: 'src/devices/hid/descriptor.ts parseReportDescriptor: descriptor or device.protocol_error',
  arbitrary: () => {
    const items = fc
      .array(fc.oneof({ weight: 8, arbitrary: item }, { weight: 1, arbitrary: idioms }), { maxLength: 60 })
      .map(concatBytes);
    const spliced = fc.tuple(fc.constantFrom(...SEEDS), items, fc.nat()).map(([seed, extra, at]) => {
      const p = at % (seed.length + 1);
      return concatBytes([seed.subarray(0, p), extra, seed.subarray(p)]);
    });
    return fc.record({
      descriptor: fc.oneof(
        { weight: 3, arbitrary: items },
        { weight: 3, arbitrary: mutatedBytes(SEEDS, { maxLength: MAX_DESCRIPTOR + 16 }) },
        { weight: 2, arbitrary: spliced },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
      ),
      report: fc.uint8Array({ maxLength: 64 }),
    });
  },
  run({ descriptor, report }) {
    const r = typed(['device.protocol_error'], () => parseReportDescriptor(descriptor));
    if (!r.ok) return;
    const d = r.value;
    invariant(descriptor.length <= MAX_DESCRIPTOR, 'a descriptor over 4 KiB was parsed');
    for (const [key, bytes] of d.reportBytes) {
      invariant(bytes >= 0 && bytes * 8 <= MAX_REPORT_BITS + 7, `report ${key} is ${bytes} bytes`);
    }
    let checked = 0;
    for (const f of d.fields) {
      const key = `${f.kind}:${f.reportId}`;
      invariant(f.reportId >= 0 && f.reportId <= 255, 'report id out of range');
      invariant(f.bitSize >= 1 && f.bitSize <= MAX_REPORT_SIZE, `a ${f.bitSize}-bit field`);
      invariant(
        f.bitOffset >= 0 && f.bitOffset + f.bitSize <= (d.reportBytes.get(key) ?? 0) * 8,
        'a field outside its report',
      );
      invariant(f.usages.length <= MAX_USAGES, `${f.usages.length} usages on one field`);
      // Reading and writing every field would make big descriptors slow; a sample is enough.
      if (checked++ < 64) checkField(f, report, d.reportBytes.get(key) ?? 0);
    }
  },
  fromBytes: (bytes) => ({ descriptor: bytes, report: new Uint8Array(8) }),
  seeds: () => [
    {
      note: 'speakerphone (toggle mute)',
      input: { descriptor: TOGGLE_DESCRIPTOR, report: Uint8Array.of(2, 3) },
    },
    { note: 'boot keyboard', input: { descriptor: KEYBOARD, report: Uint8Array.of(1, 0, 4, 5, 6, 7, 8, 9) } },
    {
      note: 'consumer control, signed array',
      input: { descriptor: CONSUMER, report: Uint8Array.of(0x80, 0x7f) },
    },
    {
      note: '8192 one-bit array fields with 65536 usages',
      input: {
        descriptor: Uint8Array.of(0x19, 0x00, 0x2a, 0xff, 0xff, 0x75, 0x01, 0x96, 0x00, 0x20, 0x81, 0x00),
        report: new Uint8Array(4),
      },
    },
    {
      note: '290 reports of 8192 array fields with 65536 usages each (memory blow-up)',
      input: {
        descriptor: concatBytes(
          Array.from({ length: 290 }, (_, i) =>
            Uint8Array.of(
              0x85,
              (i % 255) + 1,
              0x19,
              0x00,
              0x2a,
              0xff,
              0xff,
              0x75,
              0x01,
              0x96,
              0x00,
              0x20,
              0x81,
              0x00,
            ),
          ),
        ),
        report: new Uint8Array(4),
      },
    },
    {
      note: 'a signed 31-bit field (sign extension)',
      input: {
        descriptor: Uint8Array.of(0x15, 0x81, 0x25, 0x7f, 0x75, 31, 0x95, 1, 0x81, 0x02),
        report: Uint8Array.of(0xff, 0xff, 0xff, 0x7f),
      },
    },
    {
      note: 'push 33 times',
      input: { descriptor: new Uint8Array(33).fill(0xa4), report: new Uint8Array(0) },
    },
    {
      note: 'item cut short',
      input: { descriptor: Uint8Array.of(0x05, 0x0b, 0x27, 0x01), report: new Uint8Array(0) },
    },
  ],
};

function checkField(f: HidField, report: Uint8Array, bytes: number): void {
  const v = readField(report, f);
  if (f.bitSize > 32) {
    // Wider fields (vendor blobs) are read as their low 32 bits.
    invariant(Number.isInteger(v) && v >= 0 && v < 2 ** 32, `a ${f.bitSize}-bit field read ${v}`);
    return;
  }
  const signed = f.logicalMin < 0 && f.bitSize < 32;
  const lo = signed ? -(2 ** (f.bitSize - 1)) : 0;
  const hi = signed ? 2 ** (f.bitSize - 1) - 1 : 2 ** f.bitSize - 1;
  invariant(Number.isInteger(v) && v >= lo && v <= hi, `a ${f.bitSize}-bit field read ${v}`);
  invariant(typeof usageActive(report, f, f.usages[0] ?? 0) === 'boolean', 'usageActive is not a boolean');
  for (const value of [Math.min(hi, 0x5a5a5a5a), lo, hi]) {
    const fresh = new Uint8Array(bytes);
    writeField(fresh, f, value);
    const back = readField(fresh, f);
    invariant(back === value, `write → read of ${value} in a ${f.bitSize}-bit field gave ${back}`);
  }
}
