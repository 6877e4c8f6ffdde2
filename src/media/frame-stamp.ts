/**
 * The frame stamp (docs/benchmarks.md §glass-to-glass): a row of black and white cells the synthetic
 * camera draws across the top of every frame (src/media/ffmpeg-args.ts), holding the wall-clock time
 * the frame was made, so a reader that sees the picture — a kiosk canvas, a screenshot — can tell how
 * old it is. Everything here is relative to the frame's width and height, so the stamp survives any
 * scaling of the picture, and pure (no Node or DOM imports): the benchmark injects this module into
 * the kiosk page.
 *
 * Layout, left to right, STAMP_CELLS cells of equal width in a band STAMP_BAND_FRACTION of the
 * frame's height tall at its top:
 *
 *   cell 0        white reference      cell 1   black reference
 *   cells 2..33   the low 32 bits of the time in ms, Gray-coded, most significant bit first
 *   cells 34..39  check bits: check bit j = XOR of the Gray bits k (LSB = 0) with k mod 6 = j
 *
 * The value is a wall-clock time in ms for a live synthetic camera, or a frame's number in its clip
 * for a clip encoded once and replayed at its frame rate (`replayedFrameTime` turns that back into
 * the time the frame was sent).
 *
 * Gray code: two consecutive times differ in one cell, so a picture caught between two stamps reads
 * as one of them. The reader thresholds each cell's mean luma halfway between the references, and
 * gives up (null) on a cell too close to that threshold, too little contrast, or a failed check.
 */

export const STAMP_CELLS = 40;
export const STAMP_DATA_BITS = 32;
export const STAMP_CHECK_BITS = 6;
/** Band height over frame height: 32 px at 720p. */
export const STAMP_BAND_FRACTION = 2 / 45;
/** First data cell (after the white and the black reference). */
const DATA_AT = 2;
const CHECK_AT = DATA_AT + STAMP_DATA_BITS;
const TWO_32 = 2 ** 32;

/** Height in pixels of the stamp band of a frame `frameHeight` pixels tall. */
export function stampBandHeight(frameHeight: number): number {
  return Math.max(2, Math.round(frameHeight * STAMP_BAND_FRACTION));
}

/** Left edge of cell `i` (0..STAMP_CELLS; STAMP_CELLS gives the band's right edge). */
export function stampCellX(i: number, frameWidth: number): number {
  return Math.floor((i * frameWidth) / STAMP_CELLS);
}

/** Gray code of the low 32 bits of `ms` (a whole number of ms, e.g. since the Unix epoch). */
export function grayCode(ms: number): number {
  const low = ((ms % TWO_32) + TWO_32) % TWO_32;
  return (low ^ Math.floor(low / 2)) >>> 0;
}

/** Inverse of grayCode: the low 32 bits the Gray code stands for. */
export function fromGray(gray: number): number {
  let b = gray >>> 0;
  for (let shift = 1; shift < 32; shift <<= 1) b = (b ^ (b >>> shift)) >>> 0;
  return b;
}

/** The check bits of a Gray code: bit j = XOR of its bits k with k mod STAMP_CHECK_BITS = j. */
export function checkBits(gray: number): number {
  let c = 0;
  for (let k = 0; k < STAMP_DATA_BITS; k++) if (((gray >>> k) & 1) === 1) c ^= 1 << (k % STAMP_CHECK_BITS);
  return c;
}

/** Which cells are white for time `ms` (STAMP_CELLS booleans, left to right). */
export function stampCells(ms: number): boolean[] {
  const gray = grayCode(Math.round(ms));
  const check = checkBits(gray);
  const cells: boolean[] = [true, false];
  for (let k = STAMP_DATA_BITS - 1; k >= 0; k--) cells.push(((gray >>> k) & 1) === 1);
  for (let j = 0; j < STAMP_CHECK_BITS; j++) cells.push(((check >>> j) & 1) === 1);
  return cells;
}

/** RGBA pixels, row-major, 4 bytes a pixel: an ImageData, or any buffer laid out the same way. */
export interface RgbaImage {
  readonly data: ArrayLike<number>;
  readonly width: number;
  readonly height: number;
}

/** Least luma difference between the white and the black reference (0..255). */
const MIN_CONTRAST = 60;
/** A cell nearer the threshold than this share of the contrast is unreadable. */
const MIN_MARGIN = 0.2;

