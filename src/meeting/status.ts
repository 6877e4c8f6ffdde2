/**
 * The meeting client's status and the snapshot UIs read (kiosk state `meeting`, touch panel,
 * metrics). Pure data plus the sentences a person sees for each failure.
 */
import type { ErrorCode } from '../core/errors.ts';
import { type IdentityView, type RosterView, UNVERIFIED_TEXT, type UnverifiedPolicy } from '../e2ee/index.ts';
import type { ClientType, EncryptionMode, MeetingFeature, Shield } from '../protocol/vocabulary.ts';

export type MeetingStatus =
  | 'idle'
  | 'connecting'
  | 'waiting-for-host'
  | 'keying'
  | 'secure'
  | 'rekeying'
  | 'reconnecting'
  | 'left'
  | 'failed';

/**
 * What the roster says about a participant's identity (docs/protocol.md "Identity certificates"):
 * `verified` only for a key an organization this room trusts certified, with the certified name;
 * otherwise a short fingerprint of the key and why it is not verified.
 */
export type ParticipantIdentity =
  | { status: 'verified'; org: string; certifiedName: string; kind: string; fingerprint: string }
  | { status: 'unverified'; fingerprint: string; reason: string }
  | { status: 'key-changed'; org: string; certifiedName: string; kind: string; fingerprint: string }
  | { status: 'none' };

export interface MeetingParticipant {
  id: string;
  name: string;
  clientType: string;
  /** Its identity key is certified by an organization this room trusts (E2EE); false otherwise. */
  verified: boolean;
  /** In the leader-signed roster and holding the meeting key (E2EE). */
  keyed: boolean;
  identity: ParticipantIdentity;
  self: boolean;
  muted?: boolean;
  cameraOff?: boolean;
}

/**
 * Who holds the meeting keys now and who held them before, for the "security code changed" banner
 * (docs/kiosk-and-admin-api.md §Room screen). Names are the ones in the leader-signed roster.
 */
export interface CodeChange {
  /** The previous key holder's name, or null when it was not in the verified roster. */
  previousLeader: string | null;
  /** The relay listed the previous key holder as the meeting's host. */
  previousLeaderHost: boolean;
  /** The previous key holder is no longer in the meeting. */
  previousLeaderLeft: boolean;
  /** The new key holder's name. */
  leader: string;
  /** This room is the new key holder. */
  leaderIsSelf: boolean;
}

export interface MeetingSnapshot {
  id: string;
  title: string;
  status: MeetingStatus;
  /** How the meeting service says the meeting is protected; null until it said so (and the room accepted it). */
  encryption: EncryptionMode | null;
  /** The least this join accepts: the stronger of the booking and the room's minimum. */
  expectedEncryption: EncryptionMode;
  shield: Shield;
  /** "ddddd ddddd … ddddd" (8 groups) in E2EE meetings once the leader is verified, else null. */
  securityCode: string | null;
  /** True for a while after the code changed (new leader): the UI shows a banner. */
  securityCodeChanged: boolean;
  /** The last change of key holder in this meeting (what the banner says), or null. */
  codeChange: CodeChange | null;
  /**
   * "ddddd ddddd ddddd ddddd" over the verified roster as this room holds it (E2EE), else null;
   * changes when someone joins or leaves (docs/decisions/0012-what-people-compare.md).
   */
  rosterCode: string | null;
  /** This room's policy for participants without a verified identity. */
  identityPolicy: UnverifiedPolicy;
  epoch: number;
  leader: string | null;
  selfId: string | null;
  participants: MeetingParticipant[];
  disabledFeatures: { feature: MeetingFeature; reason: string }[];
  /** Plain-words reason when status is failed/left by force, or a warning while connected. */
  error: { code: ErrorCode; message: string } | null;
  /** Alarms from the E2EE layer (tampering, MITM…), plain words. */
  alarms: string[];
  joinedAt: number | null;
}

export function emptySnapshot(id: string, expectedEncryption: EncryptionMode = 'enhanced'): MeetingSnapshot {
  return {
    id,
    title: '',
    status: 'idle',
    encryption: null,
    expectedEncryption,
    shield: 'none',
    securityCode: null,
    securityCodeChanged: false,
    codeChange: null,
    rosterCode: null,
    identityPolicy: 'warn',
    epoch: 0,
    leader: null,
    selfId: null,
    participants: [],
    disabledFeatures: [],
    error: null,
    alarms: [],
    joinedAt: null,
  };
}

export function participantIdentity(v: IdentityView): ParticipantIdentity {
  switch (v.status) {
    case 'verified':
    case 'key-changed':
      return {
        status: v.status,
        org: v.org,
        certifiedName: v.name,
        kind: v.kind,
        fingerprint: v.fingerprint,
      };
    case 'unverified':
      return { status: 'unverified', fingerprint: v.fingerprint, reason: UNVERIFIED_TEXT[v.reason] };
    case 'none':
      return { status: 'none' };
  }
}

/** Map the verified roster (E2EE) or the relay's roster (enhanced) to what the UI lists. */
export function participantsFrom(
  verified: readonly RosterView[],
  relay: readonly { participantId: string; displayName: string; client: ClientType }[],
  selfId: string | null,
  mode: EncryptionMode | null,
): MeetingParticipant[] {
  if (mode === 'e2ee') {
    return verified.map((r) => ({
      id: r.participantId,
      name: r.displayName,
      clientType: r.client,
      verified: r.identity.status === 'verified',
      keyed: r.e2ee && r.bindingHash !== '',
      identity: participantIdentity(r.identity),
      self: r.participantId === selfId,
    }));
  }
  return relay.map((r) => ({
    id: r.participantId,
    name: r.displayName,
    clientType: r.client,
    verified: false,
    keyed: false,
    identity: { status: 'none' as const },
    self: r.participantId === selfId,
  }));
}

/**
 * The banner's sentence after the security code changed (docs/kiosk-and-admin-api.md §Room screen):
 * who left, if that is why, and who holds the keys now — this room (then it reads the code aloud)
 * or someone else (then people ask them to). Never "the host" for someone who is not the host.
 */
export function codeChangeText(c: CodeChange, roomName: string): string {
  let before = '';
  if (c.previousLeaderLeft) {
    if (c.previousLeaderHost)
      before = c.previousLeader === null ? 'The host left. ' : `The host, ${c.previousLeader}, left. `;
    else if (c.previousLeader !== null) before = `${c.previousLeader}, who held the meeting keys, left. `;
    else before = 'The participant who held the meeting keys left. ';
  }
  const now = c.leaderIsSelf
    ? `This room${roomName === '' ? '' : `, ${roomName},`} now holds the meeting keys: read the new code aloud and ask everyone to check that theirs matches.`
    : `${c.leader} now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.`;
  return before + now;
}
