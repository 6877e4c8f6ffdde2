/**
 * Options, limits and the accepted-leader record of the participant role (`participant.ts`;
 * docs/protocol.md "Protocol", "Shield (fail-closed)").
 */
import type { EphemeralKeys, RandomSource, VerifiedBinding } from './binding.ts';
import type { FrameKeys } from './frames.ts';
import type { BindingPins } from './pins.ts';
import type { RosterIdentities } from './roster-identity.ts';
import type { ParticipantId, ProtocolParams } from './types.ts';

export const NONCE_HISTORY = 4;
export const PENDING_KEYS = 4;
export const BINDING_RETRY_MS = 3000;
/** Chain hashes of this many recent heartbeats are kept to recognise a fork (a signed equivocation). */
export const FORK_MEMORY = 16;

export type AlarmCode =
  | 'e2ee.binding_mismatch'
  | 'e2ee.leader_rejected'
  | 'e2ee.binding_conflict'
  | 'e2ee.leader_equivocated'
  | 'e2ee.identity_key_changed';

export interface ParticipantOptions {
  meetingId: string;
  instanceId: string;
  selfId: ParticipantId;
  identityPublic: Uint8Array;
  self: VerifiedBinding;
  ephemeral: EphemeralKeys;
  params: ProtocolParams;
  random: RandomSource;
  frames: FrameKeys;
  /** Binding pins of this meeting instance, shared with our leader role (pins.ts). */
  pins: BindingPins;
  /** Identity checks, pins per (organization, name) and the unverified policy (roster-identity.ts). */
  identities: RosterIdentities;
}

export interface AcceptedLeader {
  id: ParticipantId;
  binding: VerifiedBinding;
  code: string;
}
