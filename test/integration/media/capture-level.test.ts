/**
 * Real ffmpeg: audio capture of the lavfi sine writes its meter stream on fd 3 beside the Ogg/Opus on
 * stdout, and the frames carry the sine's level (1/8 full scale: RMS −21 dBFS, level 21).
 */
import { describe, expect, it } from 'vitest';
import { createAudioCapture } from '../../../src/media/capture.ts';
import type { MediaFrame } from '../../../src/media/types.ts';
import { deps, until } from './harness.ts';

describe('audio capture level with real ffmpeg', () => {
  it('stamps the sine’s frames with its level', { timeout: 30_000 }, async () => {
    const cap = createAudioCapture({ type: 'test', frequencyHz: 440 }, { bitrateKbps: 32 }, deps());
    const frames: MediaFrame[] = [];
    cap.onFrame((f) => frames.push(f));
    cap.start();
    await until(() => frames.length >= 50, 20_000, '50 audio frames');
    await cap.stop();
    const levels = frames.map((f) => f.audioLevel);
    expect(levels.every((l) => l === undefined || (Number.isInteger(l) && l >= 0 && l <= 127))).toBe(true);
    // Only the first packet or so leaves before the meter's first 20 ms window closes. A frame may have
    // no level (no fresh reading) only if this process's loop stalled past 200 ms; none reads anything else.
    const after = levels.slice(5);
    expect(after.filter((l) => l === 21).length).toBeGreaterThanOrEqual(after.length * 0.9);
    expect(after.every((l) => l === undefined || (l >= 20 && l <= 22))).toBe(true);
    const stats = cap.levelStats()!;
    expect(stats.readings).toBeGreaterThanOrEqual(40);
    expect(stats.streamErrors).toBe(0);
    expect(stats.staleFrames).toBe(levels.filter((l) => l === undefined).length);
    expect(cap.status().restarts).toBe(0);
  });
});
