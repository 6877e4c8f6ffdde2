/**
 * The room's one mute state: mute from any source (panel, kiosk, button) is one state
 * (docs/hardware.md §Speakerphone). The device manager owns one instance and shares it: the speakerphone
 * button and the panel change it, the meeting and the speakerphone LED follow it. Only real changes emit.
 */
import { EventBus, type Unsubscribe } from '../core/events.ts';

export type MuteSource = 'panel' | 'kiosk' | 'button' | 'api' | 'meeting' | 'startup';

export interface MuteChange {
  readonly muted: boolean;
  readonly source: MuteSource;
}

export class MuteState {
  #muted: boolean;
  #lastSource: MuteSource = 'startup';
  readonly #events = new EventBus<{ change: MuteChange }>();

  constructor(initial = false) {
    this.#muted = initial;
  }

  get muted(): boolean {
    return this.#muted;
  }

  get lastSource(): MuteSource {
    return this.#lastSource;
  }

  /** Returns true when the state changed. */
  set(muted: boolean, source: MuteSource): boolean {
    if (muted === this.#muted) return false;
    this.#muted = muted;
    this.#lastSource = source;
    this.#events.emit('change', { muted, source });
    return true;
  }

  toggle(source: MuteSource): boolean {
    this.set(!this.#muted, source);
    return this.#muted;
  }

  on(event: 'change', fn: (c: MuteChange) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }
}
