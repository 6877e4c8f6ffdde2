/**
 * Which screen the room shows (docs/decisions/0015-the-screen-follows-the-meeting.md): whenever the
 * room is joining, waiting in or in a meeting, the meeting's own screen — claimed or not — because a
 * room never sends sound or picture without showing it. Otherwise the setup screen until the device
 * is claimed, then the idle screen. Pure, so it is tested without a browser.
 */
import type { RoomState } from '../../../src/http/schemas/state.ts';

export type ScreenName = 'setup' | 'idle' | 'joining' | 'waiting' | 'meeting';

export function chooseScreen(state: Pick<RoomState, 'room' | 'meeting'>): ScreenName {
  const m = state.meeting;
  if (m !== null && m.status !== 'ended') {
    if (m.status === 'joining') return 'joining';
    if (m.status === 'waiting_for_host') return 'waiting';
    return 'meeting';
  }
  return state.room.provisioned ? 'idle' : 'setup';
}
