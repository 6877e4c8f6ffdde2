/**
 * roomd E2EE core — public API (docs/protocol.md "# E2EE protocol" and its sections). Pure: no I/O,
 * no timers; time comes in as `now` (ms). Other layers import only from this file.
 *
 * Driving a meeting from a network client
 * ---------------------------------------
 *   const session = createE2eeSession({
 *     mode: 'e2ee',                      // or 'enhanced' (relay-made key, same frame path)
 *     meetingId, instanceId,             // instance id is chosen by the relay per occurrence
 *     participantId, deviceId, displayName,
 *     identity: { publicKey, secretKey }, // Ed25519 device identity (32-byte seed as secretKey)
 *   });
 *   run(session.start(now));
 *   // on every relay roster update (also names the leader; '' = none yet). Members are the relay's
 *   // claim { participantId, displayName, client, e2ee, slot? } — slot is used in enhanced meetings only:
 *   run(session.handle({ type: 'relay-roster', leaderId, members }, now));
 *   // enhanced meetings: run(session.handle({ type: 'enhanced-key', epoch, key }, now));
 *   // relay-announced mode changes: run(session.handle({ type: 'mode', mode }, now)); weaker = leave
 *   // on every opaque E2EE payload routed to us:
 *   run(session.handle({ type: 'message', from, message: payload }, now));
 *   // at least every 250 ms:
 *   run(session.handle({ type: 'tick' }, now));
 *
 *   function run(effects: E2eeEffect[]) {
 *     for (const e of effects) switch (e.type) {
 *       case 'send':     relay.send(e.to, e.message); break;   // to: participant id or 'all'; message is JSON-safe
 *       case 'keyframe': encoders.forceKeyframe(); break;
 *       case 'ui':       ui.show(e.fact); break;                // security code, leader change, shield, alarms
 *       case 'leave':    meeting.leave(e.code, e.reason); break; // downgrade attempt etc.
 *       case 'install-keys': break;                             // informational
 *     }
 *   }
 *
 * Media frames (RFC 9605 SFrame, suite AES_256_GCM_SHA512_128, node:crypto hot path):
 *   const frame = session.frames.seal('video', payload, metadata?);    // throws e2ee.unknown_key before keys
 *   // or, without an extra copy: const n = session.frames.sealInto(buf, offset, 'video', payload, metadata?)
 *   // with buf sized by session.frames.sealedLength('video', payload.length)
 *   const { senderId, stream, epoch, payload } = session.frames.open(frame, metadata?, now);
 * `open` throws RoomdError (e2ee.unknown_key | e2ee.decrypt_failed | e2ee.replay | e2ee.malformed); drop
 * the frame. Tampered/replayed frames also raise the session's integrity alarm (shield 'partial').
 *
 * Status for UIs: `session.shield(now)`, `session.status(now)`. `session.close()` wipes all secrets.
 * Messages: `parseE2eeMessage(value)` validates untrusted input (the session does this itself).
 */

export type { E2eeSession, E2eeSessionOptions, Identity } from './session.ts';
export { createE2eeSession } from './session.ts';
export type { DirectCrypto, DirectSealed } from './direct.ts';
export type { FrameCrypto, OpenedFrame } from './frames.ts';
export type {
  E2eeEffect,
  E2eeEvent,
  E2eeStatus,
  ParticipantId,
  ProtocolParams,
  RelayMember,
  RosterEntry,
  ShieldInput,
  UiFact,
} from './types.ts';
export { DEFAULT_PARAMS } from './types.ts';
export type {
  AckMessage,
  BindingBody,
  BindingMessage,
  E2eeMessage,
  E2eeMessageType,
  HeartbeatBody,
  HeartbeatMessage,
  KeyMessage,
} from './messages.ts';
export { E2EE_PROTOCOL_VERSION } from './messages.ts';
export { parseE2eeMessage } from './parse.ts';
export { shieldState } from './shield.ts';
export { type SecurityCode, securityCode } from './security-code.ts';
export { decodeKid, encodeKid, type KidParts } from './kid.ts';
// Lower-level SFrame (RFC 9605) building blocks, for tests, benches and interop tools.
export { CipherSuite, type SuiteId, SUITES } from './sframe/suites.ts';
export { decodeHeader, encodeHeader, type SFrameHeader } from './sframe/header.ts';
export { SFrameReceiveKey, SFrameSendKey } from './sframe/keys.ts';
export { defaultAead, nobleAead, type SFrameAead } from './sframe/aead.ts';
// Identity certificates and what the roster shows about people (docs/protocol.md "Identity certificates").
export {
  CERT_LIMITS,
  checkIdentity,
  IDENTITY_KINDS,
  type IdentityCertificate,
  type IdentityCheck,
  type IdentityKind,
  type IdentityPinStore,
  type IdentityView,
  issueCertificate,
  keyFingerprint,
  MemoryIdentityPins,
  parseCertificate,
  parseTrustAnchor,
  type TrustAnchor,
  UNVERIFIED_TEXT,
  type UnverifiedReason,
} from './certificate.ts';
export type { TrustOptions, UnverifiedPolicy } from './roster-identity.ts';
export type { RosterView } from './types.ts';
export { rosterCode } from './security-code.ts';
// Meeting policies: the encryption a meeting was booked with, signed by its host (docs/protocol.md "Meeting policy").
export {
  bareMeetingId,
  type MeetingPolicy,
  type PolicyCheck,
  type PolicyExpectation,
  type PolicyHost,
  type PolicyParse,
  type PolicyRejection,
  parseMeetingPolicy,
  signMeetingPolicy,
  strongerMode,
  verifyMeetingPolicy,
} from './policy.ts';
