/**
 * Media chunk format on the "media" data channel (docs/protocol.md "# Wire protocol" §Media chunks).
 * One encrypted frame (an SFrame ciphertext, opaque here) is cut into chunks of at most 16 KiB, each
 * with a 16-byte cleartext routing header the relay may read. Nothing in the header is secret.
 *
 *   0  u8   header version (1)
 *   1  u8   stream kind (0 audio, 1 video, 2 screen, 3 data: chat and reactions)
 *   2  u8   stream id (0..255, per sender)
 *   3  u8   flags: bit 0 keyframe; bits 1-7 the audio level (audio only, else zero)
 *   4  u32  sender participant id (clients send 0; the relay writes the real one)
 *   8  u32  frame number (per sender stream, wraps)
 *  12  u16  chunk index (0-based)
 *  14  u16  chunk count (>= 1)
 *  16  ...  payload (a slice of the opaque frame)
 * All integers big-endian.
 *
 * The audio level is the sender's level as -dBov, 0 (loudest) .. 127 (silence, or no meter), as
 * RTP's audio-level extension (RFC 6464) carries it; SFrame authenticates it with the frame
 * (docs/protocol.md §Media chunks).
 */
import { RoomdError } from '../core/errors.ts';
import { MAX_CHUNK_BYTES, MAX_FRAME_BYTES } from './limits.ts';
import { STREAM_KINDS, type StreamKind } from './vocabulary.ts';

export const MEDIA_HEADER_VERSION = 1;
export const MEDIA_HEADER_BYTES = 16;
/** Largest payload in one chunk, so header + payload <= MAX_CHUNK_BYTES. */
export const MAX_CHUNK_PAYLOAD = MAX_CHUNK_BYTES - MEDIA_HEADER_BYTES;
/** Audio level of silence (-127 dBov), also written by a sender that does not measure its level. */
export const AUDIO_LEVEL_SILENT = 127;

export interface MediaChunkHeader {
  kind: StreamKind;
  streamId: number;
  keyframe: boolean;
  /** Audio only: the level as -dBov (0 loudest .. 127 silent); AUDIO_LEVEL_SILENT for other kinds. */
  audioLevel: number;
  sender: number;
  frameNumber: number;
  chunkIndex: number;
  chunkCount: number;
}

/**
 * What encodeMediaChunk takes: `audioLevel` may be left out (AUDIO_LEVEL_SILENT, "unknown"); on a
 * kind other than audio it must be absent or AUDIO_LEVEL_SILENT.
 */
export type MediaChunkHeaderInit = Omit<MediaChunkHeader, 'audioLevel'> & { audioLevel?: number | undefined };

export interface MediaChunk {
  header: MediaChunkHeader;
  payload: Uint8Array;
}

function malformed(message: string): RoomdError {
  return new RoomdError('protocol.malformed', { message });
}

/**
 * The flags byte (header byte 3) for a frame: bit 0 keyframe, bits 1-7 the audio level on audio.
 * Throws protocol.malformed for a level that is not an integer 0..127, or a level other than
 * AUDIO_LEVEL_SILENT on another kind.
 */
export function mediaFlags(kind: StreamKind, keyframe: boolean, audioLevel?: number): number {
  const level = audioLevel ?? AUDIO_LEVEL_SILENT;
  if (!Number.isInteger(level) || level < 0 || level > AUDIO_LEVEL_SILENT)
    throw malformed(`An audio level of ${String(audioLevel)} is not an integer 0..127.`);
  if (kind !== 'audio') {
    if (level !== AUDIO_LEVEL_SILENT) throw malformed(`A ${kind} chunk carries no audio level.`);
    return keyframe ? 1 : 0;
  }
  return (level << 1) | (keyframe ? 1 : 0);
}

export function encodeMediaChunk(header: MediaChunkHeaderInit, payload: Uint8Array): Uint8Array {
  const kind = STREAM_KINDS.indexOf(header.kind);
  if (kind < 0) throw malformed(`Unknown stream kind ${String(header.kind)}.`);
  const flags = mediaFlags(header.kind, header.keyframe, header.audioLevel);
  if (payload.byteLength > MAX_CHUNK_PAYLOAD)
    throw malformed(`A chunk payload of ${payload.byteLength} bytes is too big.`);
  const out = new Uint8Array(MEDIA_HEADER_BYTES + payload.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, MEDIA_HEADER_VERSION);
  dv.setUint8(1, kind);
  dv.setUint8(2, header.streamId & 0xff);
  dv.setUint8(3, flags);
  dv.setUint32(4, header.sender >>> 0);
  dv.setUint32(8, header.frameNumber >>> 0);
  dv.setUint16(12, header.chunkIndex);
  dv.setUint16(14, header.chunkCount);
  out.set(payload, MEDIA_HEADER_BYTES);
  return out;
}

