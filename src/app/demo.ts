/**
 * `roomd demo`: the appliance on one machine with nothing attached — the real daemon, with an
 * embedded meeting relay, emulated touch panel, camera and speakerphone, a synthetic camera and
 * microphone, two meetings booked for the room and simulated far-end people in them.
 */
import * as path from 'node:path';
import { ExitCode } from '../core/exit-codes.ts';
import type { Logger } from '../core/logger.ts';
import type { RoomMediaConfig } from '../meeting/room.ts';
import { type Command, stateDirArgs } from './command.ts';
import { Daemon } from './daemon.ts';
import { DemoEnvironment } from './demo-env.ts';
import { daemonLogger, daemonModules } from './modules.ts';
import { LogRing } from './room/admin.ts';
import type { RoomApp } from './room/index.ts';

export interface DemoRun {
  env: DemoEnvironment;
  daemon: Daemon;
  app: RoomApp;
  kioskUrl: string;
  stop(): Promise<void>;
}

/** Start the demo (used by `roomd demo` and by the end-to-end tests). */
export async function startDemo(o: {
  stateDir: string;
  log: Logger;
  ring?: LogRing;
  env?: NodeJS.ProcessEnv;
  relayPort?: number;
  kioskPort?: number;
  adminPort?: number;
  botMedia?: 'ffmpeg' | 'synthetic';
  /** The room's own camera and microphone; null runs without them (cheap tests). Default: settings. */
  roomMedia?: RoomMediaConfig | null;
}): Promise<DemoRun> {
  const env = new DemoEnvironment({
    stateDir: o.stateDir,
    log: o.log,
    botMedia: o.botMedia ?? 'ffmpeg',
    ...(o.relayPort === undefined ? {} : { relayPort: o.relayPort }),
    ...(o.kioskPort === undefined ? {} : { kioskPort: o.kioskPort }),
    ...(o.adminPort === undefined ? {} : { adminPort: o.adminPort }),
  });
  await env.start();
  let app: RoomApp | null = null;
  const daemon = new Daemon({
    stateDir: o.stateDir,
    log: o.log,
    env: {
      ...(o.env ?? process.env),
      ROOMD_MEETING_SERVICE_URL: env.signalUrl,
      // The room reads its schedule with its own credential, as on a real installation.
      ROOMD_MEETING_SERVICE_TOKEN: env.roomToken,
    },
    modules: daemonModules(
      { logRing: o.ring ?? new LogRing(), ...(o.roomMedia === undefined ? {} : { media: o.roomMedia }) },
      (a) => {
        app = a;
      },
    ),
  });
  try {
    await daemon.start();
  } catch (error) {
    await daemon.stop();
    await env.stop();
    throw error;
  }
  const built = app as unknown as RoomApp;
  return {
    env,
    daemon,
    app: built,
    kioskUrl: `${built.http.urls().kiosk}/`,
    async stop() {
      await daemon.stop();
      await env.stop();
    },
  };
}

export const demo: Command = {
  summary: 'Run the appliance in demo mode on this machine.',
  usage: `roomd demo [--state-dir DIR]

Starts an embedded meeting relay, emulated devices, simulated far-end participants and the room
daemon, and prints the kiosk URL. Settings can be overridden with ROOMD_* variables as for 'run'.
A demo organization, "Demo Org", certifies the room and the far-end people (its anchor key is
made once in the state directory; 'roomctl identity issue --org-key' can use it).

Options:
  --state-dir DIR   Where the demo keeps its state (default: .roomd-state/demo in the current directory)
  -h, --help        Show this help`,
  async run(args, io) {
    const opts = stateDirArgs(args);
    if (opts.help) {
      io.out(this.usage);
      return ExitCode.ok;
    }
    const stateDir = opts.stateDir ?? path.resolve('.roomd-state', 'demo');
    const ring = new LogRing();
    const log = io.logger ?? (await daemonLogger(ring, { app: 'roomd' }));
    let run: DemoRun;
    try {
      run = await startDemo({ stateDir, log, ring, env: io.env });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      io.err(
        e.code === 'EADDRINUSE'
          ? `roomd demo: a port it needs is in use (${e.message}). Set ROOMD_KIOSK_PORT / ROOMD_ADMIN_PORT, or stop the other program.`
          : `roomd demo: could not start: ${e.message}`,
      );
      return ExitCode.unavailable;
    }
    const urls = run.app.http.urls();
    io.out('');
    io.out(`  roomd demo is running — room "${run.app.store.getState().room.name}"`);
    io.out(`  Kiosk (room screen):  ${run.kioskUrl}`);
    io.out(`  Admin API (HTTPS):    ${urls.admin}   setup code on the room screen`);
    io.out(`  Meeting relay:        ${run.env.signalUrl}`);
    io.out(
      `  Organization:         ${run.env.anchor.org} (anchor key in ${path.join(stateDir, 'demo-org-key.json')})`,
    );
    for (const m of run.env.meetings) io.out(`  Meeting ${m.id}  ${m.encryption.padEnd(8)}  ${m.title}`);
    io.out(`  Touch panel emulator: ${run.env.devicePaths.panel}`);
    io.out('  Stop with Ctrl-C.');
    io.out('');
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    log.info({ signal }, 'demo stopping');
    await run.stop();
    return ExitCode.ok;
  },
};
