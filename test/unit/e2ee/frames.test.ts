/**
 * Media frame keys (src/e2ee/frames.ts): per-sender keys from the meeting key, epoch retention and
 * the KID ring, send-only / receive-only use.
 */
import { describe, expect, it } from 'vitest';
import { FrameKeys } from '../../../src/e2ee/frames.ts';
import { nobleAead } from '../../../src/e2ee/sframe/aead.ts';

function pair() {
  const opts = { meetingId: 'm', instanceId: 'i', label: 'roomd-e2ee v1 media key' };
  const a = new FrameKeys({ ...opts, selfId: 'a' });
  const b = new FrameKeys({ ...opts, selfId: 'b', aead: nobleAead });
  for (const f of [a, b])
    f.setSlots([
      { participantId: 'a', slot: 0 },
      { participantId: 'b', slot: 1 },
    ]);
  a.setSelfSlot(0);
  b.setSelfSlot(1);
  return { a, b };
}

const key = (n: number) => new Uint8Array(32).fill(n);

describe('FrameKeys', () => {
  it('native sender and noble receiver agree; sender id and stream come back', () => {
    const { a, b } = pair();
    a.install(1, key(1), 0, 10_000);
    b.install(1, key(1), 0, 10_000);
    a.setSendEpoch(1);
    const out = new Uint8Array(a.sealedLength('screen', 3) + 4);
    const n = a.sealInto(out, 2, 'screen', Uint8Array.of(1, 2, 3), Uint8Array.of(9));
    const opened = b.open(out.subarray(2, 2 + n), Uint8Array.of(9), 0);
    expect(opened).toMatchObject({ senderId: 'a', slot: 0, stream: 'screen', epoch: 1, ctr: 0n });
    expect([...opened.payload]).toEqual([1, 2, 3]);
  });

  it('does not open its own frames (keys are send-only or receive-only)', () => {
    const { a } = pair();
    a.install(1, key(1), 0, 10_000);
    a.setSendEpoch(1);
    expect(() => a.open(a.seal('audio', Uint8Array.of(1)))).toThrow(/does not hold/);
    expect(a.integrityFailures).toBe(0);
  });

  it('a leave key (retention 0) ends every older epoch at once, also one an earlier rekey kept for 10 s', () => {
    const { a, b } = pair();
    for (const f of [a, b]) f.install(1, key(1), 0, 10_000);
    a.setSendEpoch(1);
    const inEpoch1 = a.seal('audio', Uint8Array.of(1));
    // An ordinary rekey at t=1000 keeps epoch 1 until 11 000 …
    for (const f of [a, b]) f.install(2, key(2), 1000, 10_000);
    a.setSendEpoch(2);
    const inEpoch2 = a.seal('audio', Uint8Array.of(2));
    // … then someone leaves at t=2000: epochs 1 and 2 are both known to the leaver.
    b.install(3, key(3), 2000, 0);
    expect(() => b.open(inEpoch1, undefined, 2000)).toThrow(/unknown|moved|hold/i);
    expect(() => b.open(inEpoch2, undefined, 2000)).toThrow(/unknown|moved|hold/i);
  });

  it('keeps older epochs 10 s after a newer one, and frees the ring slot of the next epoch at once', () => {
    const { a, b } = pair();
    for (const f of [a, b]) f.install(1, key(1), 0, 10_000);
    a.setSendEpoch(1);
    const old = a.seal('video', Uint8Array.of(7));
    for (const f of [a, b]) f.install(2, key(2), 1000, 10_000);
    b.prune(5000);
    expect(b.open(old, undefined, 5000).epoch).toBe(1);
    b.prune(11_000);
    expect(() => b.open(old, undefined, 11_000)).toThrow(/does not hold/);
    // Epoch e-3 goes at once when e arrives, so epoch e+1 frames are never tried on a stale key.
    b.install(3, key(3), 12_000, 10_000);
    b.install(4, key(4), 12_000, 10_000);
    expect([b.holds(1), b.holds(2), b.holds(3), b.holds(4)]).toEqual([false, true, true, true]);
    b.install(5, key(5), 12_000, 10_000);
    expect(b.holds(2)).toBe(false);
    expect(() => b.install(5, key(5), 12_000, 10_000)).toThrow();
    expect(b.integrityFailures).toBe(0);
  });

  it('a sender keeps its CTR across calls within an epoch and starts fresh in the next', () => {
    const { a, b } = pair();
    for (const f of [a, b]) f.install(1, key(1), 0, 10_000);
    a.setSendEpoch(1);
    a.seal('audio', Uint8Array.of(1));
    expect(b.open(a.seal('audio', Uint8Array.of(2))).ctr).toBe(1n);
    a.setSelfSlot(0);
    expect(b.open(a.seal('audio', Uint8Array.of(3))).ctr).toBe(2n);
    for (const f of [a, b]) f.install(2, key(2), 0, 10_000);
    a.setSendEpoch(2);
    expect(b.open(a.seal('audio', Uint8Array.of(4))).ctr).toBe(0n);
  });
});
