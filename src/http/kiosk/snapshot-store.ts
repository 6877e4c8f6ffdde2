/**
 * A ready-made RoomStateSource for the app layer: hold the room snapshot, apply patches from the
 * meeting, device and settings events, and tell subscribers once per burst of changes
 * (notifications are coalesced to the end of the current tick, so a join that changes five fields
 * sends the kiosk one state message, not five).
 */
import type { RoomStateSource, Unsubscribe } from '../ports.ts';
import type { MeetingState, RoomSnapshot } from '../schemas/state.ts';

export class RoomSnapshotStore implements RoomStateSource {
  #state: RoomSnapshot;
  readonly #listeners = new Set<(s: RoomSnapshot) => void>();
  #pending = false;

  constructor(initial: RoomSnapshot) {
    this.#state = initial;
  }

  getState(): RoomSnapshot {
    return this.#state;
  }

  subscribe(listener: (s: RoomSnapshot) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Replace top-level parts of the snapshot. */
  update(patch: Partial<RoomSnapshot>): void {
    this.#state = { ...this.#state, ...patch };
    this.#schedule();
  }

  /** Change fields of the current meeting; ignored when there is none. */
  updateMeeting(patch: Partial<MeetingState>): void {
    if (this.#state.meeting === null) return;
    this.update({ meeting: { ...this.#state.meeting, ...patch } });
  }

  #schedule(): void {
    if (this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      const state = this.#state;
      for (const l of [...this.#listeners]) l(state);
    });
  }
}
