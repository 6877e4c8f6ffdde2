/**
 * A byte stream that stays up (docs/hardware.md §Transport behaviour: detect unplug, reopen with
 * backoff, and report each state). It opens a path through an injectable opener, reports every state
 * change, and after a disconnect or failed open retries with exponential backoff on the Clock.
 *
 * States: connecting (first open) → open | failed; open → disconnected → reopening → open | failed;
 * failed → reopening after the backoff delay. `stop()` ends everything (state `stopped`).
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { ByteStream, ByteStreamOpener, OpenOptions } from './stream.ts';

export type LinkState = 'connecting' | 'open' | 'disconnected' | 'reopening' | 'failed' | 'stopped';

export interface LinkStateChange {
  readonly state: LinkState;
  readonly path: string;
  /** Open attempts since the last successful open. */
  readonly attempt: number;
  /** For `failed`: why; for `disconnected`: the close reason. */
  readonly error?: RoomdError;
  /** For `failed`: milliseconds until the next attempt. */
  readonly retryInMs?: number;
}

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

/** Capped at 1 s so a replugged device is back well within the 2 s redraw goal. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 1000, factor: 2 };

export interface SupervisedStreamOptions {
  readonly path: string;
  readonly opener: ByteStreamOpener;
  readonly clock: Clock;
  readonly openOptions?: OpenOptions;
  readonly backoff?: BackoffOptions;
}

export type SupervisedStreamEvents = {
  state: LinkStateChange;
  data: Uint8Array;
  /** Each successful (re)open; `reopened` is false only for the first. */
  open: { reopened: boolean };
};

export interface LinkCounters {
  opens: number;
  disconnects: number;
  failedOpens: number;
  bytesIn: number;
  bytesOut: number;
}

export function backoffDelay(attempt: number, b: BackoffOptions): number {
  return Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, attempt - 1));
}

export class SupervisedStream {
  readonly path: string;
  readonly counters: LinkCounters = { opens: 0, disconnects: 0, failedOpens: 0, bytesIn: 0, bytesOut: 0 };
  readonly #opener: ByteStreamOpener;
  readonly #clock: Clock;
  readonly #openOptions: OpenOptions;
  readonly #backoff: BackoffOptions;
  readonly #events = new EventBus<SupervisedStreamEvents>();
  #stream: ByteStream | null = null;
  #state: LinkState = 'stopped';
  #attempt = 0;
  #timer: TimerHandle | null = null;
  #running = false;
  #everOpened = false;
  #lastError: RoomdError | null = null;
  #baudRate: number | null = null;

  constructor(options: SupervisedStreamOptions) {
    this.path = options.path;
    this.#opener = options.opener;
    this.#clock = options.clock;
    this.#openOptions = options.openOptions ?? {};
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
  }

  get state(): LinkState {
    return this.#state;
  }

  get lastError(): RoomdError | null {
    return this.#lastError;
  }

  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /**
   * Line speed of the open stream when it can be changed (serial lines), else null (TCP, closed).
   * Each (re)open starts at the configured `openOptions.baudRate`.
   */
  get baudRate(): number | null {
    return this.#stream?.setBaudRate === undefined ? null : this.#baudRate;
  }

  /** Change the open line's speed; `device.unavailable` when closed or not a serial line. */
  async setBaudRate(baudRate: number): Promise<void> {
    const s = this.#stream;
    if (s === null || this.#state !== 'open' || s.setBaudRate === undefined) {
      throw new RoomdError('device.unavailable', { context: { path: this.path, state: this.#state } });
    }
    await s.setBaudRate(baudRate);
    this.#baudRate = baudRate;
  }

  on<K extends keyof SupervisedStreamEvents>(
    event: K,
    fn: (p: SupervisedStreamEvents[K]) => void,
  ): Unsubscribe {
    return this.#events.on(event, fn);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt = 0;
    this.#setState({ state: 'connecting', path: this.path, attempt: 0 });
    void this.#tryOpen();
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) this.#clock.clear(this.#timer);
    this.#timer = null;
    const s = this.#stream;
    this.#stream = null;
    if (s !== null) await s.close();
    this.#setState({ state: 'stopped', path: this.path, attempt: this.#attempt });
  }

  async write(bytes: Uint8Array): Promise<void> {
    const s = this.#stream;
    if (s === null || this.#state !== 'open') {
      throw new RoomdError('device.unavailable', { context: { path: this.path, state: this.#state } });
    }
    this.counters.bytesOut += bytes.length;
    await s.write(bytes);
  }

  async #tryOpen(): Promise<void> {
    this.#attempt++;
    let stream: ByteStream;
    try {
      stream = await this.#opener(this.path, this.#openOptions);
    } catch (error) {
      if (!this.#running) return;
      const err =
        error instanceof RoomdError
          ? error
          : new RoomdError('transport.open_failed', { cause: error, context: { path: this.path } });
      this.#lastError = err;
      this.counters.failedOpens++;
      const retryInMs = backoffDelay(this.#attempt, this.#backoff);
      this.#setState({ state: 'failed', path: this.path, attempt: this.#attempt, error: err, retryInMs });
      this.#schedule(retryInMs);
      return;
    }
    if (!this.#running) {
      await stream.close();
      return;
    }
    this.#stream = stream;
    this.#baudRate = this.#openOptions.baudRate ?? 9600;
    this.counters.opens++;
    stream.on('data', (bytes) => {
      this.counters.bytesIn += bytes.length;
      this.#events.emit('data', bytes);
    });
    stream.on('close', (info) => {
      if (this.#stream !== stream) return;
      this.#stream = null;
      if (!this.#running) return;
      this.counters.disconnects++;
      const err = new RoomdError('transport.disconnected', {
        context: { path: this.path, reason: info.reason ?? 'closed' },
      });
      this.#lastError = err;
      this.#attempt = 0;
      this.#setState({ state: 'disconnected', path: this.path, attempt: 0, error: err });
      this.#schedule(0);
    });
    const reopened = this.#everOpened;
    this.#everOpened = true;
    this.#attempt = 0;
    this.#setState({ state: 'open', path: this.path, attempt: 0 });
    this.#events.emit('open', { reopened });
  }

  #schedule(ms: number): void {
    if (this.#timer !== null) this.#clock.clear(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (!this.#running) return;
      this.#setState({ state: 'reopening', path: this.path, attempt: this.#attempt });
      void this.#tryOpen();
    }, ms);
  }

  #setState(change: LinkStateChange): void {
    this.#state = change.state;
    this.#events.emit('state', change);
  }
}
