/**
 * When a client on the Janus plane tells the relay its audio level (`audio-level`, docs/protocol.md
 * §Big meetings): only while it speaks (level ≤ SPEAKING_LEVEL), at most every AUDIO_LEVEL_REPORT_MS,
 * except that the second report of a speech onset (the first after a second without one) follows
 * AUDIO_LEVEL_ONSET_MS after it. Pure; the room's and the web client's connections share it.
 */
import { AUDIO_LEVEL_ONSET_MS, AUDIO_LEVEL_REPORT_MS, SPEAKING_LEVEL } from './schemas.ts';

export class LevelReportGate {
  #reportedAt = Number.NEGATIVE_INFINITY;
  #onset = false;
  /** Reports sent (the caller says so with `sent`). */
  reports = 0;

  /** Whether a frame of `level` sent at `now` (monotonic ms) is to be reported. */
  due(level: number, now: number): boolean {
    if (level > SPEAKING_LEVEL) return false;
    return now - this.#reportedAt >= (this.#onset ? AUDIO_LEVEL_ONSET_MS : AUDIO_LEVEL_REPORT_MS);
  }

  /** The report `due` allowed went out at `now`. */
  sent(now: number): void {
    this.#onset = now - this.#reportedAt >= 1000;
    this.#reportedAt = now;
    this.reports++;
  }

  /** A new connection: speech starts anew. */
  reset(): void {
    this.#reportedAt = Number.NEGATIVE_INFINITY;
    this.#onset = false;
  }
}
