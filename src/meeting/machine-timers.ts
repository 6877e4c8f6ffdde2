/**
 * The meeting machine's timer effects (machine-types.ts: start-tick, stop-tick, arm-join-deadline,
 * disarm-join-deadline) carried out on a clock, the same for every shell that runs the machine: the
 * room's session (session.ts) and the web client's (web/src/meeting.ts). The timers hand their
 * events back through `dispatch`.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { MeetingEffect, MeetingEvent } from './machine-types.ts';

export type TimerEffect = Extract<
  MeetingEffect,
  { type: 'start-tick' | 'stop-tick' | 'arm-join-deadline' | 'disarm-join-deadline' }
>;

export class MachineTimers {
  readonly #clock: Clock;
  readonly #dispatch: (event: MeetingEvent) => void;
  #tick: TimerHandle | null = null;
  #joinDeadline: TimerHandle | null = null;

  constructor(clock: Clock, dispatch: (event: MeetingEvent) => void) {
    this.#clock = clock;
    this.#dispatch = dispatch;
  }

  apply(e: TimerEffect): void {
    switch (e.type) {
      case 'start-tick':
        this.#tick ??= this.#clock.setInterval(() => this.#dispatch({ type: 'tick' }), e.everyMs);
        return;
      case 'stop-tick':
        this.#stopTick();
        return;
      case 'arm-join-deadline':
        this.#disarm();
        this.#joinDeadline = this.#clock.setTimeout(() => {
          this.#joinDeadline = null;
          this.#dispatch({ type: 'join-deadline' });
        }, e.afterMs);
        return;
      case 'disarm-join-deadline':
        this.#disarm();
        return;
    }
  }

  /** The session is over: no timer of the machine's fires again. */
  clear(): void {
    this.#stopTick();
    this.#disarm();
  }

  #stopTick(): void {
    if (this.#tick !== null) this.#clock.clear(this.#tick);
    this.#tick = null;
  }

  #disarm(): void {
    if (this.#joinDeadline !== null) this.#clock.clear(this.#joinDeadline);
    this.#joinDeadline = null;
  }
}
