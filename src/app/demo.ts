/**
 * `roomd demo`: the appliance on one machine with nothing attached — the daemon with its state in
 * `.roomd-state/demo` of the checkout (or `--state-dir`).
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode } from '../core/exit-codes.ts';
import { createLogger } from '../core/logger.ts';
import { Daemon, runUntilSignal } from './daemon.ts';
import type { Command } from './command.ts';
import { daemonModules } from './modules.ts';

export const demo: Command = {
  summary: 'Run the appliance in demo mode on this machine.',
  usage: `roomd demo [--state-dir DIR]

Options:
  --state-dir DIR   Where the demo keeps its state (default: .roomd-state/demo in the current directory)
  -h, --help        Show this help`,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: { 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      io.out(this.usage);
      return ExitCode.ok;
    }
    const stateDir = values['state-dir'] ?? path.resolve('.roomd-state', 'demo');
    const log = io.logger ?? (await createLogger({ base: { app: 'roomd' } }));
    io.out(`roomd demo: running the daemon with default settings; state in ${stateDir}. Stop with Ctrl-C.`);
    return runUntilSignal(new Daemon({ stateDir, log, env: io.env, modules: daemonModules }), log);
  },
};
