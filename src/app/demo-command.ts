/**
 * `roomd demo`, without a dependency on the demo. The demo's assembly (emulated devices, an embedded
 * relay, simulated far-end people) lives outside the daemon's source tree, in demo/; its command is
 * loaded by path when `roomd demo` runs, so `roomd run` never loads the emulators and no file under
 * src/ imports demo/ or device/ (.dependency-cruiser.cjs, rule src-not-demo).
 */
import { ExitCode } from '../core/exit-codes.ts';
import type { CliIo, Command } from './command.ts';

const SUMMARY = 'Run the appliance in demo mode on this machine.';

/** demo/command.ts next to src/ in a checkout (run through tsx); demo/command.js in a build (dist/). */
function demoModuleUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`../../demo/command.${ext}`, import.meta.url);
}

function isCommand(value: unknown): value is Command {
  const c = value as Partial<Command> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.summary === 'string' &&
    typeof c.usage === 'string' &&
    typeof c.run === 'function'
  );
}

let loaded: Command | undefined;

/** The demo's command, or null (said on `io.err`) when this installation has none. */
async function load(io: CliIo): Promise<Command | null> {
  if (loaded !== undefined) return loaded;
  const url = demoModuleUrl();
  let mod: { demo?: unknown };
  try {
    mod = (await import(url.href)) as { demo?: unknown };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    io.err(`roomd demo: this installation has no demo (${url.pathname} is missing).`);
    return null;
  }
  if (!isCommand(mod.demo)) {
    io.err(`roomd demo: ${url.pathname} does not export the demo command.`);
    return null;
  }
  loaded = mod.demo;
  return loaded;
}

export const demo: Command = {
  summary: SUMMARY,
  /** The demo's own usage once it is loaded (main prints it after a bad option). */
  get usage(): string {
    return loaded?.usage ?? 'roomd demo [--state-dir DIR]';
  },
  async run(args, io) {
    const command = await load(io);
    return command === null ? ExitCode.unavailable : command.run(args, io);
  },
};