/**
 * The low 32 bits of the time in the stamp of `image`, or null when it holds no readable stamp.
 * `image` is the whole frame or just its top rows (at least the band): `frameHeight` is the full
 * frame's height (default: the image's). Each cell is read as the mean luma of its middle half in
 * both directions, so blurred or ringing cell edges do not count.
 */
export function readFrameStamp(image: RgbaImage, frameHeight = image.height): number | null {
  const { data, width } = image;
  const band = stampBandHeight(frameHeight);
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(frameHeight) ||
    width < STAMP_CELLS * 2 ||
    band < 2 ||
    image.height < band ||
    data.length < width * band * 4
  )
    return null;
  const y0 = Math.floor(band / 4);
  const y1 = Math.max(y0 + 1, Math.ceil((band * 3) / 4));
  const luma: number[] = [];
  for (let i = 0; i < STAMP_CELLS; i++) {
    const left = stampCellX(i, width);
    const w = stampCellX(i + 1, width) - left;
    const x0 = left + Math.floor(w / 4);
    const x1 = Math.max(x0 + 1, left + Math.ceil((w * 3) / 4));
    let sum = 0;
    for (let y = y0; y < y1; y++) {
      let p = (y * width + x0) * 4;
      for (let x = x0; x < x1; x++, p += 4)
        sum += 0.299 * (data[p] ?? 0) + 0.587 * (data[p + 1] ?? 0) + 0.114 * (data[p + 2] ?? 0);
    }
    luma.push(sum / ((x1 - x0) * (y1 - y0)));
  }
  const white = luma[0]!;
  const black = luma[1]!;
  const contrast = white - black;
  if (!(contrast >= MIN_CONTRAST)) return null;
  const threshold = (white + black) / 2;
  let gray = 0;
  let check = 0;
  for (let i = DATA_AT; i < STAMP_CELLS; i++) {
    const v = luma[i]!;
    if (Math.abs(v - threshold) < MIN_MARGIN * contrast) return null;
    const bit = v > threshold ? 1 : 0;
    if (i < CHECK_AT) gray = ((gray << 1) | bit) >>> 0;
    else check |= bit << (i - CHECK_AT);
  }
  if (check !== checkBits(gray)) return null;
  return fromGray(gray);
}

/**
 * The full time a stamp's low 32 bits stand for: the one nearest `nowMs` (the reader's wall clock;
 * right for stamps up to 24 days old or ahead). Then `nowMs - unwrapStamp(low, nowMs)` is the age.
 */
export function unwrapStamp(low32: number, nowMs: number): number {
  let d = (((Math.round(nowMs) - low32) % TWO_32) + TWO_32) % TWO_32;
  if (d >= TWO_32 / 2) d -= TWO_32;
  return Math.round(nowMs) - d;
}

/** How a looped clip whose frames are stamped with their number is replayed. */
export interface ReplayTimeBase {
  /** Wall-clock ms at which the replay sent its first frame (frame 0 of the first pass). */
  readonly t0: number;
  /** Ms between frames (1000 / frame rate). */
  readonly frameMs: number;
  /** Frames in the clip: the stamped numbers run 0..clipFrames-1, then start again. */
  readonly clipFrames: number;
}

/**
 * When the replay sent the frame stamped `index` that a reader sees at `nowMs`: the latest pass of
 * the loop that had sent it by then, `t0 + (pass × clipFrames + index) × frameMs`. Right while the
 * frame is younger than one pass of the clip; null for an index outside the clip.
 */
export function replayedFrameTime(index: number, base: ReplayTimeBase, nowMs: number): number | null {
  if (!Number.isInteger(index) || index < 0 || index >= base.clipFrames) return null;
  const pass = Math.max(0, Math.floor(((nowMs - base.t0) / base.frameMs - index) / base.clipFrames));
  return base.t0 + (pass * base.clipFrames + index) * base.frameMs;
}

/**
 * The replay's start from when its frames arrived, `arrivals[k]` being the wall-clock ms the k-th
 * frame it sent arrived: frames are paced `frameMs` apart and can come late but never early, so
 * the earliest `arrivals[k] − k × frameMs` is the start (late by that frame's own delay at most).
 */
export function replayStart(arrivals: readonly number[], frameMs: number): number | null {
  let t0 = Number.POSITIVE_INFINITY;
  for (let k = 0; k < arrivals.length; k++) t0 = Math.min(t0, arrivals[k]! - k * frameMs);
  return Number.isFinite(t0) ? t0 : null;
}
