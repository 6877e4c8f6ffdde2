/**
 * The blind relay with a browser participant (docs/threat-model.md §What the relay cannot do, first
 * row; docs/decisions/0022-one-core-in-node-and-browser.md): the real demo — its relay serving the
 * web client, the room daemon joined from its screen in one Chromium, the far-end bots — and the web
 * client in another Chromium, sending VP8 and Opus from fake camera and microphone, in the demo's
 * E2EE meeting. Every byte the relay received and sent (its `tap` hook, both channels, both
 * directions, from the relay's start) is recorded, then scanned with test/helpers/blind-scan.ts.
 *
 * Whose secrets. The browser's and the room's keys live in their own processes. The meeting keys
 * are the leader's, and the leader is the booked host, the bot that joined first (docs/protocol.md
 * §Leader): the bots' E2EE sessions draw through the demo's `e2eeRandom` injection point, so every
 * meeting key MK_e — all of them, the ones the browser seals under included — plus the bots' own
 * ephemeral secrets and ML-KEM seeds are captured. The browser joins after the leader.
 *
 * What is checked:
 * - the browser's chunks came in through the relay in number (audio and video frames);
 * - frame plaintext: every frame the bots decrypted, rebuilt as its sealed envelope (exactly what
 *   the sender sealed), is cut into all its 32-byte windows — the browser's frames, then everyone's —
 *   and no window occurs in any view of the recording (raw; base64/base64url/hex tokens of
 *   signaling decoded);
 * - keys: no captured draw, no media base key of any (sender, stream) derived from a captured meeting
 *   key, no SFrame key nor salt of any KID on the wire occurs in any view, and none of their
 *   renderings (hex, base64, base64url) occurs in the signaling text;
 * - the capture is real: every single-chunk audio frame of the browser the relay forwarded opens
 *   (AES-GCM keystream) under a key derived from a captured meeting key for the browser's sender id
 *   and 'audio' into an Opus envelope, and at least one into exactly a payload a bot decrypted;
 * - each scanner finds its needles when they are there.
 *
 * Not checked: that the browser's signaling never carries its identity *secret* key — it is made
 * inside Chromium by WebCrypto, where this test cannot capture it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { DemoRun } from '../../demo/run.ts';
import { RoomdError } from '../../src/core/errors.ts';
import { packFrame, unpackFrame } from '../../src/media/envelope.ts';
import type { HeadlessParticipant } from '../../src/meeting/headless.ts';
import { STREAM_KINDS } from '../../src/protocol/vocabulary.ts';
import {
  addDerivedKeys,
  keystreamOpen,
  mediaBaseKey,
  NeedleIndex,
  recorder,
  scan,
  scannedBytes,
  selfCheck,
  sframeKeys,
  signalingText,
  type TapRecord,
  TextNeedles,
  wireFrames,
} from '../helpers/blind-scan.ts';
import { anchorFragment } from '../../web/src/link.ts';
import { keyFingerprint } from '../../src/e2ee/certificate.ts';
import { fromBase64Url } from '../../src/protocol/codec.ts';
import { buildWebClient, joinFromBrowser, launchWithDevices, makeFakeDevices } from './web-fixture.ts';
import {
  claimAndJoinE2ee,
  type DemoInChromium,
  roomctlIn,
  SMALL_ROOM_MEDIA,
  shotOnFailure,
  startDemoInChromium,
} from './demo-fixture.ts';

const _run_ = promisify(execFile);
/** Frames of the browser's that must have gone through the relay before the scan. */
const WEB_AUDIO_FRAMES = 100;
const WEB_VIDEO_FRAMES = 30;

interface Decrypted {
  sender: string;
  kind: string;
  /** The envelope the sender sealed (src/media/envelope.ts), rebuilt from what the bot opened. */
  sealed: Uint8Array;
  data: Uint8Array;
}

let run: DemoInChromium;
let demo: DemoRun;
let room: Page;
let web: Page;
let webContext: BrowserContext | undefined;
let tmp: string;
const recording: TapRecord[] = [];
let recordingOn = true;
const draws: Uint8Array[] = [];
const decrypted: Decrypted[] = [];

function e2eeRandom(n: number): Uint8Array {
  const b = new Uint8Array(randomBytes(n));
  if (n === 32 || n === 64) draws.push(b.slice());
  return b;
}

beforeAll(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-web-blind-'));
  await buildWebClient();
  const devices = await makeFakeDevices(tmp, { width: 320, height: 180, frames: 30 });
  run = await startDemoInChromium({
    name: 'web-blind-relay',
    botMedia: 'synthetic',
    roomMedia: SMALL_ROOM_MEDIA,
    relayHooks: { tap: recorder(recording, () => recordingOn) },
    e2eeRandom,
  });
  ({ demo, page: room } = run);
  ({ context: webContext, page: web } = await launchWithDevices(path.join(tmp, 'web-profile'), devices, {
    width: 1024,
    height: 700,
  }));
}, 240_000);

