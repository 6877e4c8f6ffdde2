/** Audio jitter buffer ordering/late/lost accounting, and stats percentiles. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { JitterBuffer } from '../../../src/media/jitter.ts';
import { MediaStats, percentile } from '../../../src/media/stats.ts';

describe('JitterBuffer', () => {
  it('reorders within the delay, counts gaps and drops late frames', () => {
    const clock = new FakeClock();
    const jb = new JitterBuffer<string>({ clock, delayMs: 60 });
    jb.push(1, 'b');
    clock.advance(20);
    jb.push(0, 'a');
    jb.push(3, 'd');
    expect(jb.drain()).toEqual([]);
    clock.advance(40);
    expect(jb.drain().map((r) => r.value)).toEqual(['a', 'b']);
    clock.advance(20);
    expect(jb.drain()).toEqual([{ seq: 3, value: 'd', missingBefore: 1 }]);
    expect(jb.push(2, 'c')).toBe('late');
    expect(jb.push(4, 'e')).toBe('held');
    expect(jb.push(4, 'e')).toBe('duplicate');
    expect(jb.stats()).toEqual({ released: 3, late: 1, duplicates: 1, lost: 1, held: 1 });
    expect(jb.flush().map((r) => r.seq)).toEqual([4]);
  });

  it('stays bounded by releasing early', () => {
    const clock = new FakeClock();
    const jb = new JitterBuffer<number>({ clock, delayMs: 1000, capacity: 5 });
    for (let i = 0; i < 8; i++) jb.push(i, i);
    expect(jb.drain().map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(jb.size).toBe(5);
  });

  it('handles frame-number wrap-around', () => {
    const clock = new FakeClock();
    const jb = new JitterBuffer<number>({ clock, delayMs: 0 });
    jb.push(0xffffffff, 1);
    jb.push(0, 2);
    expect(jb.drain().map((r) => r.value)).toEqual([1, 2]);
    expect(jb.push(0xfffffffe, 0)).toBe('late');
  });
});

describe('MediaStats', () => {
  it('computes nearest-rank percentiles over a sliding window', () => {
    const s = new MediaStats({ window: 100 });
    expect(s.latency()).toEqual({ samples: 0, p50Ms: null, p95Ms: null, maxMs: null });
    for (let i = 1; i <= 200; i++) s.recordLatency(i);
    expect(s.latency()).toEqual({ samples: 100, p50Ms: 150, p95Ms: 195, maxMs: 200 });
    s.recordDecryptFailure();
    s.recordReceived(10, true);
    expect(s.snapshot()).toMatchObject({
      decryptFailures: 1,
      framesReceived: 1,
      bytesReceived: 10,
      keyframes: 1,
    });
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
  });
});
