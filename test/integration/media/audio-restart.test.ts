/**
 * Real ffmpeg Opus capture → wire → jitter buffer → playout ffmpeg with the level meter; and a capture
 * ffmpeg killed mid-stream is restarted by its supervisor and frames resume.
 */
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { createAudioCapture, createVideoCapture } from '../../../src/media/capture.ts';
import { type AudioLevel, AudioPlayout } from '../../../src/media/playout.ts';
import { type RunnerState, SupervisedProcess } from '../../../src/media/supervisor.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { deps, throughWire, until } from './harness.ts';

describe('Opus path', () => {
  it('captures 20 ms packets, carries them over the wire and plays them into the level meter', async () => {
    const cap = createAudioCapture({ type: 'test', frequencyHz: 440 }, { bitrateKbps: 32 }, deps());
    const wire = await throughWire(cap, 40);
    wire.close();
    expect(wire.received).toHaveLength(40);
    expect(wire.received.every((f) => f.codec === 'opus' && f.kind === 'audio')).toBe(true);
    expect(wire.sent.every((f) => f.durationMs === 20)).toBe(true);
    const pts = wire.sent.map((f) => f.ptsMs!);
    for (let i = 1; i < pts.length; i++) expect(pts[i]! - pts[i - 1]!).toBeCloseTo(20, 6);

    const playout = new AudioPlayout({
      settings: { device: null },
      runner: new NodeProcessRunner(),
      clock: new SystemClock(),
      logger: silentLogger(),
      jitterDelayMs: 40,
    });
    const levels: AudioLevel[] = [];
    playout.onLevel((l) => levels.push(l));
    playout.start();
    await until(() => playout.status().state === 'running', 5000, 'playout running');
    // Out of order on purpose: the jitter buffer puts them back.
    const order = wire.received.map((f, i) => ({ f, i }));
    [order[3], order[4]] = [order[4]!, order[3]!];
    for (const { f } of order) playout.push(f.frameNumber, f.data);
    await until(() => levels.length >= 5, 10_000, 'level meter windows');
    await playout.stop();
    const loud = levels.filter((l) => l.rmsDbfs > -40);
    expect(loud.length).toBeGreaterThanOrEqual(3);
    for (const l of loud) expect(l.rmsDbfs).toBeLessThan(-3); // a sine at 1/8 full scale
    expect(playout.stats()).toMatchObject({ late: 0, lost: 0, written: 40 });
  });
});

describe('supervision', () => {
  it('restarts a killed ffmpeg and frames resume with a keyframe', async () => {
    const cap = createVideoCapture(
      { type: 'test', fontFile: null },
      { codec: 'vp8', width: 160, height: 90, framerate: 15, bitrateKbps: 150 },
      deps(),
    );
    const states: RunnerState[] = [];
    cap.onStatus((s) => states.push(s.state));
    const frames: boolean[] = [];
    cap.onFrame((f) => frames.push(f.keyframe));
    cap.start();
    await until(() => frames.length >= 5, 10_000, 'first frames');
    const pid = cap.status().pid!;
    process.kill(pid, 'SIGKILL');
    await until(() => cap.status().restarts === 1, 5000, 'restart');
    const before = frames.length;
    await until(
      () => frames.length >= before + 3 && cap.status().state === 'running',
      10_000,
      'frames after restart',
    );
    expect(cap.status().pid).not.toBe(pid);
    expect(frames[before]).toBe(true);
    expect(cap.status().lastExit).toEqual({ code: null, signal: 'SIGKILL' });
    await cap.stop();
    expect(states).toEqual(['starting', 'running', 'restarting', 'starting', 'running', 'stopped']);
  });

  it('reports a missing ffmpeg binary as spawn_failed and then failed, without throwing', async () => {
    const sp = new SupervisedProcess({
      name: 'missing',
      runner: new NodeProcessRunner(),
      clock: new SystemClock(),
      logger: silentLogger(),
      command: '/nonexistent/ffmpeg',
      args: () => [],
      onStdout: () => {},
      backoff: { initialMs: 10, maxMs: 20 },
      failedAfter: 2,
    });
    sp.start();
    await until(() => sp.state === 'failed', 5000, 'failed state');
    expect(sp.status().reason).toBe('spawn_failed');
    await sp.stop();
  });
});
