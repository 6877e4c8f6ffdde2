// Pictures are painted at their own size up to 4K UHD; bigger ones (a hostile sender's 16383×16383
// VP8 keyframe) are scaled down to that many pixels, keeping their shape (src/media/paint-size.ts).
import { describe, expect, it } from 'vitest';
import { MAX_PAINT_PIXELS, paintSize } from '../../../src/media/paint-size.ts';

describe('paintSize', () => {
  it('keeps ordinary pictures as they are', () => {
    expect(paintSize(1280, 720)).toEqual({ width: 1280, height: 720 });
    expect(paintSize(3840, 2160)).toEqual({ width: 3840, height: 2160 });
    expect(paintSize(0, 0)).toEqual({ width: 1, height: 1 });
  });

  it('scales huge ones down to at most 4K UHD of pixels, same shape', () => {
    for (const [w, h] of [
      [16383, 16383],
      [16383, 2],
      [7680, 4320],
    ] as const) {
      const s = paintSize(w, h);
      expect(s.width * s.height).toBeLessThanOrEqual(MAX_PAINT_PIXELS);
      expect(Math.abs(s.width / s.height - w / h) / (w / h)).toBeLessThan(0.01);
    }
  });
});
