/**
 * The panel controller (docs/hardware.md §Touch panel contract): keeps the panel showing the
 * RoomView, sending only what changed, redraws everything after each link `reset` (the link has
 * found the panel and turned acknowledgements on: see link.ts), and turns touch
 * releases into RoomCommands. Touch input is untrusted: only known (page, component) pairs on
 * the page we showed are acted on; digits are assembled here, never read back as free text
 * (except the volume slider's number).
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { humanMessage, RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import { silentLogger } from '../../core/logger.ts';
import { ins } from './codec.ts';
import { componentById, pageById } from './contract.ts';
import type { NextionLink } from './link.ts';
import type { ResetReason } from './link-types.ts';
import {
  type KeypadState,
  MAX_MEETING_ID_DIGITS,
  MAX_PASSCODE_DIGITS,
  render,
  shareButton,
  upcoming,
} from './render.ts';
import type { RoomCommands } from '../../protocol/room-commands.ts';
import type { RoomView } from './view.ts';

export type PanelControllerEvents = {
  /** A full redraw finished: how many instructions, how long since the reset (ms). */
  redraw: { reason: ResetReason; instructions: number; ms: number };
  /** A touch became a command. */
  command: { name: keyof RoomCommands; args: readonly unknown[] };
  /** A command or instruction failed. */
  error: { error: RoomdError };
  /** The panel shows the current view again after instructions had failed. */
  synced: Record<string, never>;
};

export interface PanelControllerOptions {
  readonly link: NextionLink;
  readonly clock: Clock;
  readonly commands: RoomCommands;
  readonly view: RoomView;
  readonly logger?: Logger;
  /** How long a failed command's sentence stays on the panel; default 8 s. */
  readonly noticeMs?: number;
}

export class PanelController {
  readonly #link: NextionLink;
  readonly #clock: Clock;
  readonly #commands: RoomCommands;
  readonly #log: Logger;
  readonly #noticeMs: number;
  readonly #events = new EventBus<PanelControllerEvents>();
  readonly #shadow = new Map<string, string>();
  readonly #offs: Unsubscribe[] = [];
  #view: RoomView;
  #keypad: KeypadState | null = null;
  #notice: string | null = null;
  #noticeTimer: TimerHandle | null = null;
  #tick: TimerHandle | null = null;
  #shownPage = -1;
  #dirty = false;
  #running = false;
  #redraw: { reason: ResetReason; started: number; count: number } | null = null;
  #generation = 0;
  #asleep = false;
  #failing = false;

  constructor(options: PanelControllerOptions) {
    this.#link = options.link;
    this.#clock = options.clock;
    this.#commands = options.commands;
    this.#view = options.view;
    this.#log = options.logger ?? silentLogger();
    this.#noticeMs = options.noticeMs ?? 8000;
  }

  on<K extends keyof PanelControllerEvents>(
    event: K,
    fn: (p: PanelControllerEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, fn);
  }

  get view(): RoomView {
    return this.#view;
  }

  /** The page id the controller last put on the panel (-1 before the first draw). */
  get shownPage(): number {
    return this.#shownPage;
  }

