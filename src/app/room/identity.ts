/**
 * The room's organization identity (docs/admin.md §Organization identities): what the settings
 * `identity.trustAnchors`, `identity.certificate` and `encryption.unverifiedParticipants` mean for
 * this room, checked with the E2EE parsers against the room's own identity key, turned into the
 * `TrustOptions` every meeting session gets, and the admin view of it (certificate status, key pins).
 *
 * A save is refused (config.invalid naming the field) when an anchor does not parse, or the
 * certificate does not parse, is not of kind room, is not for this room's key, or is not signed by
 * one of the configured anchors. Its validity period is not a reason to refuse a save (time passes
 * on its own); an expired or not yet valid certificate is shown on the room screen instead.
 */
import type { DeviceIdentity } from '../../config/identity.ts';
import type { FileIdentityPins } from '../../config/identity-pins.ts';
import type { Settings } from '../../config/settings.ts';
import type { FieldError } from '../../config/validate.ts';
import type { Clock } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import {
  checkIdentity,
  type IdentityCertificate,
  keyFingerprint,
  parseCertificate,
  parseTrustAnchor,
  type TrustAnchor,
  type TrustOptions,
  UNVERIFIED_TEXT,
} from '../../e2ee/index.ts';
import type { IdentityAdmin, IdentityReply } from '../../http/admin/identity.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const fingerprintOf = (b64u: string) => keyFingerprint(new Uint8Array(Buffer.from(b64u, 'base64url')));

/** What the identity settings amount to, apart from the time of day. */
export interface IdentityReview {
  /** The anchors that parse (the others are field errors). */
  anchors: TrustAnchor[];
  /** The certificate to publish: parsed, of kind room, for our key, from one of `anchors`. */
  certificate: IdentityCertificate | undefined;
  /** Why a save of these settings is refused, per field; empty when it is not. */
  fields: FieldError[];
}

function malformed(error: unknown): error is RoomdError {
  return error instanceof RoomdError && error.code === 'e2ee.malformed';
}

/** Check the identity settings for a room whose identity key is `ownKey`. Pure and total. */
export function reviewIdentity(s: Settings, ownKey: Uint8Array): IdentityReview {
  const fields: FieldError[] = [];
  const anchors: TrustAnchor[] = [];
  for (const [i, raw] of s.identity.trustAnchors.entries()) {
    const field = `identity.trustAnchors.${i}`;
    try {
      anchors.push(parseTrustAnchor(raw, field));
    } catch (error) {
      if (!malformed(error)) throw error;
      fields.push({ field, message: `'${field}' is not a trust anchor: ${error.message}` });
    }
  }
  const raw = s.identity.certificate;
  if (raw === null) return { anchors, certificate: undefined, fields };
  const field = 'identity.certificate';
  let cert: IdentityCertificate;
  try {
    cert = parseCertificate(raw, field);
  } catch (error) {
    if (!malformed(error)) throw error;
    fields.push({ field, message: `'${field}' is not an identity certificate: ${error.message}` });
    return { anchors, certificate: undefined, fields };
  }
  if (cert.kind !== 'room') {
    fields.push({
      field,
      message: `'${field}' certifies a ${cert.kind}; a room needs a certificate of kind room`,
    });
    return { anchors, certificate: undefined, fields };
  }
  // The validity period aside (checked at notBefore, where it always holds): anchor, signature, key.
  const check = checkIdentity(ownKey, cert, anchors, cert.notBefore);
  if (check.status === 'verified') return { anchors, certificate: cert, fields };
  const own = keyFingerprint(ownKey);
  const message =
    check.reason === 'wrong_key'
      ? `'${field}' is for the identity key ${fingerprintOf(cert.key)}, not this room's (${own}); issue one for this room's key (roomctl identity show)`
      : check.reason === 'unknown_organization'
        ? `'${field}' is issued by "${cert.org}" with the key ${fingerprintOf(cert.issuer)}, which is not one of identity.trustAnchors`
        : `'${field}' is not validly signed by the trust anchor of "${cert.org}" (${UNVERIFIED_TEXT[check.reason]})`;
  fields.push({ field, message });
  return { anchors, certificate: undefined, fields };
}

/** Throw `config.invalid` naming each identity field a save must not store. */
export function assertIdentitySettings(s: Settings, ownKey: Uint8Array): void {
  const { fields } = reviewIdentity(s, ownKey);
  if (fields.length === 0) return;
  throw new RoomdError('config.invalid', {
    message: `The identity settings are not valid: ${fields.map((f) => f.message).join('; ')}.`,
    context: { fields },
  });
}

