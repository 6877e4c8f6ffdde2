/**
 * The first hour of a facilities admin, in real Chromium (README.md §A walk through the demo): a
 * fresh demo room; the admin reads the setup code, the admin page's address and its certificate
 * fingerprint off the room screen, claims the room with the `roomctl claim` command the screen
 * shows, signs in to the admin console (which shows the same fingerprint), renames the room in
 * Settings and sees the new name on the room screen, joins the E2EE meeting from the room screen
 * (green shield and the security code of /api/v1/state), makes the host leave with
 * `roomctl demo host-leaves` (a new code and a banner that says who left and who holds the keys),
 * and leaves. Every screen goes to test-output/screenshots/walkthrough-NN-*.png; `npm run
 * screenshots` copies the set to docs/screenshots/walkthrough-*.png, which README.md links.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { DemoRun } from '../../demo/run.ts';
import { runRoomctl } from '../../src/http/roomctl/cli.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { kioskState } from '../support/kiosk-state.ts';
import { publishDocShots } from './doc-shots.ts';
import {
  type DemoInChromium,
  SHOTS,
  SMALL_ROOM_MEDIA,
  shotOnFailure,
  startDemoInChromium,
} from './demo-fixture.ts';

const PASSWORD = 'correct horse battery staple';
const ROOT = new URL('../..', import.meta.url).pathname;

let demo: DemoRun;
/** The room screen. */
let kiosk: Page;
/** The admin's laptop. */
let admin: Page;
let dirs: string[] = [];
let run: DemoInChromium | undefined;
const taken: string[] = [];

const state = (): Promise<RoomState> => kioskState(demo.kioskUrl);

async function roomctl(args: string[]): Promise<{ rc: number; out: string }> {
  const out: string[] = [];
  const rc = await runRoomctl([...args, '--config', path.join(dirs[0]!, 'roomctl.json')], {
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    env: {},
    // The admin types the new password, Enter, Ctrl-D.
    readStdin: async () => `${PASSWORD}\n`,
  });
  return { rc, out: out.join('\n') };
}

