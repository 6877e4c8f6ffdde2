/** The frame stamp (docs/benchmarks.md §glass-to-glass): its reader on synthesized RGBA frames, and the ffmpeg filter chain that draws it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameStampFilters, videoCaptureArgs } from '../../../src/media/ffmpeg-args.ts';
import {
  checkBits,
  fromGray,
  grayCode,
  type RgbaImage,
  readFrameStamp,
  replayedFrameTime,
  replayStart,
  STAMP_CELLS,
  stampBandHeight,
  stampCells,
  stampCellX,
  unwrapStamp,
} from '../../../src/media/frame-stamp.ts';

const NOW = 1_795_721_515_040; // a wall-clock time in ms, past 2^32 many times over
const LOW = NOW % 2 ** 32;

/** A deterministic pseudo-random source, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** A busy picture (colour gradients and stripes) with the stamp of `ms` painted like ffmpeg does. */
function frame(width: number, height: number, ms: number | null, white = 235, black = 16): Uint8ClampedArray {
  const d = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      d[p] = (x * 7) & 255;
      d[p + 1] = (y * 5 + (x >> 3)) & 255;
      d[p + 2] = ((x ^ y) * 3) & 255;
      d[p + 3] = 255;
    }
  if (ms === null) return d;
  const band = stampBandHeight(height);
  stampCells(ms).forEach((on, i) => {
    const v = on ? white : black;
    for (let y = 0; y < band; y++)
      for (let x = stampCellX(i, width); x < stampCellX(i + 1, width); x++) {
        const p = (y * width + x) * 4;
        d[p] = v;
        d[p + 1] = v;
        d[p + 2] = v;
      }
  });
  return d;
}

const image = (data: Uint8ClampedArray, width: number, height: number): RgbaImage => ({
  data,
  width,
  height,
});

function addNoise(d: Uint8ClampedArray, amplitude: number, seed: number): void {
  const r = rng(seed);
  for (let i = 0; i < d.length; i++) if (i % 4 !== 3) d[i] = d[i]! + Math.round((r() * 2 - 1) * amplitude);
}

/** A separable box blur of `radius` pixels: cell edges become ramps, as after a scaler and a codec. */
function blur(d: Uint8ClampedArray, width: number, height: number, radius: number): Uint8ClampedArray {
  const pass = (src: Uint8ClampedArray, dx: number, dy: number) => {
    const out = new Uint8ClampedArray(src.length);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++)
        for (let c = 0; c < 4; c++) {
          let sum = 0;
          let n = 0;
          for (let k = -radius; k <= radius; k++) {
            const xx = x + k * dx;
            const yy = y + k * dy;
            if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
            sum += src[(yy * width + xx) * 4 + c]!;
            n++;
          }
          out[(y * width + x) * 4 + c] = sum / n;
        }
    return out;
  };
  return pass(pass(d, 1, 0), 0, 1);
}

/** Bilinear rescale, as a canvas drawing the picture at another size does. */
function rescale(d: Uint8ClampedArray, w: number, h: number, w2: number, h2: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(w2 * h2 * 4);
  for (let y = 0; y < h2; y++)
    for (let x = 0; x < w2; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / w2 - 0.5));
      const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / h2 - 0.5));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 4; c++) {
        const at = (xx: number, yy: number) => d[(yy * w + xx) * 4 + c]!;
        const top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
        const bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
        out[(y * w2 + x) * 4 + c] = top * (1 - fy) + bottom * fy;
      }
    }
  return out;
}

