/**
 * Tells when our downlink falls behind (docs/protocol.md §Big meetings). Janus delivers every frame
 * reliably and in order, so a receiver that cannot keep up sees no loss: its frames arrive ever
 * later while Janus queues the rest. A frame's latency here is our clock minus its sender's capture
 * time; the clocks' offset is unknown but constant per sender, so each sender's latency is compared
 * with the least seen from it (its floor). Pure: time comes in with each observation.
 */

/** Latency over the floor at which frames count as late. */
export const BEHIND_EXCESS_MS = 1500;
/** Frames late for this long, with none on time between: behind. */
export const BEHIND_AFTER_MS = 1000;
/** Latency over the floor at which frames count as on time again. */
export const CAUGHT_UP_EXCESS_MS = 300;
/** Frames on time for this long, with none late between: caught up. */
export const CAUGHT_UP_AFTER_MS = 3000;
/** Senders remembered at once; the least recently heard is forgotten first. */
export const MAX_SENDERS = 1000;

export class LagMonitor {
  #behind = false;
  /** Per sender, the least latency seen (ms). Insertion order is recency (re-inserted on each frame). */
  readonly #floor = new Map<string, number>();
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
    const known = this.#floor.get(sender);
    const floor = known === undefined ? latencyMs : Math.min(known, latencyMs);
    this.#floor.delete(sender);
    this.#floor.set(sender, floor);
    if (this.#floor.size > MAX_SENDERS) this.#floor.delete(this.#floor.keys().next().value as string);
    const excess = latencyMs - floor;
    if (!this.#behind) {
      if (excess < BEHIND_EXCESS_MS) this.#since = null;
      else if (this.#since === null) this.#since = now;
      else if (now - this.#since >= BEHIND_AFTER_MS) return this.#set(true);
    } else {
      if (excess > CAUGHT_UP_EXCESS_MS) this.#since = null;
      else if (this.#since === null) this.#since = now;
      else if (now - this.#since >= CAUGHT_UP_AFTER_MS) return this.#set(false);
    }
    return null;
  }

  /** A new connection (new participant ids, an empty downlink): nothing is behind. */
  reset(): void {
    this.#behind = false;
    this.#since = null;
    this.#floor.clear();
  }

  #set(behind: boolean): boolean {
    this.#behind = behind;
    this.#since = null;
    return behind;
  }
}
