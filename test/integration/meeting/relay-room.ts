/**
 * Helpers for the adversarial-relay-*.test.ts files (docs/threat-model.md: the relay is the
 * adversary): a room like adversary-room.ts's whose participants may each get their own session
 * options (protocol parameters, a recording randomness source), and what a relay that learned a
 * meeting key from a leaver can do with it — find the key among the leader's draws, open a relayed
 * frame, and seal a new one in a member's name (docs/protocol.md "KID layout", §Media chunks).
 */
import { randomBytes } from 'node:crypto';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeFields } from '../../../src/e2ee/bytes.ts';
import { CONTEXT } from '../../../src/e2ee/context.ts';
import {
  CipherSuite,
  decodeHeader,
  decodeKid,
  encodeKid,
  type KidParts,
  SFrameReceiveKey,
  SFrameSendKey,
} from '../../../src/e2ee/index.ts';
import type { HeadlessOptions } from '../../../src/meeting/headless.ts';
import { encodeMediaChunk, MEDIA_HEADER_BYTES } from '../../../src/protocol/media-header.ts';
import { STREAM_ID, STREAM_KINDS, type StreamKind } from '../../../src/protocol/vocabulary.ts';
import type { RelayHooks } from '../../../src/relay/index.ts';
import { type Plane, waitFor } from '../../helpers/meeting-harness.ts';
import { closeRoom, LONG, type Room, secureRoom } from './adversary-room.ts';

export type Extra = Partial<HeadlessOptions>;
export type RelayRoom = Room;

/** Stops the watch and everything the current room started (call from afterEach). */
export const closeRelayRoom = closeRoom;

/**
 * A meeting with `names` (the first is the host) all secure, every shield watched, `extra(name)`
 * session options per participant (adversary-room.ts's room). Its media goes through `plane`.
 */
export function relayRoom(
  hooks: RelayHooks,
  names: string[],
  extra: (name: string) => Extra = () => ({}),
  plane: Plane = 'embedded',
): Promise<RelayRoom> {
  return secureRoom(hooks, names, plane, extra);
}

/**
 * Waits until every one of `names` but the leader (who sends them) received at least `n` more
 * heartbeats than now.
 */
export async function moreHeartbeats(r: RelayRoom, all: string[], n: number): Promise<void> {
  const names = all.filter((x) => r.p(x).session.snapshot.leader !== r.pid(x));
  const base = new Map(names.map((x) => [x, r.heartbeats.get(x) ?? 0]));
  await waitFor(
    () => names.every((x) => (r.heartbeats.get(x) ?? 0) >= (base.get(x) ?? 0) + n),
    `${n} more heartbeats at ${names.join(', ')}`,
    LONG,
  );
}

/** A randomness source that keeps a copy of every 32-byte draw (a leader draws meeting keys so). */
export function recordingRandom(): { random: (n: number) => Uint8Array; draws: Uint8Array[] } {
  const draws: Uint8Array[] = [];
  return {
    draws,
    random: (n) => {
      const bytes = new Uint8Array(randomBytes(n));
      if (n === 32) draws.push(bytes.slice());
      return bytes;
    },
  };
}

/** The ids a frame key is derived for. */
export interface FrameScope {
  meetingId: string;
  instanceId: string;
}

/** The 8 bytes of SFrame metadata a chunk's routing header implies (docs/protocol.md §Media chunks). */
export function chunkMetadata(chunk: Uint8Array): Uint8Array {
  const m = new Uint8Array(8);
  m[0] = chunk[1] ?? 0;
  m[1] = chunk[2] ?? 0;
  m[2] = chunk[3] ?? 0; // the whole flags byte: keyframe bit and, on audio, the level
  m.set(chunk.subarray(8, 12), 4);
  return m;
}

function baseKey(mk: Uint8Array, scope: FrameScope, sender: string, stream: StreamKind): Uint8Array {
  const prk = extract(sha256, mk, new Uint8Array(0));
  return expand(
    sha256,
    prk,
    encodeFields([CONTEXT.media, scope.meetingId, scope.instanceId, sender, stream]),
    32,
  );
}

const SUITE = CipherSuite.AES_256_GCM_SHA512_128;

/** Opens a relayed single-chunk frame with meeting key `mk`, or null when it does not open. */
export function openChunk(chunk: Uint8Array, mk: Uint8Array, scope: FrameScope): Uint8Array | null {
  const sender = String(new DataView(chunk.buffer, chunk.byteOffset).getUint32(4));
  const stream = STREAM_KINDS[chunk[1] ?? 0] as StreamKind;
  const frame = chunk.slice(MEDIA_HEADER_BYTES);
  const header = decodeHeader(frame);
  const key = new SFrameReceiveKey(SUITE, header.kid, baseKey(mk, scope, sender, stream));
  try {
    return key.open(frame, chunkMetadata(chunk), header);
  } catch {
    // Not this key (the caller tries the next candidate).
    return null;
  } finally {
    key.destroy();
  }
}

/** The meeting key among `candidates` that opens `chunk`, with the plaintext; null if none does. */
export function findMeetingKey(
  candidates: readonly Uint8Array[],
  chunk: Uint8Array,
  scope: FrameScope,
): { mk: Uint8Array; plain: Uint8Array } | null {
  for (const mk of candidates) {
    const plain = openChunk(chunk, mk, scope);
    if (plain !== null) return { mk, plain };
  }
  return null;
}

/** Who a forged frame claims to be from, and under which key. */
export interface Forgery {
  /** The sender's participant id (the relay writes it into the chunk header). */
  sender: string;
  /** The sender's slot and the epoch: the KID (docs/protocol.md "KID layout"). */
  slot: number;
  epoch: number;
  frameNumber: number;
  /** SFrame counter; far above any the real sender used, so no replay window refuses it. */
  counter: bigint;
}

/** A new single-chunk audio frame carrying `plain`, sealed under meeting key `mk` as `f` says. */
export function forgeAudioChunk(
  f: Forgery,
  plain: Uint8Array,
  mk: Uint8Array,
  scope: FrameScope,
): Uint8Array {
  const header = encodeMediaChunk(
    {
      kind: 'audio',
      streamId: STREAM_ID.audio,
      keyframe: true,
      sender: Number(f.sender),
      frameNumber: f.frameNumber,
      chunkIndex: 0,
      chunkCount: 1,
    },
    new Uint8Array(0),
  );
  const key = new SFrameSendKey(
    SUITE,
    encodeKid(f.slot, f.epoch, 'audio'),
    baseKey(mk, scope, f.sender, 'audio'),
    {
      startCounter: f.counter,
    },
  );
  const sealed = key.seal(plain, chunkMetadata(header));
  key.destroy();
  const chunk = new Uint8Array(MEDIA_HEADER_BYTES + sealed.length);
  chunk.set(header, 0);
  chunk.set(sealed, MEDIA_HEADER_BYTES);
  return chunk;
}

/** The KID parts (slot, epoch ring, stream) of a relayed chunk. */
export function kidOf(chunk: Uint8Array): KidParts {
  return decodeKid(decodeHeader(chunk.subarray(MEDIA_HEADER_BYTES)).kid);
}
