/**
 * The real demo (`startDemo`: daemon, embedded relay, emulated devices, far-end people) with a
 * Chromium window on its room screen, for the end-to-end tests that walk it like a person.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { type DemoRun, startDemo } from '../../demo/run.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { RoomMediaConfig } from '../../src/meeting/room.ts';
import { freePort } from '../helpers/ports.ts';
import { launchChromium } from './chromium.ts';
import { ensureKioskBuilt } from './kiosk-fixture.ts';

export const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');

/** Small pictures: the test machine has 2 cores for the encoders, the relay and Chromium. */
export const SMALL_ROOM_MEDIA: RoomMediaConfig = {
  video: { type: 'test', fontFile: null, label: 'room' },
  encode: { codec: 'vp8', width: 320, height: 180, framerate: 10, bitrateKbps: 250 },
  audio: { type: 'test' },
  audioBitrateKbps: 24,
  playbackDevice: null,
};

export interface DemoInChromium {
  demo: DemoRun;
  context: BrowserContext;
  /** The room screen's tab. */
  page: Page;
  /** The demo's state dir (roomctl's config goes here too); removed by `stop`. */
  stateDir: string;
  stop(): Promise<void>;
}

export async function startDemoInChromium(o: {
  name: string;
  botMedia: 'ffmpeg' | 'synthetic';
  roomMedia: RoomMediaConfig | null;
  ignoreHTTPSErrors?: boolean;
}): Promise<DemoInChromium> {
  await ensureKioskBuilt();
  await fsp.mkdir(SHOTS, { recursive: true });
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), `roomd-${o.name}-e2e-`));
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  const demo = await startDemo({
    stateDir,
    log: silentLogger(),
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: o.botMedia,
    roomMedia: o.roomMedia,
  });
  const context = await launchChromium(
    userDataDir,
    o.ignoreHTTPSErrors === true ? { ignoreHTTPSErrors: true } : {},
  );
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    demo,
    context,
    page,
    stateDir,
    async stop() {
      await context.close();
      await demo.stop();
      for (const d of [stateDir, userDataDir]) await fsp.rm(d, { recursive: true, force: true });
    },
  };
}

/** After a failing step, a picture of the screen for whoever reads the CI log. */
export async function shotOnFailure(page: Page | undefined, prefix: string, failed: boolean): Promise<void> {
  if (failed)
    await page?.screenshot({ path: path.join(SHOTS, `${prefix}-failed-${Date.now()}.png`) }).catch(() => {});
}
