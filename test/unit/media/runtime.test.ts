/** Supervisor, capture, feed, playout meter and ffmpeg argument tests with the fake process runner. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { createVideoCapture } from '../../../src/media/capture.ts';
import { audioCaptureArgs, playoutArgs, videoCaptureArgs } from '../../../src/media/ffmpeg-args.ts';
import { OggOpusParser } from '../../../src/media/opus.ts';
import { AudioPlayout, LevelMeter } from '../../../src/media/playout.ts';
import { type RunnerStatus, SupervisedProcess } from '../../../src/media/supervisor.ts';
import { decodeFeedMessage } from '../../../src/media/kiosk-feed.ts';
import { type FeedSink, VideoFeed } from '../../../src/media/video-feed.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';

const flush = () => new Promise((r) => setImmediate(r));

function ivfHeader(): Uint8Array {
  const b = new Uint8Array(32);
  b.set([0x44, 0x4b, 0x49, 0x46, 0, 0, 32, 0, 0x56, 0x50, 0x38, 0x30, 64, 0, 36, 0, 30, 0, 0, 0, 1, 0, 0, 0]);
  return b;
}
function ivfFrame(key: boolean, pts: number): Uint8Array {
  const b = new Uint8Array(12 + 10);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 10, true);
  dv.setUint32(4, pts, true);
  b[12] = key ? 0x10 : 0x11;
  return b;
}

describe('SupervisedProcess', () => {
  it('reports starting → running, restarts with backoff after a crash, keeps the stderr tail', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const states: RunnerStatus[] = [];
    const sp = new SupervisedProcess({
      name: 't',
      runner,
      clock,
      logger: silentLogger(),
      args: () => ['-x'],
      onStdout: () => {},
      onStatus: (s) => states.push(s),
      backoff: { initialMs: 100, random: () => 1 },
    });
    sp.start();
    await flush();
    expect(sp.state).toBe('starting');
    runner.children[0]!.stdout.write(Uint8Array.of(1));
    await flush();
    expect(sp.state).toBe('running');
    runner.children[0]!.stderr.write('Input #0, lavfi\nsomething broke\n');
    await flush();
    runner.children[0]!.exit(1);
    await flush();
    expect(sp.status()).toMatchObject({
      state: 'restarting',
      reason: 'exited',
      restarts: 1,
      lastExit: { code: 1 },
    });
    expect(sp.status().stderrTail).toEqual(['Input #0, lavfi', 'something broke']);
    clock.advance(99);
    expect(runner.children).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(runner.children).toHaveLength(2);
    runner.children[1]!.exit(1);
    await flush();
    clock.advance(150);
    await flush();
    expect(runner.children).toHaveLength(2); // second delay is 200 ms
    clock.advance(50);
    await flush();
    expect(runner.children).toHaveLength(3);
    expect(states.map((s) => s.state)).toEqual([
      'starting',
      'running',
      'restarting',
      'starting',
      'restarting',
      'starting',
    ]);
    await sp.stop();
    expect(sp.state).toBe('stopped');
    expect(runner.children[2]!.running).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('kills a stalled child and ends up failed after repeated failures', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const sp = new SupervisedProcess({
      name: 't',
      runner,
      clock,
      logger: silentLogger(),
      args: () => [],
      onStdout: () => {},
      stallTimeoutMs: 3000,
      failedAfter: 2,
      backoff: { initialMs: 100, random: () => 1 },
    });
    sp.start();
    await flush();
    clock.advance(3000);
    await flush();
    expect(sp.status()).toMatchObject({ state: 'restarting', reason: 'stalled' });
    expect(runner.children[0]!.running).toBe(false);
    clock.advance(100);
    await flush();
    runner.children[1]!.exit(null, 'SIGSEGV');
    await flush();
    expect(sp.status()).toMatchObject({ state: 'failed', reason: 'exited' });
    await sp.stop();
  });
});

describe('SupervisedProcess under a starved event loop', () => {
  /** FakeClock whose monotonic time can jump without any timer firing: our own loop was blocked. */
  class BlockableClock extends FakeClock {
    blockedMs = 0;
    override monotonic(): number {
      return super.monotonic() + this.blockedMs;
    }
  }

  it('a blocked parent loop is not an encoder stall; silence seen by a running loop still is', async () => {
    const runner = new FakeProcessRunner();
    const clock = new BlockableClock();
    const sp = new SupervisedProcess({
      name: 't',
      runner,
      clock,
      logger: silentLogger(),
      args: () => [],
      onStdout: () => {},
      stallTimeoutMs: 3000,
      backoff: { initialMs: 100, random: () => 1 },
    });
    sp.start();
    await flush();
    runner.children[0]!.stdout.write(Uint8Array.of(1));
    await flush();
    expect(sp.state).toBe('running');
    // The daemon's loop is blocked for 20 s (a loaded box), then one watch tick runs before the
    // encoder's queued output is read.
    clock.blockedMs += 20_000;
    clock.advance(1000);
    await flush();
    expect(sp.state).toBe('running');
    expect(runner.children[0]!.running).toBe(true);
    runner.children[0]!.stdout.write(Uint8Array.of(2));
    await flush();
    // Real silence with the loop running: killed after the stall timeout.
    clock.advance(2000);
    await flush();
    expect(sp.state).toBe('running');
    clock.advance(1000);
    await flush();
    expect(sp.status()).toMatchObject({ state: 'restarting', reason: 'stalled' });
    await sp.stop();
  });
});

