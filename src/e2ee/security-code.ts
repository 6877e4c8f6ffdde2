/**
 * Security code (docs/protocol.md "Security code"):
 * Digits(SHA-512(H(context) ‖ H(meeting id ‖ IVK_leader))) with H = SHA-256, meeting id as UTF-8, IVK the
 * leader's 32-byte Ed25519 public key. 40 digits in 8 groups of 5: group i is bytes [5i, 5i+5) of the hash
 * as a big-endian integer mod 100000, zero-padded.
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { concat, encodeFields, type Field, utf8Bytes } from './bytes.ts';
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

/** The roster fields the roster code covers. */
export interface RosterCodeEntry {
  participantId: string;
  bindingHash: string;
  ivk: string;
  e2ee: boolean;
}

/**
 * Roster code (docs/protocol.md "Roster code"; decision record docs/decisions/0012-what-people-compare.md):
 * 20 digits in 4 groups over the meeting, its instance and every roster entry's participant id,
 * binding hash, identity key and E2EE flag, sorted by participant id — with the viewer's own entry
 * taken from the viewer's own binding, not from the roster. Everyone who holds the same keys for the
 * same people sees the same code; a member whose keys the relay swapped, or who was shown another
 * roster, sees a different one. Changes whenever someone joins or leaves.
 */
export function rosterCode(
  meetingId: string,
  instanceId: string,
  roster: readonly RosterCodeEntry[],
  self: RosterCodeEntry,
): string {
  const entries = roster.filter((e) => e.participantId !== self.participantId);
  entries.push(self);
  entries.sort((a, b) =>
    a.participantId < b.participantId ? -1 : a.participantId > b.participantId ? 1 : 0,
  );
  const fields: Field[] = [CONTEXT.rosterCode, meetingId, instanceId, entries.length];
  for (const e of entries) fields.push(e.participantId, e.bindingHash, e.ivk, e.e2ee);
  const h = sha512(encodeFields(fields));
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + (h[i * 5 + j] ?? 0);
    groups.push(String(v % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}
