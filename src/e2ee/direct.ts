/**
 * One-to-one keys between two members of an E2EE meeting (docs/protocol.md "Direct messages"), for
 * what only those two may read — 1:1 chat — inside frames every member can open.
 *
 * Two E2EE messages through the relay make one pair secret. The initiator sends its signed binding
 * and a fresh nonce (`e2ee.direct-hello`). The responder checks that binding against the leader-
 * signed roster (its hash must be the one the roster lists for that participant), encapsulates to
 * the initiator's ML-KEM key and answers with its own binding, the nonce and the ciphertext
 * (`e2ee.direct-reply`); the initiator checks that binding against the roster the same way. Both
 * derive the secret from X25519 of their ephemeral keys and the ML-KEM shared secret, bound to both
 * binding hashes, the ciphertext and the nonce, and from it one key per direction. A relay that
 * swaps a binding fails the roster check; one that replays a hello or a reply gets nothing (a
 * responder answers a nonce once, an initiator accepts only the reply to its pending hello).
 *
 * Messages: XChaCha20-Poly1305 under the sender's direction key, AAD = the meeting, the instance,
 * sender and recipient ids. Replays within a pair are the caller's to drop (chat numbers its messages).
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { RoomdError } from '../core/errors.ts';
import { type EphemeralKeys, type RandomSource, type VerifiedBinding, verifyBinding } from './binding.ts';
import { concat, encodeFields, fromB64u, toB64u, utf8Bytes, zeroize } from './bytes.ts';
import { CONTEXT } from './context.ts';
import type { BindingMessage, DirectHelloMessage, DirectReplyMessage } from './messages.ts';
import type { ParticipantId } from './types.ts';

/** A sealed one-to-one message (base64url fields). */
export interface DirectSealed {
  iv: string;
  box: string;
}

export interface DirectKeysOptions {
  meetingId: string;
  instanceId: string;
  selfId: ParticipantId;
  self: EphemeralKeys;
  /** Our own signed binding and its hash (base64url). */
  binding: BindingMessage;
  bindingHash: string;
  /** The binding hash the current verified roster lists for a keyed member, or undefined. */
  rosterHash: (id: ParticipantId) => string | undefined;
  random: RandomSource;
  /** How long a hello waits for its reply before another may be sent (ms). */
  helloRetryMs?: number;
}

/** What a caller may do with the one-to-one keys; the handshake runs inside the E2EE session. */
export type DirectCrypto = Pick<DirectKeys, 'ready' | 'seal' | 'open'>;

interface Pair {
  peerHash: string;
  send: Uint8Array;
  recv: Uint8Array;
}

/** Nonces of hellos answered, per initiator (bounded: old ones are forgotten first). */
const MAX_ANSWERED = 16;

export class DirectKeys {
  readonly #o: DirectKeysOptions;
  readonly #pairs = new Map<ParticipantId, Pair>();
  readonly #pending = new Map<ParticipantId, { nonce: string; sentAt: number }>();
  readonly #answered = new Map<ParticipantId, string[]>();

  constructor(options: DirectKeysOptions) {
    this.#o = options;
  }

  /** Whether messages to and from `peer` can be sealed and opened now. */
  ready(peer: ParticipantId): boolean {
    return this.#pair(peer) !== undefined;
  }

