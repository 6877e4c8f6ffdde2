/**
 * The SFrame AEAD interface and its pure implementation on @noble/ciphers, RFC 9605 §4.5: AES-GCM
 * (suites 4, 5) and AES-CTR + HMAC-SHA256 with truncated tags (§4.5.1, suites 1–3). It runs anywhere
 * (Node and browsers); in Node, aead.ts adds the node:crypto implementation for the hot path and the
 * tests cross-check the two. AAD is passed in two parts (header, metadata) so the hot path never
 * concatenates.
 */
import { ctr, gcm } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { RoomdError } from '../../core/errors.ts';
import type { SuiteParams } from './suites.ts';

/** One key's prepared AEAD state. */
export interface PreparedAead {
  /** Encrypt `pt` with AAD = aad1 ‖ aad2, writing ciphertext ‖ tag into `out` at `offset`; returns bytes written. */
  seal(
    nonce: Uint8Array,
    aad1: Uint8Array,
    aad2: Uint8Array,
    pt: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): number;
  /** Decrypt ciphertext ‖ tag; throws RoomdError e2ee.decrypt_failed when authentication fails. */
  open(nonce: Uint8Array, aad1: Uint8Array, aad2: Uint8Array, ctAndTag: Uint8Array): Uint8Array;
  /** Drop key material (best effort). */
  destroy(): void;
}

export interface SFrameAead {
  readonly name: 'native' | 'noble';
  prepare(suite: SuiteParams, key: Uint8Array): PreparedAead;
}

export function authFailed(): never {
  throw new RoomdError('e2ee.decrypt_failed');
}

/**
 * How @noble/ciphers' AES-GCM says "the tag does not match" (aead.ts has node:crypto's words).
 * Anything else it throws is a bug.
 */
const NOBLE_GCM_AUTH_FAILED = 'aes-gcm: invalid tag';

export function isAuthFailure(error: unknown, message: string): boolean {
  return error instanceof Error && error.message === message;
}

export function checkKey(suite: SuiteParams, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== suite.nk) {
    throw new RangeError(`SFrame suite ${suite.name} needs a ${suite.nk}-byte key`);
  }
}

export function lengthsBlock(aadLen: number, ctLen: number, nt: number): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(aadLen));
  dv.setBigUint64(8, BigInt(ctLen));
  dv.setBigUint64(16, BigInt(nt));
  return b;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function nobleGcm(suite: SuiteParams, key: Uint8Array): PreparedAead {
  const k = key.slice();
  return {
    seal(nonce, aad1, aad2, pt, out, offset) {
      const sealed = gcm(k, nonce, join(aad1, aad2)).encrypt(pt);
      out.set(sealed, offset);
      return sealed.length;
    },
    open(nonce, aad1, aad2, ctAndTag) {
      if (ctAndTag.length < suite.nt) authFailed();
      try {
        return gcm(k, nonce, join(aad1, aad2)).decrypt(ctAndTag);
      } catch (error) {
        if (!isAuthFailure(error, NOBLE_GCM_AUTH_FAILED)) throw error;
        return authFailed();
      }
    },
    destroy() {
      k.fill(0);
    },
  };
}

function nobleCtrHmac(suite: SuiteParams, key: Uint8Array): PreparedAead {
  const encKey = key.slice(0, suite.nka);
  const authKey = key.slice(suite.nka);
  const nt = suite.nt;
  function counterBlock(nonce: Uint8Array): Uint8Array {
    const iv = new Uint8Array(16);
    iv.set(nonce, 0);
    return iv;
  }
  function tag(nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
    const h = hmac.create(sha256, authKey);
    h.update(lengthsBlock(aad.length, ct.length, nt))
      .update(nonce)
      .update(aad)
      .update(ct);
    return h.digest().subarray(0, nt);
  }
  return {
    seal(nonce, aad1, aad2, pt, out, offset) {
      const ct = ctr(encKey, counterBlock(nonce)).encrypt(pt);
      out.set(ct, offset);
      out.set(tag(nonce, join(aad1, aad2), ct), offset + ct.length);
      return ct.length + nt;
    },
    open(nonce, aad1, aad2, ctAndTag) {
      if (ctAndTag.length < nt) authFailed();
      const ct = ctAndTag.subarray(0, ctAndTag.length - nt);
      const expected = tag(nonce, join(aad1, aad2), ct);
      const got = ctAndTag.subarray(ct.length);
      let d = 0;
      for (let i = 0; i < nt; i++) d |= (expected[i] ?? 0) ^ (got[i] ?? 0);
      if (d !== 0) authFailed();
      return ctr(encKey, counterBlock(nonce)).decrypt(ct);
    },
    destroy() {
      encKey.fill(0);
      authKey.fill(0);
    },
  };
}

export const nobleAead: SFrameAead = {
  name: 'noble',
  prepare(suite, key) {
    checkKey(suite, key);
    return suite.kind === 'gcm' ? nobleGcm(suite, key) : nobleCtrHmac(suite, key);
  },
};
