/**
 * `roomd demo`: the appliance on one machine with nothing attached — the real daemon, with an
 * embedded meeting relay, emulated touch panel, camera and speakerphone, a synthetic camera and
 * microphone, two meetings booked for the room and simulated far-end people in them, and the
 * director (`roomctl demo`, docs/kiosk-and-admin-api.md §roomctl demo) that makes them act.
 *
 * In a terminal it ends with a short banner that says what to do next; its log lines go to a file
 * in the state directory, so nothing buries the banner (errors still reach the terminal).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { ExitCode } from '../core/exit-codes.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { demoDirectorRoutes } from '../http/admin/demo-director.ts';
import { MIN_PASSWORD_LENGTH } from '../http/admin/auth.ts';
import type { RoomMediaConfig } from '../meeting/room.ts';
import { type Command, stateDirArgs } from './command.ts';
import { Daemon } from './daemon.ts';
import { DemoEnvironment } from './demo-env.ts';
import { daemonModules } from './modules.ts';
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
      {
        logRing: o.ring ?? new LogRing(),
        ...(o.roomMedia === undefined ? {} : { media: o.roomMedia }),
        // The director exists on the demo's room only: `roomd run` never registers it.
        adminPlugins: [{ scope: 'admin', plugin: demoDirectorRoutes(env) }],
      },
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

/**
 * Where the demo keeps its state, as `run` decides it: `--state-dir`, then `ROOMD_STATE_DIR`; the
 * demo's own default is `.roomd-state/demo` under the current directory (docs/admin.md §In the demo).
 */
export function demoStateDir(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return path.resolve(flag ?? env['ROOMD_STATE_DIR'] ?? path.join('.roomd-state', 'demo'));
}

export const demo: Command = {
  summary: 'Run the appliance in demo mode on this machine.',
  usage: `roomd demo [--state-dir DIR]

Starts an embedded meeting relay, emulated devices, simulated far-end participants and the room
daemon, and prints the kiosk URL. Settings can be overridden with ROOMD_* variables as for 'run'.
A demo organization, "Demo Org", certifies the room and the far-end people (its anchor key is
made once in the state directory; 'roomctl identity issue --org-key' can use it).

Options:
  --state-dir DIR   Where the demo keeps its state (default: $ROOMD_STATE_DIR, else .roomd-state/demo
                    in the current directory)
  -h, --help        Show this help`,
  async run(args, io) {
    const opts = stateDirArgs(args);
    if (opts.help) {
      io.out(this.usage);
      return ExitCode.ok;
    }
    const stateDir = demoStateDir(opts.stateDir, io.env);
    const ring = new LogRing();
    const logFile = path.join(stateDir, 'roomd.log');
    const fileLog = io.logger === undefined ? await demoLogger(ring, logFile, io.err) : null;
    const log = io.logger ?? (fileLog as { logger: Logger }).logger;
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
      await fileLog?.close();
      return ExitCode.unavailable;
    }
    const auth = run.app.http.auth;
    for (const line of startBanner(bannerFacts(run, fileLog === null ? null : logFile))) io.out(line);
    // Once claimed, the next step is the admin page and the room screen, not the setup code.
    let wasClaimed = auth.claimed;
    const offClaim = auth.onChange(() => {
      if (wasClaimed || !auth.claimed) return;
      wasClaimed = true;
      for (const line of claimedBanner(run.app.http.urls().admin)) io.out(line);
    });
    const signal = await new Promise<string>((resolve) => {
      process.once('SIGINT', () => resolve('SIGINT'));
      process.once('SIGTERM', () => resolve('SIGTERM'));
    });
    offClaim();
    log.info({ signal }, 'demo stopping');
    await run.stop();
    await fileLog?.close();
    return ExitCode.ok;
  },
};

/** What the start banner names (all of it known once the demo runs). */
export interface BannerFacts {
  room: string;
  kioskUrl: string;
  adminUrl: string;
  fingerprint: string;
  /** The one-time setup code, or null once the room is claimed. */
  setupCode: string | null;
  meetings: { id: string; title: string; encryption: string }[];
  logFile: string | null;
}

