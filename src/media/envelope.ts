/**
 * The frame envelope: what the meeting client hands to SFrame for one media frame, so codec and
 * capture time travel encrypted with the picture or sound (docs/protocol.md "# Kiosk media feed",
 * envelope section). The cleartext chunk header (src/protocol/media-header.ts) carries only routing.
 *
 *   0  u8   envelope version (1)
 *   1  u8   codec (1 vp8, 2 vp9, 3 h264, 4 opus, 5 control: the `data` stream's JSON messages)
 *   2  f64  capture timestamp, ms since the Unix epoch on the sender's clock (big-endian)
 *  10  ...  encoded frame bytes
 */
import { RoomdError } from '../core/errors.ts';
import type { StreamKind } from '../protocol/vocabulary.ts';
import { CODEC_IDS, CODEC_KIND, codecFromId, type MediaCodec } from './types.ts';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_HEADER_BYTES = 10;

/** What a frame's payload is: an encoded picture or sound, or a control message of the `data` stream. */
export type PayloadCodec = MediaCodec | 'control';
const CONTROL_CODEC_ID = 5;

/** One frame's payload and the facts that travel encrypted with it. */
export interface FramePayload {
  readonly codec: PayloadCodec;
  /** Wall-clock milliseconds on the sender's clock when the payload was captured or made. */
  readonly captureTs: number;
  readonly data: Uint8Array;
}

const codecId = (codec: PayloadCodec): number => (codec === 'control' ? CONTROL_CODEC_ID : CODEC_IDS[codec]);

export function packFrame(frame: FramePayload): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + frame.data.length);
  const dv = new DataView(out.buffer);
  out[0] = ENVELOPE_VERSION;
  out[1] = codecId(frame.codec);
  dv.setFloat64(2, frame.captureTs);
  out.set(frame.data, ENVELOPE_HEADER_BYTES);
  return out;
}

export interface UnpackedFrame extends FramePayload {
  /** The stream kind the codec belongs to: a receiver refuses a payload on another kind's stream. */
  readonly kind: StreamKind;
}

/** Whether a payload of `payload`'s kind may travel on a stream of `stream`: a screen carries video. */
export function payloadFits(payload: StreamKind, stream: StreamKind): boolean {
  return payload === stream || (stream === 'screen' && payload === 'video');
}

/** Reverse of packFrame on decrypted bytes; throws media.parse_failed on anything else. */
export function unpackFrame(bytes: Uint8Array): UnpackedFrame {
  if (bytes.length < ENVELOPE_HEADER_BYTES || bytes[0] !== ENVELOPE_VERSION) {
    throw new RoomdError('media.parse_failed', { message: 'A media frame envelope is malformed.' });
  }
  const codec: PayloadCodec | undefined = bytes[1] === CONTROL_CODEC_ID ? 'control' : codecFromId(bytes[1]!);
  const captureTs = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat64(2);
  if (codec === undefined || !Number.isFinite(captureTs)) {
    throw new RoomdError('media.parse_failed', {
      message: 'A media frame envelope names an unknown codec or time.',
    });
  }
  const kind = codec === 'control' ? 'data' : CODEC_KIND[codec];
  return { codec, kind, captureTs, data: bytes.subarray(ENVELOPE_HEADER_BYTES) };
}
