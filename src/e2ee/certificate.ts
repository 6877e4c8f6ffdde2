/**
 * Identity certificates (docs/protocol.md "Identity certificates";
 * decision record docs/decisions/0012-what-people-compare.md). An organization's trust anchor (an
 * Ed25519 key pair held by its identity service, `roomctl identity` plays it) certifies that an
 * identity key (IVK) belongs to a named room, person or bot of that organization for a period.
 * Bindings carry the certificate; every participant checks it against the anchors it trusts, so the
 * roster can say "Verified · Acme Corp" only for a key someone vouched for.
 *
 * sig = Ed25519(anchor secret, H(context) ‖ H(canonical certificate fields)), H = SHA-256.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { RoomdError } from '../core/errors.ts';
import { bytesToHex } from '@noble/hashes/utils.js';
import { concat, encodeFields, equalBytes, fromB64u, toB64u, utf8Bytes } from './bytes.ts';
import { CONTEXT } from './context.ts';
import { verifyEd25519 } from './ed25519.ts';

export type IdentityKind = 'room' | 'person' | 'bot';
export const IDENTITY_KINDS: readonly IdentityKind[] = ['room', 'person', 'bot'];

/** A certificate as it travels (JSON-safe; byte fields base64url; times in ms since the Unix epoch). */
export interface IdentityCertificate {
  v: 1;
  /** Organization name, as its anchor is known to the participants that trust it. */
  org: string;
  /** The certified display name. */
  name: string;
  kind: IdentityKind;
  /** The certified Ed25519 identity public key (IVK). */
  key: string;
  notBefore: number;
  notAfter: number;
  /** The anchor's Ed25519 public key. */
  issuer: string;
  sig: string;
}

/** An organization a participant trusts: certificates signed by `publicKey` for `org` verify. */
export interface TrustAnchor {
  org: string;
  /** base64url Ed25519 public key. */
  publicKey: string;
}

export const CERT_LIMITS = Object.freeze({ maxOrgLength: 128, maxNameLength: 128, maxAnchors: 64 });

const CONTROL = /[\u0000-\u001f\u007f]/;

function bad(what: string, why: string): never {
  throw new RoomdError('e2ee.malformed', {
    message: `Identity certificate field ${what} ${why}.`,
    context: { what },
  });
}

function text(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.trim() === '' || v.length > max || CONTROL.test(v))
    bad(what, `is not a name of 1..${max} printable characters`);
  return v;
}

function key32(v: unknown, what: string): string {
  if (typeof v !== 'string') bad(what, 'is not base64url');
  if (fromB64u(v, what).length !== 32) bad(what, 'must hold 32 bytes');
  return v;
}

function time(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(what, 'is not a time in ms');
  return v;
}

const FIELDS = ['v', 'org', 'name', 'kind', 'key', 'notBefore', 'notAfter', 'issuer', 'sig'] as const;

/** Validate an untrusted value as a certificate (shape only; `checkIdentity` verifies it). */
export function parseCertificate(v: unknown, what = 'cert'): IdentityCertificate {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, 'is not an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!(FIELDS as readonly string[]).includes(k)) bad(`${what}.${k}`, 'is not allowed');
  if (o['v'] !== 1) bad(`${what}.v`, 'is not 1');
  const kind = o['kind'];
  if (typeof kind !== 'string' || !(IDENTITY_KINDS as readonly string[]).includes(kind))
    bad(`${what}.kind`, 'is not room|person|bot');
  const sig = o['sig'];
  if (typeof sig !== 'string' || fromB64u(sig, `${what}.sig`).length !== 64)
    bad(`${what}.sig`, 'must hold 64 bytes');
  const cert: IdentityCertificate = {
    v: 1,
    org: text(o['org'], `${what}.org`, CERT_LIMITS.maxOrgLength),
    name: text(o['name'], `${what}.name`, CERT_LIMITS.maxNameLength),
    kind: kind as IdentityKind,
    key: key32(o['key'], `${what}.key`),
    notBefore: time(o['notBefore'], `${what}.notBefore`),
    notAfter: time(o['notAfter'], `${what}.notAfter`),
    issuer: key32(o['issuer'], `${what}.issuer`),
    sig,
  };
  if (cert.notAfter <= cert.notBefore) bad(`${what}.notAfter`, 'is not after notBefore');
  return cert;
}

