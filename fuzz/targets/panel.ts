/**
 * Nextion touch panel return data (src/devices/panel/codec.ts): bytes off the panel's serial line,
 * fed in whatever pieces the line delivers. NextionParser.push never throws. Invariants: it holds at
 * most its buffer; every frame has the declared ranges; a stream of encoded frames comes back as the
 * same frames, with nothing counted as garbage, however it is cut. Plus the other direction, where
 * untrusted text (meeting titles, names) meets the serial line: an instruction built by
 * `ins.setText` never holds the FF terminator or an unescaped quote.
 */
import fc from 'fast-check';
import {
  encodeFrame,
  encodeInstruction,
  ERROR_NAMES,
  ins,
  MAX_BUFFER,
  MAX_INSTRUCTION_BYTES,
  type NextionErrorCode,
  type NextionFrame,
  NextionParser,
} from '../../src/devices/panel/codec.ts';
import { cutPoints, EDGE_STRINGS, mutatedBytes, tokenBytes } from '../lib/mutate.ts';
import { concatBytes, type FuzzTarget, invariant, sameValue, split, typed } from '../lib/target.ts';

type Input =
  | { readonly bytes: Uint8Array; readonly cuts: readonly number[] }
  | { readonly frames: readonly NextionFrame[]; readonly cuts: readonly number[] }
  | { readonly text: string; readonly maxChars: number };

const byte = fc.nat(255);
const latin1 = fc
  .array(fc.integer({ min: 0, max: 0xfe }), { maxLength: 300 })
  .map((cs) => String.fromCharCode(...cs));

const frame: fc.Arbitrary<NextionFrame> = fc.oneof(
  fc.record({ kind: fc.constant('touch' as const), page: byte, component: byte, pressed: fc.boolean() }),
  fc.record({ kind: fc.constant('page' as const), page: byte }),
  fc.record({
    kind: fc.constant('coords' as const),
    x: fc.nat(0xffff),
    y: fc.nat(0xffff),
    pressed: fc.boolean(),
    asleep: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('string' as const), value: latin1 }),
  fc.record({
    kind: fc.constant('number' as const),
    value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  }),
  fc.constantFrom<NextionFrame>(
    { kind: 'sleep' },
    { kind: 'wake' },
    { kind: 'startup' },
    { kind: 'ready' },
    { kind: 'upgrade' },
    { kind: 'transparent-ready' },
    { kind: 'transparent-done' },
    { kind: 'ok' },
  ),
  fc
    .constantFrom(...(Object.keys(ERROR_NAMES).map(Number) as NextionErrorCode[]))
    .map((code): NextionFrame => ({ kind: 'error', code, name: ERROR_NAMES[code] })),
);

/** What the parser gives back for an encoded frame (strings are cut to 255 bytes). */
function expected(f: NextionFrame): NextionFrame {
  return f.kind === 'string' ? { kind: 'string', value: f.value.slice(0, 255) } : f;
}

function checkFrame(f: NextionFrame): void {
  switch (f.kind) {
    case 'touch':
    case 'page':
      invariant(f.page >= 0 && f.page <= 255, 'page out of range');
      break;
    case 'coords':
      invariant(f.x >= 0 && f.x <= 0xffff && f.y >= 0 && f.y <= 0xffff, 'coordinates out of range');
      break;
    case 'string':
      invariant(f.value.length <= 255, 'string frame over 255 bytes');
      break;
    case 'number':
      invariant(Number.isInteger(f.value) && f.value >= -(2 ** 31) && f.value < 2 ** 31, 'number out of i32');
      break;
    case 'error':
      invariant(f.code in ERROR_NAMES && typeof f.name === 'string', 'unknown error code');
      break;
    default:
      break;
  }
}

function feed(chunks: readonly Uint8Array[]): { frames: NextionFrame[]; parser: NextionParser } {
  const parser = new NextionParser();
  const frames: NextionFrame[] = [];
  for (const c of chunks) {
    for (const f of parser.push(c)) {
      checkFrame(f);
      frames.push(f);
    }
    invariant(parser.buffered <= MAX_BUFFER + 64, `${parser.buffered} bytes buffered`);
  }
  return { frames, parser };
}