/** A command line typed in a terminal in the checkout; the admin types the password and Ctrl-D. */
async function typed(words: string[], extra: string[]): Promise<{ rc: number; out: string }> {
  const child = spawn(words[0]!, [...words.slice(1), ...extra], {
    cwd: ROOT,
    env: { ...process.env, npm_config_offline: 'true', npm_config_yes: 'false' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stdin.end(`${PASSWORD}\n`);
  const rc = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { rc, out };
}

async function shot(page: Page, name: string): Promise<void> {
  const file = `walkthrough-${String(taken.length + 1).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path: path.join(SHOTS, file) });
  taken.push(file);
}

const codeOnScreen = async () =>
  (await kiosk.locator('[data-testid="security-code"] .code-group').allTextContents()).join(' ');

beforeAll(async () => {
  // The admin's browser accepts the device's own certificate once the fingerprint matches.
  run = await startDemoInChromium({
    name: 'walkthrough',
    botMedia: 'ffmpeg',
    roomMedia: SMALL_ROOM_MEDIA,
    ignoreHTTPSErrors: true,
  });
  ({ demo, page: kiosk } = run);
  dirs = [run.stateDir];
  admin = await run.context.newPage();
  await admin.setViewportSize({ width: 1440, height: 960 });
}, 180_000);

afterEach(async (ctx) => shotOnFailure(kiosk, 'walkthrough', ctx.task.result?.state === 'fail'));

afterAll(async () => {
  await run?.stop();
}, 60_000);

describe('a facilities admin’s first hour with the demo room', () => {
  let fingerprint = '';

  test('the room screen says how to claim it; the command it shows claims it', async () => {
    await kiosk.goto(demo.kioskUrl);
    await kiosk.getByTestId('screen-setup').waitFor({ timeout: 20_000 });
    const code = (await kiosk.getByTestId('setup-code').textContent({ timeout: 20_000 })) ?? '';
    expect(code).toBe((await state()).setup?.setupCode);
    const adminUrl = (await kiosk.locator('.setup .big-line').first().textContent()) ?? '';
    fingerprint = (await kiosk.locator('[data-testid="cert-fingerprint"] > div').allTextContents()).join(':');
    expect(fingerprint).toBe(demo.app.http.certificate.fingerprint);
    const command = (await kiosk.getByTestId('claim-command').textContent()) ?? '';
    expect(command).toBe(
      `npx roomctl claim --url ${adminUrl.replace(/\/$/, '')} --fingerprint ${fingerprint} --code ${code} --password-stdin`,
    );
    await shot(kiosk, 'setup');

    // Typed as the screen shows it, in the checkout, with npm kept offline: npx must run this
    // checkout's roomctl, never ask a registry for a package of that name.
    const words = command.split(' ');
    const claim = await typed(words, ['--config', path.join(dirs[0]!, 'roomctl.json'), '--json']);
    expect(claim.rc, claim.out).toBe(0);
    expect(claim.out).toContain('"claimed":true');
    await kiosk.getByTestId('screen-idle').waitFor({ timeout: 20_000 });
    await shot(kiosk, 'idle-claimed');
  }, 60_000);

  test('sign in to the admin console: the same fingerprint as on the room screen', async () => {
    const adminUrl = demo.app.http.urls().admin;
    await admin.goto(`${adminUrl}/#/status`);
    await admin.getByTestId('login-form').waitFor({ timeout: 20_000 });
    await shot(admin, 'admin-sign-in');
    await admin.locator('input[name="password"]').fill(PASSWORD);
    await admin.locator('button[type="submit"]').click();
    await admin.getByTestId('page-status').waitFor({ timeout: 20_000 });
    const shown = admin.getByTestId('cert-fingerprint');
    await shown.waitFor({ timeout: 20_000 });
    expect(await shown.getAttribute('data-fingerprint')).toBe(fingerprint);
    await shot(admin, 'admin-status');
  }, 60_000);

  test('rename the room in Settings: the room screen shows the new name', async () => {
    await admin.goto(`${demo.app.http.urls().admin}/#/settings`);
    await admin.getByTestId('page-settings').waitFor({ timeout: 20_000 });
    const name = admin.locator('[data-testid="settings-room"] [data-field="room.name"] input');
    await name.fill('Fjord');
    await admin.getByTestId('save-room').click();
    await admin.locator('[data-testid="settings-room"] [data-testid="saved"]').waitFor({ timeout: 10_000 });
    // The console's header follows (it reads the overview again within seconds).
    await expect
      .poll(() => admin.locator('.head-room').textContent(), { timeout: 10_000 })
      .toContain('Fjord');
    await shot(admin, 'admin-room-renamed');
    await expect.poll(() => kiosk.getByTestId('room-name').textContent(), { timeout: 10_000 }).toBe('Fjord');
    expect((await state()).room.name).toBe('Fjord');
    await shot(kiosk, 'idle-renamed');
  }, 60_000);

  test('join the E2EE meeting from the room screen: the green shield and the code', async () => {
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    await kiosk.getByTestId(`join-${e2ee.id}`).click({ timeout: 30_000 });
    await kiosk.getByTestId('screen-meeting').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => kiosk.getByTestId('encryption').getAttribute('data-shield'), { timeout: 30_000 })
      .toBe('e2ee');
    expect(await kiosk.getByTestId('encryption-title').textContent()).toBe('End-to-end encrypted');
    await expect
      .poll(async () => (await codeOnScreen()) === (await state()).meeting?.securityCode, { timeout: 10_000 })
      .toBe(true);
    expect(await codeOnScreen()).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(await kiosk.getByTestId('code-label').textContent()).toContain('Alice Moreau holds the keys');
    await shot(kiosk, 'in-meeting-e2ee');
  }, 90_000);

  test('roomctl demo host-leaves: a new code and a banner that tells the truth', async () => {
    const before = (await state()).meeting?.securityCode;
    const r = await roomctl(['demo', 'host-leaves']);
    expect(r.rc, r.out).toBe(0);
    await kiosk.getByTestId('code-changed-banner').waitFor({ timeout: 30_000 });
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
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(await kiosk.getByTestId('code-changed-text').textContent()).toBe(
      'The security code has changed. The host, Alice Moreau, left. Bongani Dlamini now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.',
    );
    expect(await kiosk.getByTestId('code-label').textContent()).toContain('Bongani Dlamini holds the keys');
    expect(await kiosk.getByTestId('encryption').getAttribute('data-shield')).toBe('e2ee');
    await shot(kiosk, 'host-left');
  }, 60_000);

  test('Leave: back to the renamed room’s idle screen', async () => {
    await kiosk.getByTestId('leave').last().click();
    await kiosk.getByTestId('screen-idle').waitFor({ timeout: 30_000 });
    await expect.poll(async () => (await state()).meeting, { timeout: 10_000 }).toBeNull();
    expect(await kiosk.getByTestId('room-name').textContent()).toBe('Fjord');
    await shot(kiosk, 'left');

    // The set of screens this walk took, for README.md §Walkthrough.
    expect(taken.length).toBe(9);
    await publishDocShots(taken, 'walkthrough-');
  }, 60_000);
});
