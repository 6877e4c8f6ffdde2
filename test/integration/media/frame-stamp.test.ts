/**
 * The frame stamp through real ffmpeg (docs/benchmarks.md §glass-to-glass): the synthetic camera's
 * own command line (src/media/ffmpeg-args.ts) draws it, VP8 carries it, ffmpeg decodes it, and the
 * reader (src/media/frame-stamp.ts) gets the wall-clock time each frame was made back out.
 */
import { spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { videoCaptureArgs } from '../../../src/media/ffmpeg-args.ts';
import { readFrameStamp, stampBandHeight, unwrapStamp } from '../../../src/media/frame-stamp.ts';

/** The stamps of every frame of an IVF stream, decoded by ffmpeg (null for an unreadable one). */
async function stampsOf(ivf: Buffer, width: number, height: number): Promise<(number | null)[]> {
  const band = stampBandHeight(height);
  const rgba = await ffmpeg(
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'ivf', '-i', 'pipe:0'],
      ...['-vf', `crop=${width}:${band}:0:0`, '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
    ],
    ivf,
  );
  const size = width * band * 4;
  const out: (number | null)[] = [];
  for (let at = 0; at + size <= rgba.length; at += size)
    out.push(readFrameStamp({ data: rgba.subarray(at, at + size), width, height: band }, height));
  return out;
}

/** Run ffmpeg with `args`, feed it `input`, and resolve with all it wrote on stdout. */
function ffmpeg(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${err}`)),
    );
    child.stdin.end(input);
  });
}

describe('frame stamp through ffmpeg and VP8', () => {
  it('every decoded frame reads back the time it was made, one frame interval apart', async () => {
    const width = 320;
    const height = 180;
    const args = videoCaptureArgs(
      { type: 'test', fontFile: null },
      { codec: 'vp8', width, height, framerate: 15, bitrateKbps: 250 },
    );
    args.splice(args.lastIndexOf('pipe:1'), 0, '-frames:v', '20');
    const before = Date.now();
    const ivf = await ffmpeg(args);
    const after = Date.now();

    const band = stampBandHeight(height);
    const rgba = await ffmpeg(
      [
        ...['-hide_banner', '-loglevel', 'error', '-f', 'ivf', '-i', 'pipe:0'],
        ...['-vf', `crop=${width}:${band}:0:0`, '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
      ],
      ivf,
    );
    const size = width * band * 4;
    expect(rgba.length).toBe(20 * size);
    const made: number[] = [];
    for (let at = 0; at < rgba.length; at += size) {
      const low = readFrameStamp({ data: rgba.subarray(at, at + size), width, height: band }, height);
      expect(low).not.toBeNull();
      made.push(unwrapStamp(low!, after));
    }
    // Made while ffmpeg ran (its own clock is this machine's), in order, 1/15 s apart on average (-re;
    // later on a machine too busy to encode in real time, never sooner).
    expect(made[0]!).toBeGreaterThanOrEqual(before);
    expect(made.at(-1)!).toBeLessThanOrEqual(after);
    for (let i = 1; i < made.length; i++) expect(made[i]!).toBeGreaterThan(made[i - 1]!);
    const step = (made.at(-1)! - made[0]!) / (made.length - 1);
    expect(step).toBeGreaterThan(1000 / 15 - 20);
    expect(step).toBeLessThan((2 * 1000) / 15);
  });

  it('a clip stamped with frame numbers, encoded once, replays looped and copied with its numbers', async () => {
    const width = 320;
    const height = 180;
    const settings = { codec: 'vp8' as const, width, height, framerate: 30, bitrateKbps: 250 };
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-stamp-'));
    try {
      const clip = path.join(dir, 'clip.ivf');
      const encode = videoCaptureArgs({ type: 'test', fontFile: null, frameStamp: 'frame-index' }, settings);
      encode.splice(encode.indexOf('-re'), 1); // as fast as it goes: the clip is made before it is used
      encode.splice(encode.lastIndexOf('pipe:1'), 1, '-frames:v', '10', '-y', clip);
      await ffmpeg(encode);
      expect(await stampsOf(await fsp.readFile(clip), width, height)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

      const replay = videoCaptureArgs({ type: 'file', path: clip, loop: true }, settings);
      replay.splice(replay.lastIndexOf('pipe:1'), 0, '-frames:v', '25');
      const before = Date.now();
      const ivf = await ffmpeg(replay);
      const took = Date.now() - before;
      expect(await stampsOf(ivf, width, height)).toEqual(Array.from({ length: 25 }, (_, k) => k % 10));
      // Paced at the clip's 30 fps (-re): 24 frame intervals at least, not a burst.
      expect(took).toBeGreaterThanOrEqual((24 * 1000) / 30 - 20);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