  start(): void {
    this.#offs.push(
      this.#link.on('reset', ({ reason }) => this.redraw(reason)),
      this.#link.on('offline', ({ error }) => {
        this.#failing = true;
        this.#report(error);
      }),
      this.#link.on('frame', (f) => {
        if (f.kind === 'touch' && !f.pressed) void this.#onTouch(f.page, f.component);
        // A sleeping panel only obeys a few instructions; hold updates and redraw on wake.
        else if (f.kind === 'sleep') this.#asleep = true;
        else if (f.kind === 'wake' || (f.kind === 'touch' && this.#asleep)) {
          this.#asleep = false;
          this.redraw('panel-wake');
        }
      }),
    );
    this.#tick = this.#clock.setInterval(() => this.#kick(), 1000);
    this.redraw('opened');
  }

  stop(): void {
    for (const off of this.#offs.splice(0)) off();
    if (this.#tick !== null) this.#clock.clear(this.#tick);
    if (this.#noticeTimer !== null) this.#clock.clear(this.#noticeTimer);
    this.#tick = null;
    this.#noticeTimer = null;
  }

  setView(view: RoomView): void {
    if (view.phase !== 'idle') this.#keypad = null;
    this.#view = view;
    this.#kick();
  }

  /** Forget what the panel shows and draw everything again. */
  redraw(reason: ResetReason): void {
    this.#shadow.clear();
    this.#shownPage = -1;
    this.#generation++;
    this.#redraw = { reason, started: this.#clock.monotonic(), count: 0 };
    this.#kick();
  }

  #kick(): void {
    this.#dirty = true;
    if (this.#running || this.#asleep) return;
    this.#running = true;
    void this.#flush();
  }

  /** Runs passes while dirty; `#running` is cleared in the same synchronous step as the last check. */
  async #flush(): Promise<void> {
    try {
      await this.#passLoop();
    } catch (e) {
      this.#running = false;
      this.#report(e);
    }
  }

  async #passLoop(): Promise<void> {
    for (;;) {
      if (!this.#dirty || this.#asleep) {
        this.#running = false;
        return;
      }
      this.#dirty = false;
      const generation = this.#generation;
      try {
        const r = render(this.#view, { keypad: this.#keypad, notice: this.#notice }, this.#clock.now());
        if (this.#shownPage !== r.page.id) {
          await this.#link.send(ins.page(r.page.id));
          this.#count();
          this.#shownPage = r.page.id;
          this.#shadow.clear();
        }
        for (const [key, instruction] of r.items) {
          if (this.#dirty && this.#redraw === null) break;
          if (this.#shadow.get(key) === instruction) continue;
          try {
            await this.#link.send(instruction);
            this.#count();
            this.#shadow.set(key, instruction);
          } catch (e) {
            if (e instanceof RoomdError && (e.code === 'device.unavailable' || e.code === 'device.timeout'))
              throw e;
            // The panel refused it (e.g. an HMI project without this component): report once,
            // and send it again only when the value changes or the page is redrawn.
            this.#shadow.set(key, instruction);
            this.#report(e);
          }
        }
      } catch (e) {
        // A reset during this pass (panel restart, replug) starts a fresh pass; otherwise the
        // line is down and the next reset will call redraw().
        if (this.#generation !== generation) continue;
        if (!(e instanceof RoomdError && e.code === 'device.unavailable')) {
          this.#failing = true;
          this.#report(e);
        }
        this.#dirty = true;
        this.#running = false;
        return;
      }
      if (this.#failing && !this.#dirty) {
        this.#failing = false;
        this.#events.emit('synced', {});
      }
      const rd = this.#redraw;
      if (!this.#dirty && rd !== null) {
        this.#redraw = null;
        this.#events.emit('redraw', {
          reason: rd.reason,
          instructions: rd.count,
          ms: this.#clock.monotonic() - rd.started,
        });
      }
    }
  }

  #count(): void {
    if (this.#redraw !== null) this.#redraw.count++;
  }

  #report(e: unknown): void {
    const error = e instanceof RoomdError ? e : new RoomdError('device.protocol_error', { cause: e });
    this.#log.debug({ code: error.code, context: error.context }, 'panel update failed');
    this.#events.emit('error', { error });
  }

  #showNotice(text: string | null): void {
    this.#notice = text;
    if (this.#noticeTimer !== null) this.#clock.clear(this.#noticeTimer);
    this.#noticeTimer = null;
    if (text !== null) {
      this.#noticeTimer = this.#clock.setTimeout(() => this.#showNotice(null), this.#noticeMs);
    }
    this.#kick();
  }

  async #run<K extends keyof RoomCommands>(name: K, ...args: Parameters<RoomCommands[K]>): Promise<void> {
    this.#events.emit('command', { name, args });
    try {
      await (this.#commands[name] as (...a: unknown[]) => Promise<void>)(...args);
    } catch (e) {
      this.#report(e);
      this.#showNotice(humanMessage(e));
    }
  }

  async #onTouch(pageId: number, componentId: number): Promise<void> {
    const page = pageById(pageId);
    const comp = page === undefined ? undefined : componentById(page, componentId);
    if (page === undefined || comp === undefined || pageId !== this.#shownPage) return;
    const view = this.#view;
    const name = comp.name;
    if (page.name === 'idle' && view.phase === 'idle') {
      const next = upcoming(view.meetings, this.#clock.now());
      const row = /^bMeet(\d)$/.exec(name);
      const target = row !== null ? next[Number(row[1])] : name === 'bJoin' ? next[0] : undefined;
      if (target !== undefined) return this.#run('join', target.id);
      if (name === 'bById') {
        this.#keypad = { step: 'id', meetingId: '', digits: '', error: null };
        this.#kick();
      }
      return;
    }
    if (page.name === 'keypad' && this.#keypad !== null) return this.#onKey(this.#keypad, name);
    if (page.name === 'joining' && view.phase === 'joining' && name === 'bCancel') return this.#run('leave');
    if (page.name !== 'meeting' || view.phase !== 'in-meeting') return;
    const m = view.meeting;
    const preset = /^bPre(\d)$/.exec(name);
    if (preset !== null) return this.#run('ptz', { op: 'preset', preset: Number(preset[1]) });
    switch (name) {
      case 'bMute':
        return this.#run('setMute', !m.muted);
      case 'bCam':
        return this.#run('setCamera', !m.cameraOn);
      case 'bVolDn':
        return this.#run('setVolume', Math.max(0, Math.round(m.volume) - 10));
      case 'bVolUp':
        return this.#run('setVolume', Math.min(100, Math.round(m.volume) + 10));
      case 'bLeave':
        return this.#run('leave');
      case 'bShare': {
        // A disabled button (someone else shares, no content source) does nothing; its caption says why.
        const share = m.share ?? null;
        const on = share === null ? null : shareButton(share).on;
        if (on !== null) return this.#run('share', on);
        return;
      }
      case 'hVol': {
        const v = await this.#link.get('hVol.val').catch(() => null);
        if (typeof v === 'number') return this.#run('setVolume', Math.max(0, Math.min(100, v)));
        return;
      }
    }
  }

  #onKey(k: KeypadState, name: string): Promise<void> | undefined {
    const digit = /^bK(\d)$/.exec(name);
    const limit = k.step === 'id' ? MAX_MEETING_ID_DIGITS : MAX_PASSCODE_DIGITS;
    let next: KeypadState | null = k;
    if (digit !== null) {
      next = k.digits.length < limit ? { ...k, digits: k.digits + digit[1], error: null } : k;
    } else if (name === 'bDel') {
      next = { ...k, digits: k.digits.slice(0, -1), error: null };
    } else if (name === 'bCancel') {
      next = k.step === 'passcode' ? { step: 'id', meetingId: '', digits: k.meetingId, error: null } : null;
    } else if (name === 'bOk') {
      if (k.step === 'id') {
        next =
          k.digits.length < 3
            ? { ...k, error: 'Enter the meeting ID.' }
            : { step: 'passcode', meetingId: k.digits, digits: '', error: null };
      } else {
        this.#keypad = null;
        this.#kick();
        return k.digits === '' ? this.#run('join', k.meetingId) : this.#run('join', k.meetingId, k.digits);
      }
    }
    this.#keypad = next;
    this.#kick();
    return undefined;
  }
}
