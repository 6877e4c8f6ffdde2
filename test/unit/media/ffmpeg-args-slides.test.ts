/** The slide-deck test source for content sharing (src/media/ffmpeg-args.ts `slides`). */
import { describe, expect, it } from 'vitest';
import {
  frameStampFilters,
  SLIDE_COUNT,
  SLIDE_LINES,
  SCROLL_LINES,
  SCROLL_LINES_PER_SECOND,
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

/** A 1080p slides graph without the frame stamp drawn at its end. */
function withoutStamp(g: string): string {
  const stamp = `,${frameStampFilters(1920, 1080, 5, 'frame-index')}`;
  expect(g.endsWith(stamp)).toBe(true);
  return g.slice(0, -stamp.length);
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

  it("motion 'static': the first slide always on, no cursor, the counter and the stamp kept", () => {
    for (const fontFile of ['/fonts/f.ttf', null]) {
      const g = graphOf(videoCaptureArgs({ type: 'slides', fontFile, motion: 'static' }, encode));
      // Nothing before the stamp switches on or off with time.
      expect(withoutStamp(g)).not.toContain('enable=');
      expect(g).not.toContain('overlay');
      expect(g).not.toContain('sin(t');
      expect(g).not.toMatch(/\[page\]|\[cursor\]/);
      expect(g.startsWith('color=c=white:size=1920x1080:rate=5,')).toBe(true);
      expect(g.endsWith(frameStampFilters(1920, 1080, 5, 'frame-index'))).toBe(true);
      if (fontFile !== null) {
        expect(g).toContain('Agenda');
        expect(g).toContain('Slide 1 of');
        expect(g).not.toContain('Slide 2 of');
        expect(g).toContain("text='#%{frame_num}'");
      } else {
        // The first slide's boxes only: a title bar, the lines, one square.
        expect(withoutStamp(g).split('drawbox=').length - 1).toBe(1 + SLIDE_LINES + 1);
      }
    }
  });

  it("motion 'scroll': a long page moving up steadily, wrapping without a gap, no slides or cursor", () => {
    const l = slidesLayout(1920, 1080);
    const block = SCROLL_LINES * l.linePitch;
    // Taller than the frame, so no frame shows the page's end and start at once but for the wrap.
    expect(block).toBeGreaterThan(1080);
    const speed = SCROLL_LINES_PER_SECOND * l.linePitch;
    const g = graphOf(
      videoCaptureArgs({ type: 'slides', fontFile: '/fonts/f.ttf', motion: 'scroll' }, encode),
    );
    expect(withoutStamp(g)).not.toContain('enable=');
    expect(g).not.toContain('overlay');
    expect(g).not.toContain('Slide 1 of');
    const top = stampBandHeight(1080) + Math.round(l.margin / 2);
    // Two copies of the page, one a page's height under the other, both moving at the same speed.
    expect(g).toContain(`y='${top}-mod(t*${speed},${block})'`);
    expect(g).toContain(`y='${top + block}-mod(t*${speed},${block})'`);
    const page = /text='([^']*\n[^']*)'/.exec(g);
    const lines = page?.[1]?.split('\n') ?? [];
    expect(lines).toHaveLength(SCROLL_LINES);
    expect(new Set(lines).size).toBe(SCROLL_LINES);
    expect(g.endsWith(frameStampFilters(1920, 1080, 5, 'frame-index'))).toBe(true);

    const boxes = graphOf(videoCaptureArgs({ type: 'slides', fontFile: null, motion: 'scroll' }, encode));
    expect(boxes).not.toContain('drawtext');
    // A box per line in each copy, each moving with the page.
    expect(boxes.split(`-mod(t*${speed},${block})+`).length - 1).toBe(2 * SCROLL_LINES);
  });

  it("motion 'deck' is the default", () => {
    const src = { type: 'slides', fontFile: null } as const;
    expect(videoCaptureArgs({ ...src, motion: 'deck' }, encode)).toEqual(videoCaptureArgs(src, encode));
  });
});
