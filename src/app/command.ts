/** The shape of a `roomd` subcommand and the I/O it gets. */
import type { Logger } from '../core/logger.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface Command {
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}
