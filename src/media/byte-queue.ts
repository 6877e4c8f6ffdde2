/**
 * A FIFO of byte chunks for the streaming parsers: append pipe reads, look at and consume the
 * front without copying the whole backlog on every read. Pure, no I/O. However small the reads,
 * it holds at most MAX_CHUNKS pieces (they are merged), so every operation stays cheap.
 */

/** Pieces held before they are merged into one: bounds the work of at(), peek() and skip(). */
const MAX_CHUNKS = 64;

export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Offset into the first chunk of the bytes already consumed. */
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#chunks.length >= MAX_CHUNKS) {
      // Many small reads: merge what is held into one piece (amortised: a merge every MAX_CHUNKS reads).
      const merged = this.#copy(this.#length, false);
      this.#chunks = [merged];
      this.#head = 0;
    }
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Byte at `index` from the front; undefined past the end. */
  at(index: number): number | undefined {
    if (index < 0 || index >= this.#length) return undefined;
    let i = index + this.#head;
    for (const c of this.#chunks) {
      if (i < c.length) return c[i];
      i -= c.length;
    }
    return undefined;
  }

  /** Copy of the first `n` bytes (n ≤ length), leaving them in the queue. */
  peek(n: number): Uint8Array {
    return this.#copy(n, false);
  }

  /** Remove and return the first `n` bytes (n ≤ length). */
  take(n: number): Uint8Array {
    return this.#copy(n, true);
  }

  /** Drop the first `n` bytes. */
  skip(n: number): void {
    let left = Math.min(n, this.#length);
    this.#length -= left;
    while (left > 0) {
      const first = this.#chunks[0]!;
      const avail = first.length - this.#head;
      if (left < avail) {
        this.#head += left;
        return;
      }
      left -= avail;
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#length = 0;
  }

  #copy(n: number, consume: boolean): Uint8Array {
    if (n > this.#length) throw new RangeError(`ByteQueue: asked for ${n} bytes, have ${this.#length}`);
    const first = this.#chunks[0];
    if (first !== undefined && first.length - this.#head >= n) {
      const view = first.subarray(this.#head, this.#head + n);
      if (consume) this.skip(n);
      // A view is safe to hand out when we consumed the bytes; otherwise copy so callers cannot alias.
      return consume ? view : view.slice();
    }
    const out = new Uint8Array(n);
    let off = 0;
    let head = this.#head;
    for (const c of this.#chunks) {
      if (off >= n) break;
      const part = c.subarray(head, Math.min(c.length, head + (n - off)));
      out.set(part, off);
      off += part.length;
      head = 0;
    }
    if (consume) this.skip(n);
    return out;
  }
}
