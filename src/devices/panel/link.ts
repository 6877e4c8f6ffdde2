/**
 * Nextion transaction layer (hardware brief, "Touch panel": bkcmd=3 acknowledgements, timeouts,
 * retries). One instruction in flight; each waits for `01` (or the value frame of a `get`, or
 * the page frame of `sendme`), an error code rejects it with `device.protocol_error`, silence
 * retries it and finally rejects with `device.timeout`. Unsolicited frames (touches, sleep/wake)
 * are re-emitted; a panel restart (`88`, start-up frame) or a reopened line emits `reset` so the
 * controller can redraw everything.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { SupervisedStream } from '../../transport/serial/supervisor.ts';
import { encodeInstruction, type NextionFrame, NextionParser } from './codec.ts';

type Expect = 'ack' | 'value' | 'page';

interface Pending {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly expect: Expect;
  readonly resolve: (v: NextionFrame) => void;
  readonly reject: (e: RoomdError) => void;
  tries: number;
}

export type ResetReason = 'opened' | 'reopened' | 'panel-ready' | 'panel-startup' | 'panel-wake';

export type NextionLinkEvents = {
  frame: NextionFrame;
  reset: { reason: ResetReason };
};

export interface NextionLinkOptions {
  readonly stream: SupervisedStream;
  readonly clock: Clock;
  /** Per attempt; default 400 ms. */
  readonly timeoutMs?: number;
  /** Extra attempts after a timeout; default 2. */
  readonly retries?: number;
  /** Queue cap; further sends are rejected with `device.unavailable`. Default 256. */
  readonly maxQueue?: number;
}

export interface NextionLinkCounters {
  sent: number;
  acked: number;
  errors: number;
  timeouts: number;
  retries: number;
}

export class NextionLink {
  readonly counters: NextionLinkCounters = { sent: 0, acked: 0, errors: 0, timeouts: 0, retries: 0 };
  readonly #stream: SupervisedStream;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #maxQueue: number;
  readonly #parser = new NextionParser();
  readonly #events = new EventBus<NextionLinkEvents>();
  readonly #queue: Pending[] = [];
  #current: Pending | null = null;
  #timer: TimerHandle | null = null;
  #booting = false;
  #bootTimer: TimerHandle | null = null;
  readonly #offs: Unsubscribe[] = [];

  constructor(options: NextionLinkOptions) {
    this.#stream = options.stream;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs ?? 400;
    this.#retries = options.retries ?? 2;
    this.#maxQueue = options.maxQueue ?? 256;
    this.#offs.push(
      this.#stream.on('data', (bytes) => {
        for (const f of this.#parser.push(bytes)) this.#onFrame(f);
      }),
      this.#stream.on('state', (s) => {
        if (s.state === 'disconnected' || s.state === 'stopped') this.#failAll('line closed');
      }),
      this.#stream.on('open', ({ reopened }) =>
        this.#events.emit('reset', { reason: reopened ? 'reopened' : 'opened' }),
      ),
    );
  }

  get garbageBytes(): number {
    return this.#parser.garbageBytes;
  }

  get queued(): number {
    return this.#queue.length + (this.#current === null ? 0 : 1);
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
    for (const off of this.#offs) off();
    if (this.#bootTimer !== null) this.#clock.clear(this.#bootTimer);
    this.#bootTimer = null;
    this.#failAll('closed');
  }

  #enqueue(text: string, expect: Expect): Promise<NextionFrame> {
    const bytes = encodeInstruction(text);
    if (!this.#stream.isOpen || this.#queue.length >= this.#maxQueue) {
      return Promise.reject(
        new RoomdError('device.unavailable', { context: { device: 'panel', state: this.#stream.state } }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ text, bytes, expect, resolve, reject, tries: 0 });
      this.#pump();
    });
  }

  #ready(reason: ResetReason): void {
    if (this.#bootTimer !== null) this.#clock.clear(this.#bootTimer);
    this.#bootTimer = null;
    this.#booting = false;
    this.#events.emit('reset', { reason });
    this.#pump();
  }

  #pump(): void {
    if (this.#current !== null || this.#booting) return;
    const next = this.#queue.shift();
    if (next === undefined) return;
    this.#current = next;
    this.#transmit(next);
  }

  #transmit(p: Pending): void {
    p.tries++;
    this.counters.sent++;
    this.#timer = this.#clock.setTimeout(() => this.#onTimeout(p), this.#timeoutMs);
    this.#stream.write(p.bytes).catch((error: unknown) => {
      if (this.#current !== p) return;
      this.#finish(
        p,
        null,
        new RoomdError('device.unavailable', { cause: error, context: { device: 'panel' } }),
      );
    });
  }

  #onTimeout(p: Pending): void {
    if (this.#current !== p) return;
    this.#timer = null;
    if (p.tries <= this.#retries) {
      this.counters.retries++;
      this.#transmit(p);
      return;
    }
    this.counters.timeouts++;
    this.#finish(
      p,
      null,
      new RoomdError('device.timeout', {
        message: 'The touch panel did not answer.',
        context: { device: 'panel', instruction: p.text.slice(0, 40), tries: p.tries },
      }),
    );
  }

  #finish(p: Pending, frame: NextionFrame | null, error: RoomdError | null): void {
    if (this.#timer !== null) this.#clock.clear(this.#timer);
    this.#timer = null;
    this.#current = null;
    if (error !== null) p.reject(error);
    else if (frame !== null) p.resolve(frame);
    this.#pump();
  }

  #failAll(reason: string): void {
    const all = this.#current === null ? [...this.#queue] : [this.#current, ...this.#queue];
    this.#queue.length = 0;
    if (this.#timer !== null) this.#clock.clear(this.#timer);
    this.#timer = null;
    this.#current = null;
    for (const p of all)
      p.reject(new RoomdError('device.unavailable', { context: { device: 'panel', reason } }));
  }

  #onFrame(f: NextionFrame): void {
    const p = this.#current;
    if (f.kind === 'startup') {
      // Power-on: `88` (ready) normally follows at once; hold instructions until it does, or
      // until a short grace period for firmware that never sends it.
      this.#failAll('panel restarted');
      this.#booting = true;
      if (this.#bootTimer !== null) this.#clock.clear(this.#bootTimer);
      this.#bootTimer = this.#clock.setTimeout(() => this.#ready('panel-startup'), 300);
      return;
    }
    if (f.kind === 'ready') {
      this.#failAll('panel restarted');
      this.#ready('panel-ready');
      return;
    }
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
    if (f.kind !== 'ok' && f.kind !== 'error') this.#events.emit('frame', f);
  }
}
