import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  encodeInstruction,
  ins,
  MAX_BUFFER,
  type NextionFrame,
  NextionParser,
  quoteText,
  rgb565,
} from '../../../../src/devices/panel/codec.ts';
import {
  InstructionSplitter,
  parseInstruction,
  unquote,
} from '../../../../src/devices/panel/instructions.ts';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );

// Captured-style frames of the Nextion return data (docs/hardware.md §Conformance: Nextion), with
// their decoded meaning.
const VECTORS: [string, NextionFrame][] = [
  ['65 00 07 00 ff ff ff', { kind: 'touch', page: 0, component: 7, pressed: false }],
  ['65 03 0c 01 ff ff ff', { kind: 'touch', page: 3, component: 12, pressed: true }],
  ['66 02 ff ff ff', { kind: 'page', page: 2 }],
  ['67 00 7a 01 1e 01 ff ff ff', { kind: 'coords', x: 122, y: 286, pressed: true, asleep: false }],
  ['68 01 00 00 20 00 ff ff ff', { kind: 'coords', x: 256, y: 32, pressed: false, asleep: true }],
  ['70 31 32 33 ff ff ff', { kind: 'string', value: '123' }],
  ['71 01 00 00 00 ff ff ff', { kind: 'number', value: 1 }],
  ['71 ff ff ff ff ff ff ff', { kind: 'number', value: -1 }],
  ['71 64 00 00 80 ff ff ff', { kind: 'number', value: -2147483548 }],
  ['86 ff ff ff', { kind: 'sleep' }],
  ['87 ff ff ff', { kind: 'wake' }],
  ['88 ff ff ff', { kind: 'ready' }],
  ['00 00 00 ff ff ff', { kind: 'startup' }],
  ['01 ff ff ff', { kind: 'ok' }],
  ['00 ff ff ff', { kind: 'error', code: 0x00, name: 'invalid instruction' }],
  ['02 ff ff ff', { kind: 'error', code: 0x02, name: 'invalid component id' }],
  ['1a ff ff ff', { kind: 'error', code: 0x1a, name: 'invalid variable name or attribute' }],
  ['24 ff ff ff', { kind: 'overflow' }],
];

describe('Nextion return frames', () => {
  it.each(VECTORS)('%s decodes and encodes back to the same bytes', (bytes, frame) => {
    const p = new NextionParser();
    expect(p.push(hex(bytes))).toEqual([frame]);
    expect(encodeFrame(frame)).toEqual(hex(bytes));
    expect(p.garbageBytes).toBe(0);
  });

  it('parses frames split at every byte boundary', () => {
    const all = Uint8Array.from(VECTORS.flatMap(([b]) => [...hex(b)]));
    const p = new NextionParser();
    const out: NextionFrame[] = [];
    for (const b of all) out.push(...p.push(Uint8Array.of(b)));
    expect(out).toEqual(VECTORS.map(([, f]) => f));
  });

  it('counts and skips garbage, resynchronising on FF FF FF', () => {
    const p = new NextionParser();
    const frames = p.push(hex('12 34 56 ff ff ff 65 01 02 00 ff ff ff 99 ff ff ff 88 ff ff ff'));
    expect(frames).toEqual([{ kind: 'touch', page: 1, component: 2, pressed: false }, { kind: 'ready' }]);
    expect(p.garbageBytes).toBe(10);
  });

  it('drops a fixed frame with a missing terminator', () => {
    const p = new NextionParser();
    expect(p.push(hex('65 01 02 00 00 ff ff ff 01 ff ff ff'))).toEqual([{ kind: 'ok' }]);
    expect(p.garbageBytes).toBe(8);
  });

  it('keeps its buffer bounded on endless garbage', () => {
    const p = new NextionParser();
    for (let i = 0; i < 100; i++) p.push(new Uint8Array(1000).fill(0x70));
    expect(p.buffered).toBeLessThanOrEqual(MAX_BUFFER);
    expect(p.push(hex('ff ff ff 01 ff ff ff'))).toEqual([{ kind: 'ok' }]);
  });

  it('a run of FF after an unfinished frame ends at its last three, whether or not it arrives in pieces', () => {
    // `67 00 FF FF FF 66 FF FF FF` is a whole coordinate frame; the stray FF after it starts no
    // frame, and the FF run that follows must not swallow the page frame behind it.
    const stream = hex('67 00 ff ff ff 66 ff ff ff ff 66 ff ff ff ff 66 ff ff ff ff');
    for (let split = 0; split <= stream.length; split++) {
      const p = new NextionParser();
      const got = [...p.push(stream.subarray(0, split)), ...p.push(stream.subarray(split))];
      expect(got.at(-1), `split at ${split}`).toEqual({ kind: 'page', page: 255 });
    }
  });

  it('fuzz: any bytes never throw, buffer stays bounded, valid frames after garbage are found', () => {
    const frameArb: fc.Arbitrary<NextionFrame> = fc.oneof(
      fc.record({
        kind: fc.constant('touch' as const),
        page: fc.nat(255),
        component: fc.nat(255),
        pressed: fc.boolean(),
      }),
      fc.record({
        kind: fc.constant('number' as const),
        value: fc.integer({ min: -2147483648, max: 2147483647 }),
      }),
      fc.record({ kind: fc.constant('page' as const), page: fc.nat(255) }),
      fc.constant({ kind: 'ok' as const }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), frameArb, fc.nat(40), (junk, frame, split) => {
        const p = new NextionParser();
        p.push(junk);
        expect(p.buffered).toBeLessThanOrEqual(MAX_BUFFER);
        // After a terminator the parser is back in sync within a frame.
        const f = encodeFrame(frame);
        const tail = Uint8Array.from([0xff, 0xff, 0xff, ...f, ...f, ...f]);
        const got = [...p.push(tail.subarray(0, split)), ...p.push(tail.subarray(split))];
        expect(got.at(-1)).toEqual(frame);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 30_000) },
    );
  });
});