/** Reads and checks a chunk header; throws protocol.malformed / protocol.too_large. */
export function decodeMediaHeader(bytes: Uint8Array): MediaChunkHeader {
  if (bytes.byteLength > MAX_CHUNK_BYTES) {
    throw new RoomdError('protocol.too_large', {
      message: `A media chunk of ${bytes.byteLength} bytes is over 16 KiB.`,
    });
  }
  if (bytes.byteLength < MEDIA_HEADER_BYTES) throw malformed('A media chunk is shorter than its header.');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint8(0);
  if (version !== MEDIA_HEADER_VERSION) {
    throw new RoomdError('protocol.unsupported_version', {
      message: `Media chunk header version ${version} is unknown.`,
    });
  }
  const kind = STREAM_KINDS[dv.getUint8(1)];
  if (kind === undefined) throw malformed(`Unknown stream kind ${dv.getUint8(1)}.`);
  const flags = dv.getUint8(3);
  if (kind !== 'audio' && (flags & ~1) !== 0) throw malformed('A media chunk has unknown flags set.');
  const chunkIndex = dv.getUint16(12);
  const chunkCount = dv.getUint16(14);
  if (chunkCount === 0 || chunkIndex >= chunkCount) throw malformed('A media chunk index is out of range.');
  return {
    kind,
    streamId: dv.getUint8(2),
    keyframe: (flags & 1) === 1,
    audioLevel: kind === 'audio' ? flags >>> 1 : AUDIO_LEVEL_SILENT,
    sender: dv.getUint32(4),
    frameNumber: dv.getUint32(8),
    chunkIndex,
    chunkCount,
  };
}

export function decodeMediaChunk(bytes: Uint8Array): MediaChunk {
  return { header: decodeMediaHeader(bytes), payload: bytes.subarray(MEDIA_HEADER_BYTES) };
}

export type ChunkDecodeResult = { ok: true; chunk: MediaChunk } | { ok: false; error: RoomdError };

/** decodeMediaChunk as a total function: a typed error result instead of a throw. */
export function tryDecodeMediaChunk(bytes: Uint8Array): ChunkDecodeResult {
  try {
    return { ok: true, chunk: decodeMediaChunk(bytes) };
  } catch (error) {
    if (error instanceof RoomdError) return { ok: false, error };
    throw error;
  }
}

/**
 * The audio level of a well-formed audio chunk, read from its header alone (for a relay's per-chunk
 * path); null for anything else (too short, another version or kind). Total: never throws.
 */
export function chunkAudioLevel(bytes: Uint8Array): number | null {
  if (bytes.byteLength < MEDIA_HEADER_BYTES || bytes[0] !== MEDIA_HEADER_VERSION) return null;
  if (bytes[1] !== STREAM_KINDS.indexOf('audio')) return null;
  return bytes[3]! >>> 1;
}

/** Overwrites the sender field in place (the relay's one write into a chunk). */
export function setChunkSender(bytes: Uint8Array, sender: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(4, sender >>> 0);
}

/** Cuts one opaque frame into chunks of at most MAX_CHUNK_BYTES each (sender field 0). */
export function chunkFrame(
  frame: Uint8Array,
  meta: Omit<MediaChunkHeaderInit, 'sender' | 'chunkIndex' | 'chunkCount'>,
  maxChunkBytes: number = MAX_CHUNK_BYTES,
): Uint8Array[] {
  if (frame.byteLength > MAX_FRAME_BYTES) {
    throw new RoomdError('protocol.too_large', {
      message: `A frame of ${frame.byteLength} bytes is too big to send.`,
    });
  }
  const per = Math.min(maxChunkBytes, MAX_CHUNK_BYTES) - MEDIA_HEADER_BYTES;
  if (per <= 0) throw malformed('The chunk size is smaller than the header.');
  const count = Math.max(1, Math.ceil(frame.byteLength / per));
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const header = { ...meta, sender: 0, chunkIndex: i, chunkCount: count };
    chunks.push(encodeMediaChunk(header, frame.subarray(i * per, Math.min(frame.byteLength, (i + 1) * per))));
  }
  return chunks;
}
