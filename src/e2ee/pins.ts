/**
 * Binding pins of one meeting instance (docs/protocol.md "Binding pinning"; decision record
 * docs/decisions/0011-binding-pinning.md): a participant id has one binding per instance. The first
 * binding hash seen for an id (by the leader when it lists the id, by every participant in a verified
 * roster) is pinned; a different one for the same id is a conflict, and the id stays quarantined for
 * the rest of the session. One instance per session, shared by its participant and leader roles, so a
 * successor leader starts from every pin this device has seen. Bounded: a hostile relay cannot grow it
 * without limit (the oldest pins of ids no longer present go first).
 */
import type { ParticipantId } from './types.ts';

/** Result of offering a binding hash for an id. */
export type PinResult = 'new' | 'same' | 'conflict';

export const MAX_PINS = 4096;

export class BindingPins {
  readonly #pins = new Map<ParticipantId, string>();
  readonly #conflicts = new Set<ParticipantId>();
  readonly #max: number;

  constructor(max = MAX_PINS) {
    this.#max = max;
  }

  get(id: ParticipantId): string | undefined {
    return this.#pins.get(id);
  }

  isConflicted(id: ParticipantId): boolean {
    return this.#conflicts.has(id);
  }

  get conflicts(): ReadonlySet<ParticipantId> {
    return this.#conflicts;
  }

  /**
   * Pin `hash` for `id` unless another is pinned. A conflict quarantines the id; the pin keeps the
   * first hash (the quarantined roster entry names it).
   */
  offer(id: ParticipantId, hash: string): PinResult {
    const pinned = this.#pins.get(id);
    if (pinned === undefined) {
      this.#pins.set(id, hash);
      this.#evict();
      return this.#conflicts.has(id) ? 'conflict' : 'new';
    }
    if (pinned !== hash) {
      this.markConflict(id);
      return 'conflict';
    }
    // Present again: move to the end so the ids still in the meeting are the last to be evicted.
    this.#pins.delete(id);
    this.#pins.set(id, hash);
    return this.#conflicts.has(id) ? 'conflict' : 'same';
  }

  /** Quarantine `id` (a conflict seen here or signed by the leader in its roster). */
  markConflict(id: ParticipantId, hash?: string): void {
    if (hash !== undefined && !this.#pins.has(id)) this.#pins.set(id, hash);
    this.#conflicts.add(id);
    if (this.#conflicts.size > this.#max) {
      const oldest = this.#conflicts.values().next().value;
      if (oldest !== undefined) this.#conflicts.delete(oldest);
    }
    this.#evict();
  }

  #evict(): void {
    while (this.#pins.size > this.#max) {
      const oldest = this.#pins.keys().next().value;
      if (oldest === undefined) return;
      this.#pins.delete(oldest);
    }
  }

  clear(): void {
    this.#pins.clear();
    this.#conflicts.clear();
  }
}
