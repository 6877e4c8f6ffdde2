/**
 * Supervised child process for ffmpeg capture and playout: a dying ffmpeg is restarted with backoff,
 * and every change of state is reported.
 *
 * States: starting → running (first stdout bytes) → restarting (exit, stall, parse failure; backoff
 * doubling from 500 ms to 30 s, reset after 10 s of stable running) → failed (a precheck such as
 * "camera device present" fails, or too many consecutive failures; it keeps retrying slowly and recovers
 * on its own) → stopped. The last stderr lines are kept for diagnosis (ffmpeg prints no secrets; argument
 * vectors carry none either).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { componentLogger, type Logger } from '../core/logger.ts';
import type { ChildHandle, ExitInfo, ProcessRunner } from '../system/process.ts';
import { backoffDelay } from '../transport/backoff.ts';

export type RunnerState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export interface RunnerStatus {
  readonly name: string;
  readonly state: RunnerState;
  /** Why the runner is restarting or failed: 'exited', 'stalled', 'spawn_failed', 'device_missing', … */
  readonly reason: string | null;
  readonly restarts: number;
  readonly pid: number | null;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null } | null;
  /** Monotonic ms of the last state change. */
  readonly since: number;
  readonly stderrTail: readonly string[];
}

export type Precheck = () => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface SupervisedProcessOptions {
  readonly name: string;
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly command?: string;
  /** Argument vector, asked again before every start. */
  readonly args: () => readonly string[];
  readonly precheck?: Precheck;
  /** Called with each new child before its output flows (reset parsers here). */
  readonly onSpawn?: (child: ChildHandle) => void;
  readonly onStdout: (chunk: Uint8Array) => void;
  readonly onStatus?: (status: RunnerStatus) => void;
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number; readonly random?: () => number };
  /** Running this long resets the failure count (default 10 s). */
  readonly stableAfterMs?: number;
  /** No stdout for this long while starting or running means hung (default 10 s; 0 turns it off). */
  readonly stallTimeoutMs?: number;
  /** When the child counts as running: at its first stdout bytes (default) or as soon as it spawned. */
  readonly runningOn?: 'stdout' | 'spawn';
  /** Consecutive failures before the state reads 'failed' (default 6). */
  readonly failedAfter?: number;
  /** How often a failed precheck is tried again (default 5 s). */
  readonly recheckMs?: number;
  readonly stderrLines?: number;
}

/** How often the stall watch looks (ms). */
const WATCH_MS = 1000;

export class SupervisedProcess {
  readonly #o: SupervisedProcessOptions;
  readonly #log: Logger;
  #state: RunnerState = 'stopped';
  #reason: string | null = null;
  #since: number;
  #restarts = 0;
  #failures = 0;
  #child: ChildHandle | undefined;
  #generation = 0;
  #lastExit: RunnerStatus['lastExit'] = null;
  #lastData = 0;
  /**
   * Silence of the child's stdout counted only while our own event loop was running: a starved
   * parent (a CPU-loaded box) must not read as a stalled encoder.
   */
  #silentMs = 0;
  #lastWatch = 0;
  #loopStalls = 0;
  #runningSince = 0;
  #retryTimer: TimerHandle | undefined;
  #watchTimer: TimerHandle | undefined;
  #stderr: string[] = [];
  #stderrPartial = '';
  #exitWait: Promise<ExitInfo> | undefined;

  constructor(options: SupervisedProcessOptions) {
    this.#o = options;
    this.#log = componentLogger(options.logger, `media.${options.name}`);
    this.#since = options.clock.monotonic();
  }

  get state(): RunnerState {
    return this.#state;
  }

