/**
 * Compares the relay's participant list with the leader's verified roster (docs/protocol.md
 * "Shield (fail-closed)"): a difference reads 'pending' for a grace period (joins and leaves in
 * flight), then 'persistent' (the shield turns partial and the UI is told once).
 */
import type { ParticipantId } from './types.ts';

export class RosterWatch {
  #relayIds = new Set<ParticipantId>();
  #verifiedIds = new Set<ParticipantId>();
  #since: number | null = null;
  #reported = false;

  constructor(
    private readonly selfId: ParticipantId,
    private readonly graceMs: number,
  ) {}

  /** The relay's claim (we are always in it). */
  relay(ids: Iterable<ParticipantId>): void {
    this.#relayIds = new Set(ids);
    this.#relayIds.add(this.selfId);
  }

  /** The verified roster changed (or time passed): re-compare. */
  verified(roster: readonly { participantId: ParticipantId }[], now: number): void {
    this.#verifiedIds = new Set(roster.map((e) => e.participantId));
    this.#compare(now);
  }

  #compare(now: number): void {
    const a = this.#verifiedIds;
    const b = this.#relayIds;
    if (a.size === b.size && [...a].every((id) => b.has(id))) {
      this.#since = null;
      this.#reported = false;
    } else this.#since ??= now;
  }

  state(now: number): 'none' | 'pending' | 'persistent' {
    if (this.#since === null) return 'none';
    return now - this.#since >= this.graceMs ? 'persistent' : 'pending';
  }

  /** True once per persistent mismatch. */
  reportDue(now: number): boolean {
    if (this.state(now) !== 'persistent' || this.#reported) return false;
    this.#reported = true;
    return true;
  }
}