function bannerFacts(run: DemoRun, logFile: string | null): BannerFacts {
  return {
    room: run.app.store.getState().room.name,
    kioskUrl: run.kioskUrl,
    adminUrl: `${run.app.http.urls().admin}/`,
    fingerprint: run.app.http.certificate.fingerprint,
    setupCode: run.app.http.auth.setupCode,
    meetings: run.env.meetings.map((m) => ({ id: m.id, title: m.title, encryption: m.encryption })),
    logFile: logFile === null ? null : shortPath(logFile),
  };
}

/** A path as short as it is clear: relative to the current directory when it lies below it. */
function shortPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel;
}

/**
 * The lines `roomd demo` ends with: where the room screen and the admin page are, and exactly what
 * to type next — the claim command with the address the admin server really listens on, its
 * certificate fingerprint and the setup code (until the room is claimed), then the director.
 */
export function startBanner(f: BannerFacts): string[] {
  const e2ee = f.meetings.find((m) => m.encryption === 'e2ee');
  const lines = [
    '',
    `  roomd demo is running: room "${f.room}"`,
    '',
    `  Room screen  ${f.kioskUrl}   open it in a browser: it is what the room's screen shows`,
    `  Admin page   ${f.adminUrl}   the device's own certificate, fingerprint:`,
    `               ${f.fingerprint}`,
    '',
  ];
  if (f.setupCode !== null) {
    lines.push(
      '  Next: claim the room, once. In another terminal, in this directory:',
      '',
      `    npx roomctl claim --url ${f.adminUrl.replace(/\/$/, '')} --fingerprint ${f.fingerprint} --code ${f.setupCode} --password-stdin`,
      '',
      `  then type a new admin password (${MIN_PASSWORD_LENGTH} characters or more), Enter, Ctrl-D.`,
      '  The same password signs in on the admin page.',
    );
  } else {
    lines.push(
      '  The room is claimed: sign in on the admin page with its password (roomctl kept its token).',
    );
  }
  lines.push(
    `  On the room screen, tap Join on ${e2ee === undefined ? 'a meeting' : `"${e2ee.title}"`}; then make the far end act:`,
    '    npx roomctl demo --help',
    '',
    ...f.meetings.map((m) => `  Meeting ${m.id}  ${m.encryption.padEnd(8)}  ${m.title}`),
    ...(f.logFile === null ? [] : [`  Logs: ${f.logFile}`]),
    '  Stop with Ctrl-C.',
    '',
  );
  return lines;
}

/** Said once when the room gets claimed while the demo runs. */
export function claimedBanner(adminUrl: string): string[] {
  return [
    '',
    `  The room is claimed. Admin page: ${adminUrl}/ (sign in with the password you chose).`,
    '  Tap Join on the room screen, then: npx roomctl demo --help',
    '',
  ];
}

/**
 * The demo's logger: JSON lines to `file` (and the admin API's log ring), so the terminal keeps
 * the banner; an error also gets one short line on the terminal.
 */
async function demoLogger(
  ring: LogRing,
  file: string,
  err: (line: string) => void,
): Promise<{ logger: Logger; close(): Promise<void> }> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const out = createWriteStream(file, { flags: 'w', mode: 0o600 });
  const logger = await createLogger({
    base: { app: 'roomd' },
    pretty: false,
    journald: false,
    destination: {
      write(s: string) {
        out.write(s);
        ring.write(s);
        const level = /"level":(\d+)/.exec(s);
        if (level !== null && Number(level[1]) >= 50) {
          const msg = /"msg":"((?:[^"\\]|\\.)*)"/.exec(s)?.[1] ?? 'an error';
          err(`roomd: ${msg} (details in ${file})`);
        }
      },
    },
  });
  return {
    logger,
    close: () => new Promise<void>((resolve) => out.end(() => resolve())),
  };
}
