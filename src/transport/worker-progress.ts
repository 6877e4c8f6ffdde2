/**
 * When the media worker reports a channel's send progress to roomd (docs/decisions/0013-media-worker.md
 * §Cost). roomd's `bufferedAmount` for a channel is what it sent minus what the worker last reported
 * taken, plus what wrtc held at that report. Between reports that figure only over-counts: bytes
 * taken since have either left or sit in wrtc's buffer, so the true amount is never larger. Reports
 * are therefore held back while the over-count is small and young, which saves most of the pipe
 * writes (and roomd wake-ups) a report after every burst of sends would cost:
 *
 * - a change is reported once the over-count reaches REPORT_BYTES (an eighth of the smallest
 *   high-water mark in use, 256 KiB, docs/protocol.md §Media chunks), or once the oldest unreported
 *   change is REPORT_MS old, whichever comes first;
 * - a change that would let roomd under-count (wrtc reporting more than it was given) is reported at once.
 *
 * So roomd's figure is never below the truth, and above it by less than REPORT_BYTES plus what
 * drains between two checks (the worker checks after every read from roomd and every
 * BUFFERED_POLL_MS while wrtc holds bytes), for at most REPORT_MS. Pure: time is passed in.
 */

/** Over-count (bytes) that is reported at once. */
export const REPORT_BYTES = 32 * 1024;
/** Age (ms) after which any unreported change is reported. */
export const REPORT_MS = 20;

export class ProgressReport {
  #taken = 0;
  #buffered = 0;
  /** When the oldest unreported change was first seen; null when roomd is up to date. */
  #since: number | null = null;

  /** What roomd was last told. */
  get reported(): { taken: number; buffered: number } {
    return { taken: this.#taken, buffered: this.#buffered };
  }

  /** True when roomd knows the last figures checked. */
  get settled(): boolean {
    return this.#since === null;
  }

  /** Milliseconds from `now` until an unreported change is due by age (0 when due; Infinity when settled). */
  dueIn(now: number): number {
    return this.#since === null ? Number.POSITIVE_INFINITY : Math.max(0, this.#since + REPORT_MS - now);
  }

  /**
   * The channel's figures at `now` (`taken`: bytes consumed since it was made; `buffered`: what
   * wrtc holds). True when they are to be reported now; they then count as reported.
   */
  check(taken: number, buffered: number, now: number): boolean {
    if (taken === this.#taken && buffered === this.#buffered) {
      this.#since = null;
      return false;
    }
    this.#since ??= now;
    const overCount = taken - this.#taken + (this.#buffered - buffered);
    if (overCount >= 0 && overCount < REPORT_BYTES && now - this.#since < REPORT_MS) return false;
    this.#taken = taken;
    this.#buffered = buffered;
    this.#since = null;
    return true;
  }
}
