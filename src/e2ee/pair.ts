/**
 * Hybrid pair secret and meeting-key wrap (docs/protocol.md "Keys and bindings"):
 * X25519 ‖ ML-KEM-768 shared secrets → HKDF-SHA256 (salt H(context), info binds both binding hashes and the
 * KEM ciphertext) → a wrap key for XChaCha20-Poly1305 and an ack MAC key. The pair secret is computed once
 * per (leader, recipient) per session; a rekey is then one small AEAD per recipient.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { RoomdError } from '../core/errors.ts';
import { concat, encodeFields, equalBytes, utf8Bytes, zeroize } from './bytes.ts';
import type { EphemeralKeys } from './binding.ts';
import { CONTEXT } from './context.ts';
import type { KeyMessage } from './messages.ts';

export interface PairKeys {
  wrapKey: Uint8Array;
  ackKey: Uint8Array;
  kemCiphertext: Uint8Array;
}

function derive(
  x: Uint8Array,
  k: Uint8Array,
  leaderHash: Uint8Array,
  recipientHash: Uint8Array,
  kemCt: Uint8Array,
): PairKeys {
  const ikm = concat(x, k);
  const prk = extract(sha256, ikm, sha256(utf8Bytes(CONTEXT.pair)));
  const okm = expand(sha256, prk, encodeFields([CONTEXT.pair, leaderHash, recipientHash, sha256(kemCt)]), 64);
  const keys = { wrapKey: okm.slice(0, 32), ackKey: okm.slice(32, 64), kemCiphertext: kemCt };
  zeroize(ikm, prk, okm, x, k);
  return keys;
}

/** Leader side: encapsulate to the recipient's ML-KEM key and combine with X25519. */
export function leaderPairKeys(
  leader: EphemeralKeys,
  leaderHash: Uint8Array,
  recipientX25519: Uint8Array,
  recipientMlkem: Uint8Array,
  recipientHash: Uint8Array,
): PairKeys {
  const x = x25519.getSharedSecret(leader.x25519Secret, recipientX25519);
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(recipientMlkem);
  return derive(x, sharedSecret, leaderHash, recipientHash, cipherText);
}

/** Recipient side: decapsulate the leader's ciphertext and combine with X25519. */
export function recipientPairKeys(
  self: EphemeralKeys,
  selfHash: Uint8Array,
  leaderX25519: Uint8Array,
  leaderHash: Uint8Array,
  kemCt: Uint8Array,
): PairKeys {
  let x: Uint8Array;
  try {
    x = x25519.getSharedSecret(self.x25519Secret, leaderX25519);
  } catch (cause) {
    throw new RoomdError('e2ee.decrypt_failed', { message: 'The leader key share is invalid.', cause });
  }
  const k = ml_kem768.decapsulate(kemCt, self.mlkemSecret);
  return derive(x, k, leaderHash, selfHash, kemCt);
}

export function wipePairKeys(p: PairKeys): void {
  zeroize(p.wrapKey, p.ackKey);
}

/** What a key delivery's wrapping is bound to: the delivery's own fields and both bindings. */
export interface WrapContext
  extends Pick<KeyMessage, 'meetingId' | 'instanceId' | 'leaderId' | 'recipientId' | 'epoch' | 'slot'> {
  switchMode: 'immediate' | 'await';
  nonce: Uint8Array;
  leaderHash: Uint8Array;
  recipientHash: Uint8Array;
}

export function wrapAad(c: WrapContext): Uint8Array {
  return encodeFields([
    CONTEXT.wrap,
    c.meetingId,
    c.instanceId,
    c.leaderId,
    c.recipientId,
    c.epoch,
    c.slot,
    c.switchMode,
    c.nonce,
    c.leaderHash,
    c.recipientHash,
  ]);
}

export function wrapMeetingKey(
  wrapKey: Uint8Array,
  iv: Uint8Array,
  c: WrapContext,
  meetingKey: Uint8Array,
): Uint8Array {
  return xchacha20poly1305(wrapKey, iv, wrapAad(c)).encrypt(meetingKey);
}

export function unwrapMeetingKey(
  wrapKey: Uint8Array,
  iv: Uint8Array,
  c: WrapContext,
  box: Uint8Array,
): Uint8Array {
  try {
    return xchacha20poly1305(wrapKey, iv, wrapAad(c)).decrypt(box);
  } catch (cause) {
    throw new RoomdError('e2ee.decrypt_failed', { message: 'A key delivery did not authenticate.', cause });
  }
}

export interface AckContext {
  meetingId: string;
  instanceId: string;
  leaderId: string;
  participantId: string;
  epoch: number;
  nonce: Uint8Array;
}

export function ackMac(ackKey: Uint8Array, c: AckContext): Uint8Array {
  return hmac(
    sha256,
    ackKey,
    encodeFields([CONTEXT.ack, c.meetingId, c.instanceId, c.leaderId, c.participantId, c.epoch, c.nonce]),
  );
}

export function verifyAckMac(ackKey: Uint8Array, c: AckContext, mac: Uint8Array): boolean {
  return equalBytes(ackMac(ackKey, c), mac);
}
