/**
 * VISCA transaction state machine (docs/hardware.md §PTZ camera: the next command waits for the
 * ACK; at most two in flight). Commands wait for an ACK (socket 1–2), then for completion; inquiries
 * wait for their `y0 50 … FF` answer. Error replies reject the command they belong to.
 *
 * Setting up the line is what every Sony manual asks before control ("be sure to send the Address
 * command and the IF_Clear command using the broadcast function", EVI-D70 Technical Manual, VISCA
 * Device Setting Command): Address Set `88 30 01 FF` → `88 30 0w FF`, IF_Clear `88 01 00 01 FF`,
 * then (with `identify`) CAM_VersionInq `8x 09 00 02 FF`. The session runs it when the line opens,
 * when the camera sends Network Change `z0 38 FF` ("the address must be re-set when this message is
 * received") and to recover from a missing ACK, answer or completion (`device.timeout`). Commands
 * queue meanwhile and are encoded when sent, with the layout of the model found. Network Changes
 * coalesce: one setup runs at a time, and any number of them arriving while it runs make one more
 * setup after it (the chain may have changed again), never a restart. If the camera does not
 * answer the setup, the session is `unresponsive` until any reply arrives.
 * Pure over a write function, replies and a Clock. docs/hardware.md §Conformance.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import {
  encodeCommand,
  LAYOUT_EVI,
  type PanTiltLayout,
  parseVersionReply,
  type ViscaCommand,
  type ViscaReply,
  type ViscaVersion,
} from './visca-codec.ts';

export type ViscaHealth = 'ok' | 'recovering' | 'unresponsive';

/** A command built when it is sent (its bytes depend on the model the setup found). */
export interface DeferredCommand {
  readonly kind: ViscaCommand['kind'];
  readonly build: () => ViscaCommand;
}

interface Item {
  readonly source: ViscaCommand | DeferredCommand;
  readonly kind: ViscaCommand['kind'];
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
  /** Wait for each setup answer (Address Set, IF_Clear); default 1000 ms. */
  readonly clearTimeoutMs?: number;
  /** Queue cap; default 32. */
  readonly maxQueue?: number;
  /** Ask CAM_VersionInq during setup and report it with `ready`; default false. */
  readonly identify?: boolean;
}

export type ViscaSessionEvents = {
  health: { health: ViscaHealth; error: RoomdError | null };
  /** A command failed (error reply or timeout). */
  failure: { error: RoomdError; command: ViscaCommand['kind'] };
  /**
   * Setup finished: `chain` devices answered Address Set; `version` is the CAM_VersionInq answer
   * (null when not asked or not answered). Emitted before queued commands are sent.
   */
  ready: { chain: number; version: ViscaVersion | null };
  /** The camera sent Network Change; the setup runs again. */
  'network-change': { address: number };
};

export interface ViscaCounters {
  commands: number;
  inquiries: number;
  errors: number;
  timeouts: number;
  recoveries: number;
  networkChanges: number;
}

type SetupStep = 'address' | 'clear' | 'identify';

export class ViscaSession {
  readonly counters: ViscaCounters = {
    commands: 0,
    inquiries: 0,
    errors: 0,
    timeouts: 0,
    recoveries: 0,
    networkChanges: 0,
  };
  /** Pan/tilt position layout used to encode commands; set from the model profile. */
  layout: PanTiltLayout = LAYOUT_EVI;
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  readonly #clock: Clock;
  readonly #address: number;
  readonly #ackMs: number;
  readonly #completionMs: number;
  readonly #clearMs: number;
  readonly #maxQueue: number;
  readonly #identify: boolean;
  readonly #events = new EventBus<ViscaSessionEvents>();
  readonly #queue: Item[] = [];
  readonly #sockets = new Map<number, Item>();
  #awaiting: Item | null = null;
  #health: ViscaHealth = 'ok';
  #setup: { step: SetupStep; timer: TimerHandle } | null = null;
  /** A Network Change arrived while a setup ran: set up once more when it ends. */
  #setupAgain = false;
  /** Setup commands (Address Set, IF_Clear) the line refused to carry. */
  setupWriteFailures = 0;
  #chain = 0;

