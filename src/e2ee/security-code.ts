/**
 * Security code (e2ee brief "Security code"): Digits(SHA-512(H(context) ‖ H(meeting id ‖ IVK_leader)))
 * with H = SHA-256, meeting id as UTF-8, IVK the leader's 32-byte Ed25519 public key. 40 digits in
 * 8 groups of 5: group i is bytes [5i, 5i+5) of the hash as a big-endian integer mod 100000, zero-padded.
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concat, utf8Bytes } from './bytes.ts';
import { CONTEXT } from './context.ts';

export interface SecurityCode {
  /** 40 digits, no separators. */
  digits: string;
  /** 8 groups of 5 digits. */
  groups: string[];
  /** Groups joined by single spaces, as shown on screen. */
  text: string;
}

export function securityCode(meetingId: string, leaderIvk: Uint8Array): SecurityCode {
  if (leaderIvk.length !== 32) throw new RangeError('securityCode: leader IVK must be 32 bytes');
  const h = sha512(
    concat(sha256(utf8Bytes(CONTEXT.securityCode)), sha256(concat(utf8Bytes(meetingId), leaderIvk))),
  );
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + (h[i * 5 + j] ?? 0);
    groups.push(String(v % 100000).padStart(5, '0'));
  }
  return { digits: groups.join(''), groups, text: groups.join(' ') };
}
