/**
 * Audio capture stamps each frame with the microphone's level from the meter stream on fd 3 (fake
 * runner, fake clock); a meter stream that stops, errs or is missing only makes frames read silent.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { createAudioCapture, createVideoCapture, type MediaCapture } from '../../../src/media/capture.ts';
import { audioCaptureArgs } from '../../../src/media/ffmpeg-args.ts';
import { CAPTURE_LEVEL_WINDOW } from '../../../src/media/level-meter.ts';
import { OggOpusWriter } from '../../../src/media/opus.ts';
import type { MediaFrame } from '../../../src/media/types.ts';
import { type FakeChild, FakeProcessRunner, type ProcessRunner } from '../../../src/system/process.ts';

const flush = () => new Promise((r) => setImmediate(r));
/** A CELT 20 ms Opus packet (TOC 0xf8): the parser only needs the TOC. */
const PACKET = Uint8Array.of(0xf8, 0xff, 0xfe);

/** One 20 ms meter window of a square wave at `amplitude` (RMS = amplitude / 32768). */
function meterWindow(amplitude: number): Uint8Array {
  const b = new Uint8Array(CAPTURE_LEVEL_WINDOW * 2);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < CAPTURE_LEVEL_WINDOW; i++) dv.setInt16(i * 2, i % 2 ? -amplitude : amplitude, true);
  return b;
}

function setup(runner: ProcessRunner = new FakeProcessRunner()) {
  const clock = new FakeClock();
  const cap = createAudioCapture(
    { type: 'test' },
    { bitrateKbps: 32 },
    {
      runner,
      clock,
      logger: silentLogger(),
      supervisor: { backoff: { initialMs: 10, random: () => 1 }, stallTimeoutMs: 0 },
    },
  );
  const frames: MediaFrame[] = [];
  cap.onFrame((f) => frames.push(f));
  return { cap, clock, frames };
}

/** Start a child's Ogg stream and return a function that sends one packet. */
function opusOut(child: FakeChild): () => void {
  const w = new OggOpusWriter();
  for (const p of w.headers()) child.stdout.write(p);
  return () => child.stdout.write(w.page(PACKET));
}

describe('audio capture arguments', () => {
  it('write Opus in Ogg to stdout and 8 kHz mono s16le of the same input to fd 3', () => {
    for (const src of [{ type: 'alsa', device: 'hw:CARD=Mic' }, { type: 'test' }] as const) {
      const a = audioCaptureArgs(src, { bitrateKbps: 32, channels: 2 });
      const ogg = a.indexOf('pipe:1');
      expect(a.slice(ogg - 2, ogg)).toEqual(['-f', 'ogg']);
      expect(a.slice(ogg + 1).join(' ')).toBe(
        '-map 0:a -ac 1 -ar 8000 -c:a pcm_s16le -f s16le -flush_packets 1 pipe:3',
      );
      expect(a.slice(0, ogg).join(' ')).toContain('-ac 2 -ar 48000 -c:a libopus');
      expect(a.filter((x) => x === '-i')).toHaveLength(1);
    }
  });
});

