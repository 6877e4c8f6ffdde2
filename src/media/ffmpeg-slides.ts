/**
 * The `slides` content source for ffmpeg (src/media/ffmpeg-args.ts builds the command line around
 * it): a synthetic slide deck drawn by one lavfi filter graph, and where everything on it sits.
 */
import { filterQuote, frameStampFilters } from './ffmpeg-filters.ts';
import { STAMP_CELLS, stampBandHeight } from './frame-stamp.ts';

/**
 * A synthetic shared slide deck, for content sharing without an HDMI capture dongle (the demo's
 * laptop, tests, benchmarks): a white page whose title and lines of small dark text change every
 * `SLIDE_SECONDS` (slide N of `SLIDE_COUNT`), a moving mouse cursor, a frame counter in the
 * bottom-right corner, and the frame stamp holding the frame's number (`frameStampFilters` in
 * 'frame-index' mode). Without a font the text is drawn as dark boxes and the counter is the stamp
 * alone. Where everything sits: `slidesLayout`. `motion` picks what moves (docs/benchmarks.md
 * §share-quality): 'deck' (the default) as above; 'static' the first slide only, no cursor (the
 * counter and the stamp are all that change); 'scroll' a long page of body text, no title, moving
 * up steadily by `SCROLL_LINES_PER_SECOND` lines a second and repeating every `SCROLL_LINES`
 * lines, no cursor.
 */
export interface SlidesSource {
  readonly type: 'slides';
  readonly label?: string;
  readonly fontFile: string | null;
  readonly motion?: 'deck' | 'static' | 'scroll';
}

/** Seconds each slide of the `slides` source is shown. */
export const SLIDE_SECONDS = 4;
/** Slides in the `slides` source's deck; after the last it starts again. */
export const SLIDE_COUNT = 5;
/** Lines of body text on each slide. */
export const SLIDE_LINES = 6;

/** Lines of text in the `slides` source's scrolling page (motion 'scroll') before it repeats. */
export const SCROLL_LINES = 48;
/** How fast the scrolling page moves up, in lines (`linePitch`) a second. */
export const SCROLL_LINES_PER_SECOND = 2.5;

const SLIDE_TITLES = ['Agenda', 'Where we are', 'The numbers', 'Risks', 'Next steps'] as const;

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** Where the `slides` source draws things in a `width`×`height` frame (pixels, integers). */
export interface SlidesLayout {
  /** Left and right page margin. */
  readonly margin: number;
  readonly titleSize: number;
  /** Body text size: 20 px at 1080 lines, 13 at 720, never below 10. */
  readonly bodySize: number;
  /** Distance between the tops of two body lines. */
  readonly linePitch: number;
  readonly title: Rect;
  /** The body text's lines, all of them. */
  readonly body: Rect;
  /** The frame counter's box, bottom right. */
  readonly counter: Rect;
  /** The "Slide N of M" line, bottom left. */
  readonly footer: Rect;
  /** The mouse cursor's size; it moves inside `body`. */
  readonly cursor: { readonly w: number; readonly h: number };
}

export function slidesLayout(width: number, height: number): SlidesLayout {
  const margin = Math.round(width / 24);
  const titleSize = Math.max(14, Math.round(height / 20));
  const bodySize = Math.max(10, Math.round(height / 54));
  const linePitch = Math.round(bodySize * 1.8);
  const top = stampBandHeight(height) + Math.round(height / 12);
  const title = { x: margin, y: top, w: width - 2 * margin, h: titleSize };
  const body = {
    x: margin,
    y: top + 2 * titleSize,
    w: width - 2 * margin,
    h: (SLIDE_LINES - 1) * linePitch + bodySize,
  };
  const counterH = Math.max(12, Math.round(height / 16));
  const counterW = Math.max(40, Math.round(width / 8));
  const counter = {
    x: width - margin - counterW,
    y: height - Math.round(margin / 2) - counterH,
    w: counterW,
    h: counterH,
  };
  const footer = { x: margin, y: counter.y, w: Math.round(width / 3), h: counterH };
  const cursorH = Math.max(6, Math.round(height / 40));
  return {
    margin,
    titleSize,
    bodySize,
    linePitch,
    title,
    body,
    counter,
    footer,
    cursor: { w: Math.max(4, Math.round(cursorH * 0.65)), h: cursorH },
  };
}

/** A line of body text: different on every slide and every line, so a slide change is visible. */
function slideLine(slide: number, line: number): string {
  const words = ['quarterly', 'roadmap', 'budget', 'latency', 'rollout', 'review', 'customers', 'release'];
  const a = words[(slide * 3 + line) % words.length]!;
  const b = words[(slide + line * 5 + 1) % words.length]!;
  return `${line + 1}. The ${a} and the ${b} for item ${slide + 1}.${line + 1}, measured in week ${10 + slide * SLIDE_LINES + line}`;
}

