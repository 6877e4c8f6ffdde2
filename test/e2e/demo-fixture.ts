/**
 * The real demo (`startDemo`: daemon, embedded relay, emulated devices, far-end people) with a
 * Chromium window on its room screen, for the end-to-end tests that walk it like a person.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { type DemoRun, startDemo } from '../../demo/run.ts';
import { runRoomctl } from '../../src/http/roomctl/cli.ts';
import { silentLogger } from '../../src/core/logger.ts';
import type { RoomMediaConfig } from '../../src/meeting/room.ts';
import type { RelayHooks } from '../../src/relay/index.ts';
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
  /** Test injection points of the demo (DemoOptions): relay hooks, the bots' E2EE randomness. */
  relayHooks?: RelayHooks;
  e2eeRandom?: (n: number) => Uint8Array;
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
    ...(o.relayHooks === undefined ? {} : { relayHooks: o.relayHooks }),
    ...(o.e2eeRandom === undefined ? {} : { e2eeRandom: o.e2eeRandom }),
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

/** roomctl as a person runs it, with its config in `configDir` (the demo's state dir). */
export async function roomctlIn(configDir: string, ...args: string[]): Promise<{ rc: number; out: string }> {
  const out: string[] = [];
  const rc = await runRoomctl([...args, '--config', path.join(configDir, 'roomctl.json')], {
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    env: { ROOMCTL_PASSWORD: 'correct horse battery staple' },
  });
  return { rc, out: out.join('\n') };
}

/**
 * Claim the room with the command its setup screen shows, then tap Join on the E2EE meeting and
 * wait for the green shield. Returns the command the screen showed.
 */
export async function claimAndJoinE2ee(
  page: Page,
  demo: DemoRun,
  roomctl: (...args: string[]) => Promise<{ rc: number; out: string }>,
): Promise<string> {
  const command = (await page.getByTestId('claim-command').textContent({ timeout: 20_000 })) ?? '';
  const words = command.split(' ');
  const arg = (flag: string) => words[words.indexOf(flag) + 1]!;
  const claim = await roomctl(
    'claim',
    '--url',
    arg('--url'),
    '--fingerprint',
    arg('--fingerprint'),
    '--code',
    arg('--code'),
  );
  expect(claim.rc, claim.out).toBe(0);
  const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
  await page.getByTestId(`join-${e2ee.id}`).click({ timeout: 20_000 });
  await page.getByTestId('screen-meeting').waitFor({ timeout: 30_000 });
  await expect
    .poll(() => page.getByTestId('encryption').getAttribute('data-shield'), { timeout: 30_000 })
    .toBe('e2ee');
  return command;
}
