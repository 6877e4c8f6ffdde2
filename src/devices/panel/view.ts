/**
 * What the panel shows (docs/hardware.md §Wiring the controller). `RoomView` uses only small plain
 * types the app layer fills from the daemon's state; touches turn into the room's one command port,
 * `RoomCommands` (src/protocol/room-commands.ts), which the app wires to the room.
 */
import type { Shield } from '../../protocol/vocabulary.ts';

export interface ScheduledMeeting {
  readonly id: string;
  readonly title: string;
  /** Epoch milliseconds. */
  readonly start: number;
  readonly end: number;
}

export interface JoiningView {
  readonly title: string;
  /** 0–100. */
  readonly progress: number;
  readonly step: string;
}

/**
 * What is known about a participant's identity key (docs/protocol.md "Identity certificates"):
 * certified by an organization this room trusts, not verified, certified before but now with
 * another key (an alarm), or no identity key at all (telephone and web clients without E2EE).
 */
export type IdentityMark = 'verified' | 'unverified' | 'key-changed' | 'none';

export interface ParticipantView {
  readonly name: string;
  readonly identity: IdentityMark;
  /** room, desktop, mobile, web, phone, sip, … (shown instead of a mark when identity is none). */
  readonly clientType: string;
  /** This room itself: left out of the panel's list. */
  readonly self?: boolean;
}

/**
 * Content sharing in the meeting (docs/kiosk-and-admin-api.md §Content sharing), for the meeting
 * page's Share button (docs/hardware.md, page 3 `meeting`).
 */
export interface ShareView {
  /** Someone shares (this room or another participant). */
  readonly active: boolean;
  /** This room shares. */
  readonly self: boolean;
  /** The sharer's name, null when nobody shares. */
  readonly by: string | null;
  /** The room has a content source to share (an HDMI capture device plugged in). */
  readonly canShare: boolean;
  /** The room is the meeting's host: it may take over another's share. */
  readonly host?: boolean;
}

export interface MeetingView {
  readonly title: string;
  readonly shield: Shield;
  /** Eight groups of five digits separated by spaces, or null while there is none. */
  readonly securityCode: string | null;
  /** Four groups of five digits (E2EE meetings), or null/absent while there is none. */
  readonly rosterCode?: string | null;
  /** In roster order; absent means none are shown. */
  readonly participants?: readonly ParticipantView[];
  readonly muted: boolean;
  readonly cameraOn: boolean;
  /** 0–100. */
  readonly volume: number;
  /** Null/absent: the room cannot share in this meeting, and the Share button is hidden. */
  readonly share?: ShareView | null;
}

export interface PresetView {
  /** Camera preset number (1–6 on the panel). */
  readonly preset: number;
  readonly label: string;
}

interface ViewBase {
  readonly roomName: string;
  /** IANA zone for the clock; default the system zone. */
  readonly timeZone?: string;
  readonly meetings: readonly ScheduledMeeting[];
  /** One line for errors and status ("Camera disconnected"), or null. */
  readonly notice: string | null;
  readonly presets: readonly PresetView[];
}

export type RoomView =
  | (ViewBase & { readonly phase: 'idle' })
  | (ViewBase & { readonly phase: 'joining'; readonly joining: JoiningView })
  | (ViewBase & { readonly phase: 'in-meeting'; readonly meeting: MeetingView });

export const SHIELD_LABELS: Readonly<Record<Shield, string>> = {
  e2ee: 'End-to-end encrypted',
  enhanced: 'Enhanced encryption',
  partial: 'Partly encrypted',
  verifying: 'Verifying encryption',
  none: 'Not encrypted',
};

/** The `n` groups of a well-formed code of five-digit groups (security code 8, roster code 4), or null. */
export function codeGroups(code: string | null | undefined, n = 8): string[] | null {
  if (code === null || code === undefined) return null;
  const groups = code.trim().split(/\s+/);
  return groups.length === n && groups.every((g) => /^\d{5}$/.test(g)) ? groups : null;
}

export function idleView(roomName: string): RoomView {
  return { phase: 'idle', roomName, meetings: [], notice: null, presets: [] };
}
