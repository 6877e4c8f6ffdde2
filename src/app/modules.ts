/**
 * Which modules `roomd run` composes, in start order (see room/index.ts), and the logger that
 * also keeps recent lines for the admin API.
 */
import { createLogger, type Logger } from '../core/logger.ts';
import type { Module } from '../core/lifecycle.ts';
import type { DaemonContext } from './daemon.ts';
import type { LogRing } from './room/admin.ts';
import { type RoomApp, type RoomAppOverrides, roomModules } from './room/index.ts';

/** A logger whose lines also land in `ring` (when not pretty-printing to a terminal). */
export async function daemonLogger(ring: LogRing, base: Record<string, unknown>): Promise<Logger> {
  if (process.stdout.isTTY === true && process.env['JOURNAL_STREAM'] === undefined)
    return createLogger({ base });
  return createLogger({
    base,
    destination: {
      write(s: string) {
        process.stdout.write(s);
        ring.write(s);
      },
    },
  });
}

export function daemonModules(overrides: RoomAppOverrides = {}, onApp?: (app: RoomApp) => void) {
  return async (ctx: DaemonContext): Promise<Module[]> => {
    const { modules, app } = await roomModules(ctx, overrides);
    onApp?.(app);
    return modules;
  };
}
