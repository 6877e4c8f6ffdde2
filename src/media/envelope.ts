/**
 * The frame envelope: what the meeting client hands to SFrame for one media frame, so codec and
 * capture time travel encrypted with the picture or sound (docs/protocol.md "# Kiosk media feed",
 * envelope section). The cleartext chunk header (src/protocol/media-header.ts) carries only routing.
 *
 *   0  u8   envelope version (1)
 *   1  u8   codec (1 vp8, 2 vp9, 3 h264, 4 opus)
 *   2  f64  capture timestamp, ms since the Unix epoch on the sender's clock (big-endian)
 *  10  ...  encoded frame bytes
 */
import { RoomdError } from '../core/errors.ts';
import { CODEC_IDS, CODEC_KIND, codecFromId, type MediaCodec, type MediaFrame } from './types.ts';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 10;

export function packFrame(frame: Pick<MediaFrame, 'codec' | 'captureTs' | 'data'>): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + frame.data.length);
  const dv = new DataView(out.buffer);
  out[0] = ENVELOPE_VERSION;
  out[1] = CODEC_IDS[frame.codec];
  dv.setFloat64(2, frame.captureTs);
  out.set(frame.data, ENVELOPE_HEADER_BYTES);
  return out;
}

export interface UnpackedFrame {
  readonly codec: MediaCodec;
  readonly kind: MediaFrame['kind'];
  readonly captureTs: number;
  readonly data: Uint8Array;
}

/** Reverse of packFrame on decrypted bytes; throws media.parse_failed on anything else. */
export function unpackFrame(bytes: Uint8Array): UnpackedFrame {
  if (bytes.length < ENVELOPE_HEADER_BYTES || bytes[0] !== ENVELOPE_VERSION) {
    throw new RoomdError('media.parse_failed', { message: 'A media frame envelope is malformed.' });
  }
  const codec = codecFromId(bytes[1]!);
  const captureTs = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(2);
  if (codec === undefined || !Number.isFinite(captureTs)) {
    throw new RoomdError('media.parse_failed', {
      message: 'A media frame envelope names an unknown codec or time.',
    });
  }
  return { codec, kind: CODEC_KIND[codec], captureTs, data: bytes.subarray(ENVELOPE_HEADER_BYTES) };
}
