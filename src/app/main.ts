/**
 * `roomd` command line: one binary, subcommands with --help. Exit codes are in core/exit-codes.ts.
 */
import { humanMessage } from '../core/errors.ts';
import { ExitCode } from '../core/exit-codes.ts';
import { type CliIo, type Command, stateDirArgs } from './command.ts';
import { envVariableNames } from '../config/settings.ts';
import { Daemon, resolveStateDir, runUntilSignal } from './daemon.ts';
export type { CliIo, Command } from './command.ts';
import { bot } from './bot.ts';
import { demo } from './demo-command.ts';
import { relay } from './relay.ts';
import { daemonLogger, daemonModules } from './modules.ts';
import { LogRing } from './room/admin.ts';

const run: Command = {
  summary: 'Run the room daemon (the appliance service).',
  usage: `roomd run [--state-dir DIR]

Runs the daemon with the devices and meeting service its settings name. With no hardware attached
it keeps running and reports the devices as absent.

Options:
  --state-dir DIR   Where settings, identity and state live (default: $ROOMD_STATE_DIR or /var/lib/roomd)
  -h, --help        Show this help

Settings can be overridden with environment variables:
${envVariableNames()
  .map((v) => `  ${v.env.padEnd(42)} ${v.field}`)
  .join('\n')}`,
  async run(args, io) {
    const opts = stateDirArgs(args);
    if (opts.help) {
      io.out(this.usage);
      return ExitCode.ok;
    }
    const ring = new LogRing();
    const log = io.logger ?? (await daemonLogger(ring, { app: 'roomd' }));
    const stateDir = resolveStateDir(opts.stateDir, io.env);
    const daemon = new Daemon({ stateDir, log, env: io.env, modules: daemonModules({ logRing: ring }) });
    return runUntilSignal(daemon, log);
  },
};

export const COMMANDS: Record<string, Command> = { run, demo, relay, bot };

export function registerCommand(name: string, command: Command): void {
  COMMANDS[name] = command;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `roomd — open firmware for a meeting-room appliance

Usage: roomd <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run 'roomd <command> --help' for a command's options.`;
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`roomd: unknown command '${name}'.\n\n${usage()}`);
    return ExitCode.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.err(`roomd ${name}: ${(error as Error).message}\n\n${command.usage}`);
      return ExitCode.usage;
    }
    io.err(`roomd ${name}: ${humanMessage(error)}`);
    return ExitCode.software;
  }
}
