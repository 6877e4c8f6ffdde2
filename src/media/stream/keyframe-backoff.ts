/**
 * How often a receiver asks one sender for a keyframe on one stream while a gap lasts
 * (docs/protocol.md "Media chunks"): the first time at once, then no sooner than `initialMs`
 * later, each wait doubling up to `maxMs`; a keyframe that arrives starts it over. Pure: times come
 * from the caller's monotonic clock.
 */
export interface KeyframeBackoffSettings {
  /** The wait after the first request (default 500 ms). */
  readonly initialMs?: number;
  /** The longest wait between two requests (default 4 s). */
  readonly maxMs?: number;
}

export const DEFAULT_KEYFRAME_BACKOFF = { initialMs: 500, maxMs: 4000 } as const;

export class KeyframeBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  #waitMs: number;
  #nextAt = Number.NEGATIVE_INFINITY;

  constructor(settings: KeyframeBackoffSettings = {}) {
    this.#initialMs = Math.max(0, settings.initialMs ?? DEFAULT_KEYFRAME_BACKOFF.initialMs);
    this.#maxMs = Math.max(this.#initialMs, settings.maxMs ?? DEFAULT_KEYFRAME_BACKOFF.maxMs);
    this.#waitMs = this.#initialMs;
  }

  /** Monotonic ms before which a request is held back (-Infinity: ask at once). */
  get nextAt(): number {
    return this.#nextAt;
  }

  /** Whether to send a request at `now`; a yes starts the next wait, and doubles the one after. */
  ask(now: number): boolean {
    if (now < this.#nextAt) return false;
    this.#nextAt = now + this.#waitMs;
    this.#waitMs = Math.min(this.#maxMs, this.#waitMs * 2);
    return true;
  }

  /** A keyframe arrived: the next gap asks at once. */
  reset(): void {
    this.#nextAt = Number.NEGATIVE_INFINITY;
    this.#waitMs = this.#initialMs;
  }
}