describe('frame stamp: Gray code and check bits', () => {
  it('Gray code round-trips and consecutive times differ in exactly one bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 2 }), (v) => {
        expect(fromGray(grayCode(v))).toBe(v);
        const diff = (grayCode(v) ^ grayCode(v + 1)) >>> 0;
        expect(diff & (diff - 1)).toBe(0);
        expect(diff).not.toBe(0);
      }),
    );
    expect(grayCode(2 ** 32 - 1)).toBe(2 ** 31); // and the next time wraps to 0: one bit again
    expect(grayCode(2 ** 32)).toBe(0);
    expect(grayCode(NOW)).toBe(grayCode(LOW));
  });

  it('a picture of two consecutive stamps differs in one data cell and its check cell only', () => {
    const a = stampCells(NOW);
    const b = stampCells(NOW + 1);
    const differing = a.flatMap((on, i) => (on === b[i] ? [] : [i]));
    expect(differing).toHaveLength(2);
    expect(differing[0]).toBeLessThan(34);
    expect(differing[1]).toBeGreaterThanOrEqual(34);
    expect(a[0]).toBe(true);
    expect(a[1]).toBe(false);
    expect(a).toHaveLength(STAMP_CELLS);
  });

  it('any single flipped Gray bit changes the check bits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 31 }), (g, k) => {
        expect(checkBits((g ^ (1 << k)) >>> 0)).not.toBe(checkBits(g));
      }),
    );
  });
});

describe('frame stamp: reader', () => {
  it.each([
    [1280, 720],
    [640, 360],
    [1920, 1080],
    [320, 180],
    [333, 187],
  ])('reads the stamp of a %ix%i frame', (w, h) => {
    for (const ms of [NOW, NOW + 1, NOW + 12_345, 0, 2 ** 32 - 1]) {
      expect(readFrameStamp(image(frame(w, h, ms), w, h))).toBe(ms % 2 ** 32);
    }
  });

  it('reads it from the band rows alone, given the frame height', () => {
    const d = frame(1280, 720, NOW);
    const band = stampBandHeight(720);
    expect(band).toBe(32);
    const rows = d.subarray(0, 1280 * band * 4);
    expect(readFrameStamp(image(rows, 1280, band), 720)).toBe(LOW);
    // Fewer rows than the band: nothing to read.
    expect(readFrameStamp(image(d.subarray(0, 1280 * 10 * 4), 1280, 10), 720)).toBeNull();
  });

  it('reads through noise, dim references and blurred cell edges', () => {
    const noisy = frame(1280, 720, NOW + 7);
    addNoise(noisy, 60, 1);
    expect(readFrameStamp(image(noisy, 1280, 720))).toBe((NOW + 7) % 2 ** 32);
    const dim = frame(1280, 720, NOW, 150, 60);
    addNoise(dim, 20, 2);
    expect(readFrameStamp(image(dim, 1280, 720))).toBe(LOW);
    const soft = blur(frame(640, 360, NOW + 3), 640, 360, 4);
    expect(readFrameStamp(image(soft, 640, 360))).toBe((NOW + 3) % 2 ** 32);
  });

  it('reads it after the picture is scaled to another size (the kiosk canvas)', () => {
    const d = frame(1280, 720, NOW + 99);
    for (const [w, h] of [
      [960, 540],
      [427, 240],
      [1600, 900],
    ] as const) {
      expect(readFrameStamp(image(rescale(d, 1280, 720, w, h), w, h))).toBe((NOW + 99) % 2 ** 32);
    }
  });

  it('garbage, flat pictures, pictures without a stamp and damaged stamps read as null', () => {
    const r = rng(7);
    for (let i = 0; i < 50; i++) {
      const g = new Uint8ClampedArray(320 * 180 * 4);
      for (let j = 0; j < g.length; j++) g[j] = Math.floor(r() * 256);
      expect(readFrameStamp(image(g, 320, 180))).toBeNull();
    }
    // Random black and white cells: the check bits refuse nearly all of them.
    let accepted = 0;
    for (let i = 0; i < 500; i++) {
      const d = frame(320, 180, null);
      const band = stampBandHeight(180);
      for (let c = 0; c < STAMP_CELLS; c++) {
        const v = c === 0 ? 255 : c === 1 ? 0 : r() < 0.5 ? 0 : 255;
        for (let y = 0; y < band; y++)
          for (let x = stampCellX(c, 320); x < stampCellX(c + 1, 320); x++)
            d.fill(v, (y * 320 + x) * 4, (y * 320 + x) * 4 + 3);
      }
      if (readFrameStamp(image(d, 320, 180)) !== null) accepted++;
    }
    expect(accepted).toBeLessThan(30); // 1 in 64 expected
    expect(readFrameStamp(image(frame(640, 360, null), 640, 360))).toBeNull();
    expect(readFrameStamp(image(new Uint8ClampedArray(640 * 360 * 4).fill(128), 640, 360))).toBeNull();
    expect(readFrameStamp(image(new Uint8ClampedArray(640 * 360 * 4).fill(255), 640, 360))).toBeNull();

    // One data cell flipped: the check bits no longer match.
    const flipped = frame(1280, 720, NOW);
    const x = stampCellX(20, 1280) + 16;
    const was = flipped[(16 * 1280 + x) * 4]!;
    for (let y = 0; y < 32; y++)
      for (let xx = stampCellX(20, 1280); xx < stampCellX(21, 1280); xx++)
        flipped.fill(was > 128 ? 16 : 235, (y * 1280 + xx) * 4, (y * 1280 + xx) * 4 + 3);
    expect(readFrameStamp(image(flipped, 1280, 720))).toBeNull();

    // A cell halfway between black and white is not guessed at.
    const murky = frame(1280, 720, NOW);
    for (let y = 0; y < 32; y++)
      for (let xx = stampCellX(10, 1280); xx < stampCellX(11, 1280); xx++)
        murky.fill(125, (y * 1280 + xx) * 4, (y * 1280 + xx) * 4 + 3);
    expect(readFrameStamp(image(murky, 1280, 720))).toBeNull();
  });

  it('bad geometry reads as null, never throws', () => {
    const d = frame(1280, 720, NOW);
    expect(readFrameStamp(image(d, 1280, 720))).toBe(LOW);
    expect(readFrameStamp(image(d.subarray(0, 1000), 1280, 720))).toBeNull();
    expect(readFrameStamp(image(d, 40, 720))).toBeNull();
    expect(readFrameStamp(image(d, Number.NaN, 720))).toBeNull();
    expect(readFrameStamp(image(d, 1280, 0))).toBeNull();
    expect(readFrameStamp(image(d, 1280, 720), Number.NaN)).toBeNull();
    expect(readFrameStamp(image(new Uint8ClampedArray(0), 0, 0))).toBeNull();
  });

  it('unwraps the low 32 bits to the time nearest the reader clock', () => {
    expect(unwrapStamp(LOW, NOW + 80)).toBe(NOW);
    expect(unwrapStamp((NOW + 5) % 2 ** 32, NOW)).toBe(NOW + 5);
    // Across a wrap of the low 32 bits.
    const atWrap = Math.ceil(NOW / 2 ** 32) * 2 ** 32;
    expect(unwrapStamp((atWrap - 30) % 2 ** 32, atWrap + 40)).toBe(atWrap - 30);
    expect(unwrapStamp((atWrap + 30) % 2 ** 32, atWrap - 40)).toBe(atWrap + 30);
  });
});

