/**
 * `roomd relay`: the meeting service (signaling, admission policy, media fan-out) and its
 * meeting management commands. The work is in src/relay/cli.ts.
 */
import { runRelayCli } from '../relay/index.ts';
import { createLogger } from '../core/logger.ts';
import type { Command } from './command.ts';

export const relay: Command = {
  summary: 'Run the meeting service (relay), or manage its meetings.',
  usage: 'roomd relay [serve|create|list|delete|account] [options]   (roomd relay --help for details)',
  async run(args, io) {
    const logger = io.logger ?? (await createLogger({ base: { app: 'roomd-relay' } }));
    return runRelayCli(args, { stdout: io.out, stderr: io.err, env: io.env, logger });
  },
};
