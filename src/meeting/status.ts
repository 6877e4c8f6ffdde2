/**
 * The meeting client's status and the snapshot UIs read (kiosk state `meeting`, touch panel,
 * metrics). Pure data plus the sentences a person sees for each failure.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { RosterEntry, Shield } from '../e2ee/index.ts';
import type { ClientType, EncryptionMode, MeetingFeature } from '../protocol/limits.ts';

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

export interface MeetingParticipant {
  id: string;
  name: string;
  clientType: string;
  /** In the leader-signed roster with a verified binding (E2EE); always false in enhanced meetings. */
  verified: boolean;
  self: boolean;
  muted?: boolean;
  cameraOff?: boolean;
}

export interface MeetingSnapshot {
  id: string;
  title: string;
  status: MeetingStatus;
  encryption: EncryptionMode | null;
  shield: Shield;
  /** "ddddd ddddd … ddddd" (8 groups) in E2EE meetings once the leader is verified, else null. */
  securityCode: string | null;
  /** True for a while after the code changed (new leader): the UI shows a banner. */
  securityCodeChanged: boolean;
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

export function emptySnapshot(id: string): MeetingSnapshot {
  return {
    id,
    title: '',
    status: 'idle',
    encryption: null,
    shield: 'none',
    securityCode: null,
    securityCodeChanged: false,
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

/** Map the verified roster (E2EE) or the relay's roster (enhanced) to what the UI lists. */
export function participantsFrom(
  verified: readonly RosterEntry[],
  relay: readonly { participantId: string; displayName: string; client: ClientType }[],
  selfId: string | null,
  mode: EncryptionMode | null,
): MeetingParticipant[] {
  if (mode === 'e2ee') {
    return verified.map((r) => ({
      id: r.participantId,
      name: r.displayName,
      clientType: r.client,
      verified: r.e2ee && r.bindingHash !== '',
      self: r.participantId === selfId,
    }));
  }
  return relay.map((r) => ({
    id: r.participantId,
    name: r.displayName,
    clientType: r.client,
    verified: false,
    self: r.participantId === selfId,
  }));
}