/** Validate an untrusted trust anchor (a settings value or provisioning bundle entry). */
export function parseTrustAnchor(v: unknown, what = 'anchor'): TrustAnchor {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, 'is not an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'org' && k !== 'publicKey') bad(`${what}.${k}`, 'is not allowed');
  return {
    org: text(o['org'], `${what}.org`, CERT_LIMITS.maxOrgLength),
    publicKey: key32(o['publicKey'], `${what}.publicKey`),
  };
}

/** Canonical bytes a certificate's signature covers (also what the binding signs in its place). */
export function certificateBytes(c: Omit<IdentityCertificate, 'sig'>): Uint8Array {
  return encodeFields([
    CONTEXT.certificate,
    c.v,
    c.org,
    c.name,
    c.kind,
    fromB64u(c.key),
    c.notBefore,
    c.notAfter,
    fromB64u(c.issuer),
  ]);
}

function toSign(bytes: Uint8Array): Uint8Array {
  return concat(sha256(utf8Bytes(CONTEXT.certificate)), sha256(bytes));
}

export interface CertificateRequest {
  org: string;
  name: string;
  kind: IdentityKind;
  /** The subject's identity public key (32 bytes). */
  key: Uint8Array;
  notBefore: number;
  notAfter: number;
}

/** Sign a certificate with an anchor's secret key (32-byte Ed25519 seed). Validates the request. */
export function issueCertificate(req: CertificateRequest, anchorSecret: Uint8Array): IdentityCertificate {
  const unsigned = {
    v: 1 as const,
    org: req.org,
    name: req.name,
    kind: req.kind,
    key: toB64u(req.key),
    notBefore: req.notBefore,
    notAfter: req.notAfter,
    issuer: toB64u(ed25519.getPublicKey(anchorSecret)),
  };
  const sig = toB64u(ed25519.sign(toSign(certificateBytes(unsigned)), anchorSecret));
  return parseCertificate({ ...unsigned, sig });
}

/** Short, readable identity-key fingerprint: 4 groups of 4 hex digits of SHA-256(IVK). */
export function keyFingerprint(ivk: Uint8Array): string {
  const hex = bytesToHex(sha256(ivk).subarray(0, 8));
  return `${hex.slice(0, 4)} ${hex.slice(4, 8)} ${hex.slice(8, 12)} ${hex.slice(12, 16)}`;
}

/** Why a key is not verified, in words a person can act on. */
export type UnverifiedReason =
  | 'no_certificate'
  | 'unknown_organization'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_key';

export const UNVERIFIED_TEXT: Record<UnverifiedReason, string> = {
  no_certificate: 'no certificate',
  unknown_organization: 'certificate from an organization this room does not trust',
  bad_signature: 'certificate signature does not verify',
  expired: 'certificate expired',
  not_yet_valid: 'certificate not yet valid',
  wrong_key: 'certificate is for another key',
};

/** What is known about one identity key. */
export type IdentityCheck =
  | {
      status: 'verified';
      org: string;
      name: string;
      kind: IdentityKind;
      fingerprint: string;
      notAfter: number;
    }
  | { status: 'unverified'; reason: UnverifiedReason; fingerprint: string };

/** The time-independent part of a check: anchor, signature and key (cacheable per key and certificate). */
export type CertificateCheck =
  | { ok: true; cert: IdentityCertificate }
  | { ok: false; reason: 'no_certificate' | 'unknown_organization' | 'bad_signature' | 'wrong_key' };

export function checkCertificate(
  ivk: Uint8Array,
  cert: IdentityCertificate | undefined,
  anchors: readonly TrustAnchor[],
): CertificateCheck {
  if (cert === undefined) return { ok: false, reason: 'no_certificate' };
  const anchor = anchors.find((a) => a.org === cert.org && a.publicKey === cert.issuer);
  if (anchor === undefined) return { ok: false, reason: 'unknown_organization' };
  const ok = verifyEd25519(fromB64u(cert.sig), toSign(certificateBytes(cert)), fromB64u(anchor.publicKey));
  if (!ok) return { ok: false, reason: 'bad_signature' };
  if (!equalBytes(fromB64u(cert.key), ivk)) return { ok: false, reason: 'wrong_key' };
  return { ok: true, cert };
}

