/**
 * The web client in real Chromium meets a headless participant in an E2EE meeting on a relay
 * (docs/decisions/0022-one-core-in-node-and-browser.md): the relay serves the page at
 * /join/<meeting id> under its CSP; the browser makes its own identity key, joins with the passcode,
 * runs the E2EE session of the shared core, with both participants in its roster (the same
 * security code under a green shield is in web-media.test.ts). Its link names no organization, so nobody can be
 * verified: the browser fails closed as the room does by default — an orange "Not fully protected"
 * shield and the roster code to compare aloud, the same as the bot's. When the browser leaves, the
 * bot's meeting rekeys to a new epoch without it; a new visit joins with the same key, kept
 * encrypted in IndexedDB. This browser has no camera: it joins receive-only and says so.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HeadlessParticipant } from '../../src/meeting/headless.ts';
import { WEB_CLIENT_CSP } from '../../src/relay/web-client.ts';
import { type Harness, startHarness, waitFor } from '../helpers/meeting-harness.ts';
import { launchChromium } from './chromium.ts';

const PASSCODE = '314159';
let h: Harness;
let bot: HeadlessParticipant;
let meetingId: string;
let context: BrowserContext | undefined;
let page: Page;
let userDataDir: string;
let bundleDir: string;
const consoleErrors: string[] = [];
let firstFingerprint: string | undefined;

beforeAll(async () => {
  bundleDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-web-dist-'));
  await build({
    configFile: path.resolve(import.meta.dirname, '../../web/vite.config.ts'),
    logLevel: 'silent',
    build: { outDir: bundleDir, emptyOutDir: true },
  });
  h = await startHarness({ relay: { webClientDir: bundleDir } });
  meetingId = await h.meeting({ passcode: PASSCODE });
  bot = h.participant(meetingId, 'Room bot', { identity: h.host, passcode: PASSCODE });
  await bot.join();
  userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  context = await launchChromium(userDataDir);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
}, 60_000);

afterAll(async () => {
  await context?.close();
  await h?.close();
  await fsp.rm(userDataDir, { recursive: true, force: true });
  await fsp.rm(bundleDir, { recursive: true, force: true });
});

describe('the web client meets a bot in an E2EE meeting', () => {
  test('joins with a key made in the browser: same security code and roster code on both sides', async () => {
    const response = await page.goto(`${h.relay.address.httpUrl}/join/${meetingId}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toBe(WEB_CLIENT_CSP);
    await expect.poll(() => page.inputValue('input[name=meeting]')).toBe(meetingId);
    await page.waitForSelector('[data-testid=device]');
    expect(await page.textContent('[data-testid=trust]')).toContain('trusts no organization');
    await page.fill('input[name=passcode]', PASSCODE);
    await page.fill('input[name=name]', 'Ada in a browser');
    await page.click('[data-testid=join]');

    // Nobody vouches for the bot: orange, never the padlock, and the roster code to compare.
    await page.waitForSelector('[data-testid=shield][data-shield=partial]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid=shield-text]')).toBe('Not fully protected');
    await expect
      .poll(() => page.getAttribute('[data-testid=roster-code]', 'data-code'), { timeout: 10_000 })
      .toBe(bot.session.snapshot.rosterCode);
    await page.waitForSelector('[data-testid=media-problem]');
    await waitFor(
      () => bot.session.snapshot.shield === 'e2ee' && bot.session.snapshot.participants.length === 2,
      'the bot secure with the browser in its roster',
    );
    // The security code shows only under a green shield (as on the room screen); the roster code,
    // which covers everyone, is what people compare here.
    expect(await page.locator('[data-testid=security-code]').count()).toBe(0);
    expect(await page.getAttribute('[data-testid=roster-code]', 'data-code')).toMatch(/^\d{5}( \d{5}){3}$/);
    // The browser is an E2EE participant in the bot's leader-signed roster, holding the key.
    const web = bot.session.snapshot.participants.find((p) => p.name === 'Ada in a browser');
    expect(web).toMatchObject({ clientType: 'web', keyed: true });
    expect(web?.identity.status).toBe('unverified');
    if (web?.identity.status === 'unverified') firstFingerprint = web.identity.fingerprint;
    // And the browser's roster shows both, each with its mark.
    const rows = await page.$$eval('[data-testid=participant]', (els) =>
      els.map((e) => ({
        text: e.textContent ?? '',
        self: e.getAttribute('data-self'),
        id: e.getAttribute('data-identity'),
      })),
    );
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.self === 'yes')?.text).toContain('Ada in a browser (you)');
    expect(rows.find((r) => r.self === 'no')?.text).toContain('Room bot');
    expect(rows.every((r) => r.id === 'unverified' && /Not verified · /.test(r.text))).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  test("the browser's leave rekeys the bot", async () => {
    const epochBefore = bot.session.snapshot.epoch;
    expect(epochBefore).toBeGreaterThan(0);
    await page.click('[data-testid=leave]');
    await page.waitForSelector('[data-testid=ended]');
    await waitFor(
      () => bot.session.snapshot.epoch > epochBefore && bot.session.snapshot.participants.length === 1,
      'a new epoch at the bot without the browser',
    );
    await waitFor(() => bot.session.snapshot.shield === 'e2ee', 'the bot secure again');
    expect(consoleErrors).toEqual([]);
  }, 30_000);

  test('the key is kept in this browser: a new visit joins with the same identity', async () => {
    const fingerprint = (): string | undefined => {
      const id = bot.session.snapshot.participants.find((p) => p.name === 'Ada again')?.identity;
      return id?.status === 'unverified' ? id.fingerprint : undefined;
    };
    const first = firstFingerprint;
    expect(first).toBeDefined();
    await page.reload();
    await page.waitForSelector('[data-testid=device]');
    expect(await page.textContent('[data-testid=device]')).toContain('kept in this browser, encrypted');
    await page.fill('input[name=passcode]', PASSCODE);
    await page.fill('input[name=name]', 'Ada again');
    await page.click('[data-testid=join]');
    await page.waitForSelector('[data-testid=shield][data-shield=partial]', { timeout: 20_000 });
    const again = await waitFor(fingerprint, 'the browser in the bot roster again');
    expect(again).toBe(first);
    await page.click('[data-testid=leave]');
    await page.waitForSelector('[data-testid=ended]');
    expect(consoleErrors).toEqual([]);
  }, 60_000);

  test('a link only proposes an organization: confirmed once, kept, and another key for it refused', async () => {
    const key = (b: number) => Buffer.alloc(32, b).toString('base64url');
    const at = (k: string) => `${h.relay.address.httpUrl}/join/${meetingId}#org=Acme%20Corp&key=${k}`;
    // A new visit of the link (a fragment alone changes no page: load it anew).
    const visit = async (k: string) => {
      await page.goto(at(k));
      await page.reload();
    };
    await visit(key(1));
    await page.waitForSelector('[data-testid=trust][data-trust=new]');
    expect(await page.textContent('[data-testid=trust]')).toContain(
      'Trust it only if you know this is their key',
    );
    await page.click('[data-testid=trust-accept]');
    await page.waitForSelector('[data-testid=trust][data-trust=known]');
    // Kept across visits; the same organization with another key is refused, not trusted.
    await visit(key(1));
    await page.waitForSelector('[data-testid=trust][data-trust=known]');
    await visit(key(2));
    await page.waitForSelector('[data-testid=trust][data-trust=conflict]');
    expect(await page.textContent('[data-testid=trust]')).toContain('it is not trusted');
    expect(await page.locator('[data-testid=trust-accept]').count()).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
