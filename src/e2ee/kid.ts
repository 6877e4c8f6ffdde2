/**
 * KID layout (docs/protocol.md "KID layout"): KID = slot << 4 | (epoch mod 4) << 2 | stream.
 * `slot` is the compact sender number the leader assigns in the signed roster, `stream` is 0 audio,
 * 1 video, 2 screen, 3 data. Senders in slots 0..15 get one-byte KIDs. Receivers hold at most one
 * epoch per residue class: installing epoch e drops any held epoch ≡ e (mod 4).
 */
import { RoomdError } from '../core/errors.ts';
import { STREAM_KINDS, type StreamKind } from '../protocol/vocabulary.ts';

export const MAX_SLOT = 2 ** 40;
export const EPOCH_RING = 4;

export interface KidParts {
  slot: number;
  /** epoch mod 4 */
  epochRing: number;
  stream: StreamKind;
}

export function streamIndex(stream: StreamKind): number {
  const i = STREAM_KINDS.indexOf(stream);
  if (i < 0)
    throw new RoomdError('e2ee.malformed', { message: 'Unknown media stream kind.', context: { stream } });
  return i;
}

export function encodeKid(slot: number, epoch: number, stream: StreamKind): bigint {
  if (!Number.isSafeInteger(slot) || slot < 0 || slot > MAX_SLOT) {
    throw new RoomdError('e2ee.malformed', { message: 'Sender slot out of range.', context: { slot } });
  }
  return (BigInt(slot) << 4n) | (BigInt(epoch % EPOCH_RING) << 2n) | BigInt(streamIndex(stream));
}

export function decodeKid(kid: bigint): KidParts {
  const slot = kid >> 4n;
  if (slot > BigInt(MAX_SLOT)) throw new RoomdError('e2ee.unknown_key', { context: { kid: kid.toString() } });
  return {
    slot: Number(slot),
    epochRing: Number((kid >> 2n) & 3n),
    stream: STREAM_KINDS[Number(kid & 3n)] as StreamKind,
  };
}
