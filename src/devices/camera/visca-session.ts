/**
 * VISCA transaction state machine (hardware brief: "wait for the ACK before the next command;
 * at most two in flight"). Commands wait for an ACK (socket 1–2), then for completion; inquiries
 * wait for their `y0 50 … FF` answer. Error replies reject the command they belong to. A missing
 * ACK, answer or completion rejects with `device.timeout` and starts IF_Clear recovery; if the
 * camera does not answer IF_Clear either, the session is `unresponsive` until any reply arrives.
 * Pure over a write function, replies and a Clock.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import { encodeCommand, type ViscaCommand, type ViscaReply } from './visca-codec.ts';

export type ViscaHealth = 'ok' | 'recovering' | 'unresponsive';

interface Item {
  readonly command: ViscaCommand;
  readonly bytes: Uint8Array;
  readonly inquiry: boolean;
  readonly completionMs: number;
  readonly resolve: (data: number[]) => void;
  readonly reject: (e: RoomdError) => void;
  timer: TimerHandle | null;
}

export interface ViscaSessionOptions {
  readonly write: (bytes: Uint8Array) => Promise<void>;
  readonly clock: Clock;
  readonly address?: number;
  /** ACK (and inquiry answer) wait; default 1000 ms. */
  readonly ackTimeoutMs?: number;
  /** Completion wait for ordinary commands; default 30 s (a slow full-range move takes many seconds). */
  readonly completionTimeoutMs?: number;
  /** IF_Clear answer wait; default 1000 ms. */
  readonly clearTimeoutMs?: number;
  /** Queue cap; default 32. */
  readonly maxQueue?: number;
}

export type ViscaSessionEvents = {
  health: { health: ViscaHealth; error: RoomdError | null };
  /** A command failed (error reply or timeout). */
  failure: { error: RoomdError; command: ViscaCommand['kind'] };
};

export interface ViscaCounters {
  commands: number;
  inquiries: number;
  errors: number;
  timeouts: number;
  recoveries: number;
}

export class ViscaSession {
  readonly counters: ViscaCounters = { commands: 0, inquiries: 0, errors: 0, timeouts: 0, recoveries: 0 };
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  readonly #clock: Clock;
  readonly #address: number;
  readonly #ackMs: number;
  readonly #completionMs: number;
  readonly #clearMs: number;
  readonly #maxQueue: number;
  readonly #events = new EventBus<ViscaSessionEvents>();
  readonly #queue: Item[] = [];
  readonly #sockets = new Map<number, Item>();
  #awaiting: Item | null = null;
  #health: ViscaHealth = 'ok';
  #clearTimer: TimerHandle | null = null;

  constructor(o: ViscaSessionOptions) {
    this.#write = o.write;
    this.#clock = o.clock;
    this.#address = o.address ?? 1;
    this.#ackMs = o.ackTimeoutMs ?? 1000;
    this.#completionMs = o.completionTimeoutMs ?? 30_000;
    this.#clearMs = o.clearTimeoutMs ?? 1000;
    this.#maxQueue = o.maxQueue ?? 32;
  }

  get health(): ViscaHealth {
    return this.#health;
  }

  get inFlight(): number {
    return this.#sockets.size;
  }

  on<K extends keyof ViscaSessionEvents>(event: K, fn: (p: ViscaSessionEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  /** Run a command to completion (or an inquiry to its answer data). */
  execute(command: ViscaCommand, options: { completionTimeoutMs?: number } = {}): Promise<number[]> {
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(
        new RoomdError('device.unavailable', {
          message: 'The camera is busy.',
          context: { device: 'camera' },
        }),
      );
    }
    const bytes = encodeCommand(command, this.#address);
    return new Promise((resolve, reject) => {
      this.#queue.push({
        command,
        bytes,
        inquiry: command.kind === 'inquiry',
        completionMs: options.completionTimeoutMs ?? this.#completionMs,
        resolve,
        reject,
        timer: null,
      });
      this.#pump();
    });
  }

  /** Start an IF_Clear now (also used after the line reopens). */
  clear(): void {
    this.#recover(null);
  }