describe('MediaCapture', () => {
  it('reports a missing camera as failed/device_missing and starts when it appears', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    let present = false;
    const cap = createVideoCapture(
      { type: 'v4l2', device: '/dev/v4l/by-id/usb-cam-video-index0' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300 },
      {
        runner,
        clock,
        logger: silentLogger(),
        deviceExists: async () => present,
        supervisor: { recheckMs: 1000 },
      },
    );
    cap.start();
    await flush();
    expect(cap.status()).toMatchObject({ state: 'failed', reason: 'device_missing' });
    expect(runner.children).toHaveLength(0);
    expect(cap.requestKeyframe().accepted).toBe(false);
    present = true;
    clock.advance(1000);
    await flush();
    expect(runner.children).toHaveLength(2); // the camera's raw source and its encoder
    expect(runner.calls[0]!.args).toContain('/dev/v4l/by-id/usb-cam-video-index0');
    await cap.stop();
  });

  it('runs the encoder under nice(1) at the niceness asked for, and plain ffmpeg at 0', async () => {
    for (const [niceness, cmd, head] of [
      [5, 'nice', ['-n', '5', 'ffmpeg']],
      [0, 'ffmpeg', []],
    ] as const) {
      const runner = new FakeProcessRunner();
      const cap = createVideoCapture(
        { type: 'test', fontFile: null, label: 'x' },
        { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300, niceness },
        { runner, clock: new FakeClock(), logger: silentLogger() },
      );
      cap.start();
      await flush();
      expect(runner.calls[0]!.cmd).toBe(cmd);
      expect(runner.calls[0]!.args.slice(0, head.length)).toEqual(head);
      expect(runner.calls[0]!.args).toContain('-f');
      await cap.stop();
    }
  });

  it('parses frames from the child, serves them as an async iterable, and restarts on garbage', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const cap = createVideoCapture(
      { type: 'test' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300, keyframeIntervalMs: 1000 },
      { runner, clock, logger: silentLogger(), supervisor: { backoff: { initialMs: 10, random: () => 1 } } },
      { encoders: 'single' },
    );
    const seen: boolean[] = [];
    cap.onFrame((f) => seen.push(f.keyframe));
    const iter = cap.frames(2)[Symbol.asyncIterator]();
    cap.start();
    await flush();
    const child = runner.children[0]!;
    child.stdout.write(ivfHeader());
    child.stdout.write(ivfFrame(true, 0));
    child.stdout.write(ivfFrame(false, 1));
    await flush();
    expect(seen).toEqual([true, false]);
    expect((await iter.next()).value?.keyframe).toBe(true);
    expect(cap.status().state).toBe('running');
    clock.advance(400);
    expect(cap.requestKeyframe()).toEqual({ accepted: true, expectedWithinMs: 600 });
    child.stdout.write(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12));
    await flush();
    expect(cap.status()).toMatchObject({ state: 'restarting', reason: 'parse_failed' });
    clock.advance(10);
    await flush();
    expect(runner.children).toHaveLength(2);
    runner.children[1]!.stdout.write(ivfHeader());
    runner.children[1]!.stdout.write(ivfFrame(true, 0));
    await flush();
    expect(seen).toEqual([true, false, true]);
    await cap.stop();
    expect((await iter.next()).value?.keyframe).toBe(false);
    expect((await iter.next()).value?.keyframe).toBe(true);
    expect((await iter.next()).done).toBe(true);
  });

  it('can be stopped and started again (camera off and on)', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const cap = createVideoCapture(
      { type: 'test' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300 },
      { runner, clock, logger: silentLogger() },
      { encoders: 'single' },
    );
    const seen: number[] = [];
    cap.onFrame((f) => seen.push(f.ptsMs ?? -1));
    cap.start();
    await flush();
    runner.children[0]!.stdout.write(ivfHeader());
    runner.children[0]!.stdout.write(ivfFrame(true, 0));
    await flush();
    await cap.stop();
    expect(cap.status().state).toBe('stopped');
    expect(runner.children[0]!.running).toBe(false);
    cap.start();
    await flush();
    expect(runner.children).toHaveLength(2);
    runner.children[1]!.stdout.write(ivfHeader());
    runner.children[1]!.stdout.write(ivfFrame(true, 0));
    await flush();
    expect(seen).toEqual([0, 0]);
    expect(cap.status().state).toBe('running');
    await cap.stop();
    expect(clock.pending).toBe(0);
  });

  it('restarts the encoder when a requested keyframe is overdue', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const cap = createVideoCapture(
      { type: 'test' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300, keyframeIntervalMs: 1000 },
      { runner, clock, logger: silentLogger() },
      { encoders: 'single' },
    );
    cap.start();
    await flush();
    runner.children[0]!.stdout.write(ivfHeader());
    await flush();
    cap.requestKeyframe();
    clock.advance(2001);
    cap.requestKeyframe();
    await flush();
    expect(runner.children).toHaveLength(2);
    expect(runner.children[0]!.running).toBe(false);
    await cap.stop();
  });

  it('does not hold a new encoder to a request made to the one before (camera off and on)', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const cap = createVideoCapture(
      { type: 'test' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300, keyframeIntervalMs: 1000 },
      { runner, clock, logger: silentLogger() },
      { encoders: 'single' },
    );
    cap.start();
    await flush();
    runner.children[0]!.stdout.write(ivfHeader());
    await flush();
    cap.requestKeyframe(); // never answered: the camera goes off first
    await cap.stop();
    clock.advance(5000);
    cap.start();
    await flush();
    expect(runner.children).toHaveLength(2);
    // Asked before the new encoder's first frame (which is a keyframe): nothing is overdue yet.
    expect(cap.requestKeyframe().accepted).toBe(true);
    clock.advance(1999);
    cap.requestKeyframe();
    await flush();
    expect(runner.children).toHaveLength(2);
    expect(runner.children[1]!.running).toBe(true);
    await cap.stop();
  });
});

