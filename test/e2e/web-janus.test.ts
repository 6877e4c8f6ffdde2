/**
 * The web client on a relay whose media go through Janus (docs/protocol.md §Media planes): the
 * browser's uplink is a Janus publisher, and its downlink is the second connection Janus offers,
 * on which the browser creates `JanusDataChannel` and writes each chunk's sender from the relay's
 * feed map. A headless participant and the browser, in an E2EE meeting, each open the other's
 * frames (the bot's are synthetic, so the browser's decoders cannot paint them; opening them is
 * what counts here: the same keys, the same senders).
 */
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { MediaStatsSnapshot } from '../../src/media/stats.ts';
import type { HeadlessParticipant } from '../../src/meeting/headless.ts';
import { type Harness, startHarness, stopSharedJanus, waitFor } from '../helpers/meeting-harness.ts';
import { buildWebClient, joinFromBrowser, launchWithDevices, makeFakeDevices } from './web-fixture.ts';

const _run_ = promisify(execFile);
const PASSCODE = '271828';
let h: Harness;
let bot: HeadlessParticipant;
let meetingId: string;
let context: BrowserContext | undefined;
let page: Page;
let tmp: string;

interface WebStats {
  connection: { downOffers: number; unmappedChunks: number; chunksIn: number };
  received: Record<string, { audio: MediaStatsSnapshot; video: MediaStatsSnapshot }>;
  decryptFailures: Record<string, number>;
}
const webStats = async () => (await page.evaluate('window.roomdWebStats()')) as WebStats;

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-web-janus-'));
  const bundleDir = path.join(tmp, 'dist');
  await buildWebClient(bundleDir);
  const devices = await makeFakeDevices(tmp, { width: 320, height: 180, frames: 30 });
  h = await startHarness({ plane: 'janus', relay: { webClientDir: bundleDir } });
  meetingId = await h.meeting({ passcode: PASSCODE });
  bot = h.participant(meetingId, 'Bot on Janus', { identity: h.host, passcode: PASSCODE });
  await bot.join();
  ({ context, page } = await launchWithDevices(path.join(tmp, 'profile'), devices));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await h?.close();
  await stopSharedJanus();
  if (tmp !== undefined) await fsp.rm(tmp, { recursive: true, force: true });
}, 60_000);

describe('the web client on the Janus media plane', () => {
  test('uplink through Janus, downlink answered by the browser: each side opens the other’s frames', async () => {
    await joinFromBrowser(page, `${h.relay.address.httpUrl}/join/${meetingId}`, PASSCODE, 'Ada via Janus');
    // Nobody vouches for the bot (the link names no organization): orange, with the roster code.
    await page.waitForSelector('[data-testid=shield][data-shield=partial]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid=roster-code]');
    const webId = String(
      await waitFor(
        () => bot.session.snapshot.participants.find((p) => p.clientType === 'web' && p.keyed)?.id,
        'the browser keyed in the bot’s roster',
      ),
    );
    const botId = bot.session.participantId!;
    // The browser took Janus's downlink offer and opens the bot's frames.
    await expect
      .poll(async () => (await webStats()).received[botId]?.audio.framesReceived ?? 0, { timeout: 30_000 })
      .toBeGreaterThan(20);
    const w1 = await webStats();
    expect(w1.connection.downOffers).toBeGreaterThanOrEqual(1);
    expect(w1.connection.unmappedChunks).toBe(0);
    // The bot opens the browser's video and audio, sent through Janus.
    const rx = (kind: 'audio' | 'video') => bot.media.receiveStats(webId, kind).snapshot();
    await waitFor(
      () => rx('video').framesReceived > 10 && rx('audio').framesReceived > 20,
      'the bot receives the browser',
      30_000,
    );
    const botBefore = { video: rx('video').decryptFailures, audio: rx('audio').decryptFailures };
    const webBefore = w1.decryptFailures;
    const seen = rx('video').framesReceived;
    await waitFor(() => rx('video').framesReceived > seen + 10, 'more of the browser’s video', 30_000);
    // Once everyone holds the keys, nothing fails to open on either side.
    expect({ video: rx('video').decryptFailures, audio: rx('audio').decryptFailures }).toEqual(botBefore);
    expect((await webStats()).decryptFailures).toEqual(webBefore);
  }, 120_000);
});
