/**
 * The slide-deck content source through real ffmpeg (src/media/ffmpeg-args.ts `slides`): encoded
 * as content is (VP8, 5 fps, 1280x720), decoded by ffmpeg to raw RGB, every frame carries its number
 * in the frame stamp, and the body text is dark on a white page.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { slidesLayout, type Rect, videoCaptureArgs } from '../../../src/media/ffmpeg-args.ts';
import { readFrameStamp, stampBandHeight } from '../../../src/media/frame-stamp.ts';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

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

/** Share of the pixels in `r` of an RGB frame that are dark (luma below 96) and light (above 200). */
function inks(rgb: Buffer, width: number, r: Rect): { dark: number; light: number } {
  let dark = 0;
  let light = 0;
  for (let y = r.y; y < r.y + r.h; y++)
    for (let x = r.x; x < r.x + r.w; x++) {
      const at = (y * width + x) * 3;
      const luma = 0.299 * rgb[at]! + 0.587 * rgb[at + 1]! + 0.114 * rgb[at + 2]!;
      if (luma < 96) dark++;
      else if (luma > 200) light++;
    }
  return { dark: dark / (r.w * r.h), light: light / (r.w * r.h) };
}

async function slides(fontFile: string | null, width: number, height: number, frames: number) {
  const args = videoCaptureArgs(
    { type: 'slides', label: 'Review', fontFile },
    { codec: 'vp8', width, height, framerate: 5, bitrateKbps: 800 },
  );
  args.splice(args.lastIndexOf('pipe:1'), 0, '-frames:v', String(frames));
  const ivf = await ffmpeg(args);
  const rgb = await ffmpeg(
    [
      ...['-hide_banner', '-loglevel', 'error', '-f', 'ivf', '-i', 'pipe:0'],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    ],
    ivf,
  );
  const size = width * height * 3;
  expect(rgb.length).toBe(frames * size);
  return Array.from({ length: frames }, (_, k) => rgb.subarray(k * size, (k + 1) * size));
}

/** The stamp of an RGB frame (the reader takes RGBA of the band). */
function stampOf(rgb: Buffer, width: number, height: number): number | null {
  const band = stampBandHeight(height);
  const rgba = Buffer.alloc(width * band * 4);
  for (let i = 0; i < width * band; i++) {
    rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
    rgba[i * 4 + 3] = 255;
  }
  return readFrameStamp({ data: rgba, width, height: band }, height);
}

describe('the slides source through ffmpeg and VP8', () => {
  it.each([
    ['with a font', existsSync(FONT) ? FONT : null, 1280, 720],
    ['without a font', null, 640, 360],
  ])(
    '%s: frames come in order with their numbers stamped, dark text on a white page',
    async (_, font, width, height) => {
      const frames = await slides(font, width, height, 6);
      expect(frames.map((f) => stampOf(f, width, height))).toEqual([0, 1, 2, 3, 4, 5]);
      const l = slidesLayout(width, height);
      const text = inks(frames[3]!, width, l.body);
      expect(text.dark).toBeGreaterThan(0.02);
      expect(text.light).toBeGreaterThan(0.5);
      // The page below the body is white but for the moving cursor (it stays over the body).
      const below = {
        x: l.margin,
        y: l.body.y + l.body.h + 4,
        w: l.body.w,
        h: l.footer.y - l.body.y - l.body.h - 8,
      };
      expect(inks(frames[3]!, width, below).light).toBeGreaterThan(0.98);
      // The counter's corner is drawn: a dark box with a font; without one, the page stays white there.
      const counter = inks(frames[3]!, width, l.counter);
      if (font === null) expect(counter.light).toBeGreaterThan(0.98);
      else expect(counter.dark).toBeGreaterThan(0.3);
    },
  );
});
