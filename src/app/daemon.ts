/**
 * The composition root of `roomd run`: loads settings and the device identity, composes the
 * modules in start order, tells systemd when it really serves, and stops everything in reverse on
 * SIGTERM/SIGINT. A configuration that cannot be used starts a safe mode that shows the problem
 * instead of crash-looping.
 */
import * as fsp from 'node:fs/promises';
import { type Clock, SystemClock } from '../core/clock.ts';
import { humanMessage, RoomdError } from '../core/errors.ts';
import { ExitCode } from '../core/exit-codes.ts';
import { Lifecycle, type Module, type StopReport } from '../core/lifecycle.ts';
import { componentLogger, type Logger } from '../core/logger.ts';
import { type DeviceIdentity, loadOrCreateIdentity } from '../config/identity.ts';
import { type LoadedSettings, type Settings, SettingsStore } from '../config/settings.ts';
import { SystemdNotifier } from '../system/sdnotify.ts';

export const DEFAULT_STATE_DIR = '/var/lib/roomd';

export function resolveStateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env['ROOMD_STATE_DIR'] ?? DEFAULT_STATE_DIR;
}

export interface DaemonContext {
  stateDir: string;
  settings: Settings;
  loaded: LoadedSettings;
  identity: DeviceIdentity | null;
  /** Why the daemon runs in safe mode, if it does; shown on the room screen. */
  safeMode: RoomdError | null;
  /** Problems that do not stop the room but an admin should see. */
  problems: RoomdError[];
  clock: Clock;
  log: Logger;
  env: NodeJS.ProcessEnv;
}

/** Builds the modules for a context; the daemon starts them in order. */
export type ModuleFactory = (ctx: DaemonContext) => Module[] | Promise<Module[]>;

export interface DaemonOptions {
  stateDir: string;
  log: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  modules?: ModuleFactory;
  notifier?: SystemdNotifier;
}

export class Daemon {
  readonly #opts: DaemonOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #lifecycle: Lifecycle | null = null;
  #notifier: SystemdNotifier | null = null;
  #keepAlive: NodeJS.Timeout | null = null;
  context: DaemonContext | null = null;

  constructor(options: DaemonOptions) {
    this.#opts = options;
    this.#clock = options.clock ?? new SystemClock();
    this.#log = componentLogger(options.log, 'daemon');
  }

  async start(): Promise<DaemonContext> {
    const env = this.#opts.env ?? process.env;
    const stateDir = this.#opts.stateDir;
    try {
      await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new RoomdError('core.store_io', {
        message: `Cannot create the state directory ${stateDir}.`,
        cause: error,
      });
    }

    const loaded = await new SettingsStore(stateDir).load(env);
    const problems = [...loaded.problems];
    let safeMode = loaded.safeMode;
    for (const p of problems) this.#log.warn({ code: p.code }, p.message);
    if (loaded.migratedFrom !== null)
      this.#log.info({ from: loaded.migratedFrom }, 'settings upgraded to the current schema');

    let identity: DeviceIdentity | null = null;
    try {
      const id = await loadOrCreateIdentity(stateDir, componentLogger(this.#opts.log, 'identity'));
      identity = id.identity;
      if (id.problem !== undefined) problems.push(id.problem);
    } catch (error) {
      safeMode ??=
        error instanceof RoomdError ? error : new RoomdError('config.identity_corrupt', { cause: error });
    }
    if (safeMode !== null)
      this.#log.error({ code: safeMode.code }, `starting in safe mode: ${safeMode.message}`);

    const ctx: DaemonContext = {
      stateDir,
      settings: loaded.settings,
      loaded,
      identity,
      safeMode,
      problems,
      clock: this.#clock,
      log: this.#opts.log,
      env,
    };
    this.context = ctx;

    const lifecycle = new Lifecycle(componentLogger(this.#opts.log, 'lifecycle'));
    for (const m of (await this.#opts.modules?.(ctx)) ?? []) lifecycle.add(m);
    this.#lifecycle = lifecycle;
    await lifecycle.start();

    // Keep the event loop alive even when no module holds a handle (no hardware, no HTTP).
    this.#keepAlive = setInterval(() => {}, 1 << 30);
    this.#notifier =
      this.#opts.notifier ??
      new SystemdNotifier({ env, clock: this.#clock, log: componentLogger(this.#opts.log, 'sd-notify') });
    this.#notifier.ready(safeMode === null ? 'serving' : `safe mode: ${humanMessage(safeMode)}`);
    this.#log.info(
      {
        stateDir,
        deviceId: identity?.deviceId ?? null,
        modules: lifecycle.startedNames,
        safeMode: safeMode?.code ?? null,
      },
      'roomd is running',
    );
    return ctx;
  }

  async stop(): Promise<StopReport> {
    this.#notifier?.stopping();
    const report = (await this.#lifecycle?.stop()) ?? { stopped: [], failed: [] };
    if (this.#keepAlive !== null) clearInterval(this.#keepAlive);
    this.#keepAlive = null;
    this.#notifier?.close();
    return report;
  }
}

/** Run until SIGTERM/SIGINT; resolves with the exit code. */
export async function runUntilSignal(daemon: Daemon, log: Logger): Promise<number> {
  try {
    await daemon.start();
  } catch (error) {
    log.fatal({ err: error }, humanMessage(error));
    await daemon.stop();
    return error instanceof RoomdError && error.layer === 'config' ? ExitCode.config : ExitCode.software;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
  log.info({ signal }, 'shutting down');
  const report = await daemon.stop();
  if (report.failed.length > 0) {
    log.error({ failed: report.failed.map((f) => f.name) }, 'some parts did not stop cleanly');
    return ExitCode.unclean;
  }
  log.info({ stopped: report.stopped }, 'stopped');
  return ExitCode.ok;
}
