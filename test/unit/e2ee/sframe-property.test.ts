/**
 * Property tests for SFrame (RFC 9605): the node:crypto and @noble/ciphers AEADs agree on random keys,
 * KIDs, CTRs, metadata and frames for all five suites, and any flipped bit in header, ciphertext or tag
 * is rejected. Plus CTR exhaustion and the replay window.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/core/errors.ts';
import { nativeAead, nobleAead } from '../../../src/e2ee/sframe/aead.ts';
import { MAX_U64 } from '../../../src/e2ee/sframe/header.ts';
import { SFrameReceiveKey, SFrameSendKey } from '../../../src/e2ee/sframe/keys.ts';

const suite = fc.constantFrom(1, 2, 3, 4, 5);
const u64 = fc.bigInt({ min: 0n, max: MAX_U64 - 1n });
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });

describe('SFrame native vs noble', () => {
  it('agree on random keys, KIDs, CTRs, metadata and frames, and each opens the other', () => {
    fc.assert(
      fc.property(
        suite,
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        u64,
        u64,
        bytes(64),
        bytes(2000),
        (s, base, kid, ctr, meta, pt) => {
          const a = new SFrameSendKey(s, kid, base, { aead: nativeAead, startCounter: ctr }).seal(pt, meta);
          const b = new SFrameSendKey(s, kid, base, { aead: nobleAead, startCounter: ctr }).seal(pt, meta);
          expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
          expect(
            Buffer.from(new SFrameReceiveKey(s, kid, base, { aead: nobleAead }).open(a, meta)).equals(
              Buffer.from(pt),
            ),
          ).toBe(true);
          expect(
            Buffer.from(new SFrameReceiveKey(s, kid, base, { aead: nativeAead }).open(b, meta)).equals(
              Buffer.from(pt),
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects any flipped bit in header, ciphertext or tag (both implementations)', () => {
    fc.assert(
      fc.property(suite, u64, u64, bytes(16), bytes(300), fc.nat(), (s, kid, ctr, meta, pt, pick) => {
        const base = new Uint8Array(32).fill(9);
        const frame = new SFrameSendKey(s, kid, base, { startCounter: ctr }).seal(pt, meta);
        const bit = pick % (frame.length * 8);
        const bad = frame.slice();
        bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        for (const aead of [nativeAead, nobleAead]) {
          const rx = new SFrameReceiveKey(s, kid, base, { aead });
          expect(() => rx.open(bad, meta)).toThrow();
        }
      }),
      { numRuns: 600 },
    );
  });

  it('rejects changed metadata', () => {
    const base = new Uint8Array(32).fill(1);
    const frame = new SFrameSendKey(5, 7n, base).seal(Buffer.from('pt'), Buffer.from('meta'));
    expect(() => new SFrameReceiveKey(5, 7n, base).open(frame, Buffer.from('metb'))).toThrow();
  });
});

describe('SFrame counters', () => {
  it('a send key refuses to encrypt past 2^64-1 instead of wrapping', () => {
    const k = new SFrameSendKey(5, 1n, new Uint8Array(32), { startCounter: MAX_U64 - 1n });
    k.seal(new Uint8Array(1));
    k.seal(new Uint8Array(1));
    let err: unknown;
    try {
      k.seal(new Uint8Array(1));
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'e2ee.counter_exhausted')).toBe(true);
  });

  it('CTR never repeats and the replay window rejects duplicates and too-old frames', () => {
    const base = new Uint8Array(32).fill(3);
    const tx = new SFrameSendKey(5, 9n, base);
    const rx = new SFrameReceiveKey(5, 9n, base, { window: 16 });
    const frames = Array.from({ length: 40 }, (_, i) => tx.seal(Uint8Array.of(i)));
    expect(tx.nextCounter).toBe(40n);
    rx.open(frames[39] as Uint8Array);
    rx.open(frames[30] as Uint8Array);
    expect(() => rx.open(frames[30] as Uint8Array)).toThrow(/twice/);
    expect(() => rx.open(frames[10] as Uint8Array)).toThrow(/twice/);
    expect(rx.open(frames[25] as Uint8Array)[0]).toBe(25);
    let code = '';
    try {
      rx.open(frames[39] as Uint8Array);
    } catch (e) {
      code = (e as { code: string }).code;
    }
    expect(code).toBe('e2ee.replay');
  });

  it('a failed open does not move the replay window', () => {
    const base = new Uint8Array(32).fill(4);
    const tx = new SFrameSendKey(5, 2n, base, { startCounter: 1000n });
    const rx = new SFrameReceiveKey(5, 2n, base);
    const f = tx.seal(Uint8Array.of(1));
    const bad = f.slice();
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    expect(() => rx.open(bad)).toThrow();
    expect(rx.open(f)[0]).toBe(1);
  });

  it('a key is only for the KID it was made for', () => {
    const base = new Uint8Array(32);
    const f = new SFrameSendKey(5, 1n, base).seal(Uint8Array.of(1));
    expect(() => new SFrameReceiveKey(5, 2n, base).open(f)).toThrow(/does not hold/);
  });
});
