import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BEHIND_AFTER_MS,
  BEHIND_EXCESS_MS,
  CAUGHT_UP_AFTER_MS,
  FLOOR_WINDOW_MS,
  LagMonitor,
  MAX_SENDERS,
} from '../../../src/meeting/lag-monitor.ts';

/** Frames from `senders` every 20 ms from `from` to `to`, each `latency(t)` late; the changes seen. */
function feed(m: LagMonitor, senders: string[], from: number, to: number, latency: (t: number) => number) {
  const changes: { at: number; behind: boolean }[] = [];
  for (let t = from; t < to; t += 20)
    for (const s of senders) {
      const c = m.observe(s, latency(t), t);
      if (c !== null) changes.push({ at: t, behind: c });
    }
  return changes;
}

describe('LagMonitor: a downlink falling behind', () => {
  it('on-time frames never say behind, whatever the clock offset of each sender', () => {
    const m = new LagMonitor();
    expect(feed(m, ['a'], 0, 10_000, () => -40_000)).toEqual([]);
    expect(feed(m, ['b'], 10_000, 20_000, () => 3_600_000 + 30)).toEqual([]);
    expect(m.behind).toBe(false);
  });

  it('says behind once frames stay late for a second, and caught up after three seconds on time', () => {
    const m = new LagMonitor();
    feed(m, ['a', 'b'], 0, 2000, () => 50);
    // Janus queues: every frame arrives later than the one before.
    const late = feed(m, ['a', 'b'], 2000, 8000, (t) => 50 + (t - 2000) * 0.5);
    expect(late).toHaveLength(1);
    const at = late[0]!.at;
    // Late by BEHIND_EXCESS_MS at 2000 + 3000; said BEHIND_AFTER_MS after that.
    expect(at).toBeGreaterThanOrEqual(5000 + BEHIND_AFTER_MS);
    expect(at).toBeLessThan(5000 + BEHIND_AFTER_MS + 40);
    expect(m.behind).toBe(true);
    const back = feed(m, ['a', 'b'], 8000, 14_000, () => 60);
    expect(back).toEqual([{ at: 8000 + CAUGHT_UP_AFTER_MS, behind: false }]);
  });

  it('a clock that steps 2 s costs at most the floor window: then on time again', () => {
    const m = new LagMonitor();
    feed(m, ['a', 'b'], 0, 10_000, () => 50);
    const changes = feed(m, ['a', 'b'], 10_000, 10_000 + FLOOR_WINDOW_MS + 10_000, () => 2050);
    expect(changes.map((c) => c.behind)).toEqual([true, false]);
    expect(changes[1]!.at).toBeLessThanOrEqual(10_000 + FLOOR_WINDOW_MS + 5000 + CAUGHT_UP_AFTER_MS);
  });

  it('each catching up must last twice as long as the one before', () => {
    const m = new LagMonitor();
    let t = 0;
    const times: number[] = [];
    for (let episode = 0; episode < 3; episode++) {
      feed(m, ['a'], t, t + 1000, () => 10);
      feed(m, ['a'], t + 1000, t + 4000, () => 10 + BEHIND_EXCESS_MS * 2);
      expect(m.behind).toBe(true);
      const back = feed(m, ['a'], t + 4000, t + 30_000, () => 10);
      expect(back).toHaveLength(1);
      times.push(back[0]!.at - (t + 4000));
      t += 30_000;
    }
    expect(times).toEqual([CAUGHT_UP_AFTER_MS, 2 * CAUGHT_UP_AFTER_MS, 4 * CAUGHT_UP_AFTER_MS]);
  });

  it('one late burst shorter than a second is no lag', () => {
    const m = new LagMonitor();
    feed(m, ['a'], 0, 1000, () => 20);
    expect(feed(m, ['a'], 1000, 1900, () => 20 + BEHIND_EXCESS_MS + 500)).toEqual([]);
    expect(feed(m, ['a'], 1900, 5000, () => 20)).toEqual([]);
  });

  it('reset forgets floors and state; garbage latencies change nothing', () => {
    const m = new LagMonitor();
    feed(m, ['a'], 0, 1000, () => 0);
    feed(m, ['a'], 1000, 4000, () => BEHIND_EXCESS_MS * 2);
    expect(m.behind).toBe(true);
    m.reset();
    expect(m.behind).toBe(false);
    expect(m.observe('a', Number.NaN, 5000)).toBeNull();
    expect(m.observe('a', Number.POSITIVE_INFINITY, 5000)).toBeNull();
    // After the reset the old floor is gone: the same latency is on time now.
    expect(feed(m, ['a'], 5000, 9000, () => BEHIND_EXCESS_MS * 2)).toEqual([]);
  });

  it('remembers at most MAX_SENDERS senders; states alternate and never repeat', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 3 * MAX_SENDERS }), fc.integer({ min: -5000, max: 20_000 })),
          {
            maxLength: 3000,
          },
        ),
        (events) => {
          const m = new LagMonitor();
          let t = 0;
          let last = false;
          for (const [sender, latency] of events) {
            t += 15;
            const c = m.observe(String(sender), latency, t);
            if (c !== null) {
              expect(c).toBe(!last);
              last = c;
            }
            expect(m.behind).toBe(last);
          }
          expect(m.senders).toBeLessThanOrEqual(MAX_SENDERS);
        },
      ),
    );
  });
});
