/**
 * Two participants' real Opus streams (440 Hz and 660 Hz) → AudioMixer with real ffmpeg decoders
 * and a null sink: both are decoded and heard in the mix, which is louder than either alone.
 */
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { type AudioLevel, AudioMixer, createAudioCapture } from '../../../src/media/index.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { deps, throughWire, until } from './harness.ts';

describe('AudioMixer with real ffmpeg', () => {
  it('mixes two participants into one sink', { timeout: 60_000 }, async () => {
    const streams = [];
    for (const hz of [440, 660]) {
      const wire = await throughWire(
        createAudioCapture({ type: 'test', frequencyHz: hz }, { bitrateKbps: 32 }, deps()),
        100,
      );
      wire.close();
      streams.push(wire.received);
    }
    const mixer = new AudioMixer({
      settings: { device: null },
      runner: new NodeProcessRunner(),
      clock: new SystemClock(),
      logger: silentLogger(),
    });
    const levels: { who: string | null; level: AudioLevel }[] = [];
    mixer.onLevel((who, level) => levels.push({ who, level }));
    mixer.start();
    await until(() => mixer.status().sink.state === 'running', 20_000, 'sink running');
    for (let i = 0; i < 100; i++) {
      mixer.push('a', streams[0]![i]!.frameNumber, streams[0]![i]!.data);
      mixer.push('b', streams[1]![i]!.frameNumber, streams[1]![i]!.data);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(
      () => levels.filter((l) => l.who === null && l.level.rmsDbfs > -40).length >= 3,
      20_000,
      'mixed audio',
    );
    await mixer.stop();
    const loud = (who: string | null) =>
      levels.filter((l) => l.who === who && l.level.rmsDbfs > -40).map((l) => l.level.rmsDbfs);
    const [a, b, mix] = [loud('a'), loud('b'), loud(null)];
    expect(a.length).toBeGreaterThanOrEqual(3);
    expect(b.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...mix)).toBeGreaterThan(Math.max(...a, ...b) + 1);
    expect(mixer.stats('a')).toMatchObject({ late: 0, lost: 0 });
  });
});
