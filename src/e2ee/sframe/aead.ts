/**
 * SFrame AEAD in Node: `nativeAead` on node:crypto (OpenSSL, hardware AES) for the hot path, with
 * per-key KeyObjects prepared once, and the default there. `nobleAead` (aead-noble.ts) is the
 * independent implementation tests cross-check against, and the default in the browser build
 * (aead.browser.ts; docs/decisions/0022-one-core-in-node-and-browser.md).
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
import { RoomdError } from '../../core/errors.ts';
import {
  authFailed,
  checkKey,
  isAuthFailure,
  lengthsBlock,
  nobleAead,
  type PreparedAead,
  type SFrameAead,
} from './aead-noble.ts';
import type { SuiteParams } from './suites.ts';

export { nobleAead, type PreparedAead, type SFrameAead };

/** How node:crypto's GCM `final()` says "the tag does not match" (a plain Error with this message). */
const NODE_GCM_AUTH_FAILED = 'Unsupported state or unable to authenticate data';

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

/** The AEAD frame keys use unless told otherwise. */
export const defaultAead: SFrameAead = nativeAead;
