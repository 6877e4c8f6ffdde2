/**
 * Fuzzing the decoders with fast-check (>= 100k cases in total; docs/benchmarks.md §Fuzzing): SFrame header
 * decode, frame open, KID decode, base64url and the E2EE message validators never crash; every failure is a
 * typed RoomdError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { fromB64u } from '../../../src/e2ee/bytes.ts';
import { createE2eeSession, parseE2eeMessage } from '../../../src/e2ee/index.ts';
import { decodeKid } from '../../../src/e2ee/kid.ts';
import { decodeHeader, encodeHeader } from '../../../src/e2ee/sframe/header.ts';
import { SFrameReceiveKey } from '../../../src/e2ee/sframe/keys.ts';
import { identity } from './harness.ts';

function typedOrOk(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof RoomdError) || !err.code.startsWith('e2ee.')) throw err;
  }
}

let total = 0;
const BATCH = 10;
/** `cases` inputs, drawn in batches of 10 per fast-check run (keeps the runner's overhead small). */
const run = <T>(arb: fc.Arbitrary<T>, cases: number, fn: (v: T) => void) => {
  const numRuns = Math.ceil(cases / BATCH);
  fc.assert(
    fc.property(fc.array(arb, { minLength: BATCH, maxLength: BATCH }), (vs) => {
      for (const v of vs) fn(v);
    }),
    { numRuns },
  );
  total += numRuns * BATCH;
};

const json: fc.Arbitrary<unknown> = fc.jsonValue() as fc.Arbitrary<unknown>;

describe('fuzz', () => {
  it('SFrame header decode: never crashes, round-trips what it accepts', () => {
    run(fc.uint8Array({ maxLength: 20 }), 40_000, (b) => {
      let h: ReturnType<typeof decodeHeader>;
      try {
        h = decodeHeader(b);
      } catch (err) {
        if (err instanceof RoomdError && err.code === 'e2ee.malformed') return;
        throw err;
      }
      if (h.length > b.length) throw new Error('header longer than input');
      const back = decodeHeader(encodeHeader(h.kid, h.ctr));
      if (back.kid !== h.kid || back.ctr !== h.ctr) throw new Error('header does not round-trip');
    });
  });

  it('SFrame open of random bytes: typed errors only', () => {
    const rx = new SFrameReceiveKey(5, 0n, new Uint8Array(32));
    run(fc.uint8Array({ maxLength: 64 }), 30_000, (b) => typedOrOk(() => rx.open(b)));
  });

  it('KID decode and base64url decode: typed errors only', () => {
    run(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), 10_000, (k) => typedOrOk(() => decodeKid(k)));
    run(fc.string({ maxLength: 40 }), 10_000, (s) => typedOrOk(() => fromB64u(s)));
  });

  it('message validators: random JSON and mutated real messages give typed errors, never crashes', () => {
    run(json, 10_000, (v) => typedOrOk(() => parseE2eeMessage(v)));
    run(
      fc.record(
        {
          t: fc.constantFrom('e2ee.binding', 'e2ee.key', 'e2ee.ack', 'e2ee.heartbeat'),
          v: fc.oneof(fc.constant(1), json),
        },
        { requiredKeys: [] },
      ),
      5_000,
      (v) => typedOrOk(() => parseE2eeMessage(v)),
    );
    const s = createE2eeSession({
      mode: 'e2ee',
      meetingId: 'm',
      instanceId: 'i',
      participantId: 'p',
      deviceId: 'd',
      displayName: 'D',
      identity: identity(),
    });
    const real = JSON.parse(JSON.stringify(s.binding)) as Record<string, unknown>;
    const paths = [
      't',
      'v',
      'sig',
      'binding.ivk',
      'binding.nonce',
      'binding.caps',
      'binding.v',
      'binding.participantId',
      'binding.extra',
    ];
    run(fc.tuple(fc.constantFrom(...paths), json), 5_000, ([path, value]) => {
      const m = structuredClone(real) as Record<string, Record<string, unknown>>;
      const [a, b] = path.split('.') as [string, string | undefined];
      if (b === undefined) (m as Record<string, unknown>)[a] = value;
      else if (m[a]) (m[a] as Record<string, unknown>)[b] = value;
      typedOrOk(() => parseE2eeMessage(m));
    });
  });

  it('the session never throws on hostile routed payloads', () => {
    const s = createE2eeSession({
      mode: 'e2ee',
      meetingId: 'm',
      instanceId: 'i',
      participantId: 'p',
      deviceId: 'd',
      displayName: 'D',
      identity: identity(),
    });
    run(json, 2_000, (v) => {
      const effects = s.handle({ type: 'message', from: 'x', message: v }, 0);
      if (!Array.isArray(effects)) throw new Error('no effects');
    });
    expect(total).toBeGreaterThanOrEqual(100_000);
    console.info(`[fuzz] ${total} cases`);
  });
});
