/**
 * Public types of the E2EE core: events into the session state machine, effects out of it,
 * the shield, UI facts and relay-side facts (docs/protocol.md "# E2EE protocol").
 * Pure data: everything here is JSON-safe except `Uint8Array` key material in events.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { EncryptionMode, Shield } from '../protocol/vocabulary.ts';
import type { IdentityView } from './certificate.ts';
import type { E2eeMessage, RelayMember, RosterEntry } from './messages.ts';
import type { UnverifiedPolicy } from './roster-identity.ts';

/** Participant ids are chosen by the relay; 'all' is reserved as a send target. */
export type ParticipantId = string;

export type { RelayMember } from './messages.ts';

export type { RosterEntry } from './messages.ts';

/** A verified roster entry with what this participant knows about its identity. */
export type RosterView = RosterEntry & { identity: IdentityView };

/** Events fed into `E2eeSession.handle(event, now)`. `now` is milliseconds (any monotonic origin). */
export type E2eeEvent =
  /** The relay's view of the meeting: who is in it and whom it names leader. Send on every change. */
  | { type: 'relay-roster'; leaderId: ParticipantId; members: readonly RelayMember[] }
  /** An opaque E2EE payload the relay routed to us; `from` is the relay's claim (not trusted). */
  | { type: 'message'; from: ParticipantId; message: unknown }
  /** The relay changed the meeting's protection mode (anything weaker than the start is a downgrade). */
  | { type: 'mode'; mode: EncryptionMode | 'none' }
  /** Enhanced meetings: the meeting key the relay made. In an E2EE meeting this is a downgrade. */
  | { type: 'enhanced-key'; epoch: number; key: Uint8Array }
  /** Time passes: call at least every 250 ms while in a meeting. */
  | { type: 'tick' }
  /** We want a one-to-one key with `peer` (docs/protocol.md "Direct messages"); E2EE meetings only. */
  | { type: 'direct-request'; peer: ParticipantId };

/** Things the UI must show or log (never secrets). */
export type UiFact =
  | { type: 'security-code'; code: string; leaderId: ParticipantId; changed: boolean }
  | { type: 'leader-changed'; from: ParticipantId | null; to: ParticipantId }
  | { type: 'epoch'; epoch: number; sending: boolean }
  | { type: 'roster'; roster: readonly RosterEntry[] }
  | { type: 'shield'; shield: Shield }
  | { type: 'alarm'; code: ErrorCode; reason: string }
  | { type: 'rejected'; code: ErrorCode; from: ParticipantId; what: string };

/** Effects returned by the session; the network client carries them out in order. */
export type E2eeEffect =
  /** Send `message` through the relay to one participant id or to everyone ('all'). */
  | { type: 'send'; to: ParticipantId | 'all'; message: E2eeMessage }
  /** Keys for `epoch` are installed for `role`; frames now seal/open with them (informational). */
  | { type: 'install-keys'; epoch: number; role: 'send' | 'receive' }
  /** Our senders switched epoch: make every encoder send a keyframe now. */
  | { type: 'keyframe'; epoch: number }
  | { type: 'ui'; fact: UiFact }
  /** Leave the meeting (downgrade attempt or unrecoverable protocol failure) and say why. */
  | { type: 'leave'; code: ErrorCode; reason: string };

/** Protocol timing, all in ms. Defaults in `DEFAULT_PARAMS`. */
export interface ProtocolParams {
  heartbeatIntervalMs: number;
  /** No verified heartbeat for this long: leave the secure state (shield 'verifying'). */
  heartbeatTimeoutMs: number;
  /** Joins within this window share one new epoch. */
  joinCoalesceMs: number;
  /** Periodic rekey. */
  rekeyIntervalMs: number;
  /** Longest a leader waits for every acknowledgement before telling senders to switch. */
  switchBoundMs: number;
  /** Older epochs are dropped this long after a newer key arrives. */
  oldKeyRetentionMs: number;
  /**
   * After a leave rekey (switch 'immediate') the older epochs are dropped this soon instead: the
   * leaver knows them, and with the relay's help could seal frames in them as any member who has
   * not sent since. Default 0: dropped the moment the new key is installed, at the cost of the few
   * frames other members had in flight (docs/protocol.md "Protocol", old keys).
   */
  leaveKeyRetentionMs: number;
  /** How long the relay's roster may differ from the verified one before the shield turns partial. */
  rosterGraceMs: number;
  /** A rejected (tampered or replayed) frame keeps the shield partial this long. */
  integrityAlarmMs: number;
}

export const DEFAULT_PARAMS: Readonly<ProtocolParams> = Object.freeze({
  heartbeatIntervalMs: 1000,
  heartbeatTimeoutMs: 6000,
  joinCoalesceMs: 1000,
  rekeyIntervalMs: 5 * 60_000,
  switchBoundMs: 3000,
  oldKeyRetentionMs: 10_000,
  leaveKeyRetentionMs: 0,
  rosterGraceMs: 8000,
  integrityAlarmMs: 10_000,
});

/** Everything the shield function looks at (see shield.ts). */
export interface ShieldInput {
  mode: EncryptionMode | 'none';
  left: boolean;
  /** E2EE: an accepted leader whose binding we verified. */
  leaderVerified: boolean;
  /** E2EE: ms since the last verified heartbeat, or null when none yet. */
  heartbeatAgeMs: number | null;
  heartbeatTimeoutMs: number;
  /** We hold the key of the newest epoch the leader announced (enhanced: the relay's key). */
  holdsCurrentKey: boolean;
  /** We are in the verified roster with our own binding. */
  selfInRoster: boolean;
  /** Every member of the verified roster is E2EE-capable. */
  allCapable: boolean;
  /** Under the `warn` or `refuse` identity policy, a member without a verified identity holds the key. */
  unverifiedKeyed?: boolean;
  /** Relay roster differs from the verified one: 'none', 'pending' (within grace) or 'persistent'. */
  rosterMismatch: 'none' | 'pending' | 'persistent';
  /** Any active alarm (MITM, rejected leader, tampered frames...). */
  alarms: number;
}

/** Snapshot for UIs and logs; contains no secrets. */
export interface E2eeStatus {
  mode: EncryptionMode;
  shield: Shield;
  participantId: ParticipantId;
  leaderId: ParticipantId | null;
  isLeader: boolean;
  securityCode: string | null;
  epoch: number;
  sendEpoch: number;
  roster: readonly RosterView[];
  /** 4 groups of 5 digits over the verified roster as this participant holds it (security-code.ts). */
  rosterCode: string | null;
  identityPolicy: UnverifiedPolicy;
  alarms: readonly { code: ErrorCode; reason: string }[];
}