  constructor(o: ViscaSessionOptions) {
    this.#write = o.write;
    this.#clock = o.clock;
    this.#address = o.address ?? 1;
    this.#ackMs = o.ackTimeoutMs ?? 1000;
    this.#completionMs = o.completionTimeoutMs ?? 30_000;
    this.#clearMs = o.clearTimeoutMs ?? 1000;
    this.#maxQueue = o.maxQueue ?? 32;
    this.#identify = o.identify ?? false;
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

  /** Devices on the VISCA chain, from the last Address Set answer (0 before one). */
  get chain(): number {
    return this.#chain;
  }

  /**
   * Run a command to completion (or an inquiry to its answer data). A plain command is checked
   * now (invalid arguments throw `core.invalid_argument`); a deferred one is built when sent.
   */
  execute(
    command: ViscaCommand | DeferredCommand,
    options: { completionTimeoutMs?: number } = {},
  ): Promise<number[]> {
    if (this.#queue.length >= this.#maxQueue) {
      return Promise.reject(
        new RoomdError('device.unavailable', {
          message: 'The camera is busy.',
          context: { device: 'camera' },
        }),
      );
    }
    if (!('build' in command)) encodeCommand(command, this.#address, this.layout);
    return new Promise((resolve, reject) => {
      this.#queue.push({
        source: command,
        kind: command.kind,
        inquiry: command.kind === 'inquiry',
        completionMs: options.completionTimeoutMs ?? this.#completionMs,
        resolve,
        reject,
        timer: null,
      });
      this.#pump();
    });
  }

  /** Set the line up now: Address Set, IF_Clear and (with `identify`) CAM_VersionInq. */
  setup(): void {
    this.#startSetup(null);
  }

