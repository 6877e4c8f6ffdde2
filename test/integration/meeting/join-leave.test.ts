/**
 * Joining and leaving as the room screen sees them (docs/kiosk-and-admin-api.md §Room screen), with
 * the real relay and wrtc on loopback and a fake process runner standing in for ffmpeg:
 * - a wrong meeting ID is refused in well under 3 s; while joining, the state claims no encryption,
 *   shows no unrelated schedule notice, and no camera or microphone process was started;
 * - the camera and microphone start only once the service let the room in;
 * - Leave says "leaving" at once, a second Leave joins the first, and the captures end with it;
 * - a service that never answers a join is given up on, in words.
 * The two with a meeting run on both of the relay's media planes (docs/decisions/0018-media-planes.md).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { roomSnapshot } from '../../../src/app/room/snapshot.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import type { RoomSnapshot } from '../../../src/http/schemas/state.ts';
import { Room, type RoomMediaConfig } from '../../../src/meeting/room.ts';
import { MeetingSession } from '../../../src/meeting/session.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';
import {
  type Harness,
  PLANES,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';

const MEDIA: RoomMediaConfig = {
  video: { type: 'test', fontFile: null, label: 'room' },
  encode: { codec: 'vp8', width: 320, height: 180, framerate: 10, bitrateKbps: 200 },
  audio: { type: 'test' },
  audioBitrateKbps: 24,
  playbackDevice: null,
};

let h: Harness | undefined;
let room: Room | undefined;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await room?.stop();
  await h?.close();
  for (const c of closers.splice(0)) await c();
  room = undefined;
  h = undefined;
});
afterAll(stopSharedJanus);

/** A room on the harness relay with fake ffmpeg; its schedule cannot be loaded. */
async function makeRoom(runner: FakeProcessRunner): Promise<Room> {
  const r = new Room({
    roomName: () => 'Huddle Room 3',
    relayUrl: () => h!.relay.address.signalUrl,
    minimumEncryption: () => 'enhanced',
    identity: ephemeralIdentity('room'),
    clock: h!.clock,
    log: silentLogger(),
    peers: h!.peers,
    runner,
    mute: new MuteState(false),
    camera: () => null,
    schedule: {
      list: async () => {
        throw new Error('the meeting service is busy');
      },
    },
    media: MEDIA,
    volume: 50,
  });
  room = r;
  await r.start();
  return r;
}

const snapshotOf = (r: Room): RoomSnapshot =>
  roomSnapshot({
    room: r,
    roomName: 'Huddle Room 3',
    deviceId: 'rd-test',
    addresses: [],
    devices: [],
    problems: [],
  });

describe('joining and leaving', () => {
  it('a wrong meeting ID is refused within 3 s; while joining nothing claims encryption, no schedule notice, no camera', async () => {
    h = await startHarness();
    const runner = new FakeProcessRunner();
    const r = await makeRoom(runner);
    expect(r.scheduleError).not.toBeNull();
    const seen: RoomSnapshot[] = [];
    r.events.on('change', () => seen.push(snapshotOf(r)));
    const t0 = performance.now();
    const error = await r.join('999-9999-9999').then(
      () => null,
      (e: unknown) => e,
    );
    const ms = performance.now() - t0;
    console.log(`[join] wrong meeting ID refused after ${ms.toFixed(0)} ms`);
    expect(error).toBeInstanceOf(RoomdError);
    expect((error as RoomdError).code).toBe('relay.meeting_not_found');
    expect((error as RoomdError).message).toBe('There is no meeting with that ID.');
    expect(ms).toBeLessThan(3000);
    const joining = seen.filter((s) => s.meeting?.status === 'joining');
    expect(joining.length).toBeGreaterThan(0);
    for (const s of joining) {
      expect(s.meeting?.encryptionConfirmed).toBe(false);
      expect(s.errors.map((e) => e.message).join(' ')).not.toContain('schedule');
    }
    // No camera or microphone process for a meeting that does not exist.
    expect(runner.children).toHaveLength(0);
    const after = snapshotOf(r);
    expect(after.meeting?.status).toBe('ended');
    expect(after.errors.map((e) => e.message)).toContain('There is no meeting with that ID.');
  }, 30_000);

  it('a meeting service that never answers a join is given up on, in words', async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', () => {}); // accepts, then says nothing at all
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const { port } = server.address() as AddressInfo;
    const session = new MeetingSession({
      meetingId: '123-4567-8901',
      relayUrl: `ws://127.0.0.1:${port}/v1/signal`,
      displayName: 'Huddle Room 3',
      clientType: 'room',
      identity: ephemeralIdentity('room'),
      peers: { create: () => Promise.reject(new Error('no media in this test')) } as never,
      clock: new SystemClock(),
      log: silentLogger(),
      joinAnswerTimeoutMs: 400,
    });
    const t0 = performance.now();
    await expect(session.join()).rejects.toMatchObject({
      code: 'meeting.relay_unreachable',
      message: 'The meeting service did not answer within 1 second, so the room stopped joining.',
    });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(session.snapshot.status).toBe('failed');
  }, 20_000);
});

describe.each(PLANES)('joining and leaving a meeting (%s media plane)', (plane) => {
  it('camera and microphone start only once the service let the room in, not while it waits for the host', async () => {
    h = await startHarness({ plane });
    const meetingId = await h.meeting({ encryption: 'e2ee' });
    const runner = new FakeProcessRunner();
    const r = await makeRoom(runner);
    await r.join(meetingId);
    expect(r.meeting()?.status).toBe('waiting-for-host');
    expect(snapshotOf(r).meeting?.encryptionConfirmed).toBe(true);
    expect(runner.children).toHaveLength(0);
    const host = h.participant(meetingId, 'Host', { identity: h.host });
    await host.join();
    await waitFor(() => r.meeting()?.shield === 'e2ee', 'the room keyed', 20_000);
    // Video and audio capture (and the speaker's playout) now run.
    expect(runner.children.filter((c) => c.running).length).toBeGreaterThanOrEqual(2);
  }, 40_000);

  it('Leave says "leaving" at once, a second Leave waits for the same one, and the captures end', async () => {
    h = await startHarness({ plane });
    const meetingId = await h.meeting({ encryption: 'e2ee' });
    await h.participant(meetingId, 'Host', { identity: h.host }).join();
    const runner = new FakeProcessRunner();
    const r = await makeRoom(runner);
    await r.join(meetingId);
    await waitFor(() => r.meeting()?.shield === 'e2ee', 'the room keyed', 20_000);
    const leavingSeen: boolean[] = [];
    r.events.on('change', () => leavingSeen.push(snapshotOf(r).meeting?.leaving === true));
    const t0 = performance.now();
    const first = r.leave();
    // The first change after the tap already says so.
    expect(leavingSeen[0]).toBe(true);
    const second = r.leave();
    await Promise.all([first, second]);
    const ms = performance.now() - t0;
    console.log(`[leave] back to idle after ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3000);
    expect(snapshotOf(r).meeting).toBeNull();
    expect(runner.children.every((c) => !c.running)).toBe(true);
    await expect(r.leave()).rejects.toMatchObject({ code: 'meeting.not_in_meeting' });
  }, 40_000);
});
