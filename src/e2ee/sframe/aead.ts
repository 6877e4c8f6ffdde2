/**
 * The two SFrame AEAD implementations, RFC 9605 §4.5: AES-GCM (suites 4, 5) and AES-CTR + HMAC-SHA256
 * with truncated tags (§4.5.1, suites 1–3). `nativeAead` runs on node:crypto (OpenSSL, hardware AES)
 * for the hot path with per-key KeyObjects prepared once; `nobleAead` on @noble/ciphers is the
 * independent implementation tests cross-check against. AAD is passed in two parts (header, metadata)
 * so the hot path never concatenates.
 */
import {
  type CipherGCMTypes,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
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

function authFailed(): never {
  throw new RoomdError('e2ee.decrypt_failed');
}

/**
 * How each AES-GCM implementation says "the tag does not match": node:crypto's `final()` throws a
 * plain Error with this message, @noble/ciphers throws this one. Anything else they throw is a bug.
 */
const NODE_GCM_AUTH_FAILED = 'Unsupported state or unable to authenticate data';
const NOBLE_GCM_AUTH_FAILED = 'aes-gcm: invalid tag';

function isAuthFailure(error: unknown, message: string): boolean {
  return error instanceof Error && error.message === message;
}

function checkKey(suite: SuiteParams, key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== suite.nk) {
    throw new RangeError(`SFrame suite ${suite.name} needs a ${suite.nk}-byte key`);
  }
}

function lengthsBlock(aadLen: number, ctLen: number, nt: number): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(aadLen));
  dv.setBigUint64(8, BigInt(ctLen));
  dv.setBigUint64(16, BigInt(nt));
  return b;
}

// ---- node:crypto ------------------------------------------------------------------------------

function nativeGcm(suite: SuiteParams, key: Uint8Array): PreparedAead {
  const algo: CipherGCMTypes = suite.nk === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
  let ko: KeyObject | null = createSecretKey(key);
  const nt = suite.nt;
  return {
    seal(nonce, aad1, aad2, pt, out, offset) {
      if (ko === null) throw new RoomdError('e2ee.unknown_key');
      const c = createCipheriv(algo, ko, nonce);
      c.setAAD(aad1);
      if (aad2.length > 0) c.setAAD(aad2);
      const ct = c.update(pt);
      out.set(ct, offset);
      c.final();
      out.set(c.getAuthTag(), offset + ct.length);
      return ct.length + nt;
    },
    open(nonce, aad1, aad2, ctAndTag) {
      if (ko === null) throw new RoomdError('e2ee.unknown_key');
      if (ctAndTag.length < nt) authFailed();
      const ctLen = ctAndTag.length - nt;
      const d = createDecipheriv(algo, ko, nonce, { authTagLength: nt });
      d.setAuthTag(ctAndTag.subarray(ctLen));
      d.setAAD(aad1);
      if (aad2.length > 0) d.setAAD(aad2);
      const pt = d.update(ctAndTag.subarray(0, ctLen));
      try {
        d.final();
      } catch (error) {
        pt.fill(0);
        if (!isAuthFailure(error, NODE_GCM_AUTH_FAILED)) throw error;
        authFailed();
      }
      return pt;
    },
    destroy() {
      ko = null;
    },
  };
}

function nativeCtrHmac(suite: SuiteParams, key: Uint8Array): PreparedAead {
  let encKey: KeyObject | null = createSecretKey(key.subarray(0, suite.nka));
  let authKey: KeyObject | null = createSecretKey(key.subarray(suite.nka));
  const nt = suite.nt;
  const iv = new Uint8Array(16);
  function tag(nonce: Uint8Array, aad1: Uint8Array, aad2: Uint8Array, ct: Uint8Array): Buffer {
    const h = createHmac('sha256', authKey as KeyObject);
    h.update(lengthsBlock(aad1.length + aad2.length, ct.length, nt));
    h.update(nonce);
    h.update(aad1);
    h.update(aad2);
    h.update(ct);
    return h.digest().subarray(0, nt);
  }
  return {
    seal(nonce, aad1, aad2, pt, out, offset) {
      if (encKey === null) throw new RoomdError('e2ee.unknown_key');
      iv.set(nonce, 0);
      const c = createCipheriv(suite.nka === 32 ? 'aes-256-ctr' : 'aes-128-ctr', encKey, iv);
      const ct = c.update(pt);
      out.set(ct, offset);
      out.set(tag(nonce, aad1, aad2, ct), offset + ct.length);
      return ct.length + nt;
    },
    open(nonce, aad1, aad2, ctAndTag) {
      if (encKey === null) throw new RoomdError('e2ee.unknown_key');
      if (ctAndTag.length < nt) authFailed();
      const ct = ctAndTag.subarray(0, ctAndTag.length - nt);
      const expected = tag(nonce, aad1, aad2, ct);
      if (!timingSafeEqual(expected, ctAndTag.subarray(ct.length))) authFailed();
      iv.set(nonce, 0);
      const d = createDecipheriv(suite.nka === 32 ? 'aes-256-ctr' : 'aes-128-ctr', encKey, iv);
      return d.update(ct);
    },
    destroy() {
      encKey = null;
      authKey = null;
    },
  };
}

export const nativeAead: SFrameAead = {
  name: 'native',
  prepare(suite, key) {
    checkKey(suite, key);
    return suite.kind === 'gcm' ? nativeGcm(suite, key) : nativeCtrHmac(suite, key);
  },
};

// ---- @noble/ciphers ---------------------------------------------------------------------------

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
