/**
 * Streaming H.264 Annex-B splitter: byte stream → access units (ITU-T H.264 §B.1 byte stream
 * format, §7.4.1.2.3 order of NAL units and first-VCL detection).
 *
 * An access unit starts at an access unit delimiter (type 9) — what `-x264-params aud=1` writes —
 * or, for streams without AUDs, at SPS/PPS/SEI/types 14–18 or at a slice whose first_mb_in_slice is 0
 * once the current unit already holds a slice. Key frame = the unit holds an IDR slice (type 5).
 * The output keeps the Annex-B bytes as they were (start codes included), ready for WebCodecs
 * `avc: { format: 'annexb' }` or ffmpeg `-f h264`.
 *
 * A unit is complete only when the next one starts, so this parser hands a frame out one frame period
 * after its bytes arrive (VP8/IVF has no such delay). Garbage is skipped up to the next start code;
 * a unit larger than `maxFrameBytes` is dropped whole and counted. Memory stays ≤ maxFrameBytes + one read.
 */
import { DEFAULT_MAX_FRAME_BYTES, type FrameParser, type MediaFrame, type NowSource } from './types.ts';

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;

export interface AnnexBParserOptions {
  readonly clock: NowSource;
  readonly maxFrameBytes?: number;
}

export class AnnexBParser implements FrameParser {
  readonly kind = 'video' as const;
  readonly #clock: NowSource;
  readonly #max: number;
  #buf = new Uint8Array(64 * 1024);
  #len = 0;
  /** Start of the access unit being collected. */
  #auStart = 0;
  /** Where the next start-code search begins. */
  #scan = 0;
  #auHasNal = false;
  #auHasVcl = false;
  #auKey = false;
  /** Inside an oversized unit that is being thrown away. */
  #skipping = false;
  #dropped = 0;

  constructor(options: AnnexBParserOptions) {
    this.#clock = options.clock;
    this.#max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  get buffered(): number {
    return this.#len - this.#auStart;
  }

  /** Access units dropped because they exceeded maxFrameBytes. */
  get droppedFrames(): number {
    return this.#dropped;
  }

  push(chunk: Uint8Array): MediaFrame[] {
    const out: MediaFrame[] = [];
    let off = 0;
    // Feed in slices so a huge read never grows the buffer past the bound.
    while (off < chunk.length) {
      const room = Math.max(4096, this.#max + 8 - (this.#len - this.#auStart));
      const part = chunk.subarray(off, off + room);
      off += part.length;
      this.#append(part);
      this.#scanUnits(out);
      this.#enforceBound();
      this.#compact();
    }
    return out;
  }

  end(): MediaFrame[] {
    const out: MediaFrame[] = [];
    if (!this.#skipping && this.#auHasVcl) this.#complete(this.#len, out);
    this.#reset();
    return out;
  }

  #reset(): void {
    this.#len = 0;
    this.#auStart = 0;
    this.#scan = 0;
    this.#auHasNal = false;
    this.#auHasVcl = false;
    this.#auKey = false;
    this.#skipping = false;
  }

  #append(part: Uint8Array): void {
    if (this.#len + part.length > this.#buf.length) {
      let size = this.#buf.length;
      while (size < this.#len + part.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(part, this.#len);
    this.#len += part.length;
  }

  #findStartCode(from: number): number {
    const b = this.#buf;
    let j = from;
    while (j + 2 < this.#len) {
      const c = b[j + 2]!;
      if (c > 1) j += 3;
      else if (c === 1 && b[j + 1] === 0 && b[j] === 0) return j;
      else j += 1;
    }
    return -1;
  }

  #scanUnits(out: MediaFrame[]): void {
    const b = this.#buf;
    for (;;) {
      const from = Math.max(this.#scan, this.#auStart);
      const sc = this.#findStartCode(from);
      if (sc < 0) {
        // A start code may straddle the end of what is here: look again from the last two bytes —
        // but never before `from`, or a NAL header byte could start a code in one read pattern
        // and not in another (the units must not depend on how the stream is cut).
        this.#scan = Math.max(from, this.#len - 2);
        return;
      }
      const hdr = sc + 3;
      if (hdr + 1 >= this.#len) {
        this.#scan = sc;
        return;
      }
      const start = sc > this.#auStart && b[sc - 1] === 0 ? sc - 1 : sc;
      const type = b[hdr]! & 0x1f;
      const isVcl = type === NAL_SLICE || type === NAL_IDR;
      const firstMbZero = isVcl && (b[hdr + 1]! & 0x80) !== 0;
      const startsUnit =
        type === NAL_AUD ||
        type === NAL_SEI ||
        type === NAL_SPS ||
        type === NAL_PPS ||
        (type >= 14 && type <= 18) ||
        firstMbZero;
      if (this.#skipping) {
        if (startsUnit) {
          this.#skipping = false;
          this.#beginUnit(start);
        } else {
          this.#auStart = start;
        }
      } else if (!this.#auHasNal) {
        this.#beginUnit(start);
      } else if (type === NAL_AUD || (startsUnit && this.#auHasVcl)) {
        if (this.#auHasVcl) this.#complete(start, out);
        this.#beginUnit(start);
      }
      this.#auHasNal = true;
      if (isVcl) this.#auHasVcl = true;
      if (type === NAL_IDR) this.#auKey = true;
      this.#scan = hdr + 1;
    }
  }

  #beginUnit(start: number): void {
    this.#auStart = start;
    this.#auHasNal = false;
    this.#auHasVcl = false;
    this.#auKey = false;
  }

  #enforceBound(): void {
    // Keep from the pending start code (or the last 4 bytes, which may hold a partial one).
    const keepFrom = Math.max(this.#auStart, Math.min(this.#scan, this.#len - 4) - 1);
    if (this.#skipping || !this.#auHasNal) {
      this.#auStart = keepFrom;
      return;
    }
    if (this.#len - this.#auStart <= this.#max) return;
    this.#dropped += 1;
    this.#skipping = true;
    this.#auStart = keepFrom;
  }

  #compact(): void {
    const shift = this.#auStart;
    if (shift === 0) return;
    this.#buf.copyWithin(0, shift, this.#len);
    this.#len -= shift;
    this.#scan = Math.max(0, this.#scan - shift);
    this.#auStart = 0;
  }

  /**
   * The unit being collected ends at `end`: hand it out, or drop and count it when it is over
   * maxFrameBytes (a unit can complete inside one read, before #enforceBound sees it).
   */
  #complete(end: number, out: MediaFrame[]): void {
    if (end - this.#auStart > this.#max) this.#dropped += 1;
    else out.push(this.#emit(this.#auStart, end));
  }

  #emit(from: number, to: number): MediaFrame {
    const data = this.#buf.slice(from, to);
    return { kind: 'video', codec: 'h264', keyframe: this.#auKey, captureTs: this.#clock.now(), data };
  }
}