/**
 * Evaluate one of ffmpeg's `enable=` expressions (floor, mod, + / * and the one variable `v`, t or n)
 * at `value`.
 */
function evalEnable(expr: string, value: number, v: 't' | 'n' = 't'): number {
  expect(expr).toMatch(/^[0-9tn+*/(),. a-z]+$/);
  expect(expr.replace(/floor|mod/g, '').replace(new RegExp(v, 'g'), '')).toMatch(/^[0-9+*/(),. ]+$/);
  const floor = Math.floor;
  const mod = (a: number, b: number) => a - b * Math.floor(a / b);
  return new Function(v, 'floor', 'mod', `return ${expr};`)(value, floor, mod) as number;
}

/** The drawbox filters of a stamp chain, parsed. */
function stampBoxes(filters: string[]) {
  return filters.map((f) => {
    const m = /^drawbox=x=(\d+):y=0:w=(\d+):h=(\d+):color=(white|black):t=fill(?::enable='(.*)')?$/.exec(f);
    expect(m, f).not.toBeNull();
    return { x: Number(m![1]), w: Number(m![2]), h: Number(m![3]), white: m![4] === 'white', enable: m![5] };
  });
}

describe('frame stamp: the ffmpeg filter chain', () => {
  const settings = { codec: 'vp8' as const, width: 1280, height: 720, framerate: 30, bitrateKbps: 2500 };

  it('is drawn on the test source after the clock overlay, and only there', () => {
    const font = { type: 'test' as const, fontFile: '/f.ttf', label: 'Room' };
    const graph = videoCaptureArgs(font, settings).join(' ');
    expect(graph).toMatch(
      /testsrc2=size=1280x720:rate=30,drawtext=.*,settb=1\/1000,setpts=RTCTIME\/1000,drawbox=/,
    );
    expect(graph).toContain(`,${frameStampFilters(1280, 720, 30)} `);
    expect(graph).toContain('settb=1/30,setpts=N -fflags nobuffer');
    expect(videoCaptureArgs({ type: 'test' }, settings).join(' ')).toContain(
      `testsrc2=size=1280x720:rate=30,${frameStampFilters(1280, 720, 30)} `,
    );
    expect(videoCaptureArgs({ ...font, frameStamp: false }, settings).join(' ')).not.toContain('drawbox');
    expect(videoCaptureArgs({ type: 'v4l2', device: '/dev/video0' }, settings).join(' ')).not.toContain(
      'drawbox',
    );
    // Too narrow for two pixels a cell: no stamp rather than an unreadable one.
    const tiny = { ...settings, width: 64, height: 36 };
    expect(videoCaptureArgs({ type: 'test' }, tiny).join(' ')).not.toContain('drawbox');
    expect(videoCaptureArgs({ type: 'test' }, { ...tiny, width: 80 }).join(' ')).toContain('drawbox');
  });

  it('draws the cells the reader expects, for the time in the frame timestamp', () => {
    for (const [w, h] of [
      [1280, 720],
      [320, 180],
    ] as const) {
      const filters = frameStampFilters(w, h, 12).split(/,(?=[a-z]+=)/);
      expect(filters.slice(0, 2)).toEqual(['settb=1/1000', 'setpts=RTCTIME/1000']);
      expect(filters.slice(-2)).toEqual(['settb=1/12', 'setpts=N']);
      const boxes = filters.slice(2, -2).map((f) => {
        const m = /^drawbox=x=(\d+):y=0:w=(\d+):h=(\d+):color=(white|black):t=fill(?::enable='(.*)')?$/.exec(
          f,
        );
        expect(m, f).not.toBeNull();
        return {
          x: Number(m![1]),
          w: Number(m![2]),
          h: Number(m![3]),
          white: m![4] === 'white',
          enable: m![5],
        };
      });
      expect(boxes).toHaveLength(STAMP_CELLS); // white reference, black band, 38 bit cells
      for (const b of boxes) expect(b.h).toBe(stampBandHeight(h));
      expect(boxes[0]).toMatchObject({ x: 0, w: stampCellX(1, w), white: true, enable: undefined });
      expect(boxes[1]).toMatchObject({ x: stampCellX(1, w), white: false, enable: undefined });
      expect(boxes[1]!.x + boxes[1]!.w).toBe(w);
      for (const ms of [NOW, NOW + 1, NOW + 777, NOW + 2 ** 31]) {
        // The frame's timestamp in seconds as the timeline sees it, a hair off the exact ms.
        const t = (ms + 0.0003) / 1000;
        const expected = stampCells(ms);
        for (const [i, b] of boxes.slice(2).entries()) {
          expect(b.x).toBe(stampCellX(i + 2, w));
          expect(b.x + b.w).toBe(stampCellX(i + 3, w));
          expect(evalEnable(b.enable!, t) !== 0).toBe(expected[i + 2]);
        }
      }
    }
  });
});

