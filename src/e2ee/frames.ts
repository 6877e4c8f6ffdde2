/**
 * Media frame encryption with the session's current keys (docs/protocol.md "KID layout"; RFC 9605
 * with suite AES_256_GCM_SHA512_128). Per (epoch, sender, stream) base key = HKDF-SHA256(MK_e, label ‖
 * meeting ‖ instance ‖ sender ‖ stream); KID per kid.ts. Send keys only encrypt, receive keys only decrypt
 * and are derived lazily per KID with a replay window. Old epochs are dropped a fixed time after a newer
 * one.
 */
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { RoomdError } from '../core/errors.ts';
import { encodeFields, zeroize } from './bytes.ts';
import { decodeKid, EPOCH_RING, encodeKid } from './kid.ts';
import type { SFrameAead } from './sframe/aead.ts';
import { decodeHeader } from './sframe/header.ts';
import { SFrameReceiveKey, SFrameSendKey } from './sframe/keys.ts';
import { CipherSuite } from './sframe/suites.ts';
import type { StreamKind } from '../protocol/vocabulary.ts';
import type { ParticipantId } from './types.ts';

export interface OpenedFrame {
  senderId: ParticipantId;
  slot: number;
  stream: StreamKind;
  epoch: number;
  ctr: bigint;
  payload: Uint8Array;
}

/** What the network client uses to seal and open media frames. */
export interface FrameCrypto {
  /** Epoch our senders use now (0 before any key). */
  readonly sendEpoch: number;
  /** Encrypt one frame for `stream`; throws e2ee.unknown_key before we may send, e2ee.counter_exhausted at the end. */
  seal(stream: StreamKind, payload: Uint8Array, metadata?: Uint8Array): Uint8Array;
  /** Bytes `sealInto` will write for a payload of this length. */
  sealedLength(stream: StreamKind, payloadLength: number): number;
  /** Encrypt into a caller-provided buffer; returns bytes written. */
  sealInto(
    out: Uint8Array,
    offset: number,
    stream: StreamKind,
    payload: Uint8Array,
    metadata?: Uint8Array,
  ): number;
  /** Decrypt a frame from another participant. `now` (ms) dates integrity alarms. */
  open(frame: Uint8Array, metadata?: Uint8Array, now?: number): OpenedFrame;
  /**
   * Decrypt a frame the relay says `sender` sent on a `stream` stream: the authenticated KID must
   * name that sender and stream, or the frame is refused (`e2ee.frame_relabelled`) and raises the
   * integrity alarm like a tampered one (docs/protocol.md §Media chunks).
   */
  openAs(
    sender: ParticipantId,
    stream: StreamKind,
    frame: Uint8Array,
    metadata: Uint8Array,
    now: number,
  ): OpenedFrame;
}

const EMPTY = new Uint8Array(0);

interface HeldEpoch {
  epoch: number;
  key: Uint8Array;
  dropAt: number | null;
  receive: Map<bigint, { key: SFrameReceiveKey; senderId: ParticipantId; slot: number; stream: StreamKind }>;
  /** Send keys by KID: made once per epoch and KID, so a CTR never restarts under the same key. */
  send: Map<bigint, SFrameSendKey>;
}

export interface FrameKeysOptions {
  meetingId: string;
  instanceId: string;
  selfId: ParticipantId;
  /** Media key label: E2EE and enhanced keys never coincide. */
  label: string;
  aead?: SFrameAead;
  suite?: number;
  /** Called after a frame raised the integrity alarm (tampered, replayed, malformed or relabelled). */
  onAlarm?: () => void;
}

export class FrameKeys implements FrameCrypto {
  readonly #o: FrameKeysOptions;
  readonly #suite: number;
  readonly #held = new Map<number, HeldEpoch>();
  readonly #slots = new Map<number, ParticipantId>();
  #selfSlot: number | null = null;
  #sendEpoch = 0;
  #lastNow = 0;
  /**
   * Per-sender epoch floor: the highest epoch an authenticated frame of that sender used. Frames of
   * an older epoch from that sender are refused, so a key retired by a rekey (known to a leaver)
   * cannot forge media as a sender who already moved on.
   */
  readonly #floor = new Map<ParticipantId, number>();
  /** When the last tampered / replayed / malformed frame was seen (ms), or null. */
  lastIntegrityFailureAt: number | null = null;
  integrityFailures = 0;
  /** When the last frame labelled with another sender or stream than its key's was seen (ms), or null. */
  lastRelabelledAt: number | null = null;

