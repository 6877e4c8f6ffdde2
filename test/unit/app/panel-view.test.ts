/**
 * The touch panel's view of content sharing (docs/hardware.md, page 3 `meeting`): `panelView` hands
 * the room's share to the Share button, and the reason the room's share ended to the notice line.
 */
import { describe, expect, it } from 'vitest';
import { panelView, type SnapshotInputs } from '../../../src/app/room/snapshot.ts';
import type { Room, RoomMeetingState } from '../../../src/meeting/room.ts';
import { HOST_TOOK_OVER, type RoomShareView } from '../../../src/meeting/room-share.ts';

const MEETING = {
  id: '55566677788',
  title: 'Demo meeting',
  status: 'secure',
  shield: 'e2ee',
  securityCode: null,
  rosterCode: null,
  muted: false,
  cameraOn: true,
  volume: 50,
  error: null,
  participants: [],
} as unknown as RoomMeetingState;

function inputs(share: RoomShareView | null, meeting: RoomMeetingState | null = MEETING): SnapshotInputs {
  const room = {
    schedule: [],
    scheduleError: null,
    meeting: () => meeting,
    shareView: () => share,
  } as unknown as Room;
  return { room, roomName: 'Fjord', deviceId: 'd', addresses: [], devices: [], problems: [] };
}

describe('panelView, content sharing', () => {
  it('gives the meeting page the share without its notice', () => {
    const v = panelView(
      inputs({ active: true, self: false, by: 'Alice Smith', canShare: true, host: false, notice: null }),
    );
    expect(v.phase).toBe('in-meeting');
    if (v.phase !== 'in-meeting') return;
    expect(v.meeting.share).toEqual({
      active: true,
      self: false,
      by: 'Alice Smith',
      canShare: true,
      host: false,
    });
    expect(v.notice).toBeNull();
  });

  it('has no share outside sharing, and says when the host took over', () => {
    const none = panelView(inputs(null));
    expect(none.phase === 'in-meeting' && none.meeting.share).toBeNull();
    const taken = panelView(
      inputs({
        active: true,
        self: false,
        by: 'Hanna Host',
        canShare: true,
        host: false,
        notice: HOST_TOOK_OVER,
      }),
    );
    expect(taken.notice).toBe(HOST_TOOK_OVER);
  });

  it('a meeting error outranks the share notice', () => {
    const failing = {
      ...MEETING,
      error: { code: 'meeting.relay_unreachable' as const, message: 'Relay lost.' },
    };
    const v = panelView(
      inputs(
        { active: false, self: false, by: null, canShare: true, host: false, notice: HOST_TOOK_OVER },
        failing,
      ),
    );
    expect(v.notice).toBe('Relay lost.');
  });
});
