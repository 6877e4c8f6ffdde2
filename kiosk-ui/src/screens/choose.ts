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

/** How far ahead the idle screen lists meetings. */
export const UPCOMING_WINDOW_MS = 12 * 60 * 60 * 1000;

/**
 * The meetings the idle screen lists, soonest first: not over yet and starting within the next
 * 12 hours — so at 23:30 the 00:15 meeting is there too, marked "Tomorrow" by the screen.
 */
export function upcomingMeetings<M extends { start: string; end: string }>(
  schedule: readonly M[],
  now: number,
): M[] {
  return schedule
    .filter((m) => Date.parse(m.end) > now && Date.parse(m.start) < now + UPCOMING_WINDOW_MS)
    .sort((a, b) => a.start.localeCompare(b.start));
}
