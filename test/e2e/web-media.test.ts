/**
 * A browser participant meets the room (docs/decisions/0022-one-core-in-node-and-browser.md): the
 * real demo (daemon, relay serving the web client, far-end bots) with the room screen in one
 * Chromium, and the web client in another whose camera and microphone are Chromium's fake devices
 * playing a y4m clip (every frame stamped with its number, src/media/frame-stamp.ts) and a wav.
 * The room joins the E2EE meeting from its screen, the browser from /join/<id> with a link that
 * vouches for the demo organization, after that organization certified the browser's key
 * (`roomctl identity issue`, the certificate pasted into the page; a malformed one is refused in
 * words). Then:
 *
 * - the browser, the room and a bot show the same 40-digit security code, every shield green, each
 *   verifying the others;
 * - the browser paints the room's camera (its stamps are the room's wall clock, so they read as a
 *   time within seconds of now, and they move);
 * - the room screen paints the browser's camera (its stamps are frame numbers of the clip, and
 *   they move), and hears its audio;
 * - muting in the browser shows muted on the browser's tile on the room screen, and unmuting
 *   clears it; a reaction shows on the room screen;
 * - the browser's leave rekeys the others: a new epoch and a new code on the room and the bot,
 *   without the browser in the roster.
 */
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { DemoRun } from '../../demo/run.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { readFrameStamp, unwrapStamp } from '../../src/media/frame-stamp.ts';
import type { HeadlessParticipant } from '../../src/meeting/headless.ts';
import { anchorFragment } from '../../web/src/link.ts';
import { keyFingerprint } from '../../src/e2ee/certificate.ts';
import { fromBase64Url } from '../../src/protocol/codec.ts';
import { runRoomctl } from '../../src/http/roomctl/cli.ts';
import { kioskState } from '../support/kiosk-state.ts';
import { buildWebClient, launchWithDevices, makeFakeDevices, trustLinkOrganization } from './web-fixture.ts';
import { publishDocShots } from './doc-shots.ts';
import {
  claimAndJoinE2ee,
  type DemoInChromium,
  roomctlIn,
  SMALL_ROOM_MEDIA,
  SHOTS,
  shotOnFailure,
  startDemoInChromium,
} from './demo-fixture.ts';

const _run_ = promisify(execFile);
const CLIP_FRAMES = 60;
const CLIP_W = 640;
const CLIP_H = 360;

let run: DemoInChromium;
let demo: DemoRun;
let room: Page;
let web: Page;
let webContext: BrowserContext | undefined;
let tmp: string;
let bot: HeadlessParticipant;
let meetingId: string;
let passcode: string;

const state = (): Promise<RoomState> => kioskState(demo.kioskUrl);

/** The frame stamp on a canvas (null while unreadable: blank, too small, between pictures). */
async function stampOn(page: Page, selector: string): Promise<number | null> {
  const band = await page.locator(selector).evaluate((el) => {
    const c = el as unknown as {
      width: number;
      height: number;
      getContext(
        k: string,
      ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
    };
    if (c.width < 80 || c.height < 10) return null;
    const h = Math.max(2, Math.round((c.height * 2) / 45));
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, h).data;
    return data === undefined
      ? null
      : { width: c.width, height: h, frameHeight: c.height, data: Array.from(data) };
  });
  if (band === null) return null;
  return readFrameStamp({ data: band.data, width: band.width, height: band.height }, band.frameHeight);
}

/** Stamps read from a canvas until `count` distinct ones were seen (the picture moves). */
async function distinctStamps(page: Page, selector: string, count: number): Promise<number[]> {
  const seen = new Set<number>();
  await expect
    .poll(
      async () => {
        const s = await stampOn(page, selector);
        if (s !== null) seen.add(s);
        return seen.size;
      },
      { timeout: 30_000, interval: 150 },
    )
    .toBeGreaterThanOrEqual(count);
  return [...seen];
}

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-web-media-'));
  // The relay of the demo serves web/dist: build it from these sources.
  await buildWebClient();
  // The browser's camera: a clip whose every frame carries its number; its microphone: a tone.
  const devices = await makeFakeDevices(tmp, {
    width: CLIP_W,
    height: CLIP_H,
    frames: CLIP_FRAMES,
    stamped: true,
  });
  // The room shares the demo's slides when its laptop is plugged in (real VP8, small and slow).
  run = await startDemoInChromium({
    name: 'web-media',
    botMedia: 'synthetic',
    roomMedia: {
      ...SMALL_ROOM_MEDIA,
      content: {
        source: { type: 'slides', fontFile: null, label: 'Slides' },
        encode: {
          codec: 'vp8',
          width: 640,
          height: 360,
          framerate: 5,
          bitrateKbps: 300,
          keyframeIntervalMs: 5000,
          niceness: 10,
        },
      },
    },
  });
  ({ demo, page: room } = run);
  ({ context: webContext, page: web } = await launchWithDevices(path.join(tmp, 'web-profile'), devices));
  const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee');
  if (e2ee === undefined || e2ee.passcode === null)
    throw new Error('the demo has no E2EE meeting with a passcode');
  meetingId = e2ee.id;
  passcode = e2ee.passcode;
  bot = e2ee.bots[0] as HeadlessParticipant;
}, 240_000);