describe('VideoFeed', () => {
  const frame = (participantId: string, keyframe: boolean, n: number) => ({
    participantId,
    streamId: 0,
    codec: 'vp8' as const,
    keyframe,
    captureTs: 1000 + n,
    data: Uint8Array.of(n),
  });
  function sink(buffered = () => 0): FeedSink & { got: number[] } {
    const got: number[] = [];
    // -1 marks a message the decoder refused (none should be).
    const send = (m: Uint8Array) => {
      const d = decodeFeedMessage(m);
      got.push(d.ok ? d.frame.data[0]! : -1);
    };
    return { got, send, bufferedBytes: buffered };
  }

  it('replays the current picture group to a new subscriber and waits for keyframes after backpressure', () => {
    const asked: string[] = [];
    const feed = new VideoFeed({ onKeyframeNeeded: (p) => asked.push(p) });
    feed.publish(frame('a', false, 0)); // no keyframe yet: nobody can decode it
    feed.publish(frame('a', true, 1));
    feed.publish(frame('a', false, 2));
    const s1 = sink();
    feed.subscribe(s1);
    expect(s1.got).toEqual([1, 2]);
    let backed = 0;
    const s2 = sink(() => backed);
    feed.subscribe(s2);
    backed = 10 * 1024 * 1024;
    feed.publish(frame('a', false, 3));
    backed = 0;
    feed.publish(frame('a', false, 4));
    feed.publish(frame('a', true, 5));
    expect(s1.got).toEqual([1, 2, 3, 4, 5]);
    expect(s2.got).toEqual([1, 2, 5]);
    expect(asked).toEqual(['a']);
  });
});

