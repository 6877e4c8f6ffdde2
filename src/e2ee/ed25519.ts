/**
 * Ed25519 signature verification on node:crypto (OpenSSL), about ten times faster than the pure-JS
 * implementation: a participant joining a large meeting checks one certificate per member
 * (docs/benchmarks.md "join-to-secure"). Strict RFC 8032 verification, like `@noble/curves` with
 * `zip215: false`, which stays the independent implementation the tests cross-check against.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';

const keys = new Map<string, KeyObject>();
const KEY_CACHE_MAX = 1024;

function publicKey(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
  let k = keys.get(x);
  if (k === undefined) {
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    if (keys.size >= KEY_CACHE_MAX) {
      const oldest = keys.keys().next().value;
      if (oldest !== undefined) keys.delete(oldest);
    }
    keys.set(x, k);
  }
  return k;
}

/** Verify a 64-byte signature over `message` by the 32-byte public key; false for any malformed input. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
  if (signature.length !== 64 || key.length !== 32) return false;
  let k: KeyObject;
  try {
    k = publicKey(key);
  } catch (err) {
    // A key OpenSSL refuses to import is not a valid key, so not a valid signature.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_CRYPTO_INVALID_JWK' || code?.startsWith('ERR_OSSL_') === true) return false;
    throw err;
  }
  return verify(null, message, k, signature);
}
