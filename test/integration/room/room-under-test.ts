/**
 * The room (the daemon's meeting core) for integration tests: a `Room` on the harness's relay,
 * clock and peers, with an ephemeral identity and no camera control, joined to `meetingId` and
 * waited for until it and the `others` all read the green shield with everyone listed.
 */
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import { Room, type RoomOptions } from '../../../src/meeting/room.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { type Harness, waitFor } from '../../helpers/meeting-harness.ts';

export async function roomInMeeting(
  h: Harness,
  meetingId: string,
  others: readonly { session: { snapshot: { shield: string; participants: readonly unknown[] } } }[],
  options: Partial<RoomOptions> & Pick<RoomOptions, 'roomName' | 'media'>,
): Promise<{ room: Room; roomId: string }> {
  const room = new Room({
    relayUrl: () => h.relay.address.signalUrl,
    minimumEncryption: () => 'e2ee',
    identity: ephemeralIdentity('room'),
    clock: h.clock,
    log: silentLogger(),
    peers: h.peers,
    runner: new NodeProcessRunner(),
    mute: new MuteState(false),
    camera: () => null,
    schedule: { list: async () => [] },
    volume: 50,
    ...options,
  });
  const everyone = others.length + 1;
  try {
    await room.join(meetingId);
    await waitFor(
      () =>
        room.meeting()?.shield === 'e2ee' &&
        others.every(
          (p) => p.session.snapshot.shield === 'e2ee' && p.session.snapshot.participants.length === everyone,
        ),
      'all secure',
      30_000,
    );
  } catch (err) {
    // Not in the meeting after all: stop what started, so the test's cleanup has nothing left.
    await room.stop();
    throw err;
  }
  return { room, roomId: room.session!.participantId! };
}
