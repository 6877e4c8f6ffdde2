/**
 * What every encrypted stream shares (docs/protocol.md "Media chunks", "Frame envelope (inside
 * SFrame)"): the frame keys it seals and opens with, and the SFrame metadata that binds the
 * cleartext routing fields the relay must not change.
 */
import type { FrameCrypto } from '../../e2ee/index.ts';
import { AUDIO_LEVEL_SILENT, mediaFlags } from '../../protocol/media-header.ts';
import { STREAM_KINDS, type StreamKind } from '../../protocol/vocabulary.ts';

/** The part of the E2EE session's frame keys a stream uses. */
export type StreamKeys = Pick<FrameCrypto, 'sendEpoch' | 'seal' | 'openAs'>;

/** The current frame keys, or null while the meeting holds none (not admitted, reconnecting). */
export type KeySource = () => StreamKeys | null;

/**
 * 8 bytes of SFrame metadata, authenticated with the frame: kind (chunk-header code), stream id,
 * flags (the header's flags byte exactly: bit 0 keyframe, bits 1-7 the audio level on audio), 0,
 * frame number (u32, big-endian). A relay that changes the level therefore makes the frame fail to
 * open. The relay writes only the sender id, which the KID inside the ciphertext authenticates instead.
 * Throws protocol.malformed for a level the header could not carry (see mediaFlags).
 */
export function frameMetadata(
  kind: StreamKind,
  streamId: number,
  keyframe: boolean,
  frameNumber: number,
  audioLevel: number = AUDIO_LEVEL_SILENT,
): Uint8Array {
  const m = new Uint8Array(8);
  m[0] = STREAM_KINDS.indexOf(kind);
  m[1] = streamId & 0xff;
  m[2] = mediaFlags(kind, keyframe, audioLevel);
  new DataView(m.buffer).setUint32(4, frameNumber >>> 0);
  return m;
}
