/**
 * The demo run: the demo environment (demo/env.ts) and the real room daemon pointed at it, with the
 * director's admin routes registered on the room — used by `roomd demo` and the tests.
 */
import * as path from 'node:path';
import { Daemon } from '../src/app/daemon.ts';
import { daemonModules } from '../src/app/modules.ts';
import { LogRing } from '../src/app/room/admin.ts';
import type { RoomApp } from '../src/app/room/index.ts';
import type { Logger } from '../src/core/logger.ts';
import { demoDirectorRoutes } from '../src/http/admin/demo-director.ts';
import type { RoomMediaConfig } from '../src/meeting/room.ts';
import type { RelayHooks } from '../src/relay/index.ts';
import { DemoEnvironment } from './env.ts';

export interface DemoRun {
  env: DemoEnvironment;
  daemon: Daemon;
  app: RoomApp;
  kioskUrl: string;
  /** Where the demo keeps its state (the demo organization's key among it). */
  stateDir: string;
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
  /** Test injection points (DemoOptions): the relay's hooks, the far-end people's E2EE randomness. */
  relayHooks?: RelayHooks;
  e2eeRandom?: (n: number) => Uint8Array;
}): Promise<DemoRun> {
  const env = new DemoEnvironment({
    stateDir: o.stateDir,
    log: o.log,
    botMedia: o.botMedia ?? 'ffmpeg',
    ...(o.relayPort === undefined ? {} : { relayPort: o.relayPort }),
    ...(o.kioskPort === undefined ? {} : { kioskPort: o.kioskPort }),
    ...(o.adminPort === undefined ? {} : { adminPort: o.adminPort }),
    ...(o.relayHooks === undefined ? {} : { relayHooks: o.relayHooks }),
    ...(o.e2eeRandom === undefined ? {} : { e2eeRandom: o.e2eeRandom }),
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
        // Without an HDMI capture dongle the demo's room shares a test picture ("Slides").
        testContent: true,
        // …and the laptop on the table stands for its dongle: sharing follows its plug.
        contentPresence: env.devicePaths.laptop,
        // The director exists on the demo's room only: `roomd run` never registers it.
        adminPlugins: [{ scope: 'admin', plugin: demoDirectorRoutes(env.director) }],
        // The admin of the demo works in this checkout, where roomctl runs through npx.
        roomctlCommand: 'npx roomctl',
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
    stateDir: o.stateDir,
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
