/**
 * Cuts a raw video byte stream (the source child's stdout in a split capture,
 * docs/decisions/0005-media-keyframes-on-demand.md §Spare encoder) into whole frames of a fixed size,
 * whatever the pipe's chunk boundaries. Bounded: a partial frame is held until it is whole, and no
 * more than `maxFrames` whole frames come out of one push (the oldest are dropped and counted), so
 * the cutter never holds more than `maxFrames` + 1 frames' bytes.
 */

export class RawFrameCutter {
  readonly frameBytes: number;
  readonly #maxFrames: number;
  #parts: Uint8Array[] = [];
  #held = 0;
  #dropped = 0;

  constructor(frameBytes: number, maxFrames = 3) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError('frameBytes must be > 0');
    this.frameBytes = frameBytes;
    this.#maxFrames = Math.max(1, Math.floor(maxFrames));
  }

  /** Whole frames dropped because one push brought more than `maxFrames`. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes of the partial frame held now (always less than one frame). */
  get held(): number {
    return this.#held;
  }

  /** Forget the partial frame (a new source child starts a new stream). */
  reset(): void {
    this.#parts = [];
    this.#held = 0;
  }

  /** The frames completed by `chunk`, oldest first (each its own copy, `frameBytes` long). */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length === 0) return [];
    const total = this.#held + chunk.length;
    const whole = Math.floor(total / this.frameBytes);
    if (whole === 0) {
      this.#parts.push(chunk);
      this.#held = total;
      return [];
    }
    const all = this.#parts.length === 0 ? chunk : Buffer.concat([...this.#parts, chunk], total);
    const skip = Math.max(0, whole - this.#maxFrames);
    this.#dropped += skip;
    // Views into our own concatenation; copies of a chunk that came whole (its owner may reuse it).
    const owned = all !== chunk;
    const cut = (from: number, to: number) => (owned ? all.subarray(from, to) : all.slice(from, to));
    const out: Uint8Array[] = [];
    for (let i = skip; i < whole; i++) out.push(cut(i * this.frameBytes, (i + 1) * this.frameBytes));
    const rest = total - whole * this.frameBytes;
    this.#parts = rest === 0 ? [] : [cut(total - rest, total)];
    this.#held = rest;
    return out;
  }
}
