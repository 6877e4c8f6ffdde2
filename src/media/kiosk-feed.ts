/**
 * The kiosk media feed message (docs/protocol.md "# Kiosk media feed"): one encoded video frame per
 * binary WebSocket message from roomd to the room screen. Big-endian:
 *
 *   0  u8   version (1)
 *   1  u8   flags: bit 0 keyframe, bit 1 self (this room's own camera or content); other bits 0
 *   2  u8   codec (1 vp8, 2 vp9, 3 h264)
 *   3  u8   stream id: the meeting's id of the stream's kind (1 camera, 2 content)
 *   4  f64  capture timestamp, ms since the Unix epoch (sender's clock)
 *  12  u8   participant id length N (1..255)
 *  13  N    participant id, UTF-8
 *  13+N ... one encoded frame (VP8/VP9 frame, or H.264 Annex-B access unit), at most MAX_FRAME_BYTES
 *
 * The one codec of this format: the daemon encodes with it (src/media/video-feed.ts) and the kiosk
 * page (kiosk-ui/src/video.ts) and the tests decode with it. It runs in the browser too, so it
 * imports nothing that needs Node.
 */
import { RoomdError } from '../core/errors.ts';
import { MAX_FRAME_BYTES } from '../protocol/limits.ts';
import { STREAM_ID } from '../protocol/vocabulary.ts';
import { CODEC_IDS, codecFromId, type VideoCodec } from './types.ts';

export const FEED_VERSION = 1;
export const FEED_FLAG_KEYFRAME = 1;
export const FEED_FLAG_SELF = 2;
/** The stream id a participant's camera travels on in the feed: its video stream's id in the meeting. */
export const FEED_CAMERA_STREAM = STREAM_ID.video;
/** Bytes before the participant id. */
const FIXED_HEADER = 13;

export interface FeedFrame {
  readonly participantId: string;
  readonly streamId: number;
  readonly codec: VideoCodec;
  readonly keyframe: boolean;
  readonly self: boolean;
  /** Capture time, ms since the Unix epoch on the sender's clock. */
  readonly captureTs: number;
  readonly data: Uint8Array;
}

export type FeedDecodeResult =
  | { readonly ok: true; readonly frame: FeedFrame }
  | { readonly ok: false; readonly error: RoomdError };

const enc = new TextEncoder();
/** Strict UTF-8 that keeps a leading BOM: the id is exactly its bytes (docs/protocol.md "# Kiosk media feed"). */
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One feed message; throws RangeError for a frame the format cannot carry (a caller's bug). */
export function encodeFeedMessage(f: FeedFrame): Uint8Array {
  const id = enc.encode(f.participantId);
  if (id.length === 0 || id.length > 255)
    throw new RangeError('participant id must be 1..255 bytes of UTF-8');
  if (!Number.isInteger(f.streamId) || f.streamId < 0 || f.streamId > 255)
    throw new RangeError('stream id must be 0..255');
  if (f.data.length > MAX_FRAME_BYTES) throw new RangeError(`a frame is at most ${MAX_FRAME_BYTES} bytes`);
  const out = new Uint8Array(FIXED_HEADER + id.length + f.data.length);
  const dv = new DataView(out.buffer);
  out[0] = FEED_VERSION;
  out[1] = (f.keyframe ? FEED_FLAG_KEYFRAME : 0) | (f.self ? FEED_FLAG_SELF : 0);
  out[2] = CODEC_IDS[f.codec];
  out[3] = f.streamId;
  dv.setFloat64(4, f.captureTs);
  out[12] = id.length;
  out.set(id, FIXED_HEADER);
  out.set(f.data, FIXED_HEADER + id.length);
  return out;
}

/**
 * Decodes one feed message. Total: any bytes give a frame or a `media.parse_failed` error, never a
 * throw. The frame's data is a view into `b`, not a copy.
 */
export function decodeFeedMessage(b: Uint8Array): FeedDecodeResult {
  const bad = (why: string): FeedDecodeResult => ({
    ok: false,
    error: new RoomdError('media.parse_failed', { message: `Kiosk feed message: ${why}.` }),
  });
  if (b.length < FIXED_HEADER + 1) return bad('too short');
  if (b[0] !== FEED_VERSION) return bad(`unknown version ${b[0]}`);
  const flags = b[1]!;
  if ((flags & ~(FEED_FLAG_KEYFRAME | FEED_FLAG_SELF)) !== 0) return bad('unknown flags');
  const codec = codecFromId(b[2]!);
  if (codec === undefined || codec === 'opus') return bad('unknown video codec');
  const n = b[12]!;
  if (n === 0 || b.length < FIXED_HEADER + n) return bad('bad participant id length');
  if (b.length - FIXED_HEADER - n > MAX_FRAME_BYTES) return bad('frame too large');
  const participantId = strictUtf8(b.subarray(FIXED_HEADER, FIXED_HEADER + n));
  if (participantId === null) return bad('participant id is not UTF-8');
  const captureTs = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(4);
  if (!Number.isFinite(captureTs)) return bad('capture time is not a number');
  return {
    ok: true,
    frame: {
      participantId,
      streamId: b[3]!,
      codec,
      keyframe: (flags & FEED_FLAG_KEYFRAME) !== 0,
      self: (flags & FEED_FLAG_SELF) !== 0,
      captureTs,
      data: b.subarray(FIXED_HEADER + n),
    },
  };
}

/** The text of `bytes`, or null when they are not UTF-8 (the fatal decoder's TypeError, by name). */
function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return dec.decode(bytes);
  } catch (error) {
    if (error instanceof TypeError) return null;
    throw error;
  }
}
