/** The capture's microphone level: dBFS → RFC 6464 level, freshness, and totality over any bytes. */
import { describe, expect, it } from 'vitest';
import {
  audioLevelFromDbfs,
  CAPTURE_LEVEL_WINDOW,
  CaptureLevel,
  LevelMeter,
} from '../../../src/media/level-meter.ts';

/** `samples` s16le samples alternating ±amplitude (a square wave: RMS = amplitude). */
function square(samples: number, amplitude: number): Uint8Array {
  const b = new Uint8Array(samples * 2);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < samples; i++) dv.setInt16(i * 2, i % 2 === 0 ? amplitude : -amplitude, true);
  return b;
}

describe('audioLevelFromDbfs', () => {
  it('is −dBov rounded and clamped to 0..126 (127 means no level)', () => {
    expect(audioLevelFromDbfs(0)).toBe(0);
    expect(audioLevelFromDbfs(-3.01)).toBe(3);
    expect(audioLevelFromDbfs(-6.6)).toBe(7);
    expect(audioLevelFromDbfs(-120)).toBe(120);
    expect(audioLevelFromDbfs(-127.4)).toBe(126);
    expect(audioLevelFromDbfs(-200)).toBe(126);
    expect(audioLevelFromDbfs(Number.NEGATIVE_INFINITY)).toBe(126);
    expect(audioLevelFromDbfs(4)).toBe(0);
    expect(audioLevelFromDbfs(Number.NaN)).toBe(126);
  });
});

describe('CaptureLevel', () => {
  it('reads silent until the first whole 20 ms window, then the window’s level', () => {
    const l = new CaptureLevel();
    expect(l.current(0)).toEqual({ level: 127, fresh: false });
    const full = square(CAPTURE_LEVEL_WINDOW, 32767);
    l.push(full.subarray(0, 101), 10); // cut mid-sample
    expect(l.current(10)).toEqual({ level: 127, fresh: false });
    l.push(full.subarray(101), 20);
    expect(l.current(20)).toEqual({ level: 0, fresh: true });
    l.push(square(CAPTURE_LEVEL_WINDOW, 16384), 40); // half scale: −6 dBFS
    expect(l.current(40)).toEqual({ level: 6, fresh: true });
    l.push(new Uint8Array(CAPTURE_LEVEL_WINDOW * 2), 60); // digital silence
    expect(l.current(60)).toEqual({ level: 120, fresh: true });
    expect(l.readings).toBe(3);
  });

  it('a reading older than 200 ms reads as 127, and a reset forgets it', () => {
    const l = new CaptureLevel();
    l.push(square(CAPTURE_LEVEL_WINDOW, 3277), 1000); // −20 dBFS
    expect(l.current(1200)).toEqual({ level: 20, fresh: true });
    expect(l.current(1201)).toEqual({ level: 127, fresh: false });
    l.push(square(CAPTURE_LEVEL_WINDOW, 3277), 1300);
    expect(l.current(1301).level).toBe(20);
    l.reset();
    expect(l.current(1301)).toEqual({ level: 127, fresh: false });
    // The partial window before a reset does not count toward the next stream's first window.
    l.push(square(CAPTURE_LEVEL_WINDOW - 1, 32767), 1400);
    l.reset();
    l.push(square(1, 32767), 1410);
    expect(l.current(1410).fresh).toBe(false);
  });

  it('takes the newest of several windows in one chunk, and any bytes only ever give a level', () => {
    const l = new CaptureLevel({ maxAgeMs: 50 });
    const two = new Uint8Array(CAPTURE_LEVEL_WINDOW * 4);
    two.set(square(CAPTURE_LEVEL_WINDOW, 32767));
    l.push(two, 0);
    expect(l.current(0).level).toBe(120);
    expect(l.current(51).fresh).toBe(false);
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 200; i++) {
      const bytes = new Uint8Array(next() % 997).map(() => next() >>> 24);
      l.push(bytes, i);
      const { level } = l.current(i);
      expect(Number.isInteger(level) && level >= 0 && level <= 127).toBe(true);
    }
  });
});

describe('LevelMeter (moved out of playout)', () => {
  it('is the one playout re-exports', async () => {
    const playout = await import('../../../src/media/playout.ts');
    expect(playout.LevelMeter).toBe(LevelMeter);
  });
});