  /** The line closed: everything pending fails with `device.unavailable`. */
  abort(reason: string): void {
    const err = () => new RoomdError('device.unavailable', { context: { device: 'camera', reason } });
    this.#rejectAll(err);
    if (this.#clearTimer !== null) this.#clock.clear(this.#clearTimer);
    this.#clearTimer = null;
    if (this.#health === 'recovering') this.#setHealth('ok', null);
  }

  receive(r: ViscaReply): void {
    if (r.kind === 'unknown' || r.kind === 'network-change' || r.kind === 'address-set') return;
    if (r.kind === 'if-clear') {
      if (this.#clearTimer !== null) this.#clock.clear(this.#clearTimer);
      this.#clearTimer = null;
      if (this.#health !== 'ok') this.#setHealth('ok', null);
      this.#pump();
      return;
    }
    if (r.address !== this.#address) return;
    if (this.#health === 'unresponsive') this.#setHealth('ok', null);
    const a = this.#awaiting;
    if (r.kind === 'ack') {
      if (a === null || a.inquiry) return;
      this.#stop(a);
      this.#awaiting = null;
      const stale = this.#sockets.get(r.socket);
      if (stale !== undefined) {
        // The camera reused a socket we thought busy: that command's completion was lost.
        this.#stop(stale);
        stale.reject(this.#fail(stale, 'device.protocol_error', 'The camera dropped a command.'));
      }
      this.#sockets.set(r.socket, a);
      a.timer = this.#clock.setTimeout(() => this.#timeout(a, r.socket), a.completionMs);
      this.#pump();
      return;
    }
    if (r.kind === 'completion') {
      const s = this.#sockets.get(r.socket);
      if (r.socket !== 0 && s !== undefined) {
        this.#sockets.delete(r.socket);
        this.#done(s, r.data);
      } else if (a !== null && (a.inquiry ? r.socket === 0 : true)) {
        this.#awaiting = null;
        this.#done(a, r.data);
      }
      this.#pump();
      return;
    }
    // error
    const target = r.socket !== 0 && this.#sockets.has(r.socket) ? this.#sockets.get(r.socket)! : a;
    if (target === null) return;
    if (target === a) this.#awaiting = null;
    else this.#sockets.delete(r.socket);
    this.#stop(target);
    this.counters.errors++;
    const error = new RoomdError('device.protocol_error', {
      message: `The camera refused the command: ${r.name}.`,
      context: { device: 'camera', command: target.command.kind, viscaError: r.code, reason: r.name },
    });
    this.#events.emit('failure', { error, command: target.command.kind });
    target.reject(error);
    this.#pump();
  }

  #pump(): void {
    if (this.#awaiting !== null || this.#health === 'recovering') return;
    const next = this.#queue[0];
    if (next === undefined) return;
    if (!next.inquiry && this.#sockets.size >= 2) return;
    this.#queue.shift();
    this.#awaiting = next;
    if (next.inquiry) this.counters.inquiries++;
    else this.counters.commands++;
    next.timer = this.#clock.setTimeout(() => this.#timeout(next, null), this.#ackMs);
    this.#write(next.bytes).catch((cause: unknown) => {
      if (this.#awaiting !== next) return;
      this.#awaiting = null;
      this.#stop(next);
      next.reject(new RoomdError('device.unavailable', { cause, context: { device: 'camera' } }));
      this.#pump();
    });
  }

  #timeout(item: Item, socket: number | null): void {
    item.timer = null;
    if (socket === null) {
      if (this.#awaiting !== item) return;
      this.#awaiting = null;
    } else {
      if (this.#sockets.get(socket) !== item) return;
      this.#sockets.delete(socket);
    }
    this.counters.timeouts++;
    const what = socket === null ? (item.inquiry ? 'answer' : 'acknowledgement') : 'completion';
    const error = this.#fail(item, 'device.timeout', `The camera did not send its ${what}.`);
    this.#events.emit('failure', { error, command: item.command.kind });
    item.reject(error);
    this.#recover(error);
  }

  #recover(error: RoomdError | null): void {
    this.counters.recoveries++;
    // IF_Clear cancels whatever the camera holds; those commands fail now.
    for (const [s, it] of this.#sockets) {
      this.#stop(it);
      it.reject(
        this.#fail(it, 'device.protocol_error', 'The camera command was cancelled to recover the camera.'),
      );
      this.#sockets.delete(s);
    }
    this.#setHealth('recovering', error);
    if (this.#clearTimer !== null) this.#clock.clear(this.#clearTimer);
    this.#clearTimer = this.#clock.setTimeout(() => {
      this.#clearTimer = null;
      const e = new RoomdError('device.timeout', {
        message: 'The camera does not answer.',
        context: { device: 'camera', step: 'if-clear' },
      });
      this.#rejectAll(() => e);
      this.#setHealth('unresponsive', e);
    }, this.#clearMs);
    this.#write(encodeCommand({ kind: 'if-clear' })).catch(() => {});
  }

  #rejectAll(make: () => RoomdError): void {
    const all = [
      ...this.#queue,
      ...this.#sockets.values(),
      ...(this.#awaiting === null ? [] : [this.#awaiting]),
    ];
    this.#queue.length = 0;
    this.#sockets.clear();
    this.#awaiting = null;
    for (const it of all) {
      this.#stop(it);
      it.reject(make());
    }
  }

  #done(item: Item, data: number[]): void {
    this.#stop(item);
    item.resolve(data);
  }

  #stop(item: Item): void {
    if (item.timer !== null) this.#clock.clear(item.timer);
    item.timer = null;
  }

  #fail(item: Item, code: 'device.timeout' | 'device.protocol_error', message: string): RoomdError {
    return new RoomdError(code, { message, context: { device: 'camera', command: item.command.kind } });
  }

  #setHealth(health: ViscaHealth, error: RoomdError | null): void {
    if (health === this.#health && error === null) return;
    this.#health = health;
    this.#events.emit('health', { health, error });
  }
}
