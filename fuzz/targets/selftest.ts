/**
 * Deliberately broken "decoders" that prove the harness itself works (test/fuzz/fuzz.test.ts):
 * each must be caught as the failure kind it names, with its input kept. Not run by `npm run fuzz`.
 */
import fc from 'fast-check';
import { type FuzzTarget, invariant } from '../lib/target.ts';

const bytes = (): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: 64, size: 'max' });

export const SELF_TESTS: readonly FuzzTarget<never>[] = [
  {
    name: 'selftest-crash',
    about: 'throws a TypeError on any input of 3 or more bytes that holds a byte over 0xf0',
    arbitrary: bytes,
    run(input: Uint8Array) {
      if (input.length >= 3 && input.some((b) => b > 0xf0)) throw new TypeError('bad byte');
    },
    fromBytes: (b: Uint8Array) => b,
    seeds: () => [],
  },
  {
    name: 'selftest-invariant',
    about: 'breaks an invariant when the input is longer than 40 bytes',
    arbitrary: bytes,
    run(input: Uint8Array) {
      invariant(input.length <= 40, 'too long');
    },
    fromBytes: (b: Uint8Array) => b,
    seeds: () => [],
  },
  {
    name: 'selftest-hang',
    about: 'never returns for a length of 20',
    arbitrary: bytes,
    run(input: Uint8Array) {
      // An endless loop the optimiser cannot remove.
      let n = input.length;
      while (input.length === 20) n = (n * 31 + 7) % 1_000_003;
      if (n < 0) throw new Error('unreachable');
    },
    fromBytes: (b: Uint8Array) => b,
    seeds: () => [],
  },
  {
    name: 'selftest-slow',
    about: 'takes 150 ms for the number 30 (so shrinking, which tries smaller numbers, is quick)',
    arbitrary: () => fc.integer({ min: 0, max: 40 }),
    run(input: number) {
      if (input !== 30) return;
      const until = performance.now() + 150;
      while (performance.now() < until) {
        // busy: a slow decoder
      }
    },
    fromBytes: (b: Uint8Array) => b[0] ?? 0,
    seeds: () => [],
  },
  {
    name: 'selftest-generator',
    about: 'its arbitrary never finishes generating the number 30 (an input generator without bounds)',
    arbitrary: () =>
      fc.integer({ min: 0, max: 40 }).map((n) => {
        // An endless loop the optimiser cannot remove.
        let k = n;
        while (n === 30) k = (k * 31 + 7) % 1_000_003;
        return k < 0 ? -1 : n;
      }),
    run() {},
    fromBytes: (b: Uint8Array) => b[0] ?? 0,
    seeds: () => [],
  },
  {
    name: 'selftest-heap',
    about: 'fills the JavaScript heap for a length of 20, until the worker runs out of it',
    arbitrary: bytes,
    run(input: Uint8Array) {
      if (input.length !== 20) return;
      const keep: number[][] = [];
      for (;;) keep.push(new Array<number>(4096).fill(keep.length));
    },
    fromBytes: (b: Uint8Array) => b,
    seeds: () => [],
  },
  {
    name: 'selftest-external',
    about: 'allocates buffers outside the heap for a length of 20 (about 1 MB a millisecond), without end',
    arbitrary: bytes,
    run(input: Uint8Array) {
      if (input.length !== 20) return;
      const keep: Buffer[] = [];
      for (;;) {
        keep.push(Buffer.alloc(1024 * 1024, keep.length));
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // paced, so the engine's watchdog stops it soon after its limit
        }
      }
    },
    fromBytes: (b: Uint8Array) => b,
    seeds: () => [],
  },
] as unknown as FuzzTarget<never>[];