const TOKENS = [
  [0xff, 0xff, 0xff],
  [0x65, 0, 1, 1, 0xff, 0xff, 0xff],
  [0x70, 0x41],
  [0x71, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0, 0, 0, 0xff, 0xff, 0xff],
  [0x1a, 0xff, 0xff, 0xff],
  [0x66],
];

export const panel: FuzzTarget<Input> = {
  name: 'panel',
  about: 'src/devices/panel/codec.ts NextionParser.push (total) and ins.setText (no injection)',
  arbitrary: () => {
    const seeds = fc.sample(fc.array(frame, { minLength: 1, maxLength: 6 }), { numRuns: 20, seed: 4 });
    const seedBytes = seeds.map((fs) => concatBytes(fs.map(encodeFrame)));
    return fc.oneof(
      { weight: 3, arbitrary: fc.record({ frames: fc.array(frame, { maxLength: 8 }), cuts: cutPoints }) },
      {
        weight: 3,
        arbitrary: fc.record({ bytes: mutatedBytes(seedBytes, { maxLength: 4096 }), cuts: cutPoints }),
      },
      { weight: 2, arbitrary: fc.record({ bytes: tokenBytes(TOKENS, 200), cuts: cutPoints }) },
      {
        weight: 1,
        arbitrary: fc.record({ bytes: fc.uint8Array({ maxLength: 2048, size: 'max' }), cuts: cutPoints }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          text: fc.oneof(fc.constantFrom(...EDGE_STRINGS), fc.string({ unit: 'binary', maxLength: 80 })),
          maxChars: fc.constantFrom(0, 1, 10, 64, 255, 2000),
        }),
      },
    );
  },
  run(input) {
    if ('text' in input) {
      const text = ins.setText('t0', input.text, input.maxChars);
      const body = text.slice('t0.txt="'.length, -1);
      invariant(text.startsWith('t0.txt="') && text.endsWith('"'), 'setText is not obj.txt="…"');
      invariant(!/(^|[^\\])(\\\\)*"/.test(body), 'an unescaped quote inside the text');
      const bytes = typed(['core.invalid_argument'], () => encodeInstruction(text));
      if (!bytes.ok) {
        invariant(text.length > MAX_INSTRUCTION_BYTES, 'a short instruction was refused');
        return;
      }
      invariant(bytes.value.indexOf(0xff) === bytes.value.length - 3, 'FF inside an instruction');
      return;
    }
    if ('frames' in input) {
      const bytes = concatBytes(input.frames.map(encodeFrame));
      const { frames, parser } = feed(split(bytes, input.cuts));
      invariant(sameValue(frames, input.frames.map(expected)), 'encoded frames do not come back the same');
      invariant(parser.garbageBytes === 0, 'valid frames counted as garbage');
      return;
    }
    feed(split(input.bytes, input.cuts));
  },
  fromBytes: (bytes) => ({ bytes, cuts: [] }),
  seeds: () => [
    {
      note: 'touch, string and number frames',
      input: {
        frames: [
          { kind: 'touch', page: 1, component: 3, pressed: true },
          { kind: 'string', value: 'hello' },
          { kind: 'number', value: -1 },
        ],
        cuts: [1, 2, 3, 4, 5],
      },
    },
    {
      note: 'an endless string frame',
      input: { bytes: Uint8Array.of(0x70, ...new Array(2000).fill(0x41)), cuts: [] },
    },
    { note: 'a run of FF', input: { bytes: new Uint8Array(1000).fill(0xff), cuts: [7, 300] } },
    {
      note: 'startup frame split byte by byte',
      input: { bytes: Uint8Array.of(0, 0, 0, 0xff, 0xff, 0xff), cuts: [1, 2, 3, 4, 5] },
    },
    { note: 'quotes and backslashes in a title', input: { text: 'a"b\\"c\\', maxChars: 64 } },
    { note: 'ÿ (0xFF) in a title', input: { text: 'Caf\u00ff', maxChars: 64 } },
  ],
};
