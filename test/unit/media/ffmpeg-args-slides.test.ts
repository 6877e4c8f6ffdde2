/** The slide-deck test source for content sharing (src/media/ffmpeg-args.ts `slides`). */
import { describe, expect, it } from 'vitest';
import {
  frameStampFilters,
  SLIDE_COUNT,
  SLIDE_LINES,
  SLIDE_SECONDS,
  slidesLayout,
  videoCaptureArgs,
} from '../../../src/media/ffmpeg-args.ts';
import { stampBandHeight } from '../../../src/media/frame-stamp.ts';

const encode = { codec: 'vp8' as const, width: 1920, height: 1080, framerate: 5, bitrateKbps: 800 };

function graphOf(args: string[]): string {
  const i = args.indexOf('lavfi');
  expect(i).toBeGreaterThan(0);
  expect(args.slice(i - 2, i + 1)).toEqual(['-re', '-f', 'lavfi']);
  expect(args[i + 1]).toBe('-i');
  return args[i + 2]!;
}

describe('slidesLayout', () => {
  it('keeps small text at 1080p, the page below the stamp band and the counter in the frame', () => {
    const l = slidesLayout(1920, 1080);
    expect(l.bodySize).toBeGreaterThanOrEqual(18);
    expect(l.bodySize).toBeLessThanOrEqual(22);
    expect(l.title.y).toBeGreaterThan(stampBandHeight(1080));
    expect(l.body.y).toBeGreaterThan(l.title.y + l.titleSize);
    expect(l.body.h).toBe((SLIDE_LINES - 1) * l.linePitch + l.bodySize);
    expect(l.counter.x + l.counter.w).toBeLessThanOrEqual(1920);
    expect(l.counter.y + l.counter.h).toBeLessThanOrEqual(1080);
    expect(l.counter.y).toBeGreaterThan(l.body.y + l.body.h);
  });

  it('scales down and never below readable minimums', () => {
    const l = slidesLayout(160, 90);
    expect(l.bodySize).toBe(10);
    expect(l.cursor.w).toBeGreaterThanOrEqual(4);
    expect(l.counter.w).toBeGreaterThanOrEqual(40);
  });
});

describe('videoCaptureArgs: the slides source', () => {
  it('with a font: a white page, a title and body text per slide, a frame counter, cursor and stamp', () => {
    const args = videoCaptureArgs(
      { type: 'slides', label: "Q3 review: it's <ok>", fontFile: '/fonts/Deja Vu.ttf' },
      encode,
    );
    const g = graphOf(args);
    expect(g.startsWith('color=c=white:size=1920x1080:rate=5,')).toBe(true);
    // One title, one body and one footer per slide, each on only while its slide is shown.
    for (let k = 0; k < SLIDE_COUNT; k++) {
      const on = `enable='eq(mod(floor(t/${SLIDE_SECONDS}),${SLIDE_COUNT}),${k})'`;
      expect(g.split(on).length - 1).toBe(3);
      expect(g).toContain(`Slide ${k + 1} of ${SLIDE_COUNT}`);
    }
    // The label keeps only safe characters; the font path is quoted with its ':' and quotes escaped.
    expect(g).toContain("text='Q3 review its ok - Agenda'");
    expect(g).toContain("fontfile='/fonts/Deja Vu.ttf'");
    const l = slidesLayout(1920, 1080);
    expect(g).toContain(`fontsize=${l.bodySize}`);
    expect(g).toContain("text='#%{frame_num}'");
    expect(g).toContain(`drawbox=x=${l.counter.x}:y=${l.counter.y}:w=${l.counter.w}:h=${l.counter.h}:`);
    // Six lines of body text in one drawtext, a new line between them.
    const body = /text='([^']*\n[^']*)'/.exec(g);
    expect(body?.[1]?.split('\n')).toHaveLength(SLIDE_LINES);
    // The cursor moves with time; the stamp holds the frame's number and is drawn last.
    expect(g).toMatch(/\[page\]\[cursor\]overlay=x='[^']*sin\(t\*[^']*':y='[^']*sin\(t/);
    expect(g.endsWith(frameStampFilters(1920, 1080, 5, 'frame-index'))).toBe(true);
    expect(g).not.toContain('RTCTIME');
    // Encoded like every other synthetic source: no scaling of a lavfi input, libvpx to stdout.
    expect(args).toContain('libvpx');
    expect(args).not.toContain('-vf');
    expect(args.at(-1)).toBe('pipe:1');
  });

  it('without a font: boxes only, no drawtext, and the stamp is the frame counter', () => {
    const g = graphOf(videoCaptureArgs({ type: 'slides', fontFile: null }, encode));
    expect(g).not.toContain('drawtext');
    for (let k = 0; k < SLIDE_COUNT; k++) {
      const on = `enable='eq(mod(floor(t/${SLIDE_SECONDS}),${SLIDE_COUNT}),${k})'`;
      // A title bar, a box per line, and k+1 squares for "slide k+1".
      expect(g.split(on).length - 1).toBe(1 + SLIDE_LINES + k + 1);
    }
    expect(g.endsWith(frameStampFilters(1920, 1080, 5, 'frame-index'))).toBe(true);
  });

  it('leaves the stamp out of a frame too narrow to read it, as the test source does', () => {
    const g = graphOf(
      videoCaptureArgs({ type: 'slides', fontFile: null }, { ...encode, width: 64, height: 36 }),
    );
    expect(g).toContain('overlay=');
    expect(g).not.toContain(frameStampFilters(64, 36, 5, 'frame-index'));
  });

  it('encodes H.264 as well', () => {
    const args = videoCaptureArgs({ type: 'slides', fontFile: null }, { ...encode, codec: 'h264' });
    expect(args).toContain('libx264');
    expect(graphOf(args)).toContain('color=c=white');
  });
});
