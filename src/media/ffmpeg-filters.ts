/** Filter-graph pieces shared by ffmpeg's synthetic video sources (src/media/ffmpeg-args.ts, src/media/ffmpeg-slides.ts). */
import {
  STAMP_CELLS,
  STAMP_CHECK_BITS,
  STAMP_DATA_BITS,
  stampBandHeight,
  stampCellX,
} from './frame-stamp.ts';

/** Escape a value for use inside a single-quoted filter-graph option. */
export function filterQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`;
}

/**
 * The frame stamp (src/media/frame-stamp.ts, docs/benchmarks.md §glass-to-glass) as a filter chain,
 * drawn after everything else. 'wall-clock': the frame's timestamp becomes the wall clock in ms
 * (`settb` + `setpts=RTCTIME/1000`, RTCTIME being µs), so every cell's `enable=` expression reads the
 * same time `t`, and after the cells the timestamps go back to frame numbers at the frame rate, as
 * testsrc2 made them. 'frame-index': the cells hold the frame's number `n` (0 for the first), and
 * the timestamps are left alone. Then the white reference, a black band over the other cells, one
 * white box per set Gray-code bit or check bit.
 */
export function frameStampFilters(
  width: number,
  height: number,
  framerate: number,
  value: 'wall-clock' | 'frame-index' = 'wall-clock',
): string {
  const band = stampBandHeight(height);
  const wall = value === 'wall-clock';
  const stamped = wall ? 'floor(t*1000+0.5)' : 'n';
  /** Bit k of the Gray code of the stamped value: bit k+1 of (value + 2^k). */
  const gray = (k: number) => `mod(floor((${stamped}+${2 ** k})/${2 ** (k + 1)}),2)`;
  const box = (cell: number, color: string, enable?: string) => {
    const x = stampCellX(cell, width);
    const w = stampCellX(cell + 1, width) - x;
    return `drawbox=x=${x}:y=0:w=${w}:h=${band}:color=${color}:t=fill${enable === undefined ? '' : `:enable='${enable}'`}`;
  };
  const filters = [...(wall ? ['settb=1/1000', 'setpts=RTCTIME/1000'] : []), box(0, 'white')];
  filters.push(
    `drawbox=x=${stampCellX(1, width)}:y=0:w=${stampCellX(STAMP_CELLS, width) - stampCellX(1, width)}:h=${band}:color=black:t=fill`,
  );
  for (let k = STAMP_DATA_BITS - 1; k >= 0; k--)
    filters.push(box(2 + STAMP_DATA_BITS - 1 - k, 'white', gray(k)));
  for (let j = 0; j < STAMP_CHECK_BITS; j++) {
    const terms: string[] = [];
    for (let k = j; k < STAMP_DATA_BITS; k += STAMP_CHECK_BITS) terms.push(gray(k));
    filters.push(box(2 + STAMP_DATA_BITS + j, 'white', `mod(${terms.join('+')},2)`));
  }
  if (wall) filters.push(`settb=1/${framerate}`, 'setpts=N');
  return filters.join(',');
}
