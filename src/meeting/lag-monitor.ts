/**
 * Tells when our downlink falls behind (docs/protocol.md §Big meetings). Janus delivers every frame
 * reliably and in order, so a receiver that cannot keep up sees no loss: its frames arrive ever
 * later while Janus queues the rest. A frame's latency here is our clock minus its sender's capture
 * time; the clocks' offset is unknown but near constant per sender, so each sender's latency is
 * compared with the least seen from it over the last FLOOR_WINDOW_MS (its floor; a window, so a
 * clock that steps or drifts costs at most that long). Each time we catch up, the next catching up
 * must last twice as long (to CAUGHT_UP_MAX_MS): a receiver that keeps falling behind stays on the
 * speakers rather than flapping. Pure: time comes in with each observation.
 */

/** Latency over the floor at which frames count as late. */
export const BEHIND_EXCESS_MS = 1500;
/** Frames late for this long, with none on time between: behind. */
export const BEHIND_AFTER_MS = 1000;
/** Latency over the floor at which frames count as on time again. */
export const CAUGHT_UP_EXCESS_MS = 300;
/** Frames on time for this long, with none late between: caught up. */
export const CAUGHT_UP_AFTER_MS = 3000;
/** The longest catching up asked for, after repeated episodes. */
export const CAUGHT_UP_MAX_MS = 60_000;
/** Senders remembered at once; the least recently heard is forgotten first. */
export const MAX_SENDERS = 1000;
/** A sender's floor is the least latency in this window, kept as FLOOR_BUCKETS minima. */
export const FLOOR_WINDOW_MS = 30_000;
const FLOOR_BUCKETS = 6;
const BUCKET_MS = FLOOR_WINDOW_MS / FLOOR_BUCKETS;

/** A sender's least latency per BUCKET_MS, the newest last. */
interface Floor {
  start: number;
  mins: number[];
}

export class LagMonitor {
  #behind = false;
  /** Per sender, its latency minima. Insertion order is recency (re-inserted on each frame). */
  readonly #floor = new Map<string, Floor>();
  /** Times we caught up since the last reset: each one doubles the next catching up. */
  #episodes = 0;
  /** Since when every frame was late (behind not yet said), or on time (while behind). */
  #since: number | null = null;

  get behind(): boolean {
    return this.#behind;
  }

  /** Senders whose floor is remembered (at most MAX_SENDERS). */
  get senders(): number {
    return this.#floor.size;
  }

  /** One decrypted frame; returns the new state when it changed, else null. */
  observe(sender: string, latencyMs: number, now: number): boolean | null {
    if (!Number.isFinite(latencyMs) || !Number.isFinite(now)) return null;
    const f = this.#floor.get(sender) ?? { start: now, mins: [latencyMs] };
    if (now - f.start >= BUCKET_MS) {
      f.start = now;
      f.mins.push(latencyMs);
      if (f.mins.length > FLOOR_BUCKETS) f.mins.shift();
    } else {
      f.mins[f.mins.length - 1] = Math.min(f.mins[f.mins.length - 1]!, latencyMs);
    }
    this.#floor.delete(sender);
    this.#floor.set(sender, f);
    if (this.#floor.size > MAX_SENDERS) this.#floor.delete(this.#floor.keys().next().value as string);
    const excess = latencyMs - Math.min(...f.mins);
    if (!this.#behind) {
      if (excess < BEHIND_EXCESS_MS) this.#since = null;
      else if (this.#since === null) this.#since = now;
      else if (now - this.#since >= BEHIND_AFTER_MS) return this.#set(true);
    } else {
      if (excess > CAUGHT_UP_EXCESS_MS) this.#since = null;
      else if (this.#since === null) this.#since = now;
      else if (now - this.#since >= this.#caughtUpAfter()) {
        this.#episodes++;
        return this.#set(false);
      }
    }
    return null;
  }

  /** A new connection (new participant ids, an empty downlink): nothing is behind. */
  reset(): void {
    this.#behind = false;
    this.#since = null;
    this.#episodes = 0;
    this.#floor.clear();
  }

  #caughtUpAfter(): number {
    return Math.min(CAUGHT_UP_MAX_MS, CAUGHT_UP_AFTER_MS * 2 ** Math.min(this.#episodes, 10));
  }

  #set(behind: boolean): boolean {
    this.#behind = behind;
    this.#since = null;
    return behind;
  }
}
