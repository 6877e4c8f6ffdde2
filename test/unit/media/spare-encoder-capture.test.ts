/**
 * The split video capture (docs/decisions/0005-media-keyframes-on-demand.md §Spare encoder), on a
 * fake runner and clock: raw frames cut whole across any chunk boundaries, a keyframe request
 * switching to the spare at the next frame, coalescing and the switch limit, a new output without
 * touching the source, an encoder's death, the source's death, backpressure and stop.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { createVideoCapture, type VideoCapture } from '../../../src/media/capture.ts';
import { rawFrameBytes, type VideoEncodeSettings } from '../../../src/media/ffmpeg-args.ts';
import { writeIvfFrame, writeIvfHeader } from '../../../src/media/ivf.ts';
import { RawFrameCutter } from '../../../src/media/raw-frames.ts';
import { KEYFRAME_SWITCH_MIN_MS } from '../../../src/media/spare-encoder.ts';
import { type FakeChild, FakeProcessRunner } from '../../../src/system/process.ts';

const flush = () => new Promise((r) => setImmediate(r));

const SETTINGS: VideoEncodeSettings = {
  codec: 'vp8',
  width: 64,
  height: 36,
  framerate: 30,
  bitrateKbps: 300,
  keyframeIntervalMs: 1000,
};
const FRAME = rawFrameBytes(64, 36);

function arg(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

/** A raw frame whose every byte is `n` (mod 256). */
function raw(n: number, bytes = FRAME): Uint8Array {
  return new Uint8Array(bytes).fill(n & 0xff);
}

