/**
 * Injectable time. Everything that waits or stamps time takes a Clock, so tests drive time by hand
 * and pure state machines receive `now` as an input instead of reading it.
 */

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Monotonic milliseconds, for measuring durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clear(handle: TimerHandle): void;
}

/** A platform timer: Node's Timeout object, a browser's number (the same code runs in both). */
type PlatformTimer = ReturnType<typeof setTimeout> | ReturnType<typeof setInterval>;

/** Node: the timer does not keep the process alive. Browsers have no such thing. */
function unref(t: PlatformTimer): void {
  (t as { unref?: () => void }).unref?.();
}

export class SystemClock implements Clock {
  #next = 1;
  readonly #timers = new Map<number, PlatformTimer>();

  now(): number {
    return Date.now();
  }

  monotonic(): number {
    return performance.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const t = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    unref(t);
    this.#timers.set(id, t);
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const t = setInterval(fn, ms);
    unref(t);
    this.#timers.set(id, t);
    return { id };
  }

  clear(handle: TimerHandle): void {
    const t = this.#timers.get(handle.id);
    if (t !== undefined) {
      clearTimeout(t);
      this.#timers.delete(handle.id);
    }
  }
}

interface FakeTimer {
  id: number;
  due: number;
  every: number | null;
  fn: () => void;
}

/** A clock that only moves when told to. Timers fire in due order during `advance`. */
export class FakeClock implements Clock {
  #now: number;
  #mono = 0;
  #next = 1;
  readonly #timers = new Map<number, FakeTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { id, due: this.#mono + Math.max(0, ms), every: null, fn });
    return { id };
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    const every = Math.max(1, ms);
    this.#timers.set(id, { id, due: this.#mono + every, every, fn });
    return { id };
  }

  clear(handle: TimerHandle): void {
    this.#timers.delete(handle.id);
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.#timers.size;
  }

  advance(ms: number): void {
    const target = this.#mono + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers.values()) {
        if (
          t.due <= target &&
          (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))
        ) {
          next = t;
        }
      }
      if (next === undefined) break;
      this.#now += next.due - this.#mono;
      this.#mono = next.due;
      if (next.every === null) this.#timers.delete(next.id);
      else next.due += next.every;
      next.fn();
    }
    this.#now += target - this.#mono;
    this.#mono = target;
  }
}