afterEach(async (ctx) => {
  const failed = ctx.task.result?.state === 'fail';
  await shotOnFailure(room, 'web-blind-relay-room', failed);
  await shotOnFailure(web, 'web-blind-relay-web', failed);
});

afterAll(async () => {
  await webContext?.close();
  await run?.stop();
  if (tmp !== undefined) await fsp.rm(tmp, { recursive: true, force: true });
}, 60_000);

describe('blind relay with a browser participant', () => {
  test('what the relay handled carries no frame plaintext and no meeting, media or SFrame key', async () => {
    const meeting = demo.env.meetings.find((m) => m.encryption === 'e2ee');
    if (meeting === undefined || meeting.passcode === null)
      throw new Error('the demo has no E2EE meeting with a passcode');
    const bots = meeting.bots as HeadlessParticipant[];
    const [leader] = bots as [HeadlessParticipant];
    for (const b of bots)
      b.media.onFrame((f) =>
        decrypted.push({
          sender: f.participantId,
          kind: f.kind,
          sealed: packFrame({ codec: f.codec, captureTs: f.captureTs, data: f.data }),
          data: f.data.slice(),
        }),
      );

    // The room joins from its screen, then the browser from /join/<id>: both after the leader.
    await room.goto(demo.kioskUrl);
    await claimAndJoinE2ee(room, demo, (...args) => roomctlIn(run.stateDir, ...args));
    const relayHttp = demo.env.signalUrl.replace(/^ws/, 'http').replace(/\/v1\/signal$/, '');
    // The link vouches for the demo organization, as the demo's banner's does (web/src/link.ts).
    await joinFromBrowser(
      web,
      `${relayHttp}/join/${meeting.id}#${anchorFragment(demo.env.anchor)}`,
      meeting.passcode,
      'Erin in a browser',
      { org: demo.env.anchor.org, fingerprint: keyFingerprint(fromBase64Url(demo.env.anchor.publicKey)) },
    );
    await expect
      .poll(() => web.getByTestId('shield').getAttribute('data-shield'), { timeout: 30_000 })
      .toBe('e2ee');
    const roster = () => leader.session.snapshot.participants;
    await expect
      .poll(() => roster().some((p) => p.clientType === 'web' && p.keyed), { timeout: 30_000 })
      .toBe(true);
    const webId = roster().find((p) => p.clientType === 'web')!.id;
    const members = roster().map((p) => p.id);
    expect(leader.session.snapshot.leader).toBe(leader.session.participantId);

    // Wait until the browser's frames went through the relay in number and the bots opened them.
    const webIn = (kind: string) =>
      wireFrames(
        recording.filter((r) => r.dir === 'in' && r.participantId === webId),
        'in',
      ).filter((w) => w.kind === kind).length;
    const opened = (kind: string) => decrypted.filter((d) => d.sender === webId && d.kind === kind).length;
    await expect
      .poll(
        () =>
          webIn('audio') >= WEB_AUDIO_FRAMES &&
          webIn('video') >= WEB_VIDEO_FRAMES &&
          opened('audio') >= WEB_AUDIO_FRAMES &&
          opened('video') >= WEB_VIDEO_FRAMES,
        { timeout: 30_000, interval: 250 },
      )
      .toBe(true);
    recordingOn = false;
    const meetingId = meeting.id;
    const instanceId = demo.env.relay.core.liveFor(meetingId)!.instanceId;

    // What was recorded: both directions of both channels, the browser's chunks among them.
    for (const dir of ['in', 'out'] as const)
      for (const channel of ['signaling', 'media'] as const)
        expect(
          recording.some((r) => r.dir === dir && r.channel === channel),
          `${dir} ${channel}`,
        ).toBe(true);
    expect(webIn('audio')).toBeGreaterThanOrEqual(WEB_AUDIO_FRAMES);
    expect(webIn('video')).toBeGreaterThanOrEqual(WEB_VIDEO_FRAMES);
    // The relay sends no meeting key to anyone in the E2EE meeting (the enhanced one has its own).
    expect(
      signalingText(
        recording.filter((r) => r.participantId !== undefined && members.includes(r.participantId)),
      ),
    ).not.toContain('"meeting-key"');
    expect(scannedBytes(recording)).toBeGreaterThan(1_000_000);

    // ---- frame plaintext: the browser's, then everyone's ----
    const webFrames = decrypted.filter((d) => d.sender === webId);
    const webWindows = new NeedleIndex();
    for (const d of webFrames) webWindows.addWindows(d.sealed);
    const allWindows = new NeedleIndex();
    for (const d of decrypted) allWindows.addWindows(d.sealed);
    expect(new Set(decrypted.map((d) => d.sender)).size).toBeGreaterThanOrEqual(3);
    const sample = webFrames.find((d) => d.kind === 'video')!.sealed;
    expect(webWindows.find(sample).length).toBe(sample.length - 31);
    expect(allWindows.find(decrypted[0]!.sealed).length).toBeGreaterThan(0);
    expect(scan(recording, webWindows), "a window of the browser's plaintext").toEqual([]);
    expect(scan(recording, allWindows), 'a window of any plaintext').toEqual([]);

    // ---- the capture is real: the browser's forwarded audio opens under a captured meeting key ----
    const mks = draws.filter((d) => d.length === 32);
    const webPayloads = new Set(
      webFrames.filter((d) => d.kind === 'audio').map((d) => Buffer.from(d.data).toString('hex')),
    );
    const out = wireFrames(recording, 'out');
    const webAudio = out.filter((w) => w.sender === webId && w.kind === 'audio' && w.chunkCount === 1);
    expect(webAudio.length).toBeGreaterThanOrEqual(WEB_AUDIO_FRAMES);
    const usedKeys = new Set<number>();
    let matched = 0;
    const now = Date.now();
    for (const w of webAudio) {
      let envelopes = 0;
      for (const [i, mk] of mks.entries()) {
        const plain = keystreamOpen(w.frame, mediaBaseKey(mk, meetingId, instanceId, webId, 'audio'));
        let env: ReturnType<typeof unpackFrame>;
        try {
          env = unpackFrame(plain);
        } catch (error) {
          // Not this key: the keystream of another one gives no envelope.
          if (error instanceof RoomdError && error.code === 'media.parse_failed') continue;
          throw error;
        }
        if (env.codec !== 'opus' || Math.abs(env.captureTs - now) > 120_000) continue;
        envelopes++;
        usedKeys.add(i);
        if (webPayloads.has(Buffer.from(env.data).toString('hex'))) matched++;
      }
      expect(envelopes, "a forwarded audio frame of the browser's opens under a captured key").toBe(1);
    }
    expect(matched).toBeGreaterThan(0);
    expect(usedKeys.size).toBeGreaterThan(0);

    // ---- keys: none of them, nor anything derived from them, went through the relay ----
    const kids = new Set([...out, ...wireFrames(recording, 'in')].map((w) => w.kid));
    const senders = [...new Set([...members, ...out.map((w) => w.sender)])];
    const keys = new NeedleIndex();
    const salts = new NeedleIndex(12);
    for (const d of draws) {
      if (d.length === 32) keys.add(d);
      else {
        keys.add(d.subarray(0, 32));
        keys.add(d.subarray(32, 64));
      }
    }
    const webKeys = new NeedleIndex();
    const webSalts = new NeedleIndex(12);
    const derive = { mks, meetingId, instanceId, streams: STREAM_KINDS, kids };
    addDerivedKeys({ ...derive, senders: [webId] }, webKeys, webSalts);
    addDerivedKeys({ ...derive, senders }, keys, salts);
    expect(webKeys.size).toBeGreaterThanOrEqual(mks.length * STREAM_KINDS.length * (kids.size + 1));
    expect(salts.size).toBeGreaterThanOrEqual(webSalts.size);
    const usedMk = mks[[...usedKeys][0]!]!;
    const webBase = mediaBaseKey(usedMk, meetingId, instanceId, webId, 'audio');
    const webSframe = sframeKeys(webBase, webAudio[0]!.kid);
    expect(selfCheck(keys, usedMk)).toBe(true);
    expect(selfCheck(webKeys, webBase)).toBe(true);
    expect(selfCheck(webKeys, webSframe.key)).toBe(true);
    expect(selfCheck(webSalts, webSframe.salt)).toBe(true);
    expect(scan(recording, webKeys), "the browser's media or SFrame keys").toEqual([]);
    expect(scan(recording, webSalts), "the browser's SFrame salts").toEqual([]);
    expect(scan(recording, keys), 'captured or derived key bytes').toEqual([]);
    expect(scan(recording, salts), 'SFrame salts').toEqual([]);

    const text = new TextNeedles();
    for (const d of draws) {
      text.addKey(d);
      if (d.length === 64) for (const half of [d.subarray(0, 32), d.subarray(32)]) text.addKey(half);
    }
    for (const mk of mks)
      for (const sender of senders)
        for (const stream of STREAM_KINDS) {
          const base = mediaBaseKey(mk, meetingId, instanceId, sender, stream);
          text.addKey(base);
          for (const kid of kids) {
            const s = sframeKeys(base, kid);
            text.addKey(s.key);
            text.addKey(s.salt);
          }
        }
    const planted = Buffer.from(webSframe.salt).toString('base64url');
    expect(text.find(`{"x":"${planted}"}`).map((h) => h.at)).toContain(6);
    expect(text.find(signalingText(recording)), 'a key rendering in signaling').toEqual([]);
  }, 120_000);
});
