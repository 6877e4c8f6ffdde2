/**
 * The one frame the Nextion link's probe waits for at a time (`comok`, the `sendme` page frame, or
 * nothing: a pause), with a time limit and a cancel (docs/hardware.md §Acknowledgements, restarts,
 * line speed). A new wait ends the previous one with null.
 */
import type { Clock } from '../../core/clock.ts';
import type { NextionFrame } from './codec.ts';

interface Waiter {
  readonly match: (f: NextionFrame) => boolean;
  readonly done: (f: NextionFrame | null) => void;
}

export class FrameWaiter {
  readonly #clock: Clock;
  #waiter: Waiter | null = null;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Wait for a frame that `match`es (or `ms`, or a cancel): the frame or null. */
  wait(match: (f: NextionFrame) => boolean, ms: number): Promise<NextionFrame | null> {
    this.#waiter?.done(null);
    return new Promise((resolve) => {
      const timer = this.#clock.setTimeout(() => waiter.done(null), ms);
      const waiter: Waiter = {
        match,
        done: (f) => {
          this.#clock.clear(timer);
          if (this.#waiter === waiter) this.#waiter = null;
          resolve(f);
        },
      };
      this.#waiter = waiter;
    });
  }

  sleep(ms: number): Promise<NextionFrame | null> {
    return this.wait(() => false, ms);
  }

  /** Hand `f` to the wait in progress if it matches. */
  offer(f: NextionFrame): void {
    if (this.#waiter?.match(f)) this.#waiter.done(f);
  }

  /** End the wait in progress (if any) with null. */
  cancel(): void {
    this.#waiter?.done(null);
  }
}