  status(): RunnerStatus {
    return {
      name: this.#o.name,
      state: this.#state,
      reason: this.#reason,
      restarts: this.#restarts,
      pid: this.#child?.pid ?? null,
      lastExit: this.#lastExit,
      since: this.#since,
      stderrTail: [...this.#stderr],
    };
  }

  /** The current child's stdin (playout writes to it); undefined while no child runs. */
  get stdin(): ChildHandle['stdin'] | undefined {
    return this.#child?.stdin;
  }

  start(): void {
    if (this.#state !== 'stopped') return;
    this.#failures = 0;
    this.#lastWatch = this.#o.clock.monotonic();
    this.#watchTimer = this.#o.clock.setInterval(() => this.#watch(), WATCH_MS);
    void this.#launch();
  }

  /** Kill the current child and start a new one at once (not counted as a failure). */
  restart(reason: string): void {
    if (this.#state === 'stopped' || this.#child === undefined) return;
    this.#log.info({ reason }, 'restarting ffmpeg on request');
    const old = this.#child;
    this.#kill(old);
    this.#detach();
    this.#setState('restarting', reason);
    this.#restarts += 1;
    // The new encoder starts once the old one is gone (at most the 2 s until SIGKILL): a camera
    // is busy while its old reader still holds it. A stop or another restart meanwhile wins.
    const gen = ++this.#generation;
    void old.exited.then(() => {
      if (gen === this.#generation && this.#state === 'restarting') void this.#launch();
    });
  }

  /** Report a fatal problem seen in the output (e.g. a parse failure): restart with backoff. */
  fail(reason: string): void {
    if (this.#child === undefined) return;
    const child = this.#child;
    this.#detach();
    this.#kill(child);
    this.#scheduleRetry(reason);
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#generation += 1;
    this.#clearTimers();
    const child = this.#child;
    this.#child = undefined;
    this.#setState('stopped', null);
    if (child !== undefined) {
      child.stdin.end();
      this.#kill(child);
      const hard = this.#o.clock.setTimeout(() => child.kill('SIGKILL'), 2000);
      await child.exited;
      this.#o.clock.clear(hard);
    }
    if (this.#exitWait !== undefined) await this.#exitWait;
  }

  async #launch(): Promise<void> {
    const gen = ++this.#generation;
    this.#setState('starting', this.#reason);
    if (this.#o.precheck !== undefined) {
      const r = await this.#o.precheck();
      if (gen !== this.#generation) return;
      if (!r.ok) {
        this.#setState('failed', r.reason);
        this.#retryTimer = this.#o.clock.setTimeout(() => void this.#launch(), this.#o.recheckMs ?? 5000);
        return;
      }
    }
    const child = this.#o.runner.spawn(this.#o.command ?? 'ffmpeg', this.#o.args());
    this.#child = child;
    this.#lastData = this.#o.clock.monotonic();
    this.#silentMs = 0;
    this.#o.onSpawn?.(child);
    if (this.#o.runningOn === 'spawn') {
      this.#runningSince = this.#lastData;
      this.#setState('running', null);
    }
    child.stdout.on('data', (chunk: Uint8Array) => {
      if (gen !== this.#generation) return;
      this.#lastData = this.#o.clock.monotonic();
      this.#silentMs = 0;
      if (this.#state === 'starting' || this.#state === 'restarting') {
        this.#runningSince = this.#lastData;
        this.#setState('running', null);
      }
      this.#o.onStdout(chunk);
    });
    child.stderr.on('data', (chunk: Uint8Array) => this.#onStderr(chunk));
    child.stdout.on('error', () => {});
    child.stderr.on('error', () => {});
    this.#exitWait = child.exited.then((exit) => {
      this.#lastExit = { code: exit.code, signal: exit.signal };
      if (gen !== this.#generation || this.#child !== child) return exit;
      this.#child = undefined;
      const reason = exit.error !== undefined ? 'spawn_failed' : 'exited';
      this.#log.warn(
        { code: exit.code, signal: exit.signal, reason, stderr: this.#stderr.slice(-3) },
        'ffmpeg ended',
      );
      this.#scheduleRetry(reason);
      return exit;
    });
  }

  #scheduleRetry(reason: string): void {
    const now = this.#o.clock.monotonic();
    if (this.#state === 'running' && now - this.#runningSince >= (this.#o.stableAfterMs ?? 10_000))
      this.#failures = 0;
    this.#failures += 1;
    this.#restarts += 1;
    const b = this.#o.backoff ?? {};
    const delay = backoffDelay(this.#failures, {
      initialMs: b.initialMs ?? 500,
      maxMs: b.maxMs ?? 30_000,
      ...(b.random === undefined ? {} : { random: b.random }),
    });
    this.#generation += 1;
    this.#setState(this.#failures >= (this.#o.failedAfter ?? 6) ? 'failed' : 'restarting', reason);
    this.#retryTimer = this.#o.clock.setTimeout(() => void this.#launch(), delay);
  }

  #watch(): void {
    const now = this.#o.clock.monotonic();
    const elapsed = now - this.#lastWatch;
    this.#lastWatch = now;
    // A watch tick that comes late means our own loop was blocked: the child's output may be
    // waiting unread in the pipe. Count at most one and a half periods per tick, so only silence
    // observed by a running loop can kill the child.
    if (elapsed > WATCH_MS * 1.5) this.#loopStalls += 1;
    const child = this.#child;
    if (child === undefined || (this.#state !== 'running' && this.#state !== 'starting')) return;
    this.#silentMs += Math.min(elapsed, WATCH_MS * 1.5);
    const limit = this.#o.stallTimeoutMs ?? 10_000;
    if (limit <= 0 || this.#silentMs < limit) return;
    this.#log.warn(
      { state: this.#state, silentMs: Math.round(this.#silentMs), loopStalls: this.#loopStalls },
      'ffmpeg produced no output; killing it',
    );
    this.#detach();
    this.#kill(child);
    this.#scheduleRetry('stalled');
  }

  #detach(): void {
    this.#generation += 1;
    this.#child = undefined;
  }

  #kill(child: ChildHandle): void {
    try {
      child.kill('SIGTERM');
    } catch (error) {
      // Already gone (Node's own ChildProcess returns false instead; other runners may throw ESRCH).
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    const hard = this.#o.clock.setTimeout(() => child.kill('SIGKILL'), 2000);
    void child.exited.then(() => this.#o.clock.clear(hard));
  }

  #onStderr(chunk: Uint8Array): void {
    const text = this.#stderrPartial + Buffer.from(chunk).toString('utf8');
    const lines = text.split('\n');
    this.#stderrPartial = (lines.pop() ?? '').slice(-300);
    for (const line of lines) {
      const l = line.trimEnd();
      if (l === '') continue;
      this.#stderr.push(l.slice(0, 300));
    }
    const keep = this.#o.stderrLines ?? 20;
    if (this.#stderr.length > keep) this.#stderr.splice(0, this.#stderr.length - keep);
  }

  #clearTimers(): void {
    if (this.#retryTimer !== undefined) this.#o.clock.clear(this.#retryTimer);
    if (this.#watchTimer !== undefined) this.#o.clock.clear(this.#watchTimer);
    this.#retryTimer = undefined;
    this.#watchTimer = undefined;
  }

  #setState(state: RunnerState, reason: string | null): void {
    if (state === this.#state && reason === this.#reason) return;
    this.#state = state;
    this.#reason = reason;
    this.#since = this.#o.clock.monotonic();
    if (state === 'failed') this.#log.error({ reason }, 'ffmpeg runner failed');
    this.#o.onStatus?.(this.status());
  }
}
