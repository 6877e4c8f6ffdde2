/**
 * Signed provisioning bundles (docs/kiosk-and-admin-api.md §Provisioning bundles): configuration
 * pushed by an organisation, signed with its Ed25519 key. The key is trusted on first use (given at
 * claim, or the signer of the first bundle after claim) and required after that; a bundle may
 * rotate to a new key.
 *
 * Wire form (JSON): { format: "roomd-bundle-v1", signer: hex(32), payload: base64url(JSON),
 * signature: base64url(64) } where signature = Ed25519(signer, "roomd provisioning bundle v1\0" ‖ payload bytes).
 * Payload: { serial ≥ 1 (must grow), issuedAt, deviceIds? (targets), roomName?, settings, organisationKey? }.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RoomdError } from '../../core/errors.ts';

export const BUNDLE_FORMAT = 'roomd-bundle-v1';
const DOMAIN = new TextEncoder().encode('roomd provisioning bundle v1\0');

export const SignedBundle = Type.Object(
  {
    format: Type.Literal(BUNDLE_FORMAT),
    signer: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
    payload: Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 1_000_000 }),
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);
export type SignedBundle = Static<typeof SignedBundle>;

export const BundlePayload = Type.Object({
  serial: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  issuedAt: Type.String(),
  deviceIds: Type.Optional(Type.Array(Type.String())),
  roomName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  settings: Type.Unknown(),
  organisationKey: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
});
export type BundlePayload = Static<typeof BundlePayload>;

function signedMessage(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(DOMAIN.length + payload.length);
  out.set(DOMAIN, 0);
  out.set(payload, DOMAIN.length);
  return out;
}

/** For organisation tooling and tests: sign a payload with an Ed25519 secret key (32 bytes). */
export function signBundle(payload: BundlePayload, secretKey: Uint8Array): SignedBundle {
  const bytes = new TextEncoder().encode(JSON.stringify(payload));
  const signature = ed25519.sign(signedMessage(bytes), secretKey);
  return {
    format: BUNDLE_FORMAT,
    signer: Buffer.from(ed25519.getPublicKey(secretKey)).toString('hex'),
    payload: Buffer.from(bytes).toString('base64url'),
    signature: Buffer.from(signature).toString('base64url'),
  };
}

export interface VerifiedBundle {
  payload: BundlePayload;
  /** The key to trust after applying: the payload's rotation key, or the signer. */
  nextOrganisationKey: string;
}

/**
 * Check a bundle against the trusted key (null: trust the signer), the last applied serial and
 * this device's id. Throws http.bad_bundle / http.bad_signature / http.stale_bundle.
 */
export function verifyBundle(
  raw: unknown,
  trust: { organisationKey: string | null; lastSerial: number; deviceId: string },
): VerifiedBundle {
  if (!Value.Check(SignedBundle, raw)) {
    throw new RoomdError('http.bad_bundle', {
      message: 'The provisioning bundle is not in the roomd-bundle-v1 format.',
    });
  }
  const signer = raw.signer.toLowerCase();
  if (trust.organisationKey !== null && signer !== trust.organisationKey.toLowerCase()) {
    throw new RoomdError('http.bad_signature', { context: { signer } });
  }
  const payloadBytes = Buffer.from(raw.payload, 'base64url');
  const signature = Buffer.from(raw.signature, 'base64url');
  const key = Buffer.from(signer, 'hex');
  // Ed25519 verification throws only for a signature or key of the wrong length: that is a bad signature.
  const ok =
    signature.length === 64 &&
    key.length === 32 &&
    ed25519.verify(signature, signedMessage(payloadBytes), key);
  if (!ok)
    throw new RoomdError('http.bad_signature', {
      message: 'The provisioning bundle signature is not valid.',
    });
  let payload: unknown;
  try {
    payload = JSON.parse(payloadBytes.toString('utf8'));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new RoomdError('http.bad_bundle', { message: 'The provisioning bundle payload is not JSON.' });
  }
  if (!Value.Check(BundlePayload, payload)) {
    const first = Value.Errors(BundlePayload, payload).First();
    throw new RoomdError('http.bad_bundle', {
      message: `The provisioning bundle payload is not valid (${first?.path || '/'}: ${first?.message ?? 'invalid'}).`,
    });
  }
  if (payload.serial <= trust.lastSerial) {
    throw new RoomdError('http.stale_bundle', {
      context: { serial: payload.serial, lastSerial: trust.lastSerial },
    });
  }
  if (payload.deviceIds !== undefined && !payload.deviceIds.includes(trust.deviceId)) {
    throw new RoomdError('http.bad_bundle', {
      message: 'This provisioning bundle is meant for other devices.',
      context: { deviceId: trust.deviceId },
    });
  }
  return { payload, nextOrganisationKey: (payload.organisationKey ?? signer).toLowerCase() };
}