describe('audio capture level', () => {
  it('asks the runner for fd 3 and stamps each audio frame with the latest level', async () => {
    const runner = new FakeProcessRunner();
    const { cap, clock, frames } = setup(runner);
    cap.start();
    await flush();
    expect(runner.calls[0]!.options).toEqual({ extraOutput: true });
    const child = runner.children[0]!;
    const send = opusOut(child);
    send(); // before any reading
    await flush();
    child.extraOutput!.write(meterWindow(32767)); // 0 dBFS
    await flush();
    send();
    await flush();
    clock.advance(20);
    child.extraOutput!.write(meterWindow(1036)); // −30 dBFS
    await flush();
    send();
    await flush();
    expect(frames.map((f) => f.audioLevel)).toEqual([undefined, 0, 30]);
    expect(frames.every((f) => f.kind === 'audio')).toBe(true);
    expect(cap.levelStats()).toEqual({ readings: 2, staleFrames: 1, streamErrors: 0 });
    await cap.stop();
  });

  it('carries no level once the meter stream stops for over 200 ms (so nothing is skipped as silent), and its level again when it resumes', async () => {
    const runner = new FakeProcessRunner();
    const { cap, clock, frames } = setup(runner);
    cap.start();
    await flush();
    const child = runner.children[0]!;
    const send = opusOut(child);
    child.extraOutput!.write(meterWindow(3277)); // −20 dBFS
    await flush();
    clock.advance(200);
    send();
    await flush();
    clock.advance(1);
    send();
    send();
    await flush();
    child.extraOutput!.write(meterWindow(3277));
    await flush();
    send();
    await flush();
    expect(frames.map((f) => f.audioLevel)).toEqual([20, undefined, undefined, 20]);
    expect(cap.levelStats()?.staleFrames).toBe(2);
    expect(cap.status().state).toBe('running');
    await cap.stop();
  });

  it('goes on without a level when the meter stream errs, ends, or is missing', async () => {
    const runner = new FakeProcessRunner();
    const { cap, frames } = setup(runner);
    cap.start();
    await flush();
    const child = runner.children[0]!;
    const send = opusOut(child);
    child.extraOutput!.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    await flush();
    send();
    send();
    await flush();
    expect(frames.map((f) => f.audioLevel)).toEqual([undefined, undefined]);
    expect(cap.levelStats()).toMatchObject({ staleFrames: 2, streamErrors: 1 });
    await cap.stop();

    // A runner that cannot open fd 3 at all: frames flow, without a level.
    const plain = new FakeProcessRunner();
    const noPipe: ProcessRunner = {
      run: (c, a, o) => plain.run(c, a, o),
      spawn: (c, a) => plain.spawn(c, a),
    };
    const s = setup(noPipe);
    s.cap.start();
    await flush();
    expect(plain.children[0]!.extraOutput).toBeUndefined();
    const sendPlain = opusOut(plain.children[0]!);
    sendPlain();
    await flush();
    expect(s.frames.map((f) => f.audioLevel)).toEqual([undefined]);
    await s.cap.stop();
  });

  it('ignores the meter stream of an encoder that was replaced', async () => {
    // Meter pipes that outlive their child, as a real pipe's buffered bytes can.
    const fake = new FakeProcessRunner();
    const meters: PassThrough[] = [];
    const runner: ProcessRunner = {
      run: (c, a, o) => fake.run(c, a, o),
      spawn: (c, a, o) => {
        const child = fake.spawn(c, a, o);
        const extraOutput = new PassThrough();
        meters.push(extraOutput);
        return { ...child, extraOutput, exited: child.exited, kill: (sig) => child.kill(sig) };
      },
    };
    const { cap, clock, frames } = setup(runner);
    cap.start();
    await flush();
    opusOut(fake.children[0]!)();
    await flush();
    fake.children[0]!.exit(1);
    await flush();
    clock.advance(10);
    await flush();
    expect(fake.calls[1]!.options).toEqual({ extraOutput: true });
    const send = opusOut(fake.children[1]!);
    meters[0]!.write(meterWindow(32767)); // the old encoder's: not this one's level
    await flush();
    send();
    await flush();
    meters[1]!.write(meterWindow(10362)); // −10 dBFS
    await flush();
    send();
    await flush();
    expect(frames.map((f) => f.audioLevel)).toEqual([undefined, undefined, 10]);
    expect(cap.levelStats()).toMatchObject({ readings: 1, streamErrors: 0 });
    expect(meters[0]!.readableLength).toBe(0); // still drained, so that encoder never blocks on it
    await cap.stop();
  });

  it('leaves video frames without a level', async () => {
    const runner = new FakeProcessRunner();
    const cap: MediaCapture = createVideoCapture(
      { type: 'test' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300 },
      { runner, clock: new FakeClock(), logger: silentLogger() },
    );
    cap.start();
    await flush();
    expect(runner.calls[0]!.options).toBeUndefined();
    expect(runner.children[0]!.extraOutput).toBeUndefined();
    expect(cap.levelStats()).toBeNull();
    await cap.stop();
  });
});
