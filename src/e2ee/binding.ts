/**
 * Participant bindings (docs/protocol.md "Keys and bindings"): fresh ephemeral X25519 + ML-KEM-768
 * key pairs per join, published in a binding signed with the device identity key:
 * sig = Ed25519(ISK, H(context) ‖ H(binding)).
 * Binding hash = SHA-256(context ‖ canonical binding bytes) names the binding in rosters and KDFs.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { RoomdError } from '../core/errors.ts';
import { concat, encodeFields, fromB64u, toB64u, utf8Bytes, zeroize } from './bytes.ts';
import { certificateBytes, type IdentityCertificate } from './certificate.ts';
import { CONTEXT } from './context.ts';
import { type BindingBody, type BindingMessage, E2EE_PROTOCOL_VERSION } from './messages.ts';

export type RandomSource = (n: number) => Uint8Array;
export const defaultRandom: RandomSource = (n) => randomBytes(n);

/** Ephemeral key pairs of one meeting session; wiped at leave. */
export interface EphemeralKeys {
  x25519Secret: Uint8Array;
  x25519Public: Uint8Array;
  mlkemSecret: Uint8Array;
  mlkemPublic: Uint8Array;
}

export function makeEphemeralKeys(random: RandomSource = defaultRandom): EphemeralKeys {
  const x25519Secret = random(32);
  const seed = random(64);
  const kem = ml_kem768.keygen(seed);
  zeroize(seed);
  return {
    x25519Secret,
    x25519Public: x25519.getPublicKey(x25519Secret),
    mlkemSecret: kem.secretKey,
    mlkemPublic: kem.publicKey,
  };
}

export function wipeEphemeralKeys(k: EphemeralKeys): void {
  zeroize(k.x25519Secret, k.mlkemSecret);
}

export function bindingBytes(b: BindingBody): Uint8Array {
  return encodeFields([
    CONTEXT.binding,
    b.v,
    b.meetingId,
    b.instanceId,
    b.participantId,
    b.deviceId,
    b.displayName,
    b.client,
    b.caps.join(','),
    fromB64u(b.ivk),
    fromB64u(b.x25519),
    fromB64u(b.mlkem),
    fromB64u(b.nonce),
    // The certificate is signed with the binding, so nobody can strip or swap it in transit.
    b.cert === undefined ? new Uint8Array(0) : certificateBytes(b.cert),
    b.cert === undefined ? new Uint8Array(0) : fromB64u(b.cert.sig),
  ]);
}

function signedMessage(bytes: Uint8Array): Uint8Array {
  return concat(sha256(utf8Bytes(CONTEXT.binding)), sha256(bytes));
}

export function bindingHash(b: BindingBody): Uint8Array {
  return sha256(bindingBytes(b));
}

/** The binding's own fields, plus the keys that make and sign it. */
export interface BindingInput
  extends Pick<
    BindingBody,
    'meetingId' | 'instanceId' | 'participantId' | 'deviceId' | 'displayName' | 'client' | 'caps'
  > {
  identityPublic: Uint8Array;
  identitySecret: Uint8Array;
  keys: EphemeralKeys;
  nonce: Uint8Array;
  /** Our identity certificate, if an organization issued one. */
  cert?: IdentityCertificate;
}

export function signBinding(input: BindingInput): BindingMessage {
  const binding: BindingBody = {
    v: E2EE_PROTOCOL_VERSION,
    meetingId: input.meetingId,
    instanceId: input.instanceId,
    participantId: input.participantId,
    deviceId: input.deviceId,
    displayName: input.displayName,
    client: input.client,
    caps: input.caps,
    ivk: toB64u(input.identityPublic),
    x25519: toB64u(input.keys.x25519Public),
    mlkem: toB64u(input.keys.mlkemPublic),
    nonce: toB64u(input.nonce),
    ...(input.cert === undefined ? {} : { cert: input.cert }),
  };
  const sig = ed25519.sign(signedMessage(bindingBytes(binding)), input.identitySecret);
  return { t: 'e2ee.binding', v: E2EE_PROTOCOL_VERSION, binding, sig: toB64u(sig) };
}

/** A binding whose signature verified, with its fields decoded. */
export interface VerifiedBinding {
  body: BindingBody;
  message: BindingMessage;
  hash: Uint8Array;
  hashB64: string;
  ivk: Uint8Array;
  x25519: Uint8Array;
  mlkem: Uint8Array;
  nonce: Uint8Array;
}

export interface BindingExpectation {
  meetingId: string;
  instanceId: string;
  participantId?: string;
}

/** Verify a (validated) binding message's signature and that it is for this meeting instance. */
export function verifyBinding(msg: BindingMessage, expect: BindingExpectation): VerifiedBinding {
  const b = msg.binding;
  if (b.meetingId !== expect.meetingId || b.instanceId !== expect.instanceId) {
    throw new RoomdError('e2ee.unexpected', {
      message: 'A binding names another meeting.',
      context: { participant: b.participantId },
    });
  }
  if (expect.participantId !== undefined && b.participantId !== expect.participantId) {
    throw new RoomdError('e2ee.unexpected', {
      message: 'A binding names another participant.',
      context: { participant: b.participantId },
    });
  }
  const bytes = bindingBytes(b);
  const ivk = fromB64u(b.ivk);
  const sig = fromB64u(msg.sig);
  // Ed25519 verification throws only for a signature or key of the wrong length: a bad signature.
  const ok =
    sig.length === 64 &&
    ivk.length === 32 &&
    ed25519.verify(sig, signedMessage(bytes), ivk, { zip215: false });
  if (!ok)
    throw new RoomdError('e2ee.bad_signature', {
      context: { what: 'binding', participant: b.participantId },
    });
  const hash = sha256(bytes);
  return {
    body: b,
    message: msg,
    hash,
    hashB64: toB64u(hash),
    ivk,
    x25519: fromB64u(b.x25519),
    mlkem: fromB64u(b.mlkem),
    nonce: fromB64u(b.nonce),
  };
}
