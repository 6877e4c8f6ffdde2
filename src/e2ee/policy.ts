/**
 * Meeting policies (docs/protocol.md "Meeting policy"): the encryption a meeting was booked with,
 * signed by its host's identity key, so a relay cannot present a meeting booked `e2ee` as
 * `enhanced` (where it would hold the keys). The relay stores and forwards the policy as an opaque
 * object; every participant verifies it itself.
 *
 * sig = Ed25519(host ISK, H(ctx_policy) ‖ H(F(ctx_policy, v, meetingId, encryption, host,
 *       certificate bytes or empty, certificate sig or empty, issuedAt))), H = SHA-256.
 *
 * A policy counts only when its signature verifies AND its host is trusted: the host's certificate
 * checks against the verifier's trust anchors, or the host key is one the verifier trusts outright
 * (a room trusts its own key, for the meetings it booked). The relay can make keys and sign
 * anything with them; a policy signed by a key nobody vouches for counts for nothing.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { RoomdError } from '../core/errors.ts';
import { concat, encodeFields, fromB64u, toB64u, utf8Bytes } from './bytes.ts';
import {
  certificateBytes,
  checkIdentity,
  type IdentityCertificate,
  keyFingerprint,
  parseCertificate,
  type TrustAnchor,
  UNVERIFIED_TEXT,
  type UnverifiedReason,
} from './certificate.ts';
import { CONTEXT } from './context.ts';
import { verifyEd25519 } from './ed25519.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';

/** A meeting policy as it travels (JSON-safe; byte fields base64url; `issuedAt` in ms since the epoch). */
export interface MeetingPolicy {
  v: 1;
  /** The meeting id as the host booked it (compared without dashes). */
  meetingId: string;
  encryption: EncryptionMode;
  /** The host's Ed25519 identity public key (IVK). */
  host: string;
  /** The host's identity certificate, when an organization issued one. */
  cert?: IdentityCertificate;
  issuedAt: number;
  sig: string;
}

/** Meeting ids as the relay issues them (docs/protocol.md §Limits). */
const MEETING_ID = /^[A-Za-z0-9-]{3,64}$/;
const FIELDS = ['v', 'meetingId', 'encryption', 'host', 'cert', 'issuedAt', 'sig'] as const;

/** Meeting ids compare without their dashes: people type `123-4567-8901` as `12345678901`. */
export function bareMeetingId(id: string): string {
  return id.replace(/-/g, '');
}

/** The stronger of two encryption modes (`e2ee` over `enhanced`). */
export function strongerMode(a: EncryptionMode, b: EncryptionMode | undefined | null): EncryptionMode {
  return a === 'e2ee' || b === 'e2ee' ? 'e2ee' : 'enhanced';
}

function bad(what: string, why: string): never {
  throw new RoomdError('e2ee.malformed', {
    message: `Meeting policy field ${what} ${why}.`,
    context: { what },
  });
}

function parse(v: unknown): MeetingPolicy {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('policy', 'is not an object');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  // Bounded before anything walks it: at most the known fields, each checked by type below.
  if (keys.length > FIELDS.length) bad('policy', 'has too many fields');
  for (const k of keys) if (!(FIELDS as readonly string[]).includes(k)) bad(k.slice(0, 32), 'is not allowed');
  if (o['v'] !== 1) bad('v', 'is not 1');
  const meetingId = o['meetingId'];
  if (typeof meetingId !== 'string' || !MEETING_ID.test(meetingId)) bad('meetingId', 'is not a meeting id');
  const encryption = o['encryption'];
  if (encryption !== 'e2ee' && encryption !== 'enhanced') bad('encryption', 'is not e2ee|enhanced');
  const host = o['host'];
  if (typeof host !== 'string' || host.length !== 43 || fromB64u(host, 'host').length !== 32)
    bad('host', 'must hold 32 bytes');
  const issuedAt = o['issuedAt'];
  if (typeof issuedAt !== 'number' || !Number.isSafeInteger(issuedAt) || issuedAt < 0)
    bad('issuedAt', 'is not a time in ms');
  const sig = o['sig'];
  if (typeof sig !== 'string' || sig.length !== 86 || fromB64u(sig, 'sig').length !== 64)
    bad('sig', 'must hold 64 bytes');
  const cert = o['cert'] === undefined ? undefined : parseCertificate(o['cert'], 'cert');
  return {
    v: 1,
    meetingId,
    encryption,
    host,
    ...(cert === undefined ? {} : { cert }),
    issuedAt,
    sig,
  };
}

/** A parse result: the policy, or why the value is not one. */
export type PolicyParse = { ok: true; policy: MeetingPolicy } | { ok: false; error: RoomdError };

/**
 * Validate an untrusted value as a meeting policy (shape only; `verifyMeetingPolicy` verifies it).
 * Total: any value gives a result, never a throw.
 */
export function parseMeetingPolicy(v: unknown): PolicyParse {
  try {
    return { ok: true, policy: parse(v) };
  } catch (error) {
    if (error instanceof RoomdError && error.code === 'e2ee.malformed') return { ok: false, error };
    throw error;
  }
}

