/**
 * `roomd demo`: the appliance on one machine with nothing attached — the real daemon, with an
 * embedded meeting relay, emulated touch panel, camera and speakerphone, a synthetic camera and
 * microphone, two meetings booked for the room and simulated far-end people in them, and the
 * director (`roomctl demo`, docs/kiosk-and-admin-api.md §roomctl demo) that makes them act.
 *
 * The daemon's command line loads this module by path for `roomd demo` only (src/app/main.ts): no
 * file under src/ imports the demo.
 *
 * In a terminal it ends with a short banner that says what to do next; its log lines go to a file
 * in the state directory, so nothing buries the banner (errors still reach the terminal).
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Command, stateDirArgs } from '../src/app/command.ts';
import { LogRing } from '../src/app/room/admin.ts';
import { ExitCode } from '../src/core/exit-codes.ts';
import { createLogger, type Logger } from '../src/core/logger.ts';
import { bannerFacts, claimedBanner, startBanner } from './banner.ts';
import { type DemoRun, demoStateDir, startDemo } from './run.ts';

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
