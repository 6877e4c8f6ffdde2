// The room never joins a booked E2EE meeting as anything less, and never joins another meeting than
// the one it asked for (docs/protocol.md §Downgrade), whatever the relay says in meeting-info. Real
// relay and wrtc on loopback; the relay cheats through its test hooks.
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import { Room } from '../../../src/meeting/room.ts';
import type { BookedMeeting } from '../../../src/meeting/schedule.ts';
import type { EncryptionMode } from '../../../src/protocol/vocabulary.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
let room: Room | undefined;
afterEach(async () => {
  await room?.stop();
  await h?.close();
  room = undefined;
  h = undefined;
});

/** A room whose policy accepts enhanced meetings, with `booked` as its schedule; every shield seen. */
async function makeRoom(booked: BookedMeeting[]): Promise<{ room: Room; shields: Set<string> }> {
  const r = new Room({
    roomName: () => 'Board room',
    relayUrl: () => h!.relay.address.signalUrl,
    minimumEncryption: () => 'enhanced',
    identity: ephemeralIdentity('room'),
    clock: h!.clock,
    log: silentLogger(),
    peers: h!.peers,
    runner: new NodeProcessRunner(),
    mute: new MuteState(false),
    camera: () => null,
    schedule: { list: async () => booked },
    media: null,
    volume: 50,
  });
  room = r;
  const shields = new Set<string>();
  r.events.on('change', () => {
    const s = r.meeting()?.shield;
    if (s !== undefined) shields.add(s);
  });
  await r.start();
  return { room: r, shields };
}

const booking = (meetingId: string, encryption: EncryptionMode): BookedMeeting => ({
  meetingId,
  title: 'Board',
  start: new Date(Date.now() - 60_000).toISOString(),
  end: new Date(Date.now() + 3_600_000).toISOString(),
  encryption,
  passcode: null,
});

describe('the room and its bookings', () => {
  it('a booked E2EE meeting the relay presents as enhanced: the room leaves with an error, never the enhanced shield', async () => {
    const lie = { on: true };
    h = await startHarness({
      hooks: {
        meetingInfo: (info) => (lie.on ? { ...info, encryption: 'enhanced', disabledFeatures: [] } : info),
        // and it hands out its own key, as it would for an enhanced meeting
        serverKeyInE2ee: () => lie.on,
      },
    });
    const id = await h.meeting({ encryption: 'e2ee' });
    await h.participant(id, 'Host', { identity: h.host }).join();
    const { room: r, shields } = await makeRoom([booking(id, 'e2ee')]);
    await r.join(id).catch(() => {});
    await waitFor(() => r.meeting()?.status === 'failed', 'the room leaving');
    const m = r.meeting()!;
    expect(m.error?.code).toBe('e2ee.downgrade');
    expect(m.error?.message).toMatch(/booked as end-to-end encrypted/);
    expect(m.shield).toBe('none');
    expect(shields.has('enhanced')).toBe(false);
    await waitFor(() => r.session === null, 'the room free for the next meeting');
  });

  it('an enhanced booking is joined under the enhanced shield (the booking sets the minimum, not the relay)', async () => {
    h = await startHarness();
    const id = await h.meeting({ encryption: 'enhanced', joinBeforeHost: true });
    const { room: r } = await makeRoom([booking(id, 'enhanced')]);
    await r.join(id);
    await waitFor(() => r.meeting()?.shield === 'enhanced', 'the enhanced shield');
  });

  it('a relay that answers for another meeting: the room refuses it and says why', async () => {
    let decoy = '';
    h = await startHarness({
      hooks: { meetingInfo: (info) => ({ ...info, meetingId: decoy }) },
    });
    const id = await h.meeting({ encryption: 'enhanced', joinBeforeHost: true });
    decoy = await h.meeting({ encryption: 'enhanced', joinBeforeHost: true });
    const { room: r, shields } = await makeRoom([booking(id, 'enhanced')]);
    await r.join(id).catch(() => {});
    await waitFor(() => r.meeting()?.status === 'failed', 'the room leaving');
    expect(r.meeting()?.error).toMatchObject({ code: 'meeting.wrong_meeting' });
    expect(r.meeting()?.error?.message).toContain(decoy);
    expect(shields.has('enhanced')).toBe(false);
  });

  it('the same meeting typed without its dashes is the meeting the room asked for', async () => {
    h = await startHarness();
    const id = await h.meeting({ encryption: 'e2ee' });
    await h.participant(id, 'Host', { identity: h.host }).join();
    const { room: r } = await makeRoom([booking(id, 'e2ee')]);
    await r.join(id.replace(/-/g, ''));
    await waitFor(() => r.meeting()?.shield === 'e2ee', 'the e2ee shield');
    expect(r.meeting()?.error).toBeNull();
  });
});
