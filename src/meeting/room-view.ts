/**
 * What the room screen shows of the meeting (docs/kiosk-and-admin-api.md §Room screen): the
 * session's snapshot with everyone's mute and camera state and the room's own controls, and the
 * reactions of the last minute. Pure functions over the snapshot and the control channel's state.
 */
import type { MediaPath } from '../transport/peer.ts';
import type { MeetingSnapshot } from './status.ts';

export interface RoomMeetingState extends MeetingSnapshot {
  muted: boolean;
  cameraOn: boolean;
  volume: number;
  /** Someone tapped Leave and the room is on its way out. */
  leaving: boolean;
  /** How the room's media goes now (docs/admin.md §Firewalls); null while it has no connection. */
  mediaPath: MediaPath | null;
}

/** A participant's mute and camera state as its control messages last said. */
export interface ParticipantControlState {
  readonly muted: boolean;
  readonly cameraOn: boolean;
}

/** The room's own controls, shown with its meeting. */
export interface RoomControls extends ParticipantControlState {
  readonly volume: number;
  readonly leaving: boolean;
  readonly mediaPath: MediaPath | null;
}

/**
 * The meeting as the room shows it: the room itself (`self`) with its own mute and camera state,
 * the others with the state their control messages last said (as the snapshot has them until one
 * came).
 */
export function roomMeetingState(
  s: MeetingSnapshot,
  own: RoomControls,
  remote: ReadonlyMap<string, ParticipantControlState> | undefined,
): RoomMeetingState {
  const participants = s.participants.map((p) => {
    const c = p.self ? { muted: own.muted, cameraOn: own.cameraOn } : remote?.get(p.id);
    return c === undefined ? p : { ...p, muted: c.muted, cameraOff: !c.cameraOn };
  });
  return {
    ...s,
    participants,
    muted: own.muted,
    cameraOn: own.cameraOn,
    volume: own.volume,
    leaving: own.leaving,
    mediaPath: own.mediaPath,
  };
}

/** How long the room screen shows a reaction. */
export const REACTION_SHOWN_MS = 60_000;

/**
 * The reactions sent at or after `now - REACTION_SHOWN_MS`, each with its sender's name from the
 * snapshot (its id when the sender is not there).
 */
export function recentReactions<R extends { participantId: string; at: number }>(
  reactions: readonly R[],
  participants: MeetingSnapshot['participants'] | undefined,
  now: number,
): (R & { name: string })[] {
  const cutoff = now - REACTION_SHOWN_MS;
  return reactions
    .filter((r) => r.at >= cutoff)
    .map((r) => ({
      ...r,
      name: participants?.find((p) => p.id === r.participantId)?.name ?? r.participantId,
    }));
}