/** An encoder child as the capture sees it: what reaches its stdin, and output it can write. */
class Enc {
  readonly got: number[] = [];
  #bytes = 0;
  #pts = 0;
  #header = false;
  constructor(
    readonly child: FakeChild,
    readonly args: readonly string[],
    readonly frameBytes = FRAME,
  ) {
    child.stdin.on('data', (c: Uint8Array) => {
      for (let i = 0; i < c.length; i++, this.#bytes++)
        if (this.#bytes % this.frameBytes === 0) this.got.push(c[i]!);
    });
  }
  /** Raw frames received whole (each marked by its first byte). */
  get bytes(): number {
    return this.#bytes;
  }
  /** Write one encoded frame (the IVF header first). */
  out(key: boolean): void {
    if (!this.#header) {
      this.#header = true;
      this.child.stdout.write(
        writeIvfHeader({ codec: 'vp8', width: 64, height: 36, timebaseDen: 30, timebaseNum: 1 }),
      );
    }
    this.child.stdout.write(writeIvfFrame(Uint8Array.of(key ? 0x10 : 0x11, 0x02, 0x00), this.#pts++));
  }
}

async function rig(opts: { niceness?: number; frameBytes?: number; width?: number; height?: number } = {}) {
  const runner = new FakeProcessRunner();
  const clock = new FakeClock();
  const settings = {
    ...SETTINGS,
    ...(opts.width === undefined ? {} : { width: opts.width, height: opts.height ?? 36 }),
    ...(opts.niceness === undefined ? {} : { niceness: opts.niceness }),
  };
  const frameBytes = rawFrameBytes(settings.width, settings.height);
  const cap: VideoCapture = createVideoCapture({ type: 'test', fontFile: null }, settings, {
    runner,
    clock,
    logger: silentLogger(),
    supervisor: { backoff: { initialMs: 10, random: () => 1 } },
  });
  const keys: boolean[] = [];
  cap.onFrame((f) => keys.push(f.keyframe));
  const encs: Enc[] = [];
  const isEncoder = (i: number) => arg(runner.calls[i]!.args, '-i') === 'pipe:0';
  /** Every encoder child spawned so far, oldest first. */
  const encoders = () => {
    for (let i = 0; i < runner.children.length; i++) {
      if (!isEncoder(i) || encs.some((e) => e.child === runner.children[i])) continue;
      encs.push(new Enc(runner.children[i]!, runner.calls[i]!.args, frameBytes));
    }
    return encs;
  };
  const sources = () => runner.children.filter((_, i) => !isEncoder(i));
  let n = 0;
  /** The source writes one whole raw frame; returns its number. */
  const frame = async () => {
    const i = n++;
    sources().at(-1)!.stdout.write(raw(i, frameBytes));
    await flush();
    return i;
  };
  cap.start();
  await flush();
  return { runner, clock, cap, keys, encoders, sources, frame };
}

describe('RawFrameCutter', () => {
  it('cuts whole frames across arbitrary chunk boundaries', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (const size of [1, 6, 3456, 1000]) {
      const c = new RawFrameCutter(size, 1000);
      const stream = new Uint8Array(size * 50);
      for (let f = 0; f < 50; f++) stream.fill(f, f * size, (f + 1) * size);
      const out: Uint8Array[] = [];
      for (let at = 0; at < stream.length; ) {
        const len = 1 + (rand() % (size * 3));
        out.push(...c.push(stream.subarray(at, at + len)));
        at += len;
        expect(c.held).toBeLessThan(size);
      }
      expect(out).toHaveLength(50);
      out.forEach((f, i) => {
        expect(f.length).toBe(size);
        expect(f.every((b) => b === i)).toBe(true);
      });
      expect(c.dropped).toBe(0);
    }
  });

  it('hands over at most maxFrames from one chunk, dropping the oldest whole, and resets', () => {
    const c = new RawFrameCutter(4, 3);
    const big = new Uint8Array(4 * 5 + 2);
    for (let f = 0; f < 5; f++) big.fill(f, f * 4, f * 4 + 4);
    const out = c.push(big);
    expect(out.map((f) => f[0])).toEqual([2, 3, 4]);
    expect(c.dropped).toBe(2);
    expect(c.held).toBe(2);
    c.reset();
    expect(c.held).toBe(0);
    expect(c.push(Uint8Array.of(9, 9, 9, 9)).map((f) => Array.from(f))).toEqual([[9, 9, 9, 9]]);
    expect(() => new RawFrameCutter(0)).toThrow(RangeError);
  });
});

describe('a split video capture', () => {
  it('runs a raw source and one encoder, and feeds it whole frames cut from any chunking', async () => {
    const { runner, cap, sources, encoders } = await rig();
    expect(sources()).toHaveLength(1);
    expect(encoders()).toHaveLength(1);
    const src = runner.calls[0]!.args;
    expect(arg(src, '-i')).toContain('testsrc2=size=64x36:rate=30');
    expect(src.slice(-3)).toEqual(['-f', 'rawvideo', 'pipe:1']);
    const enc = encoders()[0]!;
    expect(arg(enc.args, '-video_size')).toBe('64x36');
    expect(enc.args).toContain('libvpx');
    // Ten frames written in odd-sized pieces arrive whole and in order.
    const all = new Uint8Array(FRAME * 10);
    for (let f = 0; f < 10; f++) all.fill(f, f * FRAME, (f + 1) * FRAME);
    for (let at = 0; at < all.length; at += 1000) sources()[0]!.stdout.write(all.subarray(at, at + 1000));
    await flush();
    expect(enc.got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(enc.bytes).toBe(FRAME * 10);
    expect(cap.status().state).toBe('running');
    await cap.stop();
  });

  it('a keyframe request feeds the spare from the next frame, ends the old one and starts a new spare', async () => {
    const { cap, keys, encoders, frame } = await rig();
    const [first] = encoders();
    await frame();
    first!.out(true);
    await flush();
    // No spare before the current encoder's first frame; then one at the next frame boundary.
    expect(encoders()).toHaveLength(1);
    await frame();
    expect(encoders()).toHaveLength(2);
    const spare = encoders()[1]!;
    expect(spare.args).toEqual(first!.args);
    expect(spare.got).toEqual([]);
    expect(cap.encoderStats()).toMatchObject({ spareReady: true, keyframeSwitches: 0 });

    expect(cap.requestKeyframe()).toEqual({ accepted: true, expectedWithinMs: 34 });
    // Frame 1 is still being encoded: the switch is made at the next frame boundary.
    expect(first!.child.running).toBe(true);
    await frame();
    expect(first!.child.stdin.writableEnded).toBe(true);
    expect(first!.child.running).toBe(false);
    expect(first!.got).toEqual([0, 1]);
    expect(spare.got).toEqual([2]);
    // Output of the old encoder is ignored; the spare's first frame, a keyframe, goes out.
    first!.out(false);
    spare.out(true);
    await flush();
    expect(keys).toEqual([true, true]);
    await frame();
    expect(encoders()).toHaveLength(3);
    expect(encoders()[2]!.child.running).toBe(true);
    expect(cap.encoderStats()).toMatchObject({ keyframeSwitches: 1, spareReady: true, encoderDeaths: 0 });
    expect(cap.status().restarts).toBe(0);
    await cap.stop();
  });

  it('switches at once when every frame written has come out of the current encoder', async () => {
    const { cap, encoders, frame } = await rig();
    await frame();
    encoders()[0]!.out(true);
    await flush();
    await frame();
    encoders()[0]!.out(false);
    await flush();
    cap.requestKeyframe();
    expect(encoders()[0]!.child.running).toBe(false);
    const n = await frame();
    expect(encoders()[1]!.got).toEqual([n]);
    await cap.stop();
  });

  it('coalesces requests into one switch and switches at most once per KEYFRAME_SWITCH_MIN_MS', async () => {
    const { cap, clock, encoders, frame } = await rig();
    await frame();
    encoders()[0]!.out(true);
    await flush();
    await frame();
    // Twenty receivers ask about one lost frame: one switch.
    for (let i = 0; i < 20; i++) expect(cap.requestKeyframe().accepted).toBe(true);
    expect(cap.encoderStats()!.keyframeSwitches).toBe(1);
    // Until the switched encoder's first frame, more requests are answered by that frame.
    await frame();
    for (let i = 0; i < 5; i++) cap.requestKeyframe();
    expect(encoders()).toHaveLength(2);
    encoders()[1]!.out(true);
    await flush();
    await frame(); // the next spare starts
    expect(encoders()).toHaveLength(3);
    // Another request within the limit waits for it, whatever the number of frames meanwhile.
    clock.advance(100);
    const r = cap.requestKeyframe();
    expect(r.accepted).toBe(true);
    expect(r.expectedWithinMs).toBe(KEYFRAME_SWITCH_MIN_MS - 100 + 34);
    for (let i = 0; i < 3; i++) {
      clock.advance(33);
      cap.requestKeyframe();
      await frame();
    }
    expect(cap.encoderStats()!.keyframeSwitches).toBe(1);
    clock.advance(KEYFRAME_SWITCH_MIN_MS);
    const next = await frame();
    expect(cap.encoderStats()!.keyframeSwitches).toBe(2);
    expect(encoders()[2]!.got).toEqual([next]);
    // A scheduled keyframe answers a pending request: no switch.
    encoders()[2]!.out(true);
    await flush();
    await frame();
    encoders()[2]!.out(false);
    await flush();
    cap.requestKeyframe();
    encoders()[2]!.out(true);
    await flush();
    clock.advance(KEYFRAME_SWITCH_MIN_MS);
    await frame();
    expect(cap.encoderStats()!.keyframeSwitches).toBe(2);
    await cap.stop();
  });

  it('reconfigure switches to an encoder at the new output at once, the source untouched', async () => {
    const { cap, encoders, sources, frame } = await rig();
    await frame();
    encoders()[0]!.out(true);
    await flush();
    await frame();
    const [old, oldSpare] = encoders();
    expect(cap.reconfigure({ width: 32, height: 18, framerate: 15, bitrateKbps: 100 })).toBe(true);
    expect(encoders()).toHaveLength(3);
    const small = encoders()[2]!;
    expect(arg(small.args, '-vf')).toBe('scale=32:18,fps=15');
    expect(arg(small.args, '-b:v')).toBe('100k');
    expect(arg(small.args, '-video_size')).toBe('64x36'); // it still takes the source's frames
    expect(oldSpare!.child.running).toBe(false);
    // Frame 1 is still being encoded by the old one: it takes the next frame boundary.
    expect(old!.child.running).toBe(true);
    const n = await frame();
    expect(old!.child.running).toBe(false);
    expect(small.got).toEqual([n]); // no frame lost at the switch
    expect(old!.got).toEqual([0, 1]);
    small.out(true);
    await flush();
    await frame();
    expect(encoders()).toHaveLength(4);
    expect(encoders()[3]!.args).toEqual(small.args);
    expect(sources()).toHaveLength(1);
    expect(sources()[0]!.running).toBe(true);
    expect(cap.status().restarts).toBe(0);
    expect(cap.encoderStats()).toMatchObject({ reconfigureSwitches: 1, keyframeSwitches: 0 });
    // The same output again changes nothing.
    expect(cap.reconfigure({ width: 32, height: 18, framerate: 15, bitrateKbps: 100 })).toBe(false);
    expect(encoders()).toHaveLength(4);
    await cap.stop();
  });

  it('an encoder that dies is replaced by the spare; with no spare, everything restarts', async () => {
    const { cap, clock, encoders, sources, frame } = await rig();
    await frame();
    encoders()[0]!.out(true);
    await flush();
    await frame();
    encoders()[0]!.child.exit(1);
    await flush();
    const n = await frame();
    expect(encoders()[1]!.got).toEqual([n]);
    expect(cap.encoderStats()).toMatchObject({ encoderDeaths: 1, spareReady: false });
    expect(sources()[0]!.running).toBe(true);
    expect(cap.status()).toMatchObject({ state: 'running', restarts: 0 });
    // The new current dies before its first frame: no spare yet, so the capture restarts.
    encoders()[1]!.child.exit(1);
    await flush();
    expect(cap.status()).toMatchObject({ state: 'restarting', reason: 'encoder_exited' });
    expect(sources()[0]!.running).toBe(false);
    clock.advance(10);
    await flush();
    expect(sources()).toHaveLength(2);
    expect(encoders()).toHaveLength(3);
    expect(encoders()[2]!.child.running).toBe(true);
    expect(cap.encoderStats()!.encoderDeaths).toBe(2);
    await cap.stop();
  });

  it('an encoder fed frames that writes nothing is stalled: with no spare, everything restarts', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const cap = createVideoCapture({ type: 'test', fontFile: null }, SETTINGS, {
      runner,
      clock,
      logger: silentLogger(),
      supervisor: { stallTimeoutMs: 3000 },
    });
    cap.start();
    await flush();
    const [src, enc] = runner.children;
    enc!.stdin.resume();
    let t = 0;
    for (; t < 40 && enc!.running; t++) {
      src!.stdout.write(raw(t));
      await flush();
      clock.advance(100);
    }
    // Caught at the first frame after the stall timeout, though the source never stopped.
    expect(enc!.running).toBe(false);
    expect(t).toBe(32);
    expect(cap.status()).toMatchObject({ state: 'restarting', reason: 'encoder_stalled' });
    expect(cap.encoderStats()!.encoderDeaths).toBe(1);
    await cap.stop();
  });

  it('a source that dies is restarted by the supervisor, with new encoders', async () => {
    const { cap, clock, encoders, sources, frame } = await rig();
    await frame();
    encoders()[0]!.out(true);
    await flush();
    await frame();
    sources()[0]!.exit(1);
    await flush();
    expect(cap.status()).toMatchObject({ state: 'restarting', reason: 'exited' });
    expect(encoders().every((e) => !e.child.running)).toBe(true);
    expect(cap.requestKeyframe().accepted).toBe(false);
    clock.advance(10);
    await flush();
    expect(sources()).toHaveLength(2);
    expect(encoders()).toHaveLength(3);
    const n = await frame();
    expect(encoders()[2]!.got).toEqual([n]);
    expect(cap.status().state).toBe('running');
    await cap.stop();
  });

  it('drops whole frames at a full encoder stdin, counted, never queuing more than two', async () => {
    // Frames above the fake pipe's 16 KiB buffer, so an unread stdin fills at once.
    const { runner, cap, encoders, frame } = await rig({ width: 320, height: 180 });
    const bytes = rawFrameBytes(320, 180);
    const enc = encoders()[0]!;
    enc.child.stdin.pause();
    // Starting up (no frame out yet), it may hold STARTUP_QUEUE_MS of frames: 15 at 30 fps.
    for (let i = 0; i < 17; i++) await frame();
    expect(cap.encoderStats()!.framesDropped).toBe(2);
    expect(enc.child.stdin.writableLength).toBeLessThanOrEqual(15 * bytes);
    enc.child.stdin.resume();
    await flush();
    expect(enc.got).toEqual([...Array(15).keys()]);
    // Running, two at most.
    enc.out(true);
    await flush();
    await frame(); // 17: the spare starts here
    enc.child.stdin.pause();
    for (let i = 0; i < 6; i++) await frame();
    expect(enc.child.stdin.writableLength).toBeLessThanOrEqual(2 * bytes);
    expect(cap.encoderStats()!.framesDropped).toBe(2 + 4);
    enc.child.stdin.resume();
    await flush();
    await frame();
    expect(enc.got.slice(15)).toEqual([17, 18, 19, 24]);
    expect(enc.bytes % bytes).toBe(0);
    await cap.stop();
    expect(runner.children.every((c) => !c.running)).toBe(true);
  });

  it('runs both children under nice(1), and stop leaves nothing running and no timer', async () => {
    const { runner, clock, cap, encoders, frame } = await rig({ niceness: 5 });
    await frame();
    encoders()[0]!.out(true);
    await flush();
    await frame();
    cap.requestKeyframe();
    expect(runner.calls).toHaveLength(3);
    for (const c of runner.calls) {
      expect(c.cmd).toBe('nice');
      expect(c.args.slice(0, 3)).toEqual(['-n', '5', 'ffmpeg']);
    }
    await cap.stop();
    expect(runner.children.every((c) => !c.running)).toBe(true);
    expect(clock.pending).toBe(0);
    expect(cap.status().state).toBe('stopped');
    // Started again: a new source and encoder.
    cap.start();
    await flush();
    expect(runner.children.filter((c) => c.running)).toHaveLength(2);
    await cap.stop();
    expect(runner.children.every((c) => !c.running)).toBe(true);
  });

  it('a file source stays one child and ignores keyframe switches', async () => {
    const runner = new FakeProcessRunner();
    const cap = createVideoCapture({ type: 'file', path: '/clip.ivf' }, SETTINGS, {
      runner,
      clock: new FakeClock(),
      logger: silentLogger(),
    });
    cap.start();
    await flush();
    expect(runner.children).toHaveLength(1);
    expect(arg(runner.calls[0]!.args, '-c:v')).toBe('copy');
    expect(cap.encoderStats()).toBeNull();
    await cap.stop();
  });
});
