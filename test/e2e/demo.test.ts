/**
 * The real demo in real Chromium (docs/kiosk-and-admin-api.md §roomctl demo): `startDemo` runs the
 * daemon with the embedded relay, emulated devices and far-end people sending real VP8 from ffmpeg;
 * the kiosk page is driven like a person would: claim with roomctl → tap Join on the scheduled E2EE
 * meeting → green shield, "End-to-end encrypted" and the 8 groups of /api/v1/state → far-end video
 * painted (pixels change over time) → the leader leaves → banner with the new code → the enhanced
 * meeting shows the check-mark shield and no code. Screenshots go to
 * test-output/screenshots/demo-*.png.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { DemoRun } from '../../demo/run.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { runRoomctl } from '../../src/http/roomctl/cli.ts';
import { kioskState } from '../support/kiosk-state.ts';
import {
  type DemoInChromium,
  SHOTS,
  SMALL_ROOM_MEDIA,
  shotOnFailure,
  startDemoInChromium,
} from './demo-fixture.ts';

let demo: DemoRun;
let page: Page;
let dirs: string[] = [];
let run: DemoInChromium | undefined;

const state = (): Promise<RoomState> => kioskState(demo.kioskUrl);

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `demo-${name}.png`) });

/** A cheap fingerprint of a tile's canvas pixels, or null while it is blank. */
async function canvasPrint(selector: string): Promise<string | null> {
  return page.locator(`${selector} canvas`).evaluate((el) => {
    const c = el as unknown as {
      width: number;
      height: number;
      getContext(
        k: string,
      ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
    };
    if (c.width === 0 || c.height === 0) return null;
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
    if (data === undefined) return null;
    let sum = 0;
    let nonBlack = 0;
    for (let i = 0; i < data.length; i += 4 * 97) {
      sum = (sum * 31 + data[i]! + data[i + 1]! * 3 + data[i + 2]! * 7) >>> 0;
      if (data[i]! + data[i + 1]! + data[i + 2]! > 30) nonBlack++;
    }
    return nonBlack > 10 ? String(sum) : null;
  });
}

beforeAll(async () => {
  run = await startDemoInChromium({ name: 'demo', botMedia: 'ffmpeg', roomMedia: SMALL_ROOM_MEDIA });
  ({ demo, page } = run);
  dirs = [run.stateDir];
}, 180_000);

afterEach(async (ctx) => shotOnFailure(page, 'demo', ctx.task.result?.state === 'fail'));

afterAll(async () => {
  await run?.stop();
}, 60_000);

describe('the demo room in Chromium', () => {
  test('the setup code on the screen is what roomctl claim accepts; the room name appears', async () => {
    await page.goto(demo.kioskUrl);
    const code = (await state()).setup?.setupCode ?? '';
    await expect.poll(() => page.getByTestId('setup-code').textContent(), { timeout: 20_000 }).toBe(code);
    await shot('01-setup');
    const pw = path.join(dirs[0]!, 'pw');
    await fsp.writeFile(pw, 'correct horse battery staple\n');
    const out: string[] = [];
    const rc = await runRoomctl(
      [
        'claim',
        '--json',
        '--url',
        demo.app.http.urls().admin,
        '--fingerprint',
        demo.app.http.certificate.fingerprint,
        '--code',
        code,
        '--password-file',
        pw,
        '--room-name',
        'Fjord',
        '--config',
        path.join(dirs[0]!, 'roomctl.json'),
      ],
      { stdout: (t) => out.push(t), stderr: (t) => out.push(t), env: {} },
    );
    expect(out.join('\n')).toContain('"claimed":true');
    expect(rc).toBe(0);
    await expect.poll(() => page.getByTestId('room-name').textContent(), { timeout: 20_000 }).toBe('Fjord');
    // Renaming the room keeps its bookings (they name the device, not the display name).
    await demo.app.room!.refreshSchedule();
    expect((await state()).schedule.map((m) => m.encryption).sort()).toEqual(['e2ee', 'enhanced']);
  }, 60_000);

  test('tap Join → green shield, "End-to-end encrypted", the code of /api/v1/state, far-end video moving', async () => {
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    await expect.poll(() => page.getByTestId(`join-${e2ee.id}`).count(), { timeout: 30_000 }).toBe(1);
    await shot('02-idle');
    await page.getByTestId(`join-${e2ee.id}`).click();
    await page.getByTestId('screen-meeting').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.getByTestId('encryption').getAttribute('data-shield'), { timeout: 30_000 })
      .toBe('e2ee');
    expect(await page.getByTestId('encryption-title').textContent()).toBe('End-to-end encrypted');
    await expect
      .poll(
        async () =>
          (await page.locator('[data-testid="security-code"] .code-group').allTextContents()).join(' '),
        { timeout: 10_000 },
      )
      .toBe((await state()).meeting?.securityCode);
    expect((await state()).meeting?.securityCode).toMatch(/^\d{5}( \d{5}){7}$/);
    const alice = e2ee.bots[0]!.session.participantId!;
    const tile = `[data-participant="${alice}"]`;
    await page.locator(`${tile}.tile-live`).waitFor({ timeout: 30_000 });
    const first = await expect
      .poll(() => canvasPrint(tile), { timeout: 20_000 })
      .not.toBeNull()
      .then(() => canvasPrint(tile));
    await expect.poll(() => canvasPrint(tile), { timeout: 20_000 }).not.toBe(first);
    await shot('03-in-meeting-e2ee');
  }, 120_000);

  test('the leader leaves: a new code, and a banner that says so', async () => {
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    const before = (await state()).meeting?.securityCode;
    await e2ee.bots[0]!.leave();
    await page.getByTestId('code-changed-banner').waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await state()).meeting?.shield, { timeout: 30_000 }).toBe('e2ee');
    const after = (await state()).meeting?.securityCode;
    expect(after).not.toBe(before);
    await expect
      .poll(
        async () =>
          (await page.locator('[data-testid="security-code"] .code-group').allTextContents()).join(' '),
        { timeout: 10_000 },
      )
      .toBe(after);
    await shot('04-code-changed');
  }, 90_000);

  test('who is who: certified people, an unverified visitor and a changed key, each on the screen', async () => {
    // Everyone the demo puts in the meeting is certified by Demo Org, which the room trusts.
    const others = () => state().then((s) => (s.meeting?.participants ?? []).filter((p) => p.self !== true));
    expect(
      (await others()).every((p) => p.identity.status === 'verified' && p.identity.org === 'Demo Org'),
    ).toBe(true);
    const row = (name: string) => page.getByTestId('participant').filter({ hasText: name });
    const visitor = await demo.env.addFarEndPerson({ kind: 'uncertified' });
    const unverified = () => others().then((ps) => ps.find((p) => p.identity.status === 'unverified')?.name);
    await expect.poll(unverified, { timeout: 30_000 }).toBeDefined();
    const name = (await unverified()) as string;
    await row(name).getByTestId('identity-unverified').waitFor({ timeout: 10_000 });
    await page.getByTestId('unverified-warning').waitFor({ timeout: 10_000 });
    // The default policy (warn): no green padlock while an unverified key holds the meeting key.
    await expect.poll(async () => (await state()).meeting?.shield, { timeout: 30_000 }).toBe('partial');
    await visitor.leave();
    await expect.poll(async () => (await state()).meeting?.shield, { timeout: 30_000 }).toBe('e2ee');
    // Someone the room met before, now with another key under a valid Demo Org certificate.
    await demo.env.addFarEndPerson({ kind: 'rekeyed' });
    await page.getByTestId('identity-key-changed').waitFor({ timeout: 30_000 });
    await expect
      .poll(
        async () => (await state()).meeting?.participants.some((p) => p.identity.status === 'key-changed'),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    expect(await page.getByTestId('identity-verified').count()).toBeGreaterThan(0);
    await expect.poll(async () => (await state()).meeting?.shield, { timeout: 30_000 }).toBe('partial');
    await shot('05-identities');
  }, 120_000);

  test('the enhanced meeting shows the check-mark shield and no code', async () => {
    await page.getByTestId('leave').last().click();
    await page.getByTestId('screen-idle').waitFor({ timeout: 30_000 });
    const enhanced = demo.env.meetings.find((m) => m.encryption === 'enhanced')!;
    await page.getByTestId(`join-${enhanced.id}`).click();
    await expect
      .poll(() => page.getByTestId('encryption').getAttribute('data-shield'), { timeout: 30_000 })
      .toBe('enhanced');
    expect(await page.getByTestId('encryption-title').textContent()).toBe(
      'Encrypted — keys held by the meeting service',
    );
    expect(await page.getByTestId('security-code').count()).toBe(0);
    expect((await state()).meeting?.securityCode).toBeNull();
    await shot('06-in-meeting-enhanced');
  }, 90_000);
});
