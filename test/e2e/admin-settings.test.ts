/**
 * The admin console's Settings and Encryption pages in Chromium, against the real demo daemon
 * (docs/kiosk-and-admin-api.md §Admin console): a form generated from the settings schema with one
 * control per field (text, number, on/off, choice, the trust-anchor table, JSON), its help text,
 * default and "needs restart" mark; the secret never shown back; the server's error shown at the
 * field and nothing saved; a good value saved and in effect; and the E2EE policy in plain words,
 * saved through the same API.
 */
import * as path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { settingLeaves } from '../../src/config/schema.ts';
import { type ConsoleUnderTest, SCREENSHOTS, startConsoleUnderTest } from './admin-fixture.ts';
import { publishDocShots } from './doc-shots.ts';

let t: ConsoleUnderTest;

beforeAll(async () => {
  t = await startConsoleUnderTest();
}, 180_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

async function settings(): Promise<Record<string, Record<string, unknown>>> {
  return (await t.client.call('GET', '/api/v1/settings')).json as Record<string, Record<string, unknown>>;
}

const field = (id: string) =>
  t.page.locator(`[data-testid="settings-${id.split('.')[0]}"] [data-field="${id}"]`);
const leaves = settingLeaves().filter((l) => !('const' in l.schema));
const id = (l: { path: string[] }) => l.path.join('.');

describe('Settings page', () => {
  test('one field per setting of the schema, with the control its type needs, help, default and restart mark', async () => {
    const page = t.page;
    await t.open('settings');
    await page.getByTestId('settings-media').waitFor();
    expect(await page.locator('[data-testid="page-settings"] [data-testid="field"]').count()).toBe(
      leaves.length,
    );
    for (const l of leaves) {
      const f = field(id(l));
      expect(await f.count(), id(l)).toBe(1);
      const restart = (l.schema as TSchema & { requiresRestart?: boolean }).requiresRestart === true;
      expect(await f.getByTestId('needs-restart').count(), id(l)).toBe(restart ? 1 : 0);
      if (typeof l.schema.description === 'string')
        expect(await f.locator('.field-help').first().textContent(), id(l)).toBe(l.schema.description);
    }
    // Controls by type: number, choice, on/off, nullable text, list of objects, JSON.
    expect(await field('media.width').locator('input').getAttribute('type')).toBe('number');
    expect(await field('media.width').locator('input').getAttribute('max')).toBe('3840');
    expect(await field('media.videoCodec').locator('option').allTextContents()).toEqual(['vp8', 'h264']);
    expect(await field('log.level').locator('option').allTextContents()).toEqual([
      'fatal',
      'error',
      'warn',
      'info',
      'debug',
      'trace',
    ]);
    expect(await field('kiosk.allowRemote').locator('input').getAttribute('type')).toBe('checkbox');
    expect(await field('meetingService.proxy').locator('input').getAttribute('placeholder')).toBe('not set');
    expect(await field('identity.trustAnchors').getByTestId('list-row').count()).toBe(1);
    expect(
      await field('identity.trustAnchors').getByTestId('list-row').locator('input').first().inputValue(),
    ).toBe('Demo Org');
    expect(JSON.parse(await field('identity.certificate').locator('textarea').inputValue())).toMatchObject({
      org: 'Demo Org',
      kind: 'room',
    });
    expect(await field('media.width').textContent()).toContain('Default: 1280');
    expect(await field('devices.panel.baudRate').locator('option').allTextContents()).toEqual([
      '9600',
      '19200',
      '38400',
      '57600',
      '115200',
    ]);
    await t.shot('settings');
  }, 60_000);

  test('the meeting-service credential is never shown back', async () => {
    const page = t.page;
    const token = field('meetingService.token').locator('input');
    expect(await token.getAttribute('type')).toBe('password');
    expect(await token.inputValue()).toBe('');
    expect(t.demo.env.roomToken.length).toBeGreaterThan(15);
    expect(await page.content()).not.toContain(t.demo.env.roomToken);
    expect(JSON.stringify(await settings())).not.toContain(t.demo.env.roomToken);
  });

  test('a value the room refuses: its error at the field, nothing saved; a good one saved and in effect', async () => {
    const page = t.page;
    const width = field('media.width');
    await width.locator('input').fill('10');
    await page.getByTestId('save-media').click();
    await expect
      .poll(() => width.getByTestId('field-error').textContent(), { timeout: 10_000 })
      .toBe('must be a whole number from 160 to 3840 (got 10)');
    expect(await page.getByTestId('save-error').textContent()).toContain('Not saved.');
    expect((await settings())['media']?.['width']).toBe(640);
    await page
      .getByTestId('settings-media')
      .screenshot({ path: path.join(SCREENSHOTS, 'admin-settings-error.png') });
    await publishDocShots(['admin-settings-error.png']);

    await width.locator('input').fill('1280');
    await page.getByTestId('save-media').click();
    await page.locator('[data-testid="settings-media"] [data-testid="saved"]').waitFor({ timeout: 10_000 });
    expect(await width.getByTestId('field-error').count()).toBe(0);
    expect((await settings())['media']?.['width']).toBe(1280);

    // The room name takes effect at once: the room screen shows it.
    await field('room.name').locator('input').fill('Fjord');
    await page.getByTestId('save-room').click();
    await expect.poll(async () => (await t.kioskState()).room.name, { timeout: 10_000 }).toBe('Fjord');

    // A setting that needs a restart says so once saved.
    await field('kiosk.allowRemote').locator('input').check();
    await page.getByTestId('save-kiosk').click();
    await expect
      .poll(() => page.locator('[data-testid="settings-kiosk"] [data-testid="saved"]').textContent(), {
        timeout: 10_000,
      })
      .toContain('Takes effect after a restart: kiosk.allowRemote');
    expect((await settings())['kiosk']?.['allowRemote']).toBe(true);
  }, 60_000);

  test('a trust anchor that is not a key: the error at its row, and the anchors kept', async () => {
    const page = t.page;
    const anchors = field('identity.trustAnchors');
    await anchors.getByTestId('add-row').click();
    const row = anchors.getByTestId('list-row').nth(1);
    await row.locator('input[data-column="org"]').fill('Acme');
    await row.locator('input[data-column="publicKey"]').fill('not-a-key');
    await page.getByTestId('save-identity').click();
    await expect
      .poll(() => row.getByTestId('field-error').first().textContent(), { timeout: 10_000 })
      .toContain('must be text matching');
    expect((await settings())['identity']?.['trustAnchors']).toHaveLength(1);
  }, 30_000);
});

describe('Encryption page', () => {
  test('the policy in plain words, with the current choices, saved through the settings', async () => {
    const page = t.page;
    await t.open('encryption');
    const minimum = page.locator('[data-field="encryption.minimum"]');
    const unverified = page.locator('[data-field="encryption.unverifiedParticipants"]');
    await minimum.waitFor();
    expect(await minimum.locator('input[value="booked"]').isChecked()).toBe(true);
    expect(await unverified.locator('input[value="warn"]').isChecked()).toBe(true);
    expect(await minimum.textContent()).toContain(
      'The room refuses to join a meeting whose keys the service holds',
    );
    expect(await unverified.textContent()).toContain('it gives them none');
    // The room trusts Demo Org, so it can verify people: no "trusts nobody" notice.
    expect(await page.getByTestId('trusts-nobody').count()).toBe(0);
    await minimum.locator('input[value="e2ee"]').check();
    await unverified.locator('input[value="refuse"]').check();
    await t.shot('encryption', { fullPage: true });
    await page.getByTestId('save-encryption').click();
    await page.getByTestId('saved').waitFor({ timeout: 10_000 });
    const s = await settings();
    expect(s['encryption']).toMatchObject({ minimum: 'e2ee', unverifiedParticipants: 'refuse' });
    const identity = (await t.client.call('GET', '/api/v1/identity')).json as {
      unverifiedParticipants: string;
    };
    expect(identity.unverifiedParticipants).toBe('refuse');
  }, 60_000);
});
