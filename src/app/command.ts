/** The shape of a `roomd` subcommand and the I/O it gets. */
import { parseArgs } from 'node:util';
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

/** `--state-dir DIR` and `--help`, the options `run` and `demo` share. */
export function stateDirArgs(args: string[]): { stateDir: string | undefined; help: boolean } {
  const { values } = parseArgs({
    args,
    options: { 'state-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  return { stateDir: values['state-dir'], help: values.help === true };
}