/** The `slides` source's filter graph (see `SlidesSource`): one lavfi input, the stamp drawn last. */
export function slidesGraph(
  src: SlidesSource,
  s: { readonly width: number; readonly height: number; readonly framerate: number },
): string {
  const L = slidesLayout(s.width, s.height);
  const rate = s.framerate;
  const motion = src.motion ?? 'deck';
  const label = (src.label ?? '').replace(/[^A-Za-z0-9 _.-]/g, '').slice(0, 32);
  /** On while slide `k` (from 0) is shown; a static page shows its one slide all the time. */
  const on = (k: number) =>
    motion === 'deck' ? `:enable='eq(mod(floor(t/${SLIDE_SECONDS}),${SLIDE_COUNT}),${k})'` : '';
  const dark = '0x202020';
  const font = src.fontFile === null ? null : `fontfile=${filterQuote(src.fontFile)}`;
  const filters: string[] = [];
  const slides = motion === 'deck' ? SLIDE_COUNT : motion === 'static' ? 1 : 0;
  for (let k = 0; k < slides; k++) {
    if (font !== null) {
      const title = `${label === '' ? '' : `${label} - `}${SLIDE_TITLES[k % SLIDE_TITLES.length]}`;
      const lines = Array.from({ length: SLIDE_LINES }, (_, j) => slideLine(k, j)).join('\n');
      filters.push(
        `drawtext=${font}:text=${filterQuote(title)}:x=${L.title.x}:y=${L.title.y}:fontsize=${L.titleSize}:fontcolor=${dark}${on(k)}`,
        `drawtext=${font}:text=${filterQuote(lines)}:x=${L.body.x}:y=${L.body.y}:fontsize=${L.bodySize}` +
          `:line_spacing=${L.linePitch - L.bodySize}:fontcolor=${dark}${on(k)}`,
        `drawtext=${font}:text=${filterQuote(`Slide ${k + 1} of ${SLIDE_COUNT}`)}:x=${L.footer.x}:y=${L.footer.y}` +
          `:fontsize=${Math.round(L.footer.h / 2)}:fontcolor=0x606060${on(k)}`,
      );
    } else {
      // Boxes where the words would be: a title bar, lines of different lengths, one square per
      // slide number in the footer.
      const box = (r: Rect, color: string) =>
        `drawbox=x=${r.x}:y=${r.y}:w=${Math.max(1, r.w)}:h=${Math.max(1, r.h)}:color=${color}:t=fill${on(k)}`;
      filters.push(box({ ...L.title, w: Math.round(L.title.w * (0.35 + 0.08 * k)) }, dark));
      for (let j = 0; j < SLIDE_LINES; j++) {
        const share = 0.45 + 0.1 * ((k * 3 + j * 2) % 6);
        const y = L.body.y + j * L.linePitch + Math.round(L.bodySize * 0.15);
        filters.push(
          box({ x: L.body.x, y, w: Math.round(L.body.w * share), h: Math.round(L.bodySize * 0.7) }, dark),
        );
      }
      const side = Math.max(2, Math.round(L.footer.h / 2));
      for (let i = 0; i <= k; i++)
        filters.push(box({ x: L.footer.x + i * 2 * side, y: L.footer.y, w: side, h: side }, '0x606060'));
    }
  }
  if (motion === 'scroll') {
    // A page of SCROLL_LINES lines moving up; a second copy right under it, so the page wraps
    // around without a gap (drawtext and drawbox clip what falls outside the frame).
    const top = stampBandHeight(s.height) + Math.round(L.margin / 2);
    const block = SCROLL_LINES * L.linePitch;
    const speed = SCROLL_LINES_PER_SECOND * L.linePitch;
    const lines = Array.from({ length: SCROLL_LINES }, (_, i) =>
      slideLine(Math.floor(i / SLIDE_LINES), i % SLIDE_LINES),
    );
    for (const copy of [0, 1]) {
      const y = `${top + copy * block}-mod(t*${speed},${block})`;
      if (font !== null)
        filters.push(
          `drawtext=${font}:text=${filterQuote(lines.join('\n'))}:x=${L.body.x}:y='${y}':fontsize=${L.bodySize}` +
            `:line_spacing=${L.linePitch - L.bodySize}:fontcolor=${dark}`,
        );
      else
        for (let i = 0; i < SCROLL_LINES; i++) {
          const w = Math.max(1, Math.round(L.body.w * (0.45 + 0.1 * ((i * 2) % 6))));
          const h = Math.max(1, Math.round(L.bodySize * 0.7));
          const dy = i * L.linePitch + Math.round(L.bodySize * 0.15);
          filters.push(`drawbox=x=${L.body.x}:y='${y}+${dy}':w=${w}:h=${h}:color=${dark}:t=fill`);
        }
    }
  }
  if (font !== null) {
    // A box of fixed size, so the counter does not grow and shrink with its digits.
    filters.push(
      `drawbox=x=${L.counter.x}:y=${L.counter.y}:w=${L.counter.w}:h=${L.counter.h}:color=${dark}:t=fill`,
      `drawtext=${font}:text=${filterQuote('#%{frame_num}')}` +
        `:x=${L.counter.x}+(${L.counter.w}-tw)/2:y=${L.counter.y}+(${L.counter.h}-th)/2` +
        `:fontsize=${Math.round(L.counter.h * 0.6)}:fontcolor=white`,
    );
  }
  const page = [`color=c=white:size=${s.width}x${s.height}:rate=${rate}`, ...filters].join(',');
  // Narrower than two pixels a cell, the stamp would not be readable (as for the test source).
  const stamp =
    s.width >= STAMP_CELLS * 2 ? `,${frameStampFilters(s.width, s.height, rate, 'frame-index')}` : '';
  if (motion !== 'deck') return `${page}${stamp}`;
  // The cursor sweeps a Lissajous path over the body text (overlay reevaluates x, y every frame).
  const cx = `${L.body.x}+${L.body.w - L.cursor.w}*(0.5+0.45*sin(t*0.9))`;
  const cy = `${L.body.y}+${Math.max(0, L.body.h - L.cursor.h)}*(0.5+0.45*sin(t*1.3))`;
  const cursor = `color=c=black:size=${L.cursor.w}x${L.cursor.h}:rate=${rate}`;
  return `${page}[page];${cursor}[cursor];[page][cursor]overlay=x='${cx}':y='${cy}':shortest=1${stamp}`;
}
