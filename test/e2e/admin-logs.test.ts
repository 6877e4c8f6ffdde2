/**
 * The admin console's Logs page in Chromium, against the real demo daemon
 * (docs/kiosk-and-admin-api.md §Admin console): the room's recent log lines, filtered by level and
 * by text, and downloaded — the whole log from the API, or just the lines shown.
 */
import * as fsp from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ConsoleUnderTest, startConsoleUnderTest } from './admin-fixture.ts';

let t: ConsoleUnderTest;

beforeAll(async () => {
  t = await startConsoleUnderTest();
}, 180_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

const WARNING = 'the e2e warning the level filter keeps';
const ERROR = 'the e2e error the level filter keeps';

describe('Logs page', () => {
  test('recent lines, newest first, filtered by level and text', async () => {
    const page = t.page;
    t.log.warn({ component: 'e2e', check: 1 }, WARNING);
    t.log.error({ component: 'e2e', check: 2 }, ERROR);
    await t.open('logs');
    const rows = page.getByTestId('log-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(5);
    // The daemon's own start-up line is there, at info.
    expect(await rows.filter({ hasText: 'roomd is running' }).getAttribute('data-level')).toBe('info');
    expect(await rows.first().textContent()).toContain(ERROR);
    expect(await rows.filter({ hasText: WARNING }).textContent()).toContain('check=1');

    await t.shot('logs');
    await page.getByTestId('log-level').selectOption('40');
    await expect.poll(() => rows.filter({ hasText: 'roomd is running' }).count()).toBe(0);
    const levels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-level')));
    expect(levels.length).toBeGreaterThanOrEqual(2);
    expect(levels.every((l) => l === 'warn' || l === 'error' || l === 'fatal')).toBe(true);

    await page.getByTestId('log-search').fill('level filter keeps');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await page.getByTestId('log-count').textContent()).toMatch(/^2 of \d+ lines shown\.$/);
  }, 60_000);

  test('download: the whole log from the room, or the lines shown', async () => {
    const page = t.page;
    const [all] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('log-download').click(),
    ]);
    expect(all.suggestedFilename()).toMatch(/^roomd-rd-[a-z0-9]+-.*\.log$/);
    const whole = await fsp.readFile(await all.path(), 'utf8');
    expect(whole).toContain('roomd is running');
    expect(whole).toContain(WARNING);

    const [shown] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('log-download-shown').click(),
    ]);
    const lines = (await fsp.readFile(await shown.path(), 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.includes('level filter keeps'))).toBe(true);
  }, 60_000);
});
