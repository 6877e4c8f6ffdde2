/**
 * Content sharing and chat in real Chromium (docs/kiosk-and-admin-api.md §Content sharing, §Chat,
 * §roomctl demo): the real demo daemon, claimed with roomctl, joins the E2EE meeting from the room
 * screen; `roomctl demo share` → the content large with live pictures, the people in a strip, the
 * Share button disabled with the sharer's name, the layout toggle back and forth, `unshare` → the
 * grid; `plug laptop` → the room shares its own slides, `unplug laptop` → it stops; `say` → an unread
 * count and the message, a canned reply → the room's own message, delivered; `whisper` → shown as
 * private. Screenshots: test-output/screenshots/share-chat-*.png (demo-share.png and demo-chat.png
 * for the README, through `npm run screenshots`).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { DemoRun } from '../../demo/run.ts';
import { DEFAULT_FONT } from '../../src/app/room/config.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { kioskState } from '../support/kiosk-state.ts';
import {
  claimAndJoinE2ee,
  type DemoInChromium,
  roomctlIn,
  SHOTS,
  SMALL_ROOM_MEDIA,
  shotOnFailure,
  startDemoInChromium,
} from './demo-fixture.ts';
import { publishDocShots } from './doc-shots.ts';

let demo: DemoRun;
let page: Page;
let run: DemoInChromium | undefined;

const state = (): Promise<RoomState> => kioskState(demo.kioskUrl);

const roomctl = (...args: string[]) => roomctlIn(run!.stateDir, ...args);

async function director(...args: string[]): Promise<string> {
  const r = await roomctl('demo', ...args);
  expect(r.rc, r.out).toBe(0);
  return r.out;
}

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `share-chat-${name}.png`) });

/**
 * Whether the share view's canvas shows a picture: sampled pixels differ in brightness (a blank or
 * one-colour canvas does not). The slides have a title and text on a plain background.
 */
async function sharePainted(): Promise<boolean> {
  return page.getByTestId('share-view').evaluate((el) => {
    const c = el as unknown as {
      width: number;
      height: number;
      getContext(
        k: string,
      ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
    };
    if (c.width === 0 || c.height === 0) return false;
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
    if (data === undefined) return false;
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < data.length; i += 4 * 53) {
      const y = (data[i]! + data[i + 1]! + data[i + 2]!) / 3;
      lo = Math.min(lo, y);
      hi = Math.max(hi, y);
    }
    return hi - lo > 40;
  });
}

beforeAll(async () => {
  // The far end sends synthetic frames (cheap); the shared slides are real VP8 from ffmpeg, and the
  // room has the demo's slide deck as its content source (the laptop on the table).
  run = await startDemoInChromium({
    name: 'share-chat',
    botMedia: 'synthetic',
    roomMedia: {
      ...SMALL_ROOM_MEDIA,
      content: {
        source: { type: 'slides', fontFile: existsSync(DEFAULT_FONT) ? DEFAULT_FONT : null, label: 'Slides' },
        encode: {
          codec: 'vp8',
          width: 640,
          height: 360,
          framerate: 5,
          bitrateKbps: 400,
          keyframeIntervalMs: 5000,
          niceness: 10,
        },
      },
    },
  });
  ({ demo, page } = run);
}, 180_000);

afterEach(async (ctx) => shotOnFailure(page, 'share-chat', ctx.task.result?.state === 'fail'));

afterAll(async () => {
  await run?.stop();
}, 60_000);

/** The open chat panel leaves the shield and the whole security code in view. */
async function expectCodeInView(page: Page): Promise<void> {
  const panelBox = await page.getByTestId('chat-panel').boundingBox();
  for (const id of ['security-code', 'encryption-title']) {
    const box = await page.getByTestId(id).first().boundingBox();
    expect(box, id).not.toBeNull();
    const overlaps =
      panelBox !== null &&
      box !== null &&
      box.x < panelBox.x + panelBox.width &&
      panelBox.x < box.x + box.width &&
      box.y < panelBox.y + panelBox.height &&
      panelBox.y < box.y + box.height;
    expect(overlaps, `${id} covered by the chat panel`).toBe(false);
  }
}

