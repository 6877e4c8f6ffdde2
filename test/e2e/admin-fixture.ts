/**
 * The admin console under test: the real demo daemon (emulated panel, VISCA camera and
 * speakerphone, the embedded relay, Demo Org identities; no room camera or microphone, synthetic
 * far-end media, to stay cheap), claimed through the admin API as roomctl does, and a Chromium
 * signed in to the console. Log lines land in a ring the Logs page reads. Screenshots of the
 * console go to test-output/screenshots/admin-*.png (and, by `npm run screenshots`, to docs/screenshots/).
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { type DemoRun, startDemo } from '../../demo/run.ts';
import { LogRing } from '../../src/app/room/admin.ts';
import { createLogger, type Logger } from '../../src/core/logger.ts';
import { AdminClient } from '../../src/http/roomctl/client.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { freePort } from '../helpers/ports.ts';
import { launchChromium } from './chromium.ts';
import { publishDocShots, TEST_SHOTS } from './doc-shots.ts';
import { ensureKioskBuilt } from './kiosk-fixture.ts';

export const PASSWORD = 'correct horse battery staple';
export { TEST_SHOTS as SCREENSHOTS } from './doc-shots.ts';

export interface ConsoleUnderTest {
  demo: DemoRun;
  adminUrl: string;
  certFingerprint: string;
  /** The admin API as roomctl sees it, with the admin token made at claim. */
  client: AdminClient;
  token: string;
  log: Logger;
  context: BrowserContext;
  page: Page;
  /** Errors the console printed to the browser console. */
  consoleErrors: string[];
  kioskState(): Promise<RoomState>;
  /** POST a touch command to the kiosk, as the room screen does. */
  kiosk(pathname: string, body: unknown): Promise<Response>;
  /** Open a console page (`#/<id>`) and wait until it has rendered. */
  open(pageId: string): Promise<void>;
  /** Screenshot the console into test-output/screenshots/admin-<name>.png (and the docs, when refreshing them). */
  shot(name: string, options?: { fullPage?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function startConsoleUnderTest(): Promise<ConsoleUnderTest> {
  await ensureKioskBuilt();
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-admin-e2e-'));
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  const ring = new LogRing();
  const log = await createLogger({
    level: 'info',
    pretty: false,
    journald: false,
    base: { app: 'roomd' },
    destination: { write: (s: string) => ring.write(s) },
  });
  const demo = await startDemo({
    stateDir,
    log,
    ring,
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: 'synthetic',
    roomMedia: null,
  });
  const adminUrl = demo.app.http.urls().admin;
  const certFingerprint = demo.app.http.certificate.fingerprint;
  const kioskState = async () =>
    (await (await fetch(new URL('/api/v1/state', demo.kioskUrl))).json()) as RoomState;

  // Claimed as `roomctl claim` does: the setup code from the room screen, the pinned certificate.
  const setupCode = (await kioskState()).setup?.setupCode ?? '';
  const claimer = new AdminClient({ url: adminUrl, fingerprint: certFingerprint });
  const claimed = await claimer.call('POST', '/api/v1/claim', {
    setupCode,
    password: PASSWORD,
    tokenName: 'e2e',
  });
  const token = (claimed.json as { token: string }).token;
  const client = new AdminClient({ url: adminUrl, fingerprint: certFingerprint, token });

  // The browser accepts the device's self-signed certificate (people check the fingerprint).
  const context = await launchChromium(userDataDir, { ignoreHTTPSErrors: true });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize({ width: 1440, height: 960 });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  // Revoke and Forget ask first; the tests say yes.
  page.on('dialog', (d) => void d.accept());

  await page.goto(`${adminUrl}/#/status`);
  await page.getByTestId('login-form').waitFor({ timeout: 20_000 });
  await page.locator('input[name="password"]').fill(PASSWORD);
  await page.locator('button[type="submit"]').click();
  await page.getByTestId('page-status').waitFor({ timeout: 20_000 });

  return {
    demo,
    adminUrl,
    certFingerprint,
    client,
    token,
    log,
    context,
    page,
    consoleErrors,
    kioskState,
    kiosk: (pathname, body) =>
      fetch(new URL(pathname, demo.kioskUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    async open(pageId) {
      const url = `${adminUrl}/#/${pageId}`;
      // The same URL again changes nothing in the page: load it afresh, as a person pressing F5.
      if (page.url() === url) await page.reload();
      else await page.goto(url);
      await page.getByTestId(`page-${pageId.split('/')[0]}`).waitFor({ timeout: 20_000 });
    },
    async shot(name, options = {}) {
      await fsp.mkdir(TEST_SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(TEST_SHOTS, `admin-${name}.png`), ...options });
      await publishDocShots([`admin-${name}.png`]);
    },
    async close() {
      await context.close().catch(() => {});
      await demo.stop();
      await fsp.rm(stateDir, { recursive: true, force: true });
      await fsp.rm(userDataDir, { recursive: true, force: true });
    },
  };
}