describe('AudioPlayout', () => {
  it('writes Ogg headers to each new ffmpeg, packets in frame order after the jitter delay, and reads levels', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const playout = new AudioPlayout({
      settings: { device: 'default', volume: 50 },
      runner,
      clock,
      logger: silentLogger(),
      jitterDelayMs: 40,
    });
    playout.start();
    await flush();
    const child = runner.children[0]!;
    expect(playout.status().state).toBe('running');
    expect(runner.calls[0]!.args.join(' ')).toContain('-f alsa default');
    const written: Uint8Array[] = [];
    child.stdin.on('data', (b: Uint8Array) => written.push(b));
    playout.push(2, Uint8Array.of(0xf8, 2));
    playout.push(1, Uint8Array.of(0xf8, 1));
    clock.advance(40);
    await flush();
    const parser = new OggOpusParser({ clock });
    const packets = written.flatMap((b) => parser.push(b)).map((f) => f.data[1]);
    expect(packets).toEqual([1, 2]);
    expect(parser.head).toBeDefined();
    const pcm = new Uint8Array(1600);
    new DataView(pcm.buffer).setInt16(0, 32767, true);
    child.stdout.write(pcm);
    await flush();
    expect(playout.level()).toMatchObject({ peakDbfs: expect.closeTo(0, 1) });
    expect(playout.stats()).toMatchObject({ written: 2, dropped: 0, lost: 0 });
    await playout.stop();
    expect(child.running).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe('LevelMeter', () => {
  it('reports RMS and peak of a full-scale square wave and of silence', () => {
    const m = new LevelMeter();
    const loud = new Uint8Array(1600);
    const dv = new DataView(loud.buffer);
    for (let i = 0; i < 800; i++) dv.setInt16(i * 2, i % 2 === 0 ? 16384 : -16384, true);
    const [lvl] = [...m.push(loud.subarray(0, 801), 5), ...m.push(loud.subarray(801), 5)];
    expect(lvl!.rmsDbfs).toBeCloseTo(-6.02, 1);
    expect(lvl!.peakDbfs).toBeCloseTo(-6.02, 1);
    expect(m.push(new Uint8Array(1600), 6)[0]!.rmsDbfs).toBe(-120);
  });
});

describe('ffmpeg arguments', () => {
  const settings = { width: 1280, height: 720, framerate: 30, bitrateKbps: 2500 };
  it('VP8 realtime in IVF with a 2 s keyframe interval', () => {
    const a = videoCaptureArgs({ type: 'v4l2', device: '/dev/v4l/by-id/cam' }, { ...settings, codec: 'vp8' });
    const s = a.join(' ');
    expect(s).toContain('-f v4l2');
    expect(s).toContain('-video_size 1280x720');
    expect(s).toContain('-c:v libvpx -deadline realtime -cpu-used 8 -error-resilient 1 -lag-in-frames 0');
    expect(s).toContain('-g 60 -force_key_frames expr:gte(t,n_forced*2)');
    expect(s).toContain('-b:v 2500k');
    expect(a.slice(-5)).toEqual(['-f', 'ivf', '-flush_packets', '1', 'pipe:1']);
  });
  it('H.264 Annex-B with AUDs, and testsrc2 with a clock overlay', () => {
    const a = videoCaptureArgs(
      { type: 'test', fontFile: '/f.ttf', label: "Room 1'; rm" },
      { ...settings, codec: 'h264' },
    );
    const s = a.join(' ');
    expect(s).toContain('-re -f lavfi -i testsrc2=size=1280x720:rate=30,drawtext=');
    expect(s).toContain("text='Room 1 rm %{localtime\\:%X} #%{n}'");
    expect(s).toContain('-c:v libx264 -preset ultrafast -tune zerolatency');
    expect(s).toContain('aud=1');
    expect(s).toContain('-f h264');
    expect(videoCaptureArgs({ type: 'test' }, { ...settings, codec: 'h264' }).join(' ')).not.toContain(
      'drawtext',
    );
  });
  it('Opus in Ogg, 20 ms, one page per packet; playout to ALSA and the meter', () => {
    const s = audioCaptureArgs({ type: 'alsa', device: 'hw:CARD=Speaker' }, { bitrateKbps: 48 }).join(' ');
    expect(s).toContain('-f alsa');
    expect(s).toContain('-i hw:CARD=Speaker');
    expect(s).toContain(
      '-c:a libopus -application lowdelay -frame_duration 20 -b:a 48k -page_duration 20000',
    );
    const p = playoutArgs({ device: 'hw:CARD=Speaker', meter: true, volume: 70 }).join(' ');
    expect(p).toContain('-af volume=0.70 -f alsa hw:CARD=Speaker');
    expect(p).toContain('-f s16le');
    expect(playoutArgs({ device: null, meter: false }).join(' ')).not.toContain('alsa');
  });
});
