/**
 * Small audio jitter buffer: holds frames for
 * `delayMs` so reordered packets can be put back in frame-number order, releases them in order,
 * drops and counts frames that arrive after their successor was released, and counts the gaps.
 * Bounded: above `capacity` the oldest frames are released early. Time comes from the injected Clock.
 */
import type { Clock } from '../core/clock.ts';

export interface JitterBufferOptions {
  readonly clock: Pick<Clock, 'monotonic'>;
  /** How long a frame may wait for its predecessors (default 60 ms: three Opus frames). */
  readonly delayMs?: number;
  /** Most frames held at once (default 50: one second of 20 ms frames). */
  readonly capacity?: number;
}

export interface JitterRelease<T> {
  readonly seq: number;
  readonly value: T;
  /** Frames missing right before this one (lost or still late); 0 when in sequence. */
  readonly missingBefore: number;
}

export interface JitterStats {
  readonly released: number;
  readonly late: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly held: number;
}

interface Held<T> {
  readonly seq: number;
  readonly value: T;
  readonly at: number;
}

const diff = (a: number, b: number): number => (a - b) | 0;

export class JitterBuffer<T> {
  readonly #clock: Pick<Clock, 'monotonic'>;
  readonly #delay: number;
  readonly #capacity: number;
  readonly #held = new Map<number, Held<T>>();
  #last: number | undefined;
  #released = 0;
  #late = 0;
  #duplicates = 0;
  #lost = 0;

  constructor(options: JitterBufferOptions) {
    this.#clock = options.clock;
    this.#delay = options.delayMs ?? 60;
    this.#capacity = Math.max(1, options.capacity ?? 50);
  }

  get size(): number {
    return this.#held.size;
  }

  stats(): JitterStats {
    return {
      released: this.#released,
      late: this.#late,
      duplicates: this.#duplicates,
      lost: this.#lost,
      held: this.#held.size,
    };
  }

  /** Offer a frame with its 32-bit frame number. */
  push(seq: number, value: T): 'held' | 'late' | 'duplicate' {
    const s = seq >>> 0;
    if (this.#last !== undefined && diff(s, this.#last) <= 0) {
      this.#late += 1;
      return 'late';
    }
    if (this.#held.has(s)) {
      this.#duplicates += 1;
      return 'duplicate';
    }
    this.#held.set(s, { seq: s, value, at: this.#clock.monotonic() });
    return 'held';
  }

  /** Frames due now, in order: everything up to the oldest arrival that has waited `delayMs`. */
  drain(): JitterRelease<T>[] {
    const now = this.#clock.monotonic();
    const out: JitterRelease<T>[] = [];
    while (this.#held.size > 0) {
      const over = this.#held.size > this.#capacity;
      let oldest = Number.POSITIVE_INFINITY;
      for (const h of this.#held.values()) oldest = Math.min(oldest, h.at);
      if (!over && now - oldest < this.#delay) break;
      out.push(this.#releaseFirst());
    }
    return out;
  }

  /** Release everything held, in order (end of stream). */
  flush(): JitterRelease<T>[] {
    const out: JitterRelease<T>[] = [];
    while (this.#held.size > 0) out.push(this.#releaseFirst());
    return out;
  }

  /** Forget the sequence position (a new sender stream). */
  reset(): void {
    this.#held.clear();
    this.#last = undefined;
  }

  #releaseFirst(): JitterRelease<T> {
    let first: Held<T> | undefined;
    for (const h of this.#held.values()) if (first === undefined || diff(h.seq, first.seq) < 0) first = h;
    const h = first!;
    this.#held.delete(h.seq);
    const missingBefore = this.#last === undefined ? 0 : Math.max(0, diff(h.seq, this.#last) - 1);
    this.#lost += missingBefore;
    this.#last = h.seq;
    this.#released += 1;
    return { seq: h.seq, value: h.value, missingBefore };
  }
}
