/**
 * Leader heartbeat (docs/protocol.md "Messages", "Protocol"): signed with the leader's ISK over
 * H(context) ‖ H(canonical body), hash-chained through `prev`, carrying the roster whose hash it signs.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { RoomdError } from '../core/errors.ts';
import { concat, encodeFields, type Field, fromB64u, toB64u, utf8Bytes } from './bytes.ts';
import { certificateBytes } from './certificate.ts';
import { CONTEXT } from './context.ts';
import type { BindingMessage, HeartbeatBody, HeartbeatMessage } from './messages.ts';
import type { RosterEntry } from './types.ts';

export function rosterHash(roster: readonly RosterEntry[]): Uint8Array {
  const fields: Field[] = [CONTEXT.roster, roster.length];
  for (const e of roster) {
    fields.push(
      e.participantId,
      e.slot,
      e.bindingHash === '' ? new Uint8Array(0) : fromB64u(e.bindingHash),
      e.displayName,
      e.client,
      e.e2ee,
      e.ivk === '' ? new Uint8Array(0) : fromB64u(e.ivk),
      e.cert === undefined ? new Uint8Array(0) : certificateBytes(e.cert),
      e.cert === undefined ? new Uint8Array(0) : fromB64u(e.cert.sig),
    );
  }
  return sha256(encodeFields(fields));
}

export function heartbeatBytes(body: HeartbeatBody, leaderBindingHash: Uint8Array): Uint8Array {
  return encodeFields([
    CONTEXT.heartbeat,
    body.meetingId,
    body.instanceId,
    body.leaderId,
    leaderBindingHash,
    body.epoch,
    body.sendEpoch,
    body.rosterVersion,
    body.counter,
    body.time,
    fromB64u(body.rosterHash),
    body.prev === '' ? new Uint8Array(0) : fromB64u(body.prev),
  ]);
}

function toSign(bytes: Uint8Array): Uint8Array {
  return concat(sha256(utf8Bytes(CONTEXT.heartbeat)), sha256(bytes));
}

export function signHeartbeat(
  body: HeartbeatBody,
  leader: BindingMessage,
  leaderBindingHash: Uint8Array,
  identitySecret: Uint8Array,
): { message: HeartbeatMessage; hash: Uint8Array } {
  const bytes = heartbeatBytes(body, leaderBindingHash);
  const sig = ed25519.sign(toSign(bytes), identitySecret);
  return {
    message: { t: 'e2ee.heartbeat', v: 1, body, leader, sig: toB64u(sig) },
    hash: sha256(concat(bytes, sig)),
  };
}

/** Verify signature and roster hash; returns the heartbeat's chain hash. */
export function verifyHeartbeat(
  msg: HeartbeatMessage,
  leaderIvk: Uint8Array,
  leaderBindingHash: Uint8Array,
): Uint8Array {
  const bytes = heartbeatBytes(msg.body, leaderBindingHash);
  const sig = fromB64u(msg.sig);
  // Ed25519 verification throws only for a signature or key of the wrong length: a bad signature.
  const ok =
    sig.length === 64 &&
    leaderIvk.length === 32 &&
    ed25519.verify(sig, toSign(bytes), leaderIvk, { zip215: false });
  if (!ok)
    throw new RoomdError('e2ee.bad_signature', { context: { what: 'heartbeat', leader: msg.body.leaderId } });
  if (toB64u(rosterHash(msg.body.roster)) !== msg.body.rosterHash) {
    throw new RoomdError('e2ee.bad_signature', {
      message: 'The heartbeat roster does not match its signed hash.',
      context: { what: 'roster' },
    });
  }
  return sha256(concat(bytes, sig));
}

/** What a receiver remembers of the last heartbeat it accepted from the current leader. */
export interface HeartbeatSeen {
  counter: number;
  hash: string;
  time: number;
  epoch: number;
  rosterVersion: number;
}

/** Counter strictly grows, `prev` chains when consecutive, time/epoch/roster version never go back. */
export function checkHeartbeatSequence(last: HeartbeatSeen, b: HeartbeatBody): void {
  if (b.counter <= last.counter) {
    throw new RoomdError('e2ee.stale_epoch', {
      message: 'A heartbeat was replayed.',
      context: { counter: b.counter },
    });
  }
  if (b.counter === last.counter + 1 && b.prev !== last.hash) {
    throw new RoomdError('e2ee.bad_signature', {
      message: 'The heartbeat chain is broken.',
      context: { counter: b.counter },
    });
  }
  if (b.time < last.time || b.epoch < last.epoch || b.rosterVersion < last.rosterVersion) {
    throw new RoomdError('e2ee.stale_epoch', {
      message: 'A heartbeat went back in time.',
      context: { counter: b.counter },
    });
  }
}
