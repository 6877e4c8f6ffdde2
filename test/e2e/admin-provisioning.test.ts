/**
 * The admin console's Provisioning page in Chromium, against the real demo daemon
 * (docs/kiosk-and-admin-api.md §Admin console): a signed bundle applied with a clear result and a
 * replay or a wrong signer refused in words; API tokens made with a scope, listed and revoked (and
 * then refused by the API); the room's certificate and trusted organizations; the identity keys
 * the room pinned in a meeting, one of them forgotten.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signBundle } from '../../src/http/admin/bundle.ts';
import { AdminClient } from '../../src/http/roomctl/client.ts';
import { type ConsoleUnderTest, startConsoleUnderTest } from './admin-fixture.ts';

let t: ConsoleUnderTest;
let dir: string;

beforeAll(async () => {
  t = await startConsoleUnderTest();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bundles-'));
}, 180_000);

afterAll(async () => {
  await t?.close();
  if (dir !== undefined) await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

const org = ed25519.utils.randomSecretKey();

async function bundleFile(name: string, serial: number, key = org): Promise<string> {
  const file = path.join(dir, name);
  const bundle = signBundle(
    { serial, issuedAt: new Date().toISOString(), roomName: 'Fjord', settings: { media: { volume: 55 } } },
    key,
  );
  await fsp.writeFile(file, JSON.stringify(bundle));
  return file;
}

describe('Provisioning page', () => {
  test('a signed bundle is applied and says so; a replay and a stranger’s bundle are refused in words', async () => {
    const page = t.page;
    await t.open('provisioning');
    expect(await page.getByTestId('last-bundle').textContent()).toBe('none');
    await page.getByTestId('bundle-file').setInputFiles(await bundleFile('room.bundle.json', 1));
    await expect
      .poll(() => page.getByTestId('bundle-result').textContent(), { timeout: 15_000 })
      .toContain('Applied room.bundle.json: bundle #1');
    await expect.poll(async () => (await t.kioskState()).room.name, { timeout: 10_000 }).toBe('Fjord');
    const s = (await t.client.call('GET', '/api/v1/settings')).json as { media: { volume: number } };
    expect(s.media.volume).toBe(55);
    await expect.poll(() => page.getByTestId('last-bundle').textContent(), { timeout: 10_000 }).toBe('#1');

    await page.getByTestId('bundle-file').setInputFiles(await bundleFile('again.json', 1));
    await expect
      .poll(() => page.getByTestId('bundle-error').getAttribute('data-code'), { timeout: 10_000 })
      .toBe('http.stale_bundle');
    expect(await page.getByTestId('bundle-error').textContent()).toContain('Not applied.');

    await page
      .getByTestId('bundle-file')
      .setInputFiles(await bundleFile('stranger.json', 2, ed25519.utils.randomSecretKey()));
    await expect
      .poll(() => page.getByTestId('bundle-error').getAttribute('data-code'), { timeout: 10_000 })
      .toBe('http.bad_signature');

    const junk = path.join(dir, 'notes.txt');
    await fsp.writeFile(junk, 'not a bundle');
    await page.getByTestId('bundle-file').setInputFiles(junk);
    await expect
      .poll(() => page.getByTestId('bundle-error').textContent(), { timeout: 10_000 })
      .toContain('notes.txt is not a provisioning bundle: it is not JSON.');
  }, 60_000);

  test('an API token is made with its scope, shown once, listed, works, and stops working when revoked', async () => {
    const page = t.page;
    await page.getByTestId('token-name').fill('prometheus');
    await page.getByTestId('token-scope').selectOption('operator');
    await page.getByTestId('token-create').click();
    const value = page.getByTestId('token-value');
    await value.waitFor({ timeout: 10_000 });
    const token = ((await value.textContent()) ?? '').trim();
    expect(token).toMatch(/^rmd_/);
    const row = page.getByTestId('token-row').filter({ hasText: 'prometheus' });
    await row.waitFor();
    expect(await row.textContent()).toContain('operator');
    const script = new AdminClient({ url: t.adminUrl, fingerprint: t.certFingerprint, token });
    expect(((await script.call('GET', '/api/v1/session')).json as { scope: string }).scope).toBe('operator');

    await row.getByTestId('token-revoke').click();
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
    expect((await script.request('GET', '/api/v1/session')).status).toBe(401);
  }, 60_000);

  test('the room’s certificate and trusted organizations, as the identity API has them', async () => {
    const page = t.page;
    const id = (await t.client.call('GET', '/api/v1/identity')).json as {
      fingerprint: string;
      certificateStatus: { status: string; org?: string };
      trustAnchors: { org: string; fingerprint: string }[];
    };
    expect(id.certificateStatus).toMatchObject({ status: 'verified', org: 'Demo Org' });
    const status = page.getByTestId('certificate-status');
    expect(await status.getAttribute('data-status')).toBe('verified');
    expect(await status.textContent()).toContain('Certified by Demo Org');
    expect(await page.getByTestId('room-key-fingerprint').textContent()).toBe(id.fingerprint);
    const anchors = await page.getByTestId('trust-anchors').textContent();
    for (const a of id.trustAnchors) {
      expect(anchors).toContain(a.org);
      expect(anchors).toContain(a.fingerprint);
    }
  });

  test('keys pinned in a meeting are listed; one is forgotten', async () => {
    const page = t.page;
    const e2ee = t.demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    expect((await t.kiosk('/api/v1/join', { meetingId: e2ee.id, passcode: e2ee.passcode })).status).toBe(200);
    const pinned = async () =>
      ((await t.client.call('GET', '/api/v1/identity/pins')).json as { pins: { name: string }[] }).pins.map(
        (p) => p.name,
      );
    await expect.poll(pinned, { timeout: 45_000 }).toContain('Bongani Dlamini');
    // Out of the meeting again, so the room does not pin the key again at once.
    expect((await t.kiosk('/api/v1/leave', {})).status).toBe(200);
    await expect.poll(async () => (await t.kioskState()).meeting, { timeout: 20_000 }).toBeNull();

    await t.open('provisioning');
    const row = page.getByTestId('pin-row').filter({ hasText: 'Bongani Dlamini' });
    await row.waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('pin-row').count()).toBe((await pinned()).length);
    await t.shot('provisioning', { fullPage: true });
    await row.getByTestId('pin-forget').click();
    await expect
      .poll(() => page.getByTestId('pin-forgotten').textContent(), { timeout: 10_000 })
      .toContain('Forgot the key of “Bongani Dlamini” (Demo Org)');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
    expect(await pinned()).not.toContain('Bongani Dlamini');
    expect(t.consoleErrors.filter((e) => /Content Security Policy|Refused to|Uncaught/i.test(e))).toEqual([]);
  }, 90_000);
});
