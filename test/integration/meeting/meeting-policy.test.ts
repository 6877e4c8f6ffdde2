// Authenticated meeting policy (docs/protocol.md "Meeting policy"): the room books a meeting as its
// host and signs the encryption it booked; from then on the relay cannot make it join that meeting
// with less — not by stripping the policy, relabelling the meeting, forging a policy with its own
// key, or serving another meeting's policy. Real relay (HTTP + signaling + wrtc on loopback) whose
// schedule and meeting-info are rewritten through its test hooks; the room's screen says why.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { panelView, roomSnapshot, type SnapshotInputs } from '../../../src/app/room/snapshot.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import { signMeetingPolicy } from '../../../src/e2ee/index.ts';
import { bookMeeting } from '../../../src/meeting/booking.ts';
import { FilePolicyBook, POLICY_PINS_FILE } from '../../../src/meeting/policy-pins.ts';
import { Room } from '../../../src/meeting/room.ts';
import { RelayScheduleSource } from '../../../src/meeting/schedule.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import type { MeetingInfoMessage, WithoutV } from '../../../src/protocol/schemas.ts';
import type { RoomScheduleEntry } from '../../../src/relay/index.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

type Info = WithoutV<MeetingInfoMessage>;

/** What the hostile relay does right now; tests switch it on after the honest part. */
interface Attack {
  schedule?: (m: RoomScheduleEntry) => RoomScheduleEntry | null;
  info?: (i: Info) => Info;
  ownKey?: boolean;
}

let h: Harness | undefined;
const rooms: Room[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const r of rooms.splice(0)) await r.stop();
  await h?.close();
  h = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const identity = ephemeralIdentity('room');
const relayMade = (() => {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
})();

async function setup(): Promise<{ attack: Attack; token: string; dir: string }> {
  const attack: Attack = {};
  h = await startHarness({
    hooks: {
      schedule: (ms) =>
        attack.schedule === undefined
          ? ms
          : ms.map(attack.schedule).filter((m): m is RoomScheduleEntry => m !== null),
      meetingInfo: (info) => (attack.info === undefined ? info : attack.info(info)),
      serverKeyInE2ee: () => attack.ownKey === true,
    },
  });
  const { token } = await h.relay.registry.createRoomToken(identity.deviceId);
  const dir = await mkdtemp(path.join(tmpdir(), 'roomd-policy-room-'));
  dirs.push(dir);
  return { attack, token, dir };
}

/** The room books a meeting as its host (signed policy), the way the admin API does. */
async function book(
  token: string,
  encryption: 'e2ee' | 'enhanced' = 'e2ee',
  title = 'Board',
): Promise<string> {
  const { meetingId } = await bookMeeting(
    {
      title,
      start: new Date(Date.now() - 60_000).toISOString(),
      end: new Date(Date.now() + 3_600_000).toISOString(),
      encryption,
    },
    {
      signalUrl: h!.relay.address.signalUrl,
      room: identity.deviceId,
      token,
      identity,
      now: () => Date.now(),
    },
  );
  return meetingId;
}

/** A room with its state dir `dir` (pins), reading its schedule from the relay. */
async function makeRoom(token: string, dir: string) {
  const policies = await FilePolicyBook.open(dir, { log: silentLogger() });
  const schedule = new RelayScheduleSource({
    signalUrl: h!.relay.address.signalUrl,
    room: identity.deviceId,
    token: () => token,
    identityKey: toBase64Url(identity.publicKey),
    policies,
  });
  const room = new Room({
    roomName: () => 'Board room',
    relayUrl: () => h!.relay.address.signalUrl,
    // The room's own setting accepts enhanced meetings: only the signed policy demands more.
    minimumEncryption: () => 'enhanced',
    identity,
    clock: h!.clock,
    log: silentLogger(),
    peers: h!.peers,
    runner: new NodeProcessRunner(),
    mute: new MuteState(false),
    camera: () => null,
    schedule,
    media: null,
    volume: 50,
    meetingPolicies: policies,
  });
  rooms.push(room);
  const shields = new Set<string>();
  room.events.on('change', () => {
    const s = room.meeting()?.shield;
    if (s !== undefined) shields.add(s);
  });
  await room.start();
  await policies.settled();
  return { room, policies, schedule, shields };
}

/** What the room screen shows (the kiosk state). */
const inputs = (room: Room): SnapshotInputs => ({
  room,
  roomName: 'Board room',
  deviceId: identity.deviceId,
  addresses: [],
  devices: [],
  problems: [],
});
const screen = (room: Room) => roomSnapshot(inputs(room));

async function expectRefused(room: Room, meetingId: string, code: string, message: RegExp): Promise<void> {
  await room.join(meetingId).catch(() => {});
  await waitFor(() => room.meeting()?.status === 'failed', 'the room refusing the meeting');
  // The room's state: failed, with the code and the sentence.
  expect(room.meeting()).toMatchObject({ status: 'failed', shield: 'none', error: { code } });
  expect(room.meeting()?.error?.message).toMatch(message);
  // The room screen (kiosk state) and the touch panel show the same.
  const s = screen(room);
  expect(s.meeting).toMatchObject({ status: 'ended', shield: 'none' });
  expect(s.errors).toContainEqual({ code, message: expect.stringMatching(message) });
  expect(panelView(inputs(room)).notice).toMatch(message);
  await waitFor(() => room.session === null, 'the room free again');
}

const stripped = ({ policy: _p, ...rest }: RoomScheduleEntry): RoomScheduleEntry => ({
  ...rest,
  encryption: 'enhanced',
});
const strippedInfo = ({ policy: _p, ...rest }: Info): Info => ({
  ...rest,
  encryption: 'enhanced',
  disabledFeatures: [],
});

