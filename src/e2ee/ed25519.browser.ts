/**
 * Browser twin of ed25519.ts (docs/decisions/0022-one-core-in-node-and-browser.md): strict RFC 8032
 * verification on @noble/curves (`zip215: false`), the implementation Node's tests cross-check
 * node:crypto against. WebCrypto's Ed25519 is asynchronous and missing from some browsers, so it does
 * not fit this synchronous check.
 */
import { ed25519 } from '@noble/curves/ed25519.js';

/** Verify a 64-byte signature over `message` by the 32-byte public key; false for any malformed input. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, key: Uint8Array): boolean {
  if (signature.length !== 64 || key.length !== 32) return false;
  return ed25519.verify(signature, message, key, { zip215: false });
}