  /** The line closed: everything pending fails with `device.unavailable`. */
  abort(reason: string): void {
    const err = () => new RoomdError('device.unavailable', { context: { device: 'camera', reason } });
    this.#rejectAll(err);
    this.#endSetup();
    this.#setupAgain = false;
    if (this.#health === 'recovering') this.#setHealth('ok', null);
  }

  receive(r: ViscaReply): void {
    if (r.kind === 'unknown') return;
    if (r.kind === 'network-change') {
      this.counters.networkChanges++;
      this.#events.emit('network-change', { address: r.address });
      if (this.#setup !== null) this.#setupAgain = true;
      else this.#startSetup(null);
      return;
    }
    const step = this.#setup?.step;
    if (r.kind === 'address-set') {
      if (step === 'address') this.#addressed(r.next);
      return;
    }
    if (r.kind === 'if-clear') {
      if (step === 'clear') this.#cleared();
      return;
    }
    if (r.address !== this.#address) return;
    if (step === 'identify') {
      if (r.kind === 'completion' && r.socket === 0) this.#finishSetup(parseVersionReply(r.data));
      else if (r.kind === 'error') this.#finishSetup(null);
      return;
    }
    if (step !== undefined) return;
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
      context: { device: 'camera', command: target.kind, viscaError: r.code, reason: r.name },
    });
    this.#events.emit('failure', { error, command: target.kind });
    target.reject(error);
    this.#pump();
  }

  #pump(): void {
    for (;;) {
      if (this.#awaiting !== null || this.#setup !== null || this.#health === 'recovering') return;
      const next = this.#queue[0];
      if (next === undefined) return;
      if (!next.inquiry && this.#sockets.size >= 2) return;
      this.#queue.shift();
      let bytes: Uint8Array;
      try {
        const command = 'build' in next.source ? next.source.build() : next.source;
        bytes = encodeCommand(command, this.#address, this.layout);
      } catch (e) {
        // Arguments this model cannot take (a preset it does not have, a pan out of its range).
        if (!(e instanceof RoomdError)) throw e;
        next.reject(e);
        continue;
      }
      this.#send(next, bytes);
    }
  }

  #send(next: Item, bytes: Uint8Array): void {
    this.#awaiting = next;
    if (next.inquiry) this.counters.inquiries++;
    else this.counters.commands++;
    next.timer = this.#clock.setTimeout(() => this.#timeout(next, null), this.#ackMs);
    this.#write(bytes).catch((cause: unknown) => {
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
    this.#events.emit('failure', { error, command: item.kind });
    item.reject(error);
    this.#startSetup(error);
  }

  #startSetup(error: RoomdError | null): void {
    this.#setupAgain = false;
    this.counters.recoveries++;
    // IF_Clear cancels whatever the camera holds, and a command sent before a new address has no
    // answer to wait for: those commands fail now; queued ones wait for the setup.
    const cancelled = [...this.#sockets.values(), ...(this.#awaiting === null ? [] : [this.#awaiting])];
    this.#sockets.clear();
    this.#awaiting = null;
    for (const it of cancelled) {
      this.#stop(it);
      it.reject(
        this.#fail(it, 'device.protocol_error', 'The camera command was cancelled to set the camera up.'),
      );
    }
    this.#setHealth('recovering', error);
    this.#step('address', encodeCommand({ kind: 'address-set' }));
  }

  #addressed(next: number): void {
    this.#chain = Math.max(0, next - 1);
    if (this.#address >= next) {
      this.#endSetup();
      const e = new RoomdError('device.unavailable', {
        message: `No camera answers at VISCA address ${this.#address}.`,
        context: { device: 'camera', address: this.#address, chain: this.#chain },
      });
      this.#rejectAll(() => e);
      this.#setHealth('unresponsive', e);
      this.#again();
      return;
    }
    this.#step('clear', encodeCommand({ kind: 'if-clear' }));
  }

  #cleared(): void {
    if (!this.#identify) {
      this.#finishSetup(null);
      return;
    }
    this.#step('identify', encodeCommand({ kind: 'inquiry', what: 'version' }, this.#address));
  }

  #step(step: SetupStep, bytes: Uint8Array): void {
    this.#endSetup();
    const ms = step === 'identify' ? this.#ackMs : this.#clearMs;
    const timer = this.#clock.setTimeout(() => {
      if (step === 'identify') {
        // A camera that answered Address Set and IF_Clear but not CAM_VersionInq is still usable.
        this.#finishSetup(null);
        return;
      }
      this.#setup = null;
      const e = new RoomdError('device.timeout', {
        message: 'The camera does not answer.',
        context: { device: 'camera', step: step === 'address' ? 'address-set' : 'if-clear' },
      });
      this.#rejectAll(() => e);
      this.#setHealth('unresponsive', e);
      this.#again();
    }, ms);
    this.#setup = { step, timer };
    this.#write(bytes).catch(() => {
      // A line that cannot be written to: counted here; the setup timer above reports the camera
      // unresponsive, naming the step.
      this.setupWriteFailures++;
    });
  }

  #finishSetup(version: ViscaVersion | null): void {
    this.#endSetup();
    if (this.#again()) return;
    if (this.#health !== 'ok') this.#setHealth('ok', null);
    this.#events.emit('ready', { chain: this.#chain, version });
    this.#pump();
  }

  /** Runs the setup a Network Change asked for while one ran; true when it started. */
  #again(): boolean {
    if (!this.#setupAgain) return false;
    this.#startSetup(null);
    return true;
  }

  #endSetup(): void {
    if (this.#setup !== null) this.#clock.clear(this.#setup.timer);
    this.#setup = null;
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
    return new RoomdError(code, { message, context: { device: 'camera', command: item.kind } });
  }

  #setHealth(health: ViscaHealth, error: RoomdError | null): void {
    if (health === this.#health && error === null) return;
    this.#health = health;
    this.#events.emit('health', { health, error });
  }
}