describe('the encryption a meeting was booked with is signed by its host', () => {
  it('honest relay: the booking is signed, verified, pinned on disk, and joined end-to-end encrypted', async () => {
    const { token, dir } = await setup();
    const id = await book(token);
    const { room, policies } = await makeRoom(token, dir);
    expect(room.schedule).toEqual([
      expect.objectContaining({ meetingId: id, encryption: 'e2ee', signedEncryption: 'e2ee' }),
    ]);
    expect(room.schedule[0]).not.toHaveProperty('policyProblem');
    expect(policies.get(id)).toMatchObject({
      meetingId: id,
      encryption: 'e2ee',
      host: toBase64Url(identity.publicKey),
    });
    const file = JSON.parse(await readFile(path.join(dir, POLICY_PINS_FILE), 'utf8')) as {
      policies: unknown[];
    };
    expect(file.policies).toEqual([policies.get(id)]);
    await room.join(id);
    await waitFor(() => room.meeting()?.shield === 'e2ee', 'the e2ee shield');
    expect(screen(room).errors).toEqual([]);
  });

  it('after a restart, the relay strips the policy everywhere, hides the booking and relabels it enhanced: the room refuses', async () => {
    const { attack, token, dir } = await setup();
    const id = await book(token);
    const first = await makeRoom(token, dir);
    expect(first.policies.get(id)?.encryption).toBe('e2ee');
    await first.room.stop();
    // The relay turns hostile; the room reboots with only its state directory.
    attack.schedule = () => null;
    attack.info = strippedInfo;
    attack.ownKey = true;
    const { room, shields } = await makeRoom(token, dir);
    expect(room.schedule).toEqual([]);
    // Joined from the panel by id: nothing from the relay says e2ee, the pin does.
    await expectRefused(room, id, 'e2ee.downgrade', /host signed it as end-to-end encrypted.*did not join/);
    expect(shields.has('enhanced')).toBe(false);
  });

  it('the relay relabels the listed meeting enhanced without its policy: the schedule still says e2ee', async () => {
    const { attack, token, dir } = await setup();
    const id = await book(token);
    const { room } = await makeRoom(token, dir);
    attack.schedule = stripped;
    attack.info = strippedInfo;
    attack.ownKey = true;
    await room.refreshSchedule();
    expect(room.schedule[0]).toMatchObject({ meetingId: id, encryption: 'e2ee', signedEncryption: 'e2ee' });
    expect(screen(room).schedule[0]).toMatchObject({ meetingId: id, encryption: 'e2ee' });
    await expectRefused(room, id, 'e2ee.downgrade', /end-to-end encrypted/);
  });

  it('the relay substitutes a policy signed by its own key: it counts for nothing, and the room says so', async () => {
    const { attack, token, dir } = await setup();
    const id = await book(token);
    const { room, shields } = await makeRoom(token, dir);
    const forged = signMeetingPolicy(
      { meetingId: id, encryption: 'enhanced', issuedAt: Date.now() },
      relayMade,
    );
    attack.schedule = (m) => ({ ...m, encryption: 'enhanced', policy: forged });
    attack.info = (i) => ({ ...i, encryption: 'enhanced', disabledFeatures: [], policy: forged });
    attack.ownKey = true;
    await room.refreshSchedule();
    expect(room.schedule[0]).toMatchObject({
      encryption: 'e2ee',
      policyProblem: expect.stringMatching(/signed by a key this room does not trust/),
    });
    await expectRefused(
      room,
      id,
      'e2ee.downgrade',
      /host signed it.*signed by a key this room does not trust/,
    );
    expect(shields.has('enhanced')).toBe(false);
  });

  it("the relay serves another meeting's genuine policy in meeting-info: refused, naming both meetings", async () => {
    const { attack, token, dir } = await setup();
    const id = await book(token);
    const other = await book(token, 'enhanced', 'Other');
    const { room, policies } = await makeRoom(token, dir);
    const otherPolicy = policies.get(other)!;
    expect(otherPolicy.encryption).toBe('enhanced');
    attack.info = (i) => ({ ...i, policy: otherPolicy });
    await expectRefused(room, id, 'e2ee.policy_mismatch', new RegExp(`meeting ${other} for meeting ${id}`));
    // The pin of the meeting asked for is untouched.
    expect(policies.get(id)?.encryption).toBe('e2ee');
  });

  it('a room that never saw the schedule: the verified policy in meeting-info alone refuses the relabelled meeting, and is pinned', async () => {
    const { attack, token, dir } = await setup();
    const id = await book(token);
    attack.schedule = () => null;
    attack.info = (i) => ({ ...i, encryption: 'enhanced', disabledFeatures: [] });
    attack.ownKey = true;
    const { room, policies } = await makeRoom(token, dir);
    expect(policies.get(id)).toBeUndefined();
    await expectRefused(room, id, 'e2ee.downgrade', /host signed it as end-to-end encrypted/);
    expect(policies.get(id)?.encryption).toBe('e2ee');
  });

  it('what the relay can still do: a meeting the room never saw a signed policy for falls back to encryption.minimum', async () => {
    const { attack, token, dir } = await setup();
    // Booked e2ee by someone else without a policy and never listed for this room; joined by id.
    const { id } = await h!.relay.registry.create({
      hostIdentityKey: toBase64Url(h!.host.publicKey),
      encryption: 'e2ee',
    });
    attack.info = strippedInfo;
    attack.ownKey = true;
    const { room } = await makeRoom(token, dir);
    await h!.participant(id, 'Host', { identity: h!.host }).join();
    await room.join(id);
    // Nothing signed says otherwise and the room's setting accepts enhanced: the relay holds the keys.
    await waitFor(() => room.meeting()?.shield === 'enhanced', 'the enhanced shield');
  });
});