describe('sharing and chat on the room screen', () => {
  test('claim, then join the E2EE meeting from the room screen', async () => {
    await page.goto(demo.kioskUrl);
    await claimAndJoinE2ee(page, demo, roomctl);
    // Nobody shares: the people grid, and Share disabled for want of a content source.
    expect(await page.getByTestId('share-view').count()).toBe(0);
    expect(await page.getByTestId('share-reason').textContent()).toBe('No content source connected');
  }, 90_000);

  test('share: the content large and live, the people in a strip, Share disabled with who shares', async () => {
    expect(await director('share')).toBe('Alice Moreau shares slides in "Design review".');
    await page.getByTestId('share-view').waitFor({ timeout: 20_000 });
    await expect.poll(sharePainted, { timeout: 30_000, interval: 250 }).toBe(true);
    expect(await page.getByTestId('share-caption').textContent()).toContain('Alice Moreau is sharing');
    const strip = page.getByTestId('people-strip');
    expect(await strip.isVisible()).toBe(true);
    expect(await strip.locator('.tile').count()).toBeGreaterThanOrEqual(2);
    const toggle = page.getByTestId('share-toggle');
    expect(await toggle.isDisabled()).toBe(true);
    expect(await page.getByTestId('share-reason').textContent()).toBe('Alice Moreau is sharing');
    const s = await state();
    expect(s.meeting?.share).toMatchObject({ active: true, self: false, by: 'Alice Moreau' });
    await shot('01-far-end-shares');
    await page.screenshot({ path: path.join(SHOTS, 'demo-share.png') });
    await publishDocShots(['demo-share.png']);
    // A second share while Alice shares: the first to share keeps it.
    const busy = await roomctl('demo', 'share', '--name', 'Bongani Dlamini');
    expect(busy.rc).not.toBe(0);
    expect(busy.out).toContain('Alice Moreau is sharing');
  }, 90_000);

  test('the layout toggle: back to the people grid and again to the content', async () => {
    await page.getByTestId('share-layout-toggle').click();
    await page.getByTestId('share-view').waitFor({ state: 'detached', timeout: 5000 });
    expect(await page.getByTestId('people-strip').count()).toBe(0);
    expect(await page.getByTestId('share-layout-toggle').textContent()).toContain('Show shared content');
    await shot('02-people-chosen');
    await page.getByTestId('share-layout-toggle').click();
    await page.getByTestId('share-view').waitFor({ timeout: 5000 });
    await expect.poll(sharePainted, { timeout: 20_000, interval: 250 }).toBe(true);
  }, 60_000);

  test('unshare: the people grid again, Share says why it cannot', async () => {
    expect(await director('unshare')).toBe('Alice Moreau stopped sharing in "Design review".');
    await page.getByTestId('share-view').waitFor({ state: 'detached', timeout: 20_000 });
    expect(await page.getByTestId('share-layout-toggle').count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('share-reason').textContent(), { timeout: 10_000 })
      .toBe('No content source connected');
    expect((await state()).meeting?.share?.active).toBe(false);
    const again = await roomctl('demo', 'unshare');
    expect(again.rc).not.toBe(0);
  }, 60_000);

  test('plug laptop: the room shares its own slides; unplug: it stops', async () => {
    await director('plug', 'laptop');
    await expect.poll(async () => (await state()).meeting?.share?.self, { timeout: 20_000 }).toBe(true);
    await page.getByTestId('share-view').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('share-caption').textContent()).toContain('This room is sharing');
    await expect.poll(sharePainted, { timeout: 30_000, interval: 250 }).toBe(true);
    const toggle = page.getByTestId('share-toggle');
    expect(await toggle.isDisabled()).toBe(false);
    expect(await toggle.textContent()).toContain('Stop sharing');
    await shot('03-room-shares');
    await director('unplug', 'laptop');
    await expect.poll(async () => (await state()).meeting?.share?.active, { timeout: 20_000 }).toBe(false);
    await page.getByTestId('share-view').waitFor({ state: 'detached', timeout: 10_000 });
  }, 90_000);

  test('say: an unread count and the message; a canned reply turns delivered', async () => {
    expect(await director('say', 'Hello from Alice')).toBe(
      'Alice Moreau wrote to everyone in "Design review".',
    );
    await expect
      .poll(
        () =>
          page
            .getByTestId('chat-unread')
            .textContent()
            .catch(() => null),
        { timeout: 15_000 },
      )
      .toBe('1');
    expect(await page.getByTestId('chat-open').getAttribute('aria-label')).toBe('Chat, 1 unread');
    await page.getByTestId('chat-open').click();
    await page.getByTestId('chat-panel').waitFor({ timeout: 5000 });
    const messages = page.getByTestId('chat-message');
    await expect.poll(() => messages.count(), { timeout: 5000 }).toBe(1);
    expect(await messages.first().textContent()).toContain('Hello from Alice');
    expect(await messages.first().textContent()).toContain('Alice Moreau');
    expect(await messages.first().getAttribute('data-mine')).toBe('false');
    await expect.poll(() => page.getByTestId('chat-unread').count(), { timeout: 5000 }).toBe(0);
    const reply = (await page.getByTestId('chat-reply-0').textContent()) ?? '';
    expect(reply.length).toBeGreaterThan(0);
    await page.getByTestId('chat-reply-0').click();
    await expect.poll(() => messages.count(), { timeout: 10_000 }).toBe(2);
    const mine = messages.nth(1);
    expect(await mine.getAttribute('data-mine')).toBe('true');
    expect(await mine.textContent()).toContain(reply);
    // Alice and Bongani acknowledge it.
    await expect
      .poll(() => mine.getByTestId('chat-status').textContent(), { timeout: 20_000 })
      .toBe('Delivered');
    const s = await state();
    expect(s.meeting?.chat?.at(-1)).toMatchObject({
      mine: true,
      delivered: true,
      private: false,
      text: reply,
    });
  }, 90_000);

  test('whisper: a message only the room can read, marked private', async () => {
    expect(await director('whisper', 'Just for the room')).toBe(
      'Alice Moreau wrote privately to the room in "Design review".',
    );
    const whisper = page.getByTestId('chat-message').filter({ hasText: 'Just for the room' });
    await whisper.waitFor({ timeout: 20_000 });
    expect(await whisper.getAttribute('data-private')).toBe('true');
    expect(await whisper.getAttribute('data-mine')).toBe('false');
    expect((await state()).meeting?.chat?.at(-1)).toMatchObject({
      text: 'Just for the room',
      private: true,
      to: 'room',
    });
    await expectCodeInView(page);
    await shot('04-chat');
    await page.screenshot({ path: path.join(SHOTS, 'demo-chat.png') });
    await publishDocShots(['demo-chat.png']);
  }, 60_000);
});
