/**
 * Test hooks that make the relay misbehave on purpose (docs/threat-model.md: the relay is the
 * adversary). Production passes none. Every hook is optional and sees
 * only what a malicious relay operator could see or do: it can rewrite, drop, replay and inject
 * messages and media, lie about the roster and leader, downgrade a meeting or send its own key,
 * and admit clients the rules refuse — tests then check that clients catch each of these.
 */
import type { AdmissionDecision } from './admission.ts';
import type {
  ClientMessage,
  MeetingInfoMessage,
  RosterEntry,
  ServerMessage,
  WithoutV,
} from '../protocol/schemas.ts';
import type { LeaderChoice } from './leader.ts';
import type { RoomScheduleEntry } from './registry.ts';

export type OutgoingBody = WithoutV<ServerMessage>;

export interface HookContext {
  meetingId: string | undefined;
  /** The receiving (outgoing hooks) or sending (incoming hooks) participant, if admitted. */
  participantId: string | undefined;
}

export interface MediaHookContext {
  meetingId: string;
  from: string;
  to: string;
}

export interface RelayHooks {
  /**
   * Every signaling message about to be sent to a client. Return it (or a changed one) to send,
   * an array to send several (replay, inject), or null / [] to drop.
   */
  outgoing?(message: OutgoingBody, ctx: HookContext): OutgoingBody | OutgoingBody[] | null;
  /** Every validated client message before the relay handles it; null drops it. */
  incoming?(message: ClientMessage, ctx: HookContext): ClientMessage | null;
  /** Override the admission decision (admit a client the rules refuse). */
  admission?(
    decision: AdmissionDecision,
    join: ClientMessage & { type: 'join' },
    ctx: HookContext,
  ): AdmissionDecision;
  /** Override the leader the relay names (leader swap). */
  leader?(choice: LeaderChoice, roster: readonly RosterEntry[], meetingId: string): LeaderChoice;
  /** Rewrite the roster claim (inject a fake participant). */
  roster?(roster: RosterEntry[], meetingId: string): RosterEntry[];
  /**
   * Rewrite a room's schedule answer (`GET /api/v1/rooms/:room/schedule`): strip, swap or forge a
   * meeting's signed policy, relabel its encryption, hide it.
   */
  schedule?(meetings: RoomScheduleEntry[], room: string): RoomScheduleEntry[];
  /** Rewrite meeting info (downgrade an E2EE meeting to enhanced, strip or swap its signed policy). */
  meetingInfo?(info: WithoutV<MeetingInfoMessage>, ctx: HookContext): WithoutV<MeetingInfoMessage>;
  /** true: make and send a relay key even though the meeting is E2EE. */
  serverKeyInE2ee?(meetingId: string): boolean;
  /**
   * Every media chunk about to be forwarded to one receiver (sender field already set). Return the
   * bytes (possibly tampered), several (replay), or null / [] to drop (loss tests).
   */
  media?(chunk: Uint8Array, ctx: MediaHookContext): Uint8Array | Uint8Array[] | null;
  /** Every byte received and sent, signaling and media (the blind-relay test records these). */
  tap?(
    direction: 'in' | 'out',
    channel: 'signaling' | 'media',
    data: Uint8Array,
    participantId: string | undefined,
  ): void;
}

export function asList<T>(value: T | T[] | null | undefined): T[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
