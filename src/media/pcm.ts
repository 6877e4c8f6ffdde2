/**
 * 16-bit PCM helpers for the audio mixer: a bounded FIFO of mono s16le samples fed
 * by a decoder pipe (reads may split a sample), and mixing with saturation. Pure, no I/O.
 */

export class PcmFifo {
  #buf: Int16Array;
  #start = 0;
  #len = 0;
  #odd: number | undefined;

  constructor(capacitySamples: number) {
    this.#buf = new Int16Array(Math.max(1, capacitySamples));
  }

  /** Samples waiting. */
  get samples(): number {
    return this.#len;
  }

  /** Append s16le bytes; when full, the oldest samples are dropped. Returns how many were dropped. */
  push(bytes: Uint8Array): number {
    let dropped = 0;
    let i = 0;
    if (this.#odd !== undefined && bytes.length > 0) {
      dropped += this.#put(this.#odd | (bytes[0]! << 8));
      this.#odd = undefined;
      i = 1;
    }
    for (; i + 1 < bytes.length; i += 2) dropped += this.#put(bytes[i]! | (bytes[i + 1]! << 8));
    if (i < bytes.length) this.#odd = bytes[i]!;
    return dropped;
  }

  /** Add up to `n` samples into `mix` (from its start); returns how many were available. */
  takeInto(mix: Int32Array, n: number): number {
    const count = Math.min(n, this.#len, mix.length);
    const cap = this.#buf.length;
    for (let k = 0; k < count; k++) mix[k]! += this.#buf[(this.#start + k) % cap]!;
    this.#start = (this.#start + count) % cap;
    this.#len -= count;
    return count;
  }

  /** Drop the oldest samples so at most `max` remain; returns how many were dropped. */
  trimTo(max: number): number {
    const drop = Math.max(0, this.#len - max);
    this.#start = (this.#start + drop) % this.#buf.length;
    this.#len -= drop;
    return drop;
  }

  clear(): void {
    this.#start = 0;
    this.#len = 0;
    this.#odd = undefined;
  }

  #put(u16: number): number {
    const cap = this.#buf.length;
    let dropped = 0;
    if (this.#len === cap) {
      this.#start = (this.#start + 1) % cap;
      this.#len -= 1;
      dropped = 1;
    }
    this.#buf[(this.#start + this.#len) % cap] = (u16 << 16) >> 16;
    this.#len += 1;
    return dropped;
  }
}

/** Saturate a mix to s16 and serialise it little-endian. */
export function mixToS16le(mix: Int32Array, gain = 1): Uint8Array {
  const out = new Uint8Array(mix.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < mix.length; i++) {
    const v = Math.round(mix[i]! * gain);
    dv.setInt16(i * 2, Math.min(32767, Math.max(-32768, v)), true);
  }
  return out;
}