  constructor(options: FrameKeysOptions) {
    this.#o = options;
    this.#suite = options.suite ?? CipherSuite.AES_256_GCM_SHA512_128;
  }

  get sendEpoch(): number {
    return this.#sendEpoch;
  }

  /** Highest epoch whose key we hold (0 when none). */
  get highestEpoch(): number {
    let h = 0;
    for (const e of this.#held.values()) if (e.epoch > h) h = e.epoch;
    return h;
  }

  holds(epoch: number): boolean {
    return this.#held.get(epoch % EPOCH_RING)?.epoch === epoch;
  }

  /** Slot assignments from the verified roster (or the relay in enhanced meetings). */
  setSlots(entries: Iterable<{ participantId: ParticipantId; slot: number }>): void {
    this.#slots.clear();
    for (const e of entries) this.#slots.set(e.slot, e.participantId);
    const present = new Set(this.#slots.values());
    for (const id of [...this.#floor.keys()]) if (!present.has(id)) this.#floor.delete(id);
  }

  /** Our own sender slot (from the leader's key delivery or the relay in enhanced meetings). */
  setSelfSlot(slot: number): void {
    this.#selfSlot = slot;
  }

  get selfSlot(): number | null {
    return this.#selfSlot;
  }

  /** Install the meeting key of `epoch` (copied). Older epochs are dropped `retentionMs` from `now`. */
  install(epoch: number, meetingKey: Uint8Array, now: number, retentionMs: number): void {
    if (epoch <= this.highestEpoch) throw new RoomdError('e2ee.stale_epoch', { context: { epoch } });
    if (now > this.#lastNow) this.#lastNow = now;
    const ring = epoch % EPOCH_RING;
    const old = this.#held.get(ring);
    if (old !== undefined) this.#dropEpoch(old);
    for (const e of [...this.#held.values()]) {
      // Keep at most the two epochs before this one: the ring residue of epoch+1 must be free, or a
      // sender already on the next epoch would be tried against a stale key and look like tampering.
      if (e.epoch <= epoch - 3) this.#dropEpoch(e);
      // A shorter retention wins: after a leave key, an epoch an earlier rekey was keeping for 10 s
      // goes at once too (the leaver knows it as well).
      else if (e.epoch < epoch) e.dropAt = Math.min(e.dropAt ?? Number.POSITIVE_INFINITY, now + retentionMs);
    }
    this.#held.set(ring, {
      epoch,
      key: meetingKey.slice(),
      dropAt: null,
      receive: new Map(),
      send: new Map(),
    });
  }

  /** Switch our senders to `epoch` (must be held). */
  setSendEpoch(epoch: number): void {
    if (!this.holds(epoch)) throw new RoomdError('e2ee.unknown_key', { context: { epoch } });
    this.#sendEpoch = epoch;
  }

  /** Drop epochs whose retention ran out. */
  prune(now: number): void {
    this.#lastNow = now;
    for (const e of [...this.#held.values()]) {
      if (e.dropAt !== null && now >= e.dropAt && e.epoch !== this.#sendEpoch) this.#dropEpoch(e);
    }
  }

  #dropEpoch(e: HeldEpoch): void {
    for (const r of e.receive.values()) r.key.destroy();
    for (const k of e.send.values()) k.destroy();
    e.receive.clear();
    e.send.clear();
    zeroize(e.key);
    this.#held.delete(e.epoch % EPOCH_RING);
    if (e.epoch === this.#sendEpoch) this.#sendEpoch = 0;
  }

  #baseKey(mk: Uint8Array, sender: ParticipantId, stream: StreamKind): Uint8Array {
    const prk = extract(sha256, mk, new Uint8Array(0));
    const k = expand(
      sha256,
      prk,
      encodeFields([this.#o.label, this.#o.meetingId, this.#o.instanceId, sender, stream]),
      32,
    );
    zeroize(prk);
    return k;
  }

  #sendKey(stream: StreamKind): SFrameSendKey {
    const held = this.#held.get(this.#sendEpoch % EPOCH_RING);
    if (this.#sendEpoch === 0 || held === undefined || this.#selfSlot === null) {
      throw new RoomdError('e2ee.unknown_key', { message: 'No media key to send with yet.' });
    }
    const kid = encodeKid(this.#selfSlot, held.epoch, stream);
    const existing = held.send.get(kid);
    if (existing !== undefined) return existing;
    const base = this.#baseKey(held.key, this.#o.selfId, stream);
    const opts = this.#o.aead === undefined ? {} : { aead: this.#o.aead };
    const key = new SFrameSendKey(this.#suite, kid, base, opts);
    zeroize(base);
    held.send.set(kid, key);
    return key;
  }

  sealedLength(stream: StreamKind, payloadLength: number): number {
    return this.#sendKey(stream).sealedLength(payloadLength);
  }

  sealInto(
    out: Uint8Array,
    offset: number,
    stream: StreamKind,
    payload: Uint8Array,
    metadata: Uint8Array = EMPTY,
  ): number {
    return this.#sendKey(stream).sealInto(out, offset, payload, metadata);
  }

  seal(stream: StreamKind, payload: Uint8Array, metadata: Uint8Array = EMPTY): Uint8Array {
    return this.#sendKey(stream).seal(payload, metadata);
  }

  open(frame: Uint8Array, metadata: Uint8Array = EMPTY, now: number = this.#lastNow): OpenedFrame {
    try {
      const header = decodeHeader(frame);
      const parts = decodeKid(header.kid);
      const held = this.#held.get(parts.epochRing);
      const senderId = this.#slots.get(parts.slot);
      if (held === undefined || senderId === undefined || parts.slot === this.#selfSlot) {
        throw new RoomdError('e2ee.unknown_key', { context: { kid: header.kid.toString() } });
      }
      // Late frames of a retired epoch look the same as forged ones: dropped, not an integrity alarm.
      // An epoch whose retention ran out is refused at once, not at the next prune.
      if (
        held.epoch < (this.#floor.get(senderId) ?? 0) ||
        (held.dropAt !== null && now >= held.dropAt && held.epoch !== this.#sendEpoch)
      ) {
        throw new RoomdError('e2ee.unknown_key', {
          message: 'This sender already moved to a newer key.',
          context: { kid: header.kid.toString() },
        });
      }
      let r = held.receive.get(header.kid);
      if (r === undefined || r.senderId !== senderId) {
        r?.key.destroy();
        const base = this.#baseKey(held.key, senderId, parts.stream);
        const opts = this.#o.aead === undefined ? {} : { aead: this.#o.aead };
        r = {
          key: new SFrameReceiveKey(this.#suite, header.kid, base, opts),
          senderId,
          slot: parts.slot,
          stream: parts.stream,
        };
        zeroize(base);
        held.receive.set(header.kid, r);
      }
      const payload = r.key.open(frame, metadata, header);
      if (held.epoch > (this.#floor.get(senderId) ?? 0)) this.#floor.set(senderId, held.epoch);
      return {
        senderId,
        slot: parts.slot,
        stream: parts.stream,
        epoch: held.epoch,
        ctr: header.ctr,
        payload,
      };
    } catch (err) {
      if (err instanceof RoomdError && err.code !== 'e2ee.unknown_key') {
        this.lastIntegrityFailureAt = now;
        this.integrityFailures++;
        this.#o.onAlarm?.();
      }
      throw err;
    }
  }

  openAs(...[sender, stream, frame, metadata, now]: Parameters<FrameCrypto['openAs']>): OpenedFrame {
    const opened = this.open(frame, metadata, now);
    if (opened.senderId !== sender || opened.stream !== stream) {
      this.lastRelabelledAt = now;
      this.integrityFailures++;
      this.#o.onAlarm?.();
      throw new RoomdError('e2ee.frame_relabelled', {
        context: { claimed: sender, stream, sender: opened.senderId },
      });
    }
    return opened;
  }

  destroy(): void {
    for (const e of [...this.#held.values()]) this.#dropEpoch(e);
    this.#sendEpoch = 0;
    this.#floor.clear();
  }
}