describe('Nextion instructions', () => {
  it('escapes quotes, backslashes and newlines and cuts before escaping', () => {
    expect(quoteText('say "hi" \\ ok', 40)).toBe('"say \\"hi\\" \\\\ ok"');
    expect(quoteText('line1\nline2', 40)).toBe('"line1\\rline2"');
    expect(quoteText('ab"cd', 3)).toBe('"ab\\""');
    expect(quoteText('x\u0007y\u00ff\u4e2d', 10)).toBe('"xy??"');
  });

  it('encodes with the FF FF FF terminator', () => {
    expect(encodeInstruction(ins.setText('t0', '12345 67890', 20))).toEqual(
      Uint8Array.from([...Buffer.from('t0.txt="12345 67890"'), 0xff, 0xff, 0xff]),
    );
    expect(encodeInstruction(ins.page(2))).toEqual(hex('70 61 67 65 20 32 ff ff ff'));
    expect(ins.visible('b1', false)).toBe('vis b1,0');
    expect(ins.setNumber('b1.bco', rgb565(0, 255, 0))).toBe('b1.bco=2016');
    expect(ins.bkcmd(3)).toBe('bkcmd=3');
  });

  it('rejects bad names and over-long instructions', () => {
    expect(() => ins.setText('t0"; rest', 'x', 5)).toThrow(/panel object name/);
    expect(() => encodeInstruction('x'.repeat(2000))).toThrow(/1–1000 bytes/);
  });

  it('parses what the builders produce', () => {
    expect(parseInstruction('t0.txt="a\\"b"')).toEqual({
      kind: 'set',
      target: 't0',
      attr: 'txt',
      value: 'a"b',
    });
    expect(parseInstruction('n0.val=-3')).toEqual({ kind: 'set', target: 'n0', attr: 'val', value: -3 });
    expect(parseInstruction('vis b1,1')).toEqual({ kind: 'vis', target: 'b1', on: true });
    expect(parseInstruction('page 3')).toEqual({ kind: 'page', page: 3 });
    expect(parseInstruction('get h0.val')).toEqual({ kind: 'get', target: 'h0', attr: 'val' });
    expect(parseInstruction('bkcmd=3')).toEqual({ kind: 'system', name: 'bkcmd', value: 3 });
    expect(parseInstruction('t0.txt="unterminated').kind).toBe('invalid');
  });

  it('fuzz: quoteText round-trips through unquote for any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.integer({ min: 0, max: 100 }), (s, max) => {
        const q = quoteText(s, max);
        const back = unquote(q);
        expect(back).not.toBeNull();
        expect([...back!].length).toBeLessThanOrEqual(max);
        expect(encodeLatin1Free(q)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('fuzz: the instruction splitter and parser take any bytes with a bounded buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }), (chunks) => {
        const s = new InstructionSplitter();
        for (const c of chunks) for (const text of s.push(c)) parseInstruction(text);
        expect(s.buffered).toBeLessThanOrEqual(1024);
      }),
      { numRuns: 20_000 },
    );
  });
});

function encodeLatin1Free(q: string): boolean {
  return [...q].every((ch) => ch.charCodeAt(0) < 0xff);
}