export type CertificateStatus = IdentityReply['certificateStatus'];

/** The room's own certificate at wall-clock time `now`. */
export function certificateStatus(s: Settings, review: IdentityReview, now: number): CertificateStatus {
  const c = review.certificate;
  if (c === undefined) {
    if (s.identity.certificate === null) return { status: 'none' };
    return {
      status: 'unverified',
      reason: review.fields.find((f) => f.field === 'identity.certificate')?.message ?? 'not valid',
    };
  }
  if (now < c.notBefore)
    return { status: 'unverified', reason: `${UNVERIFIED_TEXT.not_yet_valid} (from ${iso(c.notBefore)})` };
  if (now >= c.notAfter)
    return { status: 'unverified', reason: `${UNVERIFIED_TEXT.expired} (on ${iso(c.notAfter)})` };
  return { status: 'verified', org: c.org, name: c.name, kind: c.kind, notAfter: iso(c.notAfter) };
}

/**
 * The room's identity as the daemon runs it: reviews cached per settings object (a save makes a
 * new one, so the Ed25519 check runs once per change, not on every screen refresh).
 */
export class RoomIdentity {
  readonly #settings: () => Settings;
  readonly #identity: DeviceIdentity;
  readonly #clock: Clock;
  readonly pins: FileIdentityPins;
  #cached: { for: Settings['identity']; review: IdentityReview } | null = null;

  constructor(o: {
    settings: () => Settings;
    identity: DeviceIdentity;
    clock: Clock;
    pins: FileIdentityPins;
  }) {
    this.#settings = o.settings;
    this.#identity = o.identity;
    this.#clock = o.clock;
    this.pins = o.pins;
  }

  review(): IdentityReview {
    const s = this.#settings().identity;
    if (this.#cached?.for !== s)
      this.#cached = { for: s, review: reviewIdentity(this.#settings(), this.#identity.publicKey) };
    return this.#cached.review;
  }

  /** For the settings store: refuse identity settings that do not fit this room. */
  check = (s: Settings): void => assertIdentitySettings(s, this.#identity.publicKey);

  /** What every meeting session of the room gets (src/meeting/room.ts). */
  trust(): TrustOptions {
    const r = this.review();
    return {
      anchors: r.anchors,
      ...(r.certificate === undefined ? {} : { certificate: r.certificate }),
      pins: this.pins,
      unverified: this.#settings().encryption.unverifiedParticipants,
      wallClock: () => this.#clock.now(),
    };
  }

  /** Problems for the room screen: stored identity settings that do not fit, an expired certificate, damaged pins. */
  problems(): RoomdError[] {
    const s = this.#settings();
    const r = this.review();
    const out = r.fields.map(
      (f) =>
        new RoomdError('config.invalid', {
          message: `${f.message}; others see this room as not verified.`,
          context: { field: f.field },
        }),
    );
    const st = certificateStatus(s, r, this.#clock.now());
    if (r.certificate !== undefined && st.status === 'unverified')
      out.push(
        new RoomdError('config.invalid', {
          message: `This room's identity certificate: ${st.reason}; others see this room as not verified.`,
          context: { field: 'identity.certificate' },
        }),
      );
    if (this.pins.problem !== null) out.push(this.pins.problem);
    return out;
  }

  /** The admin API's view (src/http/admin/identity.ts). */
  admin(): IdentityAdmin {
    return {
      show: async () => {
        const s = this.#settings();
        const r = this.review();
        return {
          deviceId: this.#identity.deviceId,
          identityKey: Buffer.from(this.#identity.publicKey).toString('base64url'),
          fingerprint: keyFingerprint(this.#identity.publicKey),
          certificate: s.identity.certificate as Record<string, unknown> | null,
          certificateStatus: certificateStatus(s, r, this.#clock.now()),
          trustAnchors: r.anchors.map((a) => ({ ...a, fingerprint: fingerprintOf(a.publicKey) })),
          unverifiedParticipants: s.encryption.unverifiedParticipants,
          pins: this.pins.size,
          problems: this.problems().map((p) => p.message),
        };
      },
      pins: async () => ({
        pins: this.pins.list().map((p) => ({
          org: p.org,
          name: p.name,
          fingerprint: fingerprintOf(p.key),
          key: p.key,
          firstSeen: iso(p.firstSeen),
        })),
        problem: this.pins.problem?.message ?? null,
      }),
      forget: (org, name) => this.pins.forget(org, name),
    };
  }
}
