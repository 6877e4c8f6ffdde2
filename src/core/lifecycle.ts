/**
 * Modules with start()/stop(), composed in order and stopped in reverse (zigbee2mqtt's model):
 * constructors do nothing, `start` may fail and unwinds what already started, every `stop` is
 * guarded so one failing module never keeps the rest running.
 */
import { RoomdError } from './errors.ts';
import type { Logger } from './logger.ts';

export interface Module {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface StopReport {
  stopped: string[];
  failed: { name: string; error: unknown }[];
}

export class Lifecycle {
  readonly #modules: Module[] = [];
  readonly #started: Module[] = [];
  readonly #log: Logger;
  readonly #stopTimeoutMs: number;
  #stopping: Promise<StopReport> | null = null;

  constructor(log: Logger, options: { stopTimeoutMs?: number } = {}) {
    this.#log = log;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  }

  add(module: Module): this {
    if (this.#started.length > 0)
      throw new RoomdError('core.invalid_argument', { message: 'Modules must be added before start.' });
    this.#modules.push(module);
    return this;
  }

  get startedNames(): string[] {
    return this.#started.map((m) => m.name);
  }

  /** Start every module in order. If one fails, stop the ones already started and rethrow. */
  async start(): Promise<void> {
    for (const m of this.#modules) {
      try {
        this.#log.debug({ module: m.name }, 'starting');
        await m.start();
        this.#started.push(m);
        this.#log.debug({ module: m.name }, 'started');
      } catch (error) {
        this.#log.error({ module: m.name, err: error }, 'module failed to start');
        await this.stop();
        throw new RoomdError('core.module_start_failed', {
          message: `The ${m.name} part of roomd failed to start.`,
          context: { module: m.name },
          cause: error,
        });
      }
    }
  }

  /** Stop started modules in reverse order; idempotent, and concurrent calls share one run. */
  stop(): Promise<StopReport> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<StopReport> {
    const report: StopReport = { stopped: [], failed: [] };
    while (this.#started.length > 0) {
      const m = this.#started.pop()!;
      try {
        await withTimeout(
          Promise.resolve().then(() => m.stop()),
          this.#stopTimeoutMs,
          m.name,
        );
        report.stopped.push(m.name);
      } catch (error) {
        this.#log.error({ module: m.name, err: error }, 'module failed to stop');
        report.failed.push({ name: m.name, error });
      }
    }
    return report;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RoomdError('core.timeout', {
                message: `${name} did not stop within ${ms} ms.`,
                context: { module: name },
              }),
            ),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
