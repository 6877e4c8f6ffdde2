/**
 * The room screen in real Chromium (docs/kiosk-and-admin-api.md §Room screen): unprovisioned screen
 * with a setup code that `roomctl claim` accepts → room name appears → tap Join on the scheduled
 * E2EE meeting → green padlock shield, "End-to-end encrypted" and the 8×5-digit code equal to
 * /api/v1/state → the roster shows each participant's identity (verified, not verified, key
 * changed) and the roster code → leader change shows the banner with the new code → an enhanced
 * meeting shows the check-mark shield and no code. Screenshots go to test-output/screenshots/.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { runRoomctl } from '../../src/http/roomctl/cli.ts';
import { AdminClient } from '../../src/http/roomctl/client.ts';
import { makeVp8Frames } from '../support/kiosk-feed.ts';
import { launchChromium } from './chromium.ts';
import { ensureKioskBuilt, type KioskUnderTest, startKioskUnderTest } from './kiosk-fixture.ts';

const SHOTS = path.resolve(import.meta.dirname, '../../test-output/screenshots');

let server: KioskUnderTest;
let context: BrowserContext | undefined;
let page: Page;
let userDataDir: string;
let configDir: string;
const consoleErrors: string[] = [];

async function state(): Promise<RoomState> {
  const res = await fetch(new URL('/api/v1/state', server.kioskUrl));
  return (await res.json()) as RoomState;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

beforeAll(async () => {
  await ensureKioskBuilt();
  await fsp.mkdir(SHOTS, { recursive: true });
  server = await startKioskUnderTest();
  userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  configDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomctl-config-'));
  // The admin page uses the device's self-signed certificate (roomctl pins it by fingerprint).
  context = await launchChromium(userDataDir, { ignoreHTTPSErrors: true });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  await fsp.rm(userDataDir, { recursive: true, force: true });
  await fsp.rm(configDir, { recursive: true, force: true });
});

describe('kiosk page in Chromium', () => {
  test('unprovisioned screen shows the setup code that roomctl claim accepts', async () => {
    await page.goto(server.kioskUrl);
    const s = await state();
    expect(s.room.provisioned).toBe(false);
    const code = s.setup?.setupCode ?? '';
    expect(code).toMatch(/^\d{5}-\d{5}$/);
    await expect.poll(() => page.getByTestId('setup-code').textContent()).toBe(code);
    expect(await page.getByTestId('cert-fingerprint').textContent()).toContain(
      server.certFingerprint.slice(0, 20),
    );
    await shot('01-setup');

    const passwordFile = path.join(configDir, 'pw');
    await fsp.writeFile(passwordFile, 'correct horse battery staple\n');
    const out: string[] = [];
    const rc = await runRoomctl(
      [
        'claim',
        '--json',
        '--url',
        server.adminUrl,
        '--fingerprint',
        server.certFingerprint,
        '--code',
        code,
        '--password-file',
        passwordFile,
        '--room-name',
        'Fjord',
        '--config',
        path.join(configDir, 'config.json'),
      ],
      { stdout: (t) => out.push(t), stderr: (t) => out.push(t), env: {} },
    );
    expect(out.join('\n')).toContain('"claimed":true');
    expect(rc).toBe(0);
    await expect.poll(() => page.getByTestId('room-name').textContent(), { timeout: 10_000 }).toBe('Fjord');
  });

  test('idle screen → tap Join → green padlock shield and the security code from /api/v1/state', async () => {
    await expect.poll(() => page.getByTestId('schedule-item').count()).toBe(2);
    await shot('02-idle');
    const e2ee = (await state()).schedule.find((m) => m.encryption === 'e2ee')!;
    await page.getByTestId(`join-${e2ee.meetingId}`).click();
    await page.getByTestId('screen-joining').waitFor();
    await shot('03-joining');
    await page.getByTestId('screen-meeting').waitFor({ timeout: 10_000 });
    const area = page.getByTestId('encryption');
    await expect.poll(() => area.getAttribute('data-shield')).toBe('e2ee');
    expect(await page.getByTestId('encryption-title').textContent()).toBe('End-to-end encrypted');
    expect(await page.getByTestId('shield-icon').first().getAttribute('data-icon')).toBe('padlock');
    const groups = await page.locator('[data-testid="security-code"] .code-group').allTextContents();
    expect(groups).toHaveLength(8);
    for (const g of groups) expect(g).toMatch(/^\d{5}$/);
    expect(groups.join(' ')).toBe((await state()).meeting?.securityCode);
    const color = await page
      .locator('[data-testid="encryption"] .shield-body')
      .first()
      .evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(el)
            .fill,
      );
    expect(color).toBe('rgb(47, 191, 113)');
    expect(await page.getByTestId('verified-badge').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('disabled-features').textContent()).toContain('Cloud recording');
    if (server.publishVideo !== undefined) {
      // Far-end video through the live socket, decoded by WebCodecs in the page.
      const frames = await makeVp8Frames(6);
      for (const fr of frames) server.publishVideo({ participantId: 'p-alice', ...fr });
      for (const fr of frames) server.publishVideo({ participantId: 'p-room', self: true, ...fr });
      await page.locator('.self-view .tile-live').waitFor({ timeout: 10_000 });
      await page.locator('[data-participant="p-alice"].tile-live').waitFor({ timeout: 10_000 });
    }
    await shot('04-in-meeting-e2ee');
  });

  test('the roster says what is known about each identity, with the roster code and a calm notice', async () => {
    const s = await state();
    const m = s.meeting!;
    const row = (id: string) => page.locator(`[data-testid="participant"][data-participant="${id}"]`);
    // This room and Alice: certified by an organization this room trusts.
    expect(await page.getByTestId('identity-verified').count()).toBe(2);
    expect(await row('p-room').getByTestId('identity-verified').textContent()).toContain(
      'Verified · Demo Org',
    );
    expect(await row('p-room').getByTestId('certified-name').count()).toBe(0);
    const alice = row('p-alice');
    expect(await alice.getByTestId('verified-badge').textContent()).toBe('✓ Verified · Demo Org');
    expect(await alice.getByTestId('certified-name').textContent()).toContain(
      'certified as “Alice J. Smith”',
    );
    // Bob: not verified, with his key's fingerprint and why.
    const bob = row('p-bob').getByTestId('identity-unverified');
    const bobText = await bob.textContent();
    expect(bobText).toContain('Not verified');
    expect(bobText).toContain('0f1e 2d3c 4b5a 6978');
    expect(bobText).toContain('no certificate');
    expect(await row('p-bob').getByTestId('verified-badge').count()).toBe(0);
    expect(await page.getByTestId('identity-key-changed').count()).toBe(0);
    // The roster code, in the words people read aloud.
    expect(m.rosterCode).toMatch(/^\d{5}( \d{5}){3}$/);
    expect(await page.getByTestId('roster-code-digits').textContent()).toBe(m.rosterCode);
    expect(await page.getByTestId('roster-code').textContent()).toBe(
      `Roster check ${m.rosterCode} — compare after people join or leave`,
    );
    expect(m.identityPolicy).toBe('warn');
    expect(await page.getByTestId('unverified-warning').textContent()).toBe(
      '1 participant is not verified by an organization this room trusts.',
    );

    // Carol joins (the roster code changes), then holds another key than the one her organization
    // certified before: an alarm, in red, listed first.
    if (server.addVerifiedParticipant === undefined || server.changeIdentityKey === undefined) return;
    await server.addVerifiedParticipant({ id: 'p-carol', name: 'Carol White' });
    const joined = (await state()).meeting!.rosterCode;
    expect(joined).not.toBe(m.rosterCode);
    await expect.poll(() => page.getByTestId('roster-code-digits').textContent()).toBe(joined);
    const carol = row('p-carol');
    expect(await carol.getByTestId('verified-badge').textContent()).toBe('✓ Verified · Demo Org');
    await server.changeIdentityKey('p-carol');
    const alarm = carol.getByTestId('identity-key-changed');
    await alarm.waitFor();
    const alarmText = await alarm.textContent();
    expect(alarmText).toContain('Identity key changed');
    expect(alarmText).toContain('Demo Org');
    expect(alarmText).toContain('Carol White');
    expect(alarmText).toContain('dead beef 0bad f00d');
    expect(await carol.getByTestId('verified-badge').count()).toBe(0);
    expect(await carol.getAttribute('data-verified')).toBe('false');
    expect(await page.getByTestId('participant').first().getAttribute('data-participant')).toBe('p-carol');
    const background = await carol
      .locator('.alarm-title')
      .evaluate(
        (el) =>
          (
            globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
          ).getComputedStyle(el).backgroundColor,
      );
    expect(background).toBe('rgb(229, 72, 77)');
    await expect
      .poll(() => page.getByTestId('unverified-warning').textContent())
      .toBe('2 participants are not verified by an organization this room trusts.');
    expect(await page.getByTestId('identity-verified').count()).toBe(2);
    expect(await page.getByTestId('identity-unverified').count()).toBe(1);
    // Everything above fits on the 1080p screen: nobody and not the roster code is scrolled away.
    const overflow = await page.locator('.roster-list').evaluate((el) => {
      const e = el as unknown as { scrollHeight: number; clientHeight: number };
      return e.scrollHeight - e.clientHeight;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    const inView = await page.getByTestId('roster-code').evaluate((el) => {
      const r = (el as unknown as { getBoundingClientRect(): { bottom: number } }).getBoundingClientRect();
      const box = (
        (el as unknown as { closest(s: string): unknown }).closest('.sidebar') as {
          getBoundingClientRect(): { bottom: number };
        }
      ).getBoundingClientRect();
      return r.bottom <= box.bottom;
    });
    expect(inView).toBe(true);
    await shot('11-meeting-identities');
  });

  test('a leader change shows the banner with the new code', async () => {
    const before = (await state()).meeting?.securityCode;
    await server.changeLeader();
    await page.getByTestId('code-changed-banner').waitFor();
    const after = (await state()).meeting?.securityCode;
    expect(after).not.toBe(before);
    await expect
      .poll(async () =>
        (await page.locator('[data-testid="security-code"] .code-group').allTextContents()).join(' '),
      )
      .toBe(after);
    await shot('05-code-changed');
    await page.getByTestId('ack-code').click();
    await page.getByTestId('code-changed-banner').waitFor({ state: 'detached' });
  });

  test('an enhanced meeting shows the check-mark shield and no security code', async () => {
    await page.getByTestId('leave').last().click();
    await page.getByTestId('screen-idle').waitFor();
    const enhanced = (await state()).schedule.find((m) => m.encryption === 'enhanced')!;
    await page.getByTestId(`join-${enhanced.meetingId}`).click();
    await page.getByTestId('screen-meeting').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.getByTestId('encryption').getAttribute('data-shield')).toBe('enhanced');
    expect(await page.getByTestId('encryption-title').textContent()).toBe(
      'Encrypted — keys held by the meeting service',
    );
    expect(await page.getByTestId('shield-icon').first().getAttribute('data-icon')).toBe('check');
    expect(await page.getByTestId('security-code').count()).toBe(0);
    expect((await state()).meeting?.securityCode).toBeNull();
    // No identity keys in an enhanced meeting: the client kind only, no badge, no roster code.
    await expect.poll(() => page.getByTestId('participant').count()).toBe(3);
    expect(await page.locator('[data-testid="participant"] .badge').count()).toBe(0);
    expect(await page.getByTestId('roster-code').count()).toBe(0);
    expect(await page.getByTestId('unverified-warning').count()).toBe(0);
    expect(await page.getByTestId('participant').last().textContent()).toContain('Mobile app');
    await shot('06-in-meeting-enhanced');
  });

  test('joining an unknown meeting ID on the keypad says why in plain words', async () => {
    await page.getByTestId('leave').last().click();
    await page.getByTestId('screen-idle').waitFor();
    for (const d of '80000000000') await page.getByTestId(`key-${d}`).click();
    expect(await page.getByTestId('entry-id').textContent()).toContain('800 0000 0000');
    await page.getByTestId('join-by-id-button').click();
    await page.getByTestId('notice-cmd').waitFor();
    expect(await page.getByTestId('notice-cmd').textContent()).toContain('There is no meeting with that ID.');
    await shot('08-error');
  });

  test('the admin page signs in over HTTPS and shows the device status', async () => {
    const admin = await context!.newPage();
    admin.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await admin.goto(`${server.adminUrl}/`);
    await admin.locator('input[name="password"]').fill('correct horse battery staple');
    await admin.locator('button[type="submit"]').click();
    await admin.getByTestId('page-status').waitFor();
    await expect.poll(() => admin.getByTestId('room-name').textContent()).toBe((await state()).room.name);
    await admin.screenshot({ path: path.join(SHOTS, '07-admin.png') });
    await admin.close();
  });

  test('the room screen scales to 4K', async () => {
    await page.setViewportSize({ width: 3840, height: 2160 });
    await shot('09-idle-4k');
    const size = await page.getByTestId('room-name').evaluate((el) => {
      const r = (el as unknown as { getBoundingClientRect(): { height: number } }).getBoundingClientRect();
      return r.height;
    });
    expect(size).toBeGreaterThan(120);
    await page.setViewportSize({ width: 1920, height: 1080 });
  });

  test('wrong admin passwords from many addresses pause network sign-in and the room screen says so', async () => {
    await server.exhaustGuessBudget();
    await page.getByTestId('notice-lock').waitFor();
    expect(await page.getByTestId('notice-lock').textContent()).toContain('Admin sign-in is locked');
    expect((await state()).admin.loginLocked).toBe(true);
    // The device itself (this test's client is on loopback) is never under the network pause.
    const client = new AdminClient({ url: server.adminUrl, fingerprint: server.certFingerprint });
    expect(
      (await client.request('POST', '/api/v1/login', { password: 'correct horse battery staple' })).status,
    ).toBe(200);
    await shot('10-admin-locked');
  }, 120_000);

  test('the pages ran under the strict CSP without violations', () => {
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
  });
});
