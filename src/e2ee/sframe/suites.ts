/**
 * SFrame cipher suites and key schedule, RFC 9605 §4.4–4.5 and §8.1: the five registered suites,
 * `derive_key_salt` with the RFC's labels ("SFrame 1.0 Secret key " ‖ KID(8) ‖ suite(2)), and
 * nonce formation (salt XOR CTR).
 */
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { RoomdError } from '../../core/errors.ts';

export type SuiteId = 1 | 2 | 3 | 4 | 5;

export interface SuiteParams {
  id: SuiteId;
  name: string;
  /** AEAD key length (for CTR-HMAC suites: encryption key + authentication key). */
  nk: number;
  /** Encryption key length inside nk (CTR-HMAC suites). */
  nka: number;
  nn: number;
  nt: number;
  hash: 'sha256' | 'sha512';
  kind: 'ctr-hmac' | 'gcm';
}

export const SUITES: Readonly<Record<SuiteId, SuiteParams>> = Object.freeze({
  1: {
    id: 1,
    name: 'AES_128_CTR_HMAC_SHA256_80',
    nk: 48,
    nka: 16,
    nn: 12,
    nt: 10,
    hash: 'sha256',
    kind: 'ctr-hmac',
  },
  2: {
    id: 2,
    name: 'AES_128_CTR_HMAC_SHA256_64',
    nk: 48,
    nka: 16,
    nn: 12,
    nt: 8,
    hash: 'sha256',
    kind: 'ctr-hmac',
  },
  3: {
    id: 3,
    name: 'AES_128_CTR_HMAC_SHA256_32',
    nk: 48,
    nka: 16,
    nn: 12,
    nt: 4,
    hash: 'sha256',
    kind: 'ctr-hmac',
  },
  4: { id: 4, name: 'AES_128_GCM_SHA256_128', nk: 16, nka: 16, nn: 12, nt: 16, hash: 'sha256', kind: 'gcm' },
  5: { id: 5, name: 'AES_256_GCM_SHA512_128', nk: 32, nka: 32, nn: 12, nt: 16, hash: 'sha512', kind: 'gcm' },
});

/** Suite numbers as named constants; media uses AES_256_GCM_SHA512_128. */
export const CipherSuite = Object.freeze({
  AES_128_CTR_HMAC_SHA256_80: 1,
  AES_128_CTR_HMAC_SHA256_64: 2,
  AES_128_CTR_HMAC_SHA256_32: 3,
  AES_128_GCM_SHA256_128: 4,
  AES_256_GCM_SHA512_128: 5,
} as const);

export function suiteParams(id: number): SuiteParams {
  const s = SUITES[id as SuiteId];
  if (s === undefined) throw new RoomdError('e2ee.unsupported_suite', { context: { suite: id } });
  return s;
}

const KEY_LABEL = new TextEncoder().encode('SFrame 1.0 Secret key ');
const SALT_LABEL = new TextEncoder().encode('SFrame 1.0 Secret salt ');

export function sframeLabel(which: 'key' | 'salt', kid: bigint, suite: SuiteId): Uint8Array {
  const prefix = which === 'key' ? KEY_LABEL : SALT_LABEL;
  const out = new Uint8Array(prefix.length + 10);
  out.set(prefix, 0);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(prefix.length, kid);
  dv.setUint16(prefix.length + 8, suite);
  return out;
}

export interface DerivedKey {
  key: Uint8Array;
  salt: Uint8Array;
}

/** RFC 9605 §4.4.2 derive_key_salt. The caller owns (and wipes) the returned buffers. */
export function deriveKeySalt(suite: SuiteParams, kid: bigint, baseKey: Uint8Array): DerivedKey {
  const hash = suite.hash === 'sha256' ? sha256 : sha512;
  const secret = extract(hash, baseKey, new Uint8Array(0));
  const key = expand(hash, secret, sframeLabel('key', kid, suite.id), suite.nk);
  const salt = expand(hash, secret, sframeLabel('salt', kid, suite.id), suite.nn);
  secret.fill(0);
  return { key, salt };
}

/** RFC 9605 §4.4.3: nonce = salt XOR CTR (CTR big-endian, right-aligned in Nn bytes). */
export function formNonce(
  salt: Uint8Array,
  ctr: bigint,
  out: Uint8Array = new Uint8Array(salt.length),
): Uint8Array {
  out.set(salt);
  if (ctr <= 0xffff_ffffn) {
    // Hot path: CTR fits in the last four bytes.
    const c = Number(ctr);
    const n = out.length;
    out[n - 1] = (out[n - 1] ?? 0) ^ (c & 0xff);
    out[n - 2] = (out[n - 2] ?? 0) ^ ((c >>> 8) & 0xff);
    out[n - 3] = (out[n - 3] ?? 0) ^ ((c >>> 16) & 0xff);
    out[n - 4] = (out[n - 4] ?? 0) ^ (c >>> 24);
    return out;
  }
  let x = ctr;
  for (let i = out.length - 1; i >= 0 && x > 0n; i--) {
    out[i] = (out[i] ?? 0) ^ Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