/** Apply the validity period at wall-clock time `wallNow` (ms since the Unix epoch). */
export function identityAt(check: CertificateCheck, fingerprint: string, wallNow: number): IdentityCheck {
  if (!check.ok) return { status: 'unverified', reason: check.reason, fingerprint };
  const c = check.cert;
  if (wallNow < c.notBefore) return { status: 'unverified', reason: 'not_yet_valid', fingerprint };
  if (wallNow >= c.notAfter) return { status: 'unverified', reason: 'expired', fingerprint };
  return { status: 'verified', org: c.org, name: c.name, kind: c.kind, fingerprint, notAfter: c.notAfter };
}

/**
 * Check `cert` for identity key `ivk` against `anchors` at wall-clock time `wallNow`. Total: every
 * failure is a typed `unverified` result, never a throw.
 */
export function checkIdentity(
  ivk: Uint8Array,
  cert: IdentityCertificate | undefined,
  anchors: readonly TrustAnchor[],
  wallNow: number,
): IdentityCheck {
  return identityAt(checkCertificate(ivk, cert, anchors), keyFingerprint(ivk), wallNow);
}

/**
 * Compare a check with the pins, pinning a first-seen verified key for its (organization, name).
 */
export function pinIdentity(check: IdentityCheck, ivkB64: string, pins: IdentityPinStore): IdentityView {
  if (check.status !== 'verified')
    return { status: 'unverified', reason: check.reason, fingerprint: check.fingerprint };
  const pinned = pins.get(check.org, check.name);
  const base = { org: check.org, name: check.name, kind: check.kind, fingerprint: check.fingerprint };
  if (pinned !== undefined && pinned !== ivkB64) return { status: 'key-changed', ...base };
  if (pinned === undefined) pins.pin(check.org, check.name, ivkB64);
  return { status: 'verified', ...base };
}

/**
 * Keys seen before, per (organization, certified name): a different key for a known name is an
 * alarm even when its certificate verifies (a compromised or careless issuer). The room keeps them
 * on disk; tests and one-off clients keep them in memory.
 */
export interface IdentityPinStore {
  /** base64url IVK pinned for this name, or undefined. */
  get(org: string, name: string): string | undefined;
  /** Pin a key for a name not pinned yet (never overwrites; `forget` first). */
  pin(org: string, name: string, key: string): void;
}

export class MemoryIdentityPins implements IdentityPinStore {
  readonly #pins = new Map<string, string>();
  readonly #max: number;

  constructor(initial: Iterable<readonly [string, string, string]> = [], max = 10_000) {
    this.#max = max;
    for (const [org, name, key] of initial) this.pin(org, name, key);
  }

  static keyOf(org: string, name: string): string {
    return JSON.stringify([org, name]);
  }

  get(org: string, name: string): string | undefined {
    return this.#pins.get(MemoryIdentityPins.keyOf(org, name));
  }

  pin(org: string, name: string, key: string): void {
    const k = MemoryIdentityPins.keyOf(org, name);
    if (this.#pins.has(k)) return;
    if (this.#pins.size >= this.#max) {
      const oldest = this.#pins.keys().next().value;
      if (oldest !== undefined) this.#pins.delete(oldest);
    }
    this.#pins.set(k, key);
  }

  forget(org: string, name: string): boolean {
    return this.#pins.delete(MemoryIdentityPins.keyOf(org, name));
  }

  entries(): [string, string, string][] {
    return [...this.#pins].map(([k, key]) => {
      const [org, name] = JSON.parse(k) as [string, string];
      return [org, name, key];
    });
  }
}

/** What the roster shows about one participant's identity. */
export type IdentityView =
  | { status: 'verified'; org: string; name: string; kind: IdentityKind; fingerprint: string }
  | { status: 'unverified'; reason: UnverifiedReason; fingerprint: string }
  | { status: 'key-changed'; org: string; name: string; kind: IdentityKind; fingerprint: string }
  /** Not an E2EE participant (phone, web...): no identity key at all. */
  | { status: 'none' };
