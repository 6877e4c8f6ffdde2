/**
 * The director in real Chromium (docs/kiosk-and-admin-api.md §roomctl demo): the real demo daemon,
 * claimed with roomctl; the room screen is driven like a person would, and `roomctl demo` makes the
 * far end act. The host leaves → the new code on the screen with a banner that says who left and who
 * holds the keys now; "Got it" answers at once; a phone tries to join → refused at the far end and
 * the room screen says nothing about it; Leave says so at once; a wrong meeting ID is refused in
 * seconds with no false claim of encryption. Screenshots: test-output/screenshots/director-*.png.
 */
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { DemoRun } from '../../demo/run.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { kioskState } from '../support/kiosk-state.ts';
import {
  claimAndJoinE2ee,
  type DemoInChromium,
  roomctlIn,
  SHOTS,
  shotOnFailure,
  startDemoInChromium,
} from './demo-fixture.ts';

let demo: DemoRun;
let page: Page;
let dirs: string[] = [];
let run: DemoInChromium | undefined;

const state = (): Promise<RoomState> => kioskState(demo.kioskUrl);

const roomctl = (...args: string[]) => roomctlIn(dirs[0]!, ...args);

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `director-${name}.png`) });
const codeOnScreen = async () =>
  (await page.locator('[data-testid="security-code"] .code-group').allTextContents()).join(' ');

beforeAll(async () => {
  // The far end sends synthetic frames: this test is about words and codes, not pictures.
  run = await startDemoInChromium({ name: 'director', botMedia: 'synthetic', roomMedia: null });
  ({ demo, page } = run);
  dirs = [run.stateDir];
}, 180_000);

afterEach(async (ctx) => shotOnFailure(page, 'director', ctx.task.result?.state === 'fail'));

afterAll(async () => {
  await run?.stop();
}, 60_000);

describe('the director and the room screen', () => {
  test('claim with the command the setup screen shows; join the E2EE meeting', async () => {
    await page.goto(demo.kioskUrl);
    const s = await state();
    const command = await claimAndJoinE2ee(page, demo, roomctl);
    expect(command).toBe(
      `npx roomctl claim --url https://127.0.0.1:${new URL(demo.app.http.urls().admin).port} --fingerprint ${s.setup?.certFingerprint} --code ${s.setup?.setupCode} --password-stdin`,
    );
    expect(await page.getByTestId('code-label').textContent()).toContain('Alice Moreau holds the keys');
  }, 90_000);

  test('host-leaves: the new code and a banner that says who left and who holds the keys', async () => {
    const before = (await state()).meeting?.securityCode;
    const r = await roomctl('demo', 'host-leaves');
    expect(r.rc, r.out).toBe(0);
    const t0 = performance.now();
    await page.getByTestId('code-changed-banner').waitFor({ timeout: 10_000 });
    await expect
      .poll(
        async () => {
          const s = await state();
          return (
            s.meeting?.shield === 'e2ee' &&
            s.meeting.securityCode !== before &&
            (await codeOnScreen()) === s.meeting.securityCode
          );
        },
        { timeout: 10_000, interval: 50 },
      )
      .toBe(true);
    console.log(
      `[director e2e] host left → new code on the screen after ${(performance.now() - t0).toFixed(0)} ms`,
    );
    const banner = await page.getByTestId('code-changed-text').textContent();
    expect(banner).toBe(
      'The security code has changed. The host, Alice Moreau, left. Bongani Dlamini now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.',
    );
    expect(banner).not.toContain('Ask the host');
    expect(await page.getByTestId('code-label').textContent()).toContain('Bongani Dlamini holds the keys');
    await shot('01-host-left');
    const t1 = performance.now();
    await page.getByTestId('ack-code').click();
    await page.getByTestId('code-changed-banner').waitFor({ state: 'detached', timeout: 1500 });
    console.log(`[director e2e] "Got it" → banner gone after ${(performance.now() - t1).toFixed(0)} ms`);
  }, 60_000);

  test('phone-join: refused at the far end; the room screen says nothing about it', async () => {
    const names = async () => page.getByTestId('participant').allTextContents();
    const before = await names();
    const code = await codeOnScreen();
    const r = await roomctl('demo', 'phone-join');
    expect(r.rc, r.out).toBe(0);
    expect(r.out).toContain('Telephone dial-in cannot join end-to-end encrypted meetings');
    // Give a wrong screen every chance to show up.
    await page.waitForTimeout(1500);
    expect(await names()).toEqual(before);
    expect((await names()).join(' ')).not.toContain('Dial-in');
    expect(await page.getByTestId('encryption').getAttribute('data-shield')).toBe('e2ee');
    expect(await codeOnScreen()).toBe(code);
    expect(await page.getByTestId('notices').count()).toBe(0);
    await shot('02-phone-refused');
  }, 60_000);

  test('Leave says "Leaving…" at once and the room is idle within seconds', async () => {
    const leave = page.getByTestId('leave').last();
    const t0 = performance.now();
    await leave.click();
    const label = await leave.textContent({ timeout: 500 }).catch(() => null);
    // Either the tap is still in flight ("Leaving…") or the room already left.
    if (label !== null) expect(label).toContain('Leaving…');
    await page.getByTestId('screen-idle').waitFor({ timeout: 5000 });
    console.log(`[director e2e] Leave → idle after ${(performance.now() - t0).toFixed(0)} ms`);
  }, 30_000);

  test('a wrong meeting ID: refused within 3 s, never called end-to-end encrypted, no unrelated notice', async () => {
    for (const k of '12345678901') await page.getByTestId(`key-${k}`).click();
    const leads: string[] = [];
    const watch = setInterval(() => {
      void page
        .getByTestId('joining-lead')
        .textContent({ timeout: 50 })
        .then((t) => t !== null && leads.push(t))
        .catch(() => {});
    }, 20);
    const t0 = performance.now();
    await page.getByTestId('join-by-id-button').click();
    await page.getByTestId('notice-e-relay.meeting_not_found').waitFor({ timeout: 3000 });
    clearInterval(watch);
    console.log(
      `[director e2e] wrong meeting ID → refusal on the screen after ${(performance.now() - t0).toFixed(0)} ms`,
    );
    expect(await page.getByTestId('notices').textContent()).toBe('There is no meeting with that ID.');
    expect(leads.join(' ')).not.toMatch(/encrypted/i);
    await page.getByTestId('screen-idle').waitFor({ timeout: 5000 });
    await shot('03-wrong-id');
  }, 30_000);
});
