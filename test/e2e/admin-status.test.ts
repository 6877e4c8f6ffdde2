/**
 * The admin console's Status page in Chromium, against the real demo daemon
 * (docs/kiosk-and-admin-api.md §Admin console): the room's name and version; a health summary that
 * agrees with the devices (in the console and in the API); the admin certificate's fingerprint as
 * the setup screen and roomctl have it and the identity key's as `roomctl identity show` prints it;
 * and, in a meeting, its title, shield and the security code of the room screen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runRoomctl } from '../../src/http/roomctl/cli.ts';
import type { DeviceInfo } from '../../src/http/schemas/state.ts';
import { type ConsoleUnderTest, startConsoleUnderTest } from './admin-fixture.ts';

let t: ConsoleUnderTest;

beforeAll(async () => {
  t = await startConsoleUnderTest();
}, 180_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

const HEALTH_WORDS = { ok: 'Healthy', degraded: 'Degraded', failing: 'Failing' } as const;

describe('Status page', () => {
  test('the room, its version, and a health summary that agrees with the devices', async () => {
    const page = t.page;
    await t.open('status');
    const state = await t.kioskState();
    await expect.poll(() => page.getByTestId('room-name').textContent()).toBe(state.room.name);
    const pkg = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(await page.getByTestId('version').textContent()).toBe(pkg.version);
    expect(await page.getByTestId('uptime').textContent()).toMatch(/^\d+ (s|min)|^\d+ h/);

    const devices = ((await t.client.call('GET', '/api/v1/devices')).json as { devices: DeviceInfo[] })
      .devices;
    const health = (await t.client.call('GET', '/api/v1/health')).json as {
      status: keyof typeof HEALTH_WORDS;
      checks: { name: string; ok: boolean }[];
    };
    // The API agrees with itself: a device check passes exactly when the device is ok.
    const used = devices.filter((d) => d.state !== 'not-configured');
    expect(used.length).toBeGreaterThanOrEqual(3);
    for (const d of used)
      expect(health.checks.find((c) => c.name === `device:${d.id}`)?.ok).toBe(d.status === 'ok');
    expect(health.status === 'ok').toBe(used.every((d) => d.status === 'ok'));

    // The console shows each device in the colour of its status, and the same health.
    await expect.poll(() => page.getByTestId('status-device').count()).toBe(devices.length);
    for (const d of devices) {
      const row = page.locator(`[data-testid="status-device"][data-device="${d.id}"]`);
      expect(await row.getAttribute('data-status')).toBe(d.status);
      expect(await row.locator('.pill').getAttribute('data-tone')).toBe(
        // Not set up, or optional equipment not there (the demo's laptop on the shelf): neutral.
        d.state === 'not-configured' || d.state === 'absent'
          ? 'idle'
          : d.status === 'ok'
            ? 'good'
            : d.status === 'degraded'
              ? 'warn'
              : 'bad',
      );
    }
    await expect
      .poll(() => page.getByTestId('health-status').textContent())
      .toBe(HEALTH_WORDS[health.status]);
    expect(await page.getByTestId('head-health').textContent()).toBe(HEALTH_WORDS[health.status]);
    for (const c of health.checks)
      expect(
        await page.locator(`[data-testid="health-check"][data-check="${c.name}"]`).getAttribute('data-ok'),
      ).toBe(String(c.ok));
  }, 60_000);

  test('one certificate fingerprint: the setup screen’s and roomctl’s; the identity key as roomctl prints it', async () => {
    const page = t.page;
    const shown = page.getByTestId('cert-fingerprint');
    // The fingerprint roomctl pins (--fingerprint) and the room screen shows on its setup page.
    expect(await shown.getAttribute('data-fingerprint')).toBe(t.certFingerprint);
    expect((await t.kioskState()).certFingerprint).toBe(t.certFingerprint);
    // Laid out as the setup screen does: upper-case, colon-separated, split in the middle.
    const rows = await shown.locator('div').allTextContents();
    const bytes = t.certFingerprint.split(':');
    const half = Math.ceil(bytes.length / 2);
    expect(rows).toEqual([bytes.slice(0, half).join(':'), bytes.slice(half).join(':')]);

    const out: string[] = [];
    const rc = await runRoomctl(
      ['identity', 'show', '--url', t.adminUrl, '--fingerprint', t.certFingerprint, '--token', t.token],
      { stdout: (s) => out.push(s), stderr: (s) => out.push(s), env: {} },
    );
    expect(rc).toBe(0);
    const printed = /Fingerprint\s+(.+)/.exec(out.join('\n'))?.[1]?.trim();
    expect(printed).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    expect(await page.getByTestId('identity-fingerprint').textContent()).toBe(printed);
  }, 60_000);

  test('in a meeting: its title, the shield and the security code of the room screen', async () => {
    const page = t.page;
    const e2ee = t.demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    const joined = await t.kiosk('/api/v1/join', { meetingId: e2ee.id, passcode: e2ee.passcode });
    expect(joined.status).toBe(200);
    await expect.poll(async () => (await t.kioskState()).meeting?.shield, { timeout: 45_000 }).toBe('e2ee');
    await expect
      .poll(() => page.getByTestId('meeting-shield').getAttribute('data-shield'), { timeout: 15_000 })
      .toBe('e2ee');
    expect(await page.getByTestId('meeting-title').textContent()).toBe(e2ee.title);
    expect(await page.locator('[data-testid="meeting-shield"] .shield-words').textContent()).toBe(
      'End-to-end encrypted',
    );
    // The code the people in the room read aloud, group by group.
    await expect
      .poll(
        async () =>
          (await page.getByTestId('security-code').getAttribute('data-code')) ===
          (await t.kioskState()).meeting?.securityCode,
        { timeout: 15_000 },
      )
      .toBe(true);
    const code = (await page.getByTestId('security-code').getAttribute('data-code')) ?? '';
    expect(code).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(await page.locator('[data-testid="security-code"] .code-group').allTextContents()).toEqual(
      code.split(' '),
    );
    // How the room's media goes: on this machine, straight to the relay over UDP (read every 3 s).
    await expect
      .poll(() => page.getByTestId('media-path').getAttribute('data-path'), { timeout: 15_000 })
      .toBe('direct-udp');
    expect(await page.getByTestId('media-path').textContent()).toBe('Direct, UDP');
    await t.shot('status');
    expect(t.consoleErrors.filter((e) => /Content Security Policy|Refused to|Uncaught/i.test(e))).toEqual([]);
  }, 90_000);
});