/** Canonical bytes a policy's signature covers. */
export function policyBytes(p: Omit<MeetingPolicy, 'sig'>): Uint8Array {
  return encodeFields([
    CONTEXT.policy,
    p.v,
    p.meetingId,
    p.encryption,
    fromB64u(p.host, 'host'),
    // The certificate is signed with the policy, so nobody can swap it in transit.
    p.cert === undefined ? new Uint8Array(0) : certificateBytes(p.cert),
    p.cert === undefined ? new Uint8Array(0) : fromB64u(p.cert.sig, 'cert.sig'),
    p.issuedAt,
  ]);
}

function toSign(bytes: Uint8Array): Uint8Array {
  return concat(sha256(utf8Bytes(CONTEXT.policy)), sha256(bytes));
}

export interface PolicyRequest {
  meetingId: string;
  encryption: EncryptionMode;
  /** Wall-clock ms since the Unix epoch. */
  issuedAt: number;
  /** The host's certificate for `identity.publicKey`, if it has one. */
  cert?: IdentityCertificate;
}

/** Sign a meeting policy as its host. Validates the result (throws e2ee.malformed on a bad request). */
export function signMeetingPolicy(
  req: PolicyRequest,
  identity: { publicKey: Uint8Array; secretKey: Uint8Array },
): MeetingPolicy {
  const unsigned = {
    v: 1 as const,
    meetingId: req.meetingId,
    encryption: req.encryption,
    host: toB64u(identity.publicKey),
    ...(req.cert === undefined ? {} : { cert: req.cert }),
    issuedAt: req.issuedAt,
  };
  const sig = toB64u(ed25519.sign(toSign(policyBytes(unsigned)), identity.secretKey));
  const parsed = parseMeetingPolicy({ ...unsigned, sig });
  if (!parsed.ok) throw parsed.error;
  return parsed.policy;
}

/** Why a policy counts for nothing. */
export type PolicyRejection = 'malformed' | 'bad_signature' | 'untrusted_host' | 'wrong_meeting';

/** Who vouches for a verified policy's host. */
export type PolicyHost =
  | { trust: 'key'; fingerprint: string }
  | { trust: 'certificate'; org: string; name: string; fingerprint: string };

export type PolicyCheck =
  | { ok: true; policy: MeetingPolicy; encryption: EncryptionMode; host: PolicyHost }
  | {
      ok: false;
      reason: PolicyRejection;
      /** For `untrusted_host`: why the host's identity did not verify. */
      identity?: UnverifiedReason;
      /** For `wrong_meeting`: the meeting the policy is for. */
      meetingId?: string;
      /** A sentence a person can read on the room screen. */
      message: string;
    };

export interface PolicyExpectation {
  /** The meeting being joined or listed (compared without dashes). */
  meetingId: string;
  /** Organizations whose certificates this verifier accepts. */
  anchors: readonly TrustAnchor[];
  /** Wall-clock ms since the Unix epoch, for certificate validity. */
  wallNow: number;
  /** Host keys (base64url) trusted without a certificate: a room's own key. */
  trustedHosts?: readonly string[];
}

/**
 * Verify an untrusted value as the policy of `expect.meetingId`. Total: every failure is a typed
 * result. Order: shape, signature, host trust, meeting id — so `wrong_meeting` means a genuine
 * policy of another meeting (the relay mixing meetings), not just any garbage naming one.
 */
export function verifyMeetingPolicy(value: unknown, expect: PolicyExpectation): PolicyCheck {
  const parsed = parseMeetingPolicy(value);
  if (!parsed.ok) {
    return {
      ok: false,
      reason: 'malformed',
      message: `The meeting's encryption policy is not readable: ${parsed.error.message}`,
    };
  }
  const p = parsed.policy;
  const hostKey = fromB64u(p.host, 'host');
  const sigOk = verifyEd25519(fromB64u(p.sig, 'sig'), toSign(policyBytes(p)), hostKey);
  if (!sigOk) {
    return {
      ok: false,
      reason: 'bad_signature',
      message: "The meeting's encryption policy does not carry a valid signature of the key it names.",
    };
  }
  let host: PolicyHost;
  if (expect.trustedHosts?.includes(p.host) === true) {
    host = { trust: 'key', fingerprint: keyFingerprint(hostKey) };
  } else {
    const id = checkIdentity(hostKey, p.cert, expect.anchors, expect.wallNow);
    if (id.status !== 'verified') {
      return {
        ok: false,
        reason: 'untrusted_host',
        identity: id.reason,
        message: `The meeting's encryption policy is signed by a key this room does not trust (${UNVERIFIED_TEXT[id.reason]}).`,
      };
    }
    host = { trust: 'certificate', org: id.org, name: id.name, fingerprint: id.fingerprint };
  }
  if (bareMeetingId(p.meetingId) !== bareMeetingId(expect.meetingId)) {
    return {
      ok: false,
      reason: 'wrong_meeting',
      meetingId: p.meetingId,
      message: `The meeting service sent the signed encryption policy of meeting ${p.meetingId} for meeting ${expect.meetingId}.`,
    };
  }
  return { ok: true, policy: p, encryption: p.encryption, host };
}
