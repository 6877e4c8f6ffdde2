/**
 * What the web client's end-to-end tests share: its bundle built from these sources, a camera and
 * microphone for Chromium's fake devices (a y4m clip, optionally every frame stamped with its number,
 * src/media/frame-stamp.ts, and a wav tone), and a Chromium that plays them as its devices.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { frameStampFilters } from '../../src/media/ffmpeg-filters.ts';
import { CHROMIUM_FLAGS } from './chromium.ts';

const run = promisify(execFile);
const QUIET = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'];

/** Build the web client into `outDir` (default web/dist, which the demo's relay serves). */
export async function buildWebClient(outDir?: string): Promise<void> {
  await build({
    configFile: path.resolve(import.meta.dirname, '../../web/vite.config.ts'),
    logLevel: 'silent',
    ...(outDir === undefined ? {} : { build: { outDir, emptyOutDir: true } }),
  });
}

export interface FakeDevices {
  y4m: string;
  wav: string;
}

/** A clip of `frames` frames at 30 fps (stamped with their numbers when `stamped`) and a tone, in `dir`. */
export async function makeFakeDevices(
  dir: string,
  o: { width: number; height: number; frames: number; stamped?: boolean },
): Promise<FakeDevices> {
  const y4m = path.join(dir, 'camera.y4m');
  const wav = path.join(dir, 'microphone.wav');
  const stamp = o.stamped === true ? `${frameStampFilters(o.width, o.height, 30, 'frame-index')},` : '';
  await run('ffmpeg', [
    ...QUIET,
    ...['-i', `testsrc2=size=${o.width}x${o.height}:rate=30`, '-vf', `${stamp}format=yuv420p`],
    ...['-frames:v', String(o.frames), y4m],
  ]);
  await run('ffmpeg', [...QUIET, '-i', 'sine=frequency=440:sample_rate=48000:duration=4', '-ac', '1', wav]);
  return { y4m, wav };
}

/** A Chromium whose camera and microphone are `devices`, allowed without asking; its first page. */
export async function launchWithDevices(
  profileDir: string,
  devices: FakeDevices,
  viewport = { width: 1280, height: 900 },
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    args: [
      ...CHROMIUM_FLAGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${devices.y4m}`,
      `--use-file-for-fake-audio-capture=${devices.wav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
    viewport,
  });
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}

/**
 * The page's link proposes an organization: check it names `org`, trust it as the person would
 * (after comparing its key's fingerprint, which `fingerprint` is), and see it trusted.
 */
export async function trustLinkOrganization(page: Page, org: string, fingerprint: string): Promise<void> {
  const line = page.locator('[data-testid=trust][data-trust=new]');
  await line.waitFor();
  const text = (await line.textContent()) ?? '';
  if (!text.includes(org) || !text.includes(fingerprint))
    throw new Error(`the page proposes another organization: ${text}`);
  await page.getByTestId('trust-accept').click();
  await page.locator('[data-testid=trust][data-trust=known]').waitFor();
}

/**
 * Fill the join form of the page at `url` and join; with `trust`, first trust the organization the
 * link proposes (`trustLinkOrganization`).
 */
export async function joinFromBrowser(
  page: Page,
  url: string,
  passcode: string,
  name: string,
  trust?: { org: string; fingerprint: string },
): Promise<void> {
  await page.goto(url);
  if (trust !== undefined) await trustLinkOrganization(page, trust.org, trust.fingerprint);
  await page.locator('input[name="passcode"]').fill(passcode);
  await page.locator('input[name="name"]').fill(name);
  await page.getByTestId('join').click();
}
