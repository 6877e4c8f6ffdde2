/**
 * E2EE message types and their strict validators (docs/protocol.md "Messages"). Every message is a
 * self-contained JSON-safe object with base64url byte fields, so the relay routes it verbatim as an
 * opaque payload. Validators live in parse.ts.
 */

import type { IdentityCertificate } from './certificate.ts';

export const E2EE_PROTOCOL_VERSION = 1 as const;

/** Limits that keep a hostile relay from making us allocate without bound. */
export const LIMITS = Object.freeze({ maxRoster: 1000, maxCaps: 16, maxIdLength: 128, maxNameLength: 256 });

/** Sizes of the key material fields (bytes). */
export const SIZES = Object.freeze({
  ivk: 32,
  signature: 64,
  x25519: 32,
  mlkemPublic: 1184,
  mlkemCiphertext: 1088,
  nonce: 16,
  hash: 32,
  xnonce: 24,
  box: 48,
  mac: 32,
});

/** A participant as the relay claims it (untrusted: the UI shows the leader's verified roster). */
export interface RelayMember {
  participantId: string;
  displayName: string;
  /** Kind of client, e.g. 'roomd', 'web', 'phone', 'sip'. */
  client: string;
  /** Whether the relay says this client speaks our E2EE protocol. */
  e2ee: boolean;
  /** Compact sender number, used only in enhanced meetings (the leader assigns slots in E2EE). */
  slot?: number;
}

/** One entry of the leader-signed roster. */
export interface RosterEntry {
  participantId: string;
  slot: number;
  /** base64url SHA-256 of the participant's signed binding; '' for a client without E2EE. */
  bindingHash: string;
  displayName: string;
  client: string;
  e2ee: boolean;
  /**
   * The member's identity public key from its verified binding; '' for a client without E2EE.
   * With `bindingHash` '' and an `ivk`, the member is present and not keyed (the leader's policy
   * refused its identity; docs/protocol.md "Identity certificates").
   */
  ivk: string;
  /** The certificate from the member's binding, for every receiver to check against its own anchors. */
  cert?: IdentityCertificate;
}

/** What a participant publishes about itself, signed with its identity key. */
export interface BindingBody {
  v: 1;
  meetingId: string;
  instanceId: string;
  participantId: string;
  deviceId: string;
  displayName: string;
  client: string;
  caps: string[];
  /** Ed25519 identity public key (IVK). */
  ivk: string;
  /** Ephemeral X25519 public key. */
  x25519: string;
  /** Ephemeral ML-KEM-768 encapsulation key. */
  mlkem: string;
  /** First liveness nonce. */
  nonce: string;
  /** The organization's certificate for `ivk` (docs/protocol.md "Identity certificates"). */
  cert?: IdentityCertificate;
}

export interface BindingMessage {
  t: 'e2ee.binding';
  v: 1;
  binding: BindingBody;
  sig: string;
}

/** The meeting key of one epoch wrapped by the leader for one recipient. */
export interface KeyMessage {
  t: 'e2ee.key';
  v: 1;
  meetingId: string;
  instanceId: string;
  leaderId: string;
  recipientId: string;
  epoch: number;
  slot: number;
  switch: 'immediate' | 'await';
  /** The recipient's liveness nonce this delivery is bound to. */
  nonce: string;
  /** ML-KEM-768 ciphertext; present until the recipient has acknowledged once. */
  kem?: string;
  iv: string;
  box: string;
}

/** A participant tells the leader it holds an epoch and gives its next liveness nonce (MAC'd). */
export interface AckMessage {
  t: 'e2ee.ack';
  v: 1;
  meetingId: string;
  instanceId: string;
  leaderId: string;
  participantId: string;
  epoch: number;
  nonce: string;
  mac: string;
}

export interface HeartbeatBody {
  meetingId: string;
  instanceId: string;
  leaderId: string;
  epoch: number;
  sendEpoch: number;
  rosterVersion: number;
  counter: number;
  time: number;
  rosterHash: string;
  prev: string;
  roster: RosterEntry[];
}

export interface HeartbeatMessage {
  t: 'e2ee.heartbeat';
  v: 1;
  body: HeartbeatBody;
  /** The leader's own signed binding (its IVK verifies `sig`). */
  leader: BindingMessage;
  sig: string;
}

/**
 * Starts a one-to-one key with another member (docs/protocol.md "Direct messages"): the sender's
 * own signed binding and a fresh nonce the reply must echo.
 */
export interface DirectHelloMessage {
  t: 'e2ee.direct-hello';
  v: 1;
  binding: BindingMessage;
  nonce: string;
}

/** The answer to a direct hello: the responder's binding and an ML-KEM ciphertext to the initiator. */
export interface DirectReplyMessage {
  t: 'e2ee.direct-reply';
  v: 1;
  binding: BindingMessage;
  /** The hello's nonce. */
  nonce: string;
  kem: string;
}

export type E2eeMessage =
  | BindingMessage
  | KeyMessage
  | AckMessage
  | HeartbeatMessage
  | DirectHelloMessage
  | DirectReplyMessage;
export type E2eeMessageType = E2eeMessage['t'];
