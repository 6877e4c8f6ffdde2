/**
 * What every encrypted stream shares (docs/protocol.md "Media chunks", "Frame envelope (inside
 * SFrame)"): the frame keys it seals and opens with, and the SFrame metadata that binds the
 * cleartext routing fields the relay must not change.
 */
import type { FrameCrypto } from '../../e2ee/index.ts';
import { STREAM_KINDS, type StreamKind } from '../../protocol/vocabulary.ts';

/** The part of the E2EE session's frame keys a stream uses. */
export type StreamKeys = Pick<FrameCrypto, 'sendEpoch' | 'seal' | 'openAs'>;

/** The current frame keys, or null while the meeting holds none (not admitted, reconnecting). */
export type KeySource = () => StreamKeys | null;

/**
 * 8 bytes of SFrame metadata, authenticated with the frame: kind (chunk-header code), stream id,
 * flags (bit 0 keyframe), 0, frame number (u32, big-endian). The relay writes only the sender id,
 * which the KID inside the ciphertext authenticates instead.
 */
export function frameMetadata(
  kind: StreamKind,
  streamId: number,
  keyframe: boolean,
  frameNumber: number,
): Uint8Array {
  const m = new Uint8Array(8);
  m[0] = STREAM_KINDS.indexOf(kind);
  m[1] = streamId & 0xff;
  m[2] = keyframe ? 1 : 0;
  new DataView(m.buffer).setUint32(4, frameNumber >>> 0);
  return m;
}