afterEach(async (ctx) => {
  const failed = ctx.task.result?.state === 'fail';
  await shotOnFailure(room, 'web-media-room', failed);
  await shotOnFailure(web, 'web-media-web', failed);
});

afterAll(async () => {
  await webContext?.close();
  await run?.stop();
  if (tmp !== undefined) await fsp.rm(tmp, { recursive: true, force: true });
}, 60_000);

describe('a browser participant, the room and a bot in one E2EE meeting', () => {
  let webId: string;
  let roomId: string;

  test('the room joins from its screen; the browser from /join/<id> with the passcode', async () => {
    await room.goto(demo.kioskUrl);
    await claimAndJoinE2ee(room, demo, (...args) => roomctlIn(run.stateDir, ...args));
    const relayHttp = demo.env.signalUrl.replace(/^ws/, 'http').replace(/\/v1\/signal$/, '');
    // The link vouches for the demo organization, as the demo's banner's does (web/src/link.ts).
    await web.goto(`${relayHttp}/join/${meetingId}#${anchorFragment(demo.env.anchor)}`);
    // The page asks before trusting the organization its link names (a link may have been
    // changed on its way); the person compares the key's fingerprint and says yes.
    await trustLinkOrganization(web, 'Demo Org', keyFingerprint(fromBase64Url(demo.env.anchor.publicKey)));
    expect(await web.getByTestId('trust').textContent()).toContain('which this browser trusts');
    // The organization certifies this browser's key, as its issuer would: the key from the page,
    // `roomctl identity issue` with the demo organization's key, the certificate pasted back.
    await web.getByTestId('certificate').click();
    const key = (await web.getByTestId('identity-key').textContent()) ?? '';
    const issued: string[] = [];
    const rc = await runRoomctl(
      ['identity', 'issue', '--org-key', path.join(run.stateDir, 'demo-org-key.json')].concat([
        '--name',
        'Dana in a browser',
        '--kind',
        'person',
        '--key',
        key,
      ]),
      { stdout: (t) => issued.push(t), stderr: (t) => issued.push(t), env: {} },
    );
    expect(rc, issued.join('\n')).toBe(0);
    await web.getByTestId('certificate-input').fill('{"v":1}');
    await web.getByTestId('certificate-save').click();
    expect(await web.getByTestId('certificate-error').textContent()).toContain('not a certificate');
    await web.getByTestId('certificate-input').fill(issued.join(''));
    await web.getByTestId('certificate-save').click();
    await expect
      .poll(() => web.getByTestId('certificate').textContent())
      .toBe('Certified by Demo Org as Dana in a browser');
    await web.locator('input[name="passcode"]').fill(passcode);
    await web.locator('input[name="name"]').fill('Dana in a browser');
    await web.getByTestId('join').click();
    await expect
      .poll(() => web.getByTestId('shield').getAttribute('data-shield'), { timeout: 30_000 })
      .toBe('e2ee');
    await expect
      .poll(() => bot.session.snapshot.participants.some((p) => p.clientType === 'web' && p.keyed), {
        timeout: 30_000,
      })
      .toBe(true);
    webId = bot.session.snapshot.participants.find((p) => p.clientType === 'web')!.id;
    roomId = bot.session.snapshot.participants.find((p) => p.clientType === 'room')!.id;
  }, 120_000);

  test('all three show the same security code, with green shields', async () => {
    await expect
      .poll(
        async () => {
          const s = await state();
          const webCode = await web.getByTestId('security-code').getAttribute('data-code');
          const botCode = bot.session.snapshot.securityCode;
          const roomCode = s.meeting?.securityCode ?? null;
          return {
            same: webCode !== null && webCode === botCode && webCode === roomCode,
            roster: s.meeting?.participants.some((p) => p.id === webId && p.keyed),
            // The browser verifies the room and the bots against the organization its link names;
            // they verify the browser by its certificate: every shield green, every mark verified
            // (under `warn` an uncertified browser would keep theirs orange: web-client.test.ts).
            shields: [
              await web.getByTestId('shield').getAttribute('data-shield'),
              bot.session.snapshot.shield,
              s.meeting?.shield,
            ],
            marks: [
              bot.session.snapshot.participants.find((p) => p.id === webId)?.identity.status,
              s.meeting?.participants.find((p) => p.id === webId)?.identity.status,
            ],
          };
        },
        { timeout: 30_000 },
      )
      .toEqual({
        same: true,
        roster: true,
        shields: ['e2ee', 'e2ee', 'e2ee'],
        marks: ['verified', 'verified'],
      });
  }, 60_000);

  test("the browser paints the room's camera: stamps of the room's clock, moving", async () => {
    const tile = `[data-testid="tile"][data-participant="${roomId}"] canvas`;
    const stamps = await distinctStamps(web, tile, 3);
    const now = Date.now();
    for (const s of stamps) {
      const at = unwrapStamp(s, now);
      // Made by the room's camera in the last half minute, not in the future.
      expect(now - at).toBeGreaterThanOrEqual(-1000);
      expect(now - at).toBeLessThan(30_000);
    }
    // Frames that came before the browser held their senders' keys failed to open; once secure,
    // none does.
    type Stats = { playback: { videoFramesDecoded: number }; decryptFailures: Record<string, number> };
    const webStats = async () => (await web.evaluate('window.roomdWebStats()')) as Stats;
    const before = await webStats();
    await expect
      .poll(async () => (await webStats()).playback.videoFramesDecoded, { timeout: 20_000 })
      .toBeGreaterThan(before.playback.videoFramesDecoded + 10);
    expect((await webStats()).decryptFailures).toEqual(before.decryptFailures);
    await web.locator(`[data-testid="tile"][data-participant="${roomId}"][data-live="yes"]`).waitFor();
    await web.screenshot({ path: path.join(SHOTS, 'web-in-meeting.png') });
    await publishDocShots(['web-in-meeting.png']);
  }, 60_000);

  test("the room screen paints the browser's camera: frame numbers of its clip, moving; it hears it", async () => {
    const tile = `[data-testid="tile"][data-participant="${webId}"] canvas`;
    await room.locator(tile).waitFor({ timeout: 30_000 });
    const stamps = await distinctStamps(room, tile, 3);
    for (const s of stamps) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(CLIP_FRAMES);
    }
    // The room opened the browser's audio and video (its receive figures for that sender).
    const rx = () => demo.app.room?.link?.receiveStats(webId, 'audio').snapshot();
    const before = rx();
    await expect
      .poll(() => rx()?.framesReceived ?? 0, { timeout: 20_000 })
      .toBeGreaterThan((before?.framesReceived ?? 0) + 20);
    expect(rx()?.decryptFailures).toBe(before?.decryptFailures);
    await room.screenshot({ path: path.join(SHOTS, 'web-media-02-room.png') });
  }, 60_000);

  test('muting in the browser shows muted on the room screen; unmuting clears it; a reaction shows', async () => {
    const mark = `[data-testid="tile"][data-participant="${webId}"] .muted-mark`;
    await web.getByTestId('mute').click();
    await room.locator(mark).waitFor({ timeout: 15_000 });
    await expect
      .poll(async () => (await state()).meeting?.participants.find((p) => p.id === webId)?.muted, {
        timeout: 15_000,
      })
      .toBe(true);
    await web.getByTestId('mute').click();
    await room.locator(mark).waitFor({ state: 'detached', timeout: 15_000 });
    await web.getByTestId('react-clap').click();
    await expect
      .poll(
        () => bot.media.control.reactions.some((r) => r.participantId === webId && r.reaction === 'clap'),
        { timeout: 15_000 },
      )
      .toBe(true);
  }, 60_000);

  test('the room shares its slides: the browser shows them large, named; when it stops, they go', async () => {
    const director = async (...args: string[]) => {
      const r = await roomctlIn(run.stateDir, 'demo', ...args);
      expect(r.rc, r.out).toBe(0);
    };
    await director('plug', 'laptop');
    await web
      .locator(`[data-testid="share"][data-participant="${roomId}"][data-live="yes"]`)
      .waitFor({ timeout: 30_000 });
    expect(await web.getByTestId('share').locator('figcaption').textContent()).toBe(
      'Huddle Room 3 is sharing',
    );
    // The slides carry their frame numbers: readable, so really painted from the room's content.
    await distinctStamps(web, '[data-testid="share"] canvas', 1);
    await director('unplug', 'laptop');
    await web.getByTestId('share').waitFor({ state: 'detached', timeout: 20_000 });
  }, 90_000);

  test("the browser's leave rekeys the others: a new epoch without the browser", async () => {
    const before = await state();
    const epochBefore = before.meeting?.epoch ?? -1;
    const codeBefore = before.meeting?.securityCode;
    await web.getByTestId('leave').click();
    await web.getByTestId('ended').waitFor({ timeout: 15_000 });
    await expect
      .poll(
        async () => {
          const s = await state();
          return {
            gone: !(s.meeting?.participants.some((p) => p.id === webId) ?? true),
            newEpoch: (s.meeting?.epoch ?? -1) > epochBefore,
            botAgrees: bot.session.snapshot.securityCode === s.meeting?.securityCode,
          };
        },
        { timeout: 30_000 },
      )
      .toEqual({ gone: true, newEpoch: true, botAgrees: true });
    // The code names the leader's key (docs/protocol.md §Security code): the room and the bot, who
    // stayed, still show the same one.
    expect((await state()).meeting?.securityCode).toBe(codeBefore);
    expect(bot.session.snapshot.participants.some((p) => p.id === webId)).toBe(false);
  }, 60_000);
});