describe('frame stamp: the frame-index mode, for a clip encoded once and replayed', () => {
  const settings = { codec: 'vp8' as const, width: 1280, height: 720, framerate: 30, bitrateKbps: 2500 };

  it('stamps the frame number n with the same cells and leaves the timestamps alone', () => {
    for (const [w, h] of [
      [1280, 720],
      [320, 180],
    ] as const) {
      const chain = frameStampFilters(w, h, 30, 'frame-index');
      expect(chain).not.toMatch(/settb|setpts|RTCTIME/);
      const boxes = stampBoxes(chain.split(/,(?=[a-z]+=)/));
      // The same boxes as the wall-clock stamp's, only the value differs.
      const wall = stampBoxes(
        frameStampFilters(w, h, 30)
          .split(/,(?=[a-z]+=)/)
          .slice(2, -2),
      );
      expect(boxes.map(({ enable, ...b }) => b)).toEqual(wall.map(({ enable, ...b }) => b));
      expect(boxes[0]!.enable).toBeUndefined();
      expect(boxes[1]!.enable).toBeUndefined();
      for (const n of [0, 1, 2, 299, 300, 12_345, 2 ** 31 + 7]) {
        const expected = stampCells(n);
        for (const [i, b] of boxes.slice(2).entries())
          expect(evalEnable(b.enable!, n, 'n') !== 0, `n=${n} cell ${i + 2}`).toBe(expected[i + 2]);
      }
    }
  });

  it('is what the test source draws when asked for it', () => {
    const args = videoCaptureArgs({ type: 'test', frameStamp: 'frame-index' }, settings).join(' ');
    expect(args).toContain(
      `testsrc2=size=1280x720:rate=30,${frameStampFilters(1280, 720, 30, 'frame-index')} `,
    );
    expect(args).not.toContain('RTCTIME');
  });

  it('reads back as the frame number from a picture', () => {
    for (const n of [0, 1, 29, 299, 300]) expect(readFrameStamp(image(frame(320, 180, n), 320, 180))).toBe(n);
  });

  it('turns a stamped index back into the time the replay sent it, across the loop', () => {
    const base = { t0: NOW, frameMs: 1000 / 30, clipFrames: 300 }; // a 10-s clip
    const pass = 300 * base.frameMs;
    // Seen 100 ms after it was sent, in the first pass and in later ones.
    expect(replayedFrameTime(0, base, NOW + 100)).toBe(NOW);
    expect(replayedFrameTime(5, base, NOW + 5 * base.frameMs + 100)).toBeCloseTo(NOW + 5 * base.frameMs, 6);
    expect(replayedFrameTime(5, base, NOW + 3 * pass + 5 * base.frameMs + 100)).toBeCloseTo(
      NOW + 3 * pass + 5 * base.frameMs,
      6,
    );
    // The last frames of one pass, seen after the next pass began (index 0 is then on the way).
    expect(replayedFrameTime(299, base, NOW + pass + 200)).toBeCloseTo(NOW + 299 * base.frameMs, 6);
    expect(replayedFrameTime(0, base, NOW + pass + 200)).toBeCloseTo(NOW + pass, 6);
    // Up to just under a pass old it is still the right pass.
    expect(replayedFrameTime(10, base, NOW + 10 * base.frameMs + pass - 1)).toBeCloseTo(
      NOW + 10 * base.frameMs,
      6,
    );
    // Before its first sending (a clock a hair off): the first pass, a small negative age.
    expect(replayedFrameTime(3, base, NOW + 3 * base.frameMs - 2)).toBeCloseTo(NOW + 3 * base.frameMs, 6);
    for (const bad of [-1, 300, 1.5, Number.NaN]) expect(replayedFrameTime(bad, base, NOW)).toBeNull();
  });

  it('finds the replay start as the least delay over the frames, late frames never moving it earlier', () => {
    const frameMs = 1000 / 30;
    const start = NOW + 0.25;
    const r = rng(7);
    const arrivals = Array.from({ length: 200 }, (_, k) => start + k * frameMs + 2 + 20 * r());
    arrivals[17] = start + 17 * frameMs + 1.5; // the promptest frame
    arrivals[3]! += 500; // one stuck frame
    expect(replayStart(arrivals, frameMs)).toBeCloseTo(start + 1.5, 6);
    expect(replayStart([], frameMs)).toBeNull();
  });
});
