/**
 * Nextion transaction layer (docs/hardware.md §Acknowledgements, restarts, line speed). One
 * instruction in flight; each waits for `01` (or the value frame of a `get`, or the page frame of
 * `sendme`); a failure code (Nextion Instruction Set §7) rejects it with `device.protocol_error`,
 * `24` (buffer overflow) is only counted. Unsolicited frames (touches, sleep/wake) are re-emitted.
 *
 * The link finds the panel itself instead of trusting start-up frames, which panels made with
 * Nextion Editor 1.65 or later only send when their project prints them:
 * - On every (re)open, after `00 00 00 FF FF FF`/`88`, after any silence (an instruction or the
 *   idle heartbeat `sys0=sys0` not acknowledged in time) and after garbage on an idle line, it
 *   probes: `FF FF FF connect FF FF FF` at the current speed, then at the configured one and the
 *   common ones, each waited for 1e6/baud + 30 ms (Nextion Upload Protocol, step 1) plus a margin,
 *   until `comok` answers.
 * - A panel found at another speed is switched with `baud=` (not stored on the panel; up to three
 *   tries while it keeps answering at its old speed) and checked
 *   again at the configured speed; if it does not follow, the link stays at the speed it answered.
 * - Then `bkcmd=3`, `sys0=sys0` and `sendme`: the `01` before the page frame proves acknowledgements
 *   are on. Only then is `reset` emitted, so the controller redraws everything.
 * - While no speed answers, the link is offline: sends fail at once, and it probes again every
 *   `offlineRetryMs`.
 *
 * Types, options, counters and constants are in `link-types.ts`; the probe's frame wait is
 * `frame-waiter.ts`.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError, toRoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { SupervisedStream } from '../../transport/serial/supervisor.ts';
import { encodeInstruction, ins, type NextionFrame, NextionParser, TERMINATOR } from './codec.ts';
import { FrameWaiter } from './frame-waiter.ts';
import {
  BAUD_SETTLE_MS,
  BAUD_SWITCH_ATTEMPTS,
  BOOT_GRACE_MS,
  concat,
  type Expect,
  HEARTBEAT,
  type LinkPhase,
  type NextionLinkCounters,
  type NextionLinkEvents,
  type NextionLinkOptions,
  noop,
  PROBE_RATES,
  type Pending,
  type ResetReason,
  zeroCounters,
} from './link-types.ts';

export class NextionLink {
  readonly counters: NextionLinkCounters = zeroCounters();
  readonly #stream: SupervisedStream;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #heartbeatMs: number;
  readonly #probeRates: readonly number[];
  readonly #probeMarginMs: number;
  readonly #offlineRetryMs: number;
  readonly #maxQueue: number;
  readonly #parser = new NextionParser();
  readonly #events = new EventBus<NextionLinkEvents>();
  readonly #queue: Pending[] = [];
  readonly #offs: Unsubscribe[] = [];
  readonly #waiter: FrameWaiter;
  #phase: LinkPhase = 'closed';
  #current: Pending | null = null;
  #timer: TimerHandle | null = null;
  #heartbeatTimer: TimerHandle | null = null;
  #bootTimer: TimerHandle | null = null;
  #probeGen = 0;
  #targetRate: number | null = null;
  #asleep = false;
  #panelInfo: string | null = null;

  constructor(options: NextionLinkOptions) {
    this.#stream = options.stream;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 400;
    this.#heartbeatMs = options.heartbeatMs ?? 750;
    this.#probeRates = options.probeRates ?? PROBE_RATES;
    this.#probeMarginMs = options.probeMarginMs ?? 70;
    this.#offlineRetryMs = options.offlineRetryMs ?? 2000;
    this.#maxQueue = options.maxQueue ?? 256;
    this.#waiter = new FrameWaiter(options.clock);
    this.#offs.push(
      this.#stream.on('data', (bytes) => this.#onData(bytes)),
      this.#stream.on('state', (s) => {
        if (s.state === 'disconnected' || s.state === 'stopped') this.#lineDown('line closed');
      }),
      this.#stream.on('open', ({ reopened }) => {
        this.#targetRate = this.#stream.baudRate;
        this.#asleep = false;
        this.#startProbe(reopened ? 'reopened' : 'opened');
      }),
    );
  }

  get garbageBytes(): number {
    return this.#parser.garbageBytes;
  }

  get queued(): number {
    return this.#queue.length + (this.#current === null ? 0 : 1);
  }

  get phase(): LinkPhase {
    return this.#phase;
  }

  /** The line speed now (null when the line has none to set, e.g. TCP). */
  get baudRate(): number | null {
    return this.#stream.baudRate;
  }

  /** What the panel said to `connect` (model, firmware, serial number…), once found. */
  get panelInfo(): string | null {
    return this.#panelInfo;
  }

  on<K extends keyof NextionLinkEvents>(event: K, fn: (p: NextionLinkEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  /** Send an instruction and wait for its acknowledgement. */
  async send(text: string): Promise<void> {
    await this.#enqueue(text, 'ack');
  }

  /** `get obj.attr` → the string or number the panel returns. */
  async get(objAttr: string): Promise<string | number> {
    const f = await this.#enqueue(`get ${objAttr}`, 'value');
    return f.kind === 'string' || f.kind === 'number' ? f.value : '';
  }

  /** `sendme` → the current page id. */
  async currentPage(): Promise<number> {
    const f = await this.#enqueue('sendme', 'page');
    return f.kind === 'page' ? f.page : -1;
  }

  dispose(): void {
    for (const off of this.#offs.splice(0)) off();
    this.#lineDown('closed');
  }

  #enqueue(text: string, expect: Expect): Promise<NextionFrame> {
    const bytes = encodeInstruction(text);
    if (!this.#stream.isOpen || this.#queue.length >= this.#maxQueue || this.#phase === 'offline') {
      const reason = this.#phase === 'offline' ? 'panel not answering' : undefined;
      return Promise.reject(
        new RoomdError('device.unavailable', {
          context: { device: 'panel', state: this.#stream.state, ...(reason ? { reason } : {}) },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ text, bytes, expect, resolve, reject });
      this.#pump();
    });
  }

  // ---- instructions ------------------------------------------------------------------------

  #pump(): void {
    if (this.#current !== null || this.#phase !== 'ready') return;
    const next = this.#queue.shift();
    if (next === undefined) {
      this.#scheduleHeartbeat();
      return;
    }
    this.#clearHeartbeat();
    this.#current = next;
    this.counters.sent++;
    this.#timer = this.#clock.setTimeout(() => this.#onTimeout(next), this.#timeoutMs);
    this.#stream.write(next.bytes).catch((error: unknown) => {
      if (this.#current !== next) return;
      this.#finish(
        next,
        null,
        new RoomdError('device.unavailable', { cause: error, context: { device: 'panel' } }),
      );
    });
  }

  #onTimeout(p: Pending): void {
    if (this.#current !== p) return;
    this.#timer = null;
    this.#current = null;
    this.counters.timeouts++;
    p.reject(
      new RoomdError('device.timeout', {
        message: 'The touch panel did not answer.',
        context: { device: 'panel', instruction: p.text.slice(0, 40) },
      }),
    );
    // Silence: the panel may have restarted (acknowledgements off, another speed) — find it again.
    this.#startProbe('panel-recovered');
  }

  #finish(p: Pending, frame: NextionFrame | null, error: RoomdError | null): void {
    if (this.#timer !== null) this.#clock.clear(this.#timer);
    this.#timer = null;
    this.#current = null;
    if (error !== null) p.reject(error);
    else if (frame !== null) p.resolve(frame);
    this.#pump();
  }

  #failAll(reason: string, code: 'device.unavailable' | 'device.timeout' = 'device.unavailable'): void {
    const all = this.#current === null ? [...this.#queue] : [this.#current, ...this.#queue];
    this.#queue.length = 0;
    if (this.#timer !== null) this.#clock.clear(this.#timer);
    this.#timer = null;
    this.#current = null;
    for (const p of all) {
      p.reject(
        code === 'device.timeout'
          ? new RoomdError(code, {
              message: 'The touch panel did not answer at any line speed.',
              context: { device: 'panel', reason },
            })
          : new RoomdError(code, { context: { device: 'panel', reason } }),
      );
    }
  }

  #lineDown(reason: string): void {
    this.#cancelProbe();
    this.#clearHeartbeat();
    if (this.#bootTimer !== null) this.#clock.clear(this.#bootTimer);
    this.#bootTimer = null;
    this.#phase = 'closed';
    this.#failAll(reason);
  }

  // ---- heartbeat ---------------------------------------------------------------------------

  #clearHeartbeat(): void {
    if (this.#heartbeatTimer !== null) this.#clock.clear(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  #scheduleHeartbeat(): void {
    this.#clearHeartbeat();
    if (this.#heartbeatMs <= 0 || this.#phase !== 'ready' || this.#asleep) return;
    this.#heartbeatTimer = this.#clock.setTimeout(() => this.#heartbeatNow(), this.#heartbeatMs);
  }

  #heartbeatNow(): void {
    this.#clearHeartbeat();
    const idle = this.#current === null && this.#queue.length === 0;
    if (this.#phase !== 'ready' || this.#asleep || !idle) return;
    this.counters.heartbeats++;
    this.#queue.push({
      text: HEARTBEAT,
      bytes: encodeInstruction(HEARTBEAT),
      expect: 'ack',
      resolve: noop,
      reject: noop,
    });
    this.#pump();
  }

  // ---- frames ------------------------------------------------------------------------------

  #onData(bytes: Uint8Array): void {
    const garbage = this.#parser.garbageBytes;
    for (const f of this.#parser.push(bytes)) this.#onFrame(f);
    // Noise on an idle line is often a panel talking at another speed: check at once.
    if (this.#parser.garbageBytes > garbage && this.#phase === 'ready' && !this.#asleep) this.#heartbeatNow();
  }

  #onFrame(f: NextionFrame): void {
    if (this.#phase === 'probing' || this.#phase === 'offline' || this.#phase === 'closed') {
      this.#waiter.offer(f);
      return;
    }
    if (f.kind === 'startup') {
      // Power-on: `88` normally follows at once; hold instructions until it does, or until a
      // short grace period for firmware that never sends it, then find the panel again.
      this.#failAll('panel restarted');
      this.#clearHeartbeat();
      this.#phase = 'booting';
      if (this.#bootTimer !== null) this.#clock.clear(this.#bootTimer);
      this.#bootTimer = this.#clock.setTimeout(() => {
        this.#bootTimer = null;
        this.#startProbe('panel-startup');
      }, BOOT_GRACE_MS);
      return;
    }
    if (f.kind === 'ready') {
      if (this.#phase !== 'booting') this.#failAll('panel restarted');
      if (this.#bootTimer !== null) this.#clock.clear(this.#bootTimer);
      this.#bootTimer = null;
      this.#startProbe('panel-ready');
      return;
    }
    if (f.kind === 'overflow') {
      // §7: the instruction being received goes on; only earlier, unprocessed ones are lost,
      // and with one instruction in flight there are none.
      this.counters.overflows++;
      return;
    }
    if (f.kind === 'sleep') {
      this.#asleep = true;
      this.#clearHeartbeat();
    } else if (f.kind === 'wake' || f.kind === 'touch') {
      const was = this.#asleep;
      this.#asleep = false;
      if (was && this.#current === null && this.#queue.length === 0) this.#scheduleHeartbeat();
    }
    const p = this.#current;
    if (p !== null) {
      if (f.kind === 'error') {
        this.counters.errors++;
        this.#finish(
          p,
          null,
          new RoomdError('device.protocol_error', {
            message: `The touch panel rejected an instruction: ${f.name}.`,
            context: { device: 'panel', code: f.code, instruction: p.text.slice(0, 40) },
          }),
        );
        return;
      }
      const matches =
        (p.expect === 'ack' && f.kind === 'ok') ||
        (p.expect === 'value' && (f.kind === 'string' || f.kind === 'number')) ||
        (p.expect === 'page' && f.kind === 'page');
      if (matches) {
        this.counters.acked++;
        this.#finish(p, f, null);
        return;
      }
    }
    if (f.kind !== 'ok' && f.kind !== 'error' && f.kind !== 'comok') this.#events.emit('frame', f);
  }

  // ---- finding the panel -------------------------------------------------------------------

  #startProbe(reason: ResetReason): void {
    this.#cancelProbe();
    this.#clearHeartbeat();
    if (this.#phase !== 'offline') this.#phase = 'probing';
    const gen = this.#probeGen;
    this.#probe(gen, reason).catch((error: unknown) => {
      // Last-resort guard: only a bug below the stream seam gets here (it throws RoomdErrors).
      // Counted and reported through `offline`; the next (re)open of the line searches again.
      if (gen !== this.#probeGen) return;
      this.counters.probeFailures++;
      this.#phase = 'offline';
      this.#failAll('probe failed', 'device.timeout');
      this.#events.emit('offline', { error: toRoomdError(error) });
    });
  }

  #cancelProbe(): void {
    this.#probeGen++;
    this.#waiter.cancel();
  }

  /** Writes outside the instruction queue; a closed line ends the probe through `#lineDown`. */
  async #write(bytes: Uint8Array): Promise<boolean> {
    try {
      await this.#stream.write(bytes);
      return true;
    } catch (e) {
      if (e instanceof RoomdError) return false;
      throw e;
    }
  }

  #candidates(): (number | null)[] {
    const current = this.#stream.baudRate;
    if (current === null) return [null];
    const out: number[] = [];
    for (const r of [current, this.#targetRate ?? current, ...this.#probeRates]) {
      if (!out.includes(r)) out.push(r);
    }
    return out;
  }

  async #probe(gen: number, reason: ResetReason): Promise<void> {
    for (;;) {
      for (const rate of this.#candidates()) {
        if (gen !== this.#probeGen) return;
        if (!(await this.#tryRate(rate, gen))) continue;
        if (await this.#establish(rate, gen)) {
          if (gen !== this.#probeGen) return;
          this.#phase = 'ready';
          if (reason === 'panel-recovered') this.counters.recoveries++;
          this.#events.emit('reset', { reason });
          this.#pump();
          return;
        }
      }
      if (gen !== this.#probeGen) return;
      if (this.#phase !== 'offline') {
        this.#phase = 'offline';
        this.#failAll('panel not answering', 'device.timeout');
        this.#events.emit('offline', {
          error: new RoomdError('device.timeout', {
            message: 'The touch panel did not answer at any line speed.',
            context: { device: 'panel', probes: this.counters.probes },
          }),
        });
      }
      await this.#waiter.sleep(this.#offlineRetryMs);
    }
  }

  /** Set the line to `rate` (null: leave it) and send `connect`; true when `comok` answers. */
  async #tryRate(rate: number | null, gen: number): Promise<boolean> {
    if (rate !== null && rate !== this.#stream.baudRate) {
      try {
        await this.#stream.setBaudRate(rate);
      } catch (e) {
        if (e instanceof RoomdError) return false;
        throw e;
      }
      if (gen !== this.#probeGen) return false;
      this.#parser.reset();
    }
    this.counters.probes++;
    const waitMs = Math.ceil(1e6 / (rate ?? 9600)) + 30 + this.#probeMarginMs;
    const answer = this.#waiter.wait((f) => f.kind === 'comok', waitMs);
    // The empty instruction first ends whatever noise the panel has buffered (Upload Protocol).
    if (!(await this.#write(concat(TERMINATOR, encodeInstruction(ins.connect))))) this.#waiter.cancel();
    const f = await answer;
    if (f?.kind !== 'comok' || gen !== this.#probeGen) return false;
    this.#panelInfo = f.info;
    return true;
  }

  /** The panel answered at `rate`: move it to the configured speed, then turn acknowledgements on. */
  async #establish(rate: number | null, gen: number): Promise<boolean> {
    const target = this.#targetRate;
    if (rate !== null && target !== null && rate !== target) {
      // A `baud=` garbled on the way (noise, or its bytes still in flight when we changed our
      // speed) leaves the panel where it was: it answers at `rate` again, and gets another go.
      let switched = false;
      for (let attempt = 0; attempt < BAUD_SWITCH_ATTEMPTS && !switched; attempt++) {
        if (!(await this.#write(encodeInstruction(ins.baud(target))))) return false;
        await this.#waiter.sleep(BAUD_SETTLE_MS);
        if (gen !== this.#probeGen) return false;
        switched = await this.#tryRate(target, gen);
        if (gen !== this.#probeGen) return false;
        if (!switched && !(await this.#tryRate(rate, gen))) return false;
      }
      if (switched) this.counters.baudSwitches++;
      else this.counters.baudFallbacks++;
    }
    let acks = 0;
    const fence = this.#waiter.wait((f) => {
      if (f.kind === 'ok') acks++;
      return f.kind === 'page';
    }, this.#timeoutMs);
    const sent = await this.#write(
      concat(encodeInstruction(ins.bkcmd(3)), encodeInstruction(HEARTBEAT), encodeInstruction(ins.sendme)),
    );
    if (!sent) this.#waiter.cancel();
    const f = await fence;
    return f !== null && acks > 0 && gen === this.#probeGen;
  }
}