  /**
   * The hello to send `peer` to make a pair, or null when there is one, a hello is still waiting, or
   * `peer` is not a keyed member of the verified roster.
   */
  hello(peer: ParticipantId, now: number): DirectHelloMessage | null {
    if (peer === this.#o.selfId || this.ready(peer) || this.#o.rosterHash(peer) === undefined) return null;
    const waiting = this.#pending.get(peer);
    if (waiting !== undefined && now - waiting.sentAt < (this.#o.helloRetryMs ?? 3000)) return null;
    const nonce = toB64u(this.#o.random(16));
    this.#pending.set(peer, { nonce, sentAt: now });
    return { t: 'e2ee.direct-hello', v: 1, binding: this.#o.binding, nonce };
  }

  /**
   * A hello from `from` (relay-attested): the reply to send, after the pair is made; null when our
   * own hello to `from` crossed it and ours wins (the lower participant id's hello is answered).
   */
  onHello(msg: DirectHelloMessage, from: ParticipantId): DirectReplyMessage | null {
    const peer = this.#check(msg.binding, from);
    if (this.#pending.has(from) && this.#o.selfId < from) return null;
    const answered = this.#answered.get(from) ?? [];
    if (answered.includes(msg.nonce))
      throw new RoomdError('e2ee.replay', { message: 'A direct hello was answered already.' });
    answered.push(msg.nonce);
    if (answered.length > MAX_ANSWERED) answered.shift();
    this.#answered.set(from, answered);
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(peer.mlkem);
    const x = sharedX25519(this.#o.self.x25519Secret, peer.x25519);
    const keys = derive(x, sharedSecret, peer.hash, fromB64u(this.#o.bindingHash), cipherText, msg.nonce);
    this.#set(from, {
      peerHash: peer.hashB64,
      send: keys.responderToInitiator,
      recv: keys.initiatorToResponder,
    });
    // A hello of ours to the same peer crossed this one and lost: its reply will not come.
    this.#pending.delete(from);
    return {
      t: 'e2ee.direct-reply',
      v: 1,
      binding: this.#o.binding,
      nonce: msg.nonce,
      kem: toB64u(cipherText),
    };
  }

  /** The reply to our pending hello to `from`; anything else is refused. */
  onReply(msg: DirectReplyMessage, from: ParticipantId): void {
    const pending = this.#pending.get(from);
    if (pending === undefined || pending.nonce !== msg.nonce)
      throw new RoomdError('e2ee.unexpected', { message: 'A direct reply answers no hello of ours.' });
    const peer = this.#check(msg.binding, from);
    const x = sharedX25519(this.#o.self.x25519Secret, peer.x25519);
    const kemCt = fromB64u(msg.kem);
    const k = ml_kem768.decapsulate(kemCt, this.#o.self.mlkemSecret);
    const keys = derive(x, k, fromB64u(this.#o.bindingHash), peer.hash, kemCt, msg.nonce);
    this.#pending.delete(from);
    this.#set(from, {
      peerHash: peer.hashB64,
      send: keys.initiatorToResponder,
      recv: keys.responderToInitiator,
    });
  }

  /** Seal a message for `peer`; throws e2ee.unknown_key without a pair. */
  seal(peer: ParticipantId, plain: Uint8Array): DirectSealed {
    const pair = this.#need(peer);
    const iv = this.#o.random(24);
    const box = xchacha20poly1305(pair.send, iv, this.#aad(this.#o.selfId, peer)).encrypt(plain);
    return { iv: toB64u(iv), box: toB64u(box) };
  }

  /** Open a message from `peer`; throws e2ee.unknown_key without a pair, e2ee.decrypt_failed when forged. */
  open(peer: ParticipantId, sealed: DirectSealed): Uint8Array {
    const pair = this.#need(peer);
    let iv: Uint8Array;
    let box: Uint8Array;
    try {
      iv = fromB64u(sealed.iv, 'iv');
      box = fromB64u(sealed.box, 'box');
    } catch (cause) {
      throw new RoomdError('e2ee.decrypt_failed', { message: 'A direct message is malformed.', cause });
    }
    if (iv.length !== 24)
      throw new RoomdError('e2ee.decrypt_failed', { message: 'A direct message is malformed.' });
    try {
      return xchacha20poly1305(pair.recv, iv, this.#aad(peer, this.#o.selfId)).decrypt(box);
    } catch (cause) {
      // noble's AEAD fails only one way on well-formed input: the tag does not match.
      throw new RoomdError('e2ee.decrypt_failed', { message: 'A direct message did not open.', cause });
    }
  }

  /** Wipe every pair key. */
  destroy(): void {
    for (const p of this.#pairs.values()) zeroize(p.send, p.recv);
    this.#pairs.clear();
    this.#pending.clear();
  }

  #aad(from: ParticipantId, to: ParticipantId): Uint8Array {
    return encodeFields([CONTEXT.directMessage, this.#o.meetingId, this.#o.instanceId, from, to]);
  }

  /** The peer's binding, verified and the one the leader-signed roster lists for `from`. */
  #check(binding: BindingMessage, from: ParticipantId): VerifiedBinding {
    const peer = verifyBinding(binding, {
      meetingId: this.#o.meetingId,
      instanceId: this.#o.instanceId,
      participantId: from,
    });
    if (peer.hashB64 !== this.#o.rosterHash(from))
      throw new RoomdError('e2ee.unexpected', {
        message: 'A direct key was offered with a binding the verified roster does not list.',
        context: { participant: from },
      });
    return peer;
  }

  /** The pair with `peer` while its binding is still the one the roster lists. */
  #pair(peer: ParticipantId): Pair | undefined {
    const pair = this.#pairs.get(peer);
    if (pair === undefined) return undefined;
    if (pair.peerHash === this.#o.rosterHash(peer)) return pair;
    zeroize(pair.send, pair.recv);
    this.#pairs.delete(peer);
    return undefined;
  }

  #need(peer: ParticipantId): Pair {
    const pair = this.#pair(peer);
    if (pair === undefined)
      throw new RoomdError('e2ee.unknown_key', { message: 'No one-to-one key with this participant yet.' });
    return pair;
  }

  #set(peer: ParticipantId, pair: Pair): void {
    const old = this.#pairs.get(peer);
    if (old !== undefined) zeroize(old.send, old.recv);
    this.#pairs.set(peer, pair);
  }
}

/** X25519 with a peer's key; a key that gives no secret (low order) is a typed refusal. */
function sharedX25519(secret: Uint8Array, peer: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(secret, peer);
  } catch (cause) {
    throw new RoomdError('e2ee.decrypt_failed', {
      message: 'A direct key exchange carries a bad key.',
      cause,
    });
  }
}

function derive(
  x: Uint8Array,
  k: Uint8Array,
  initiatorHash: Uint8Array,
  responderHash: Uint8Array,
  kemCt: Uint8Array,
  nonce: string,
): { initiatorToResponder: Uint8Array; responderToInitiator: Uint8Array } {
  const ikm = concat(x, k);
  const prk = extract(sha256, ikm, sha256(utf8Bytes(CONTEXT.direct)));
  const info = encodeFields([CONTEXT.direct, initiatorHash, responderHash, sha256(kemCt), fromB64u(nonce)]);
  const okm = expand(sha256, prk, info, 64);
  const keys = { initiatorToResponder: okm.slice(0, 32), responderToInitiator: okm.slice(32, 64) };
  zeroize(ikm, prk, okm, x, k);
  return keys;
}
