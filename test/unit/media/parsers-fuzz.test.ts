/**
 * Property tests of the streaming parsers: random and mutated input in random read sizes never crashes
 * (only typed errors), memory stays bounded, and valid input parses the same however it is split.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { isRoomdError } from '../../../src/core/errors.ts';
import { AnnexBParser } from '../../../src/media/annexb.ts';
import { IvfParser } from '../../../src/media/ivf.ts';
import { OGG_MAX_PAGE_BYTES } from '../../../src/media/ogg.ts';
import { OggOpusParser } from '../../../src/media/opus.ts';
import type { FrameParser } from '../../../src/media/types.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/media/${name}`, import.meta.url)));
const clock = new FakeClock();

/** Split `bytes` at the given cut points. */
function pieces(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** A prefix of a fixture (≤ 6 KB) with a few bytes overwritten, so most of the structure survives. */
const mutated = (bytes: Uint8Array) =>
  fc
    .tuple(
      fc.integer({ min: 1, max: Math.min(bytes.length, 6144) }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    )
    .map(([len, edits]) => {
      const copy = bytes.slice(0, len);
      for (const [at, v] of edits) copy[at % len] = v;
      return copy;
    });

/** Random bytes rich in the patterns each parser looks for. */
const tokens = (alphabet: number[][]) =>
  fc
    .array(
      fc.oneof(fc.constantFrom(...alphabet), fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 })),
      { maxLength: 40 },
    )
    .map((parts) => Uint8Array.from(parts.flat()));

function run(parser: FrameParser, chunks: Uint8Array[], bound: number): number {
  let frames = 0;
  for (const c of chunks) {
    try {
      frames += parser.push(c).length;
    } catch (err) {
      if (!isRoomdError(err)) throw err;
      return frames;
    }
    if (parser.buffered > bound) throw new Error(`buffered ${parser.buffered} > ${bound}`);
  }
  return frames + parser.end().length;
}

describe('parser fuzzing', () => {
  it('IVF: random and damaged streams', () => {
    const vp8 = fixture('vp8-160x90.ivf');
    const head = Array.from(vp8.subarray(0, 32));
    const input = fc.oneof(mutated(vp8), tokens([head, [0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]));
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        run(new IvfParser({ clock, maxFrameBytes: 8192 }), pieces(bytes, cuts), 8192 + 12 + bytes.length);
      }),
      { numRuns: 14_000 },
    );
  });

  it('IVF: any split of a valid stream gives the same frames', () => {
    const vp8 = fixture('vp8-160x90.ivf');
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (cuts) => {
        const p = new IvfParser({ clock });
        const sizes = pieces(vp8, cuts)
          .flatMap((c) => p.push(c))
          .map((f) => f.data.length);
        expect(sizes).toEqual([3917, 596, 548, 506, 475, 3812, 640, 607, 508, 555]);
      }),
      { numRuns: 2_000 },
    );
  });

  it('Annex-B: random, damaged and split streams never throw and stay bounded', () => {
    const h264 = fixture('h264-aud-128x72.h264');
    const input = fc.oneof(
      mutated(h264),
      tokens([
        [0, 0, 1],
        [0, 0, 0, 1],
        [0, 0, 1, 9, 0xf0],
        [0, 0, 1, 0x65, 0x88],
        [0, 0, 1, 0x41, 0x9a],
        [0, 0, 1, 0x41, 0x1a],
      ]),
    );
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const p = new AnnexBParser({ clock, maxFrameBytes: 2048 });
        let total = 0;
        for (const c of pieces(bytes, cuts)) {
          for (const f of p.push(c)) total += f.data.length;
          if (p.buffered > 2048 + 8) throw new Error(`buffered ${p.buffered}`);
        }
        for (const f of p.end()) total += f.data.length;
        expect(total).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 14_000 },
    );
  });

  it('Ogg/Opus: random, damaged and split streams never throw and stay bounded', () => {
    const ogg = fixture('opus-sine.ogg');
    const capture = [0x4f, 0x67, 0x67, 0x53, 0];
    const input = fc.oneof(
      mutated(ogg),
      tokens([capture, Array.from(ogg.subarray(0, 47)), Array.from(ogg.subarray(200, 330))]),
    );
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const p = new OggOpusParser({ clock, maxPacketBytes: 4096 });
        run(p, pieces(bytes, cuts), OGG_MAX_PAGE_BYTES + 4096 + bytes.length);
      }),
      { numRuns: 14_000 },
    );
  });
});
