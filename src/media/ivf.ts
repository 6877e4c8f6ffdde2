/**
 * Streaming IVF demuxer (the container libvpx and `ffmpeg -f ivf` write).
 *
 * File header, 32 bytes little-endian: "DKIF", version u16 (0), header length u16 (32), FourCC
 * ("VP80" | "VP90"), width u16, height u16, timebase denominator u32, numerator u32, frame count u32,
 * unused u32. Each frame: size u32, pts u64 (in timebase units), then `size` bytes.
 * Key frames: VP8 frame tag bit 0 is 0 (RFC 6386 §9.1); VP9 uncompressed header frame_type is 0
 * (VP9 bitstream spec §6.2). A malformed stream cannot be resynchronised, so the parser fails for good
 * with a typed error and the runner restarts the encoder.
 */
import { RoomdError } from '../core/errors.ts';
import { ByteQueue } from './byte-queue.ts';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type FrameParser,
  type MediaFrame,
  type NowSource,
  type VideoCodec,
} from './types.ts';

export const IVF_FILE_HEADER_BYTES = 32;
export const IVF_FRAME_HEADER_BYTES = 12;

export interface IvfHeader {
  readonly codec: VideoCodec;
  readonly fourcc: string;
  readonly width: number;
  readonly height: number;
  readonly timebaseDen: number;
  readonly timebaseNum: number;
}

export interface IvfParserOptions {
  readonly clock: NowSource;
  readonly maxFrameBytes?: number;
}

const FOURCC: Readonly<Record<string, VideoCodec>> = { VP80: 'vp8', VP90: 'vp9' };

function parseFail(reason: string, context: Record<string, unknown> = {}): RoomdError {
  return new RoomdError('media.parse_failed', { message: `IVF stream is malformed: ${reason}.`, context });
}

export function parseIvfHeader(b: Uint8Array): IvfHeader {
  if (b.length < IVF_FILE_HEADER_BYTES) throw parseFail('short file header');
  if (b[0] !== 0x44 || b[1] !== 0x4b || b[2] !== 0x49 || b[3] !== 0x46)
    throw parseFail('missing DKIF signature');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const headerLen = dv.getUint16(6, true);
  if (headerLen !== IVF_FILE_HEADER_BYTES) throw parseFail('unexpected header length', { headerLen });
  const fourcc = String.fromCharCode(b[8]!, b[9]!, b[10]!, b[11]!);
  const codec = FOURCC[fourcc];
  if (codec === undefined) throw parseFail('unsupported FourCC', { fourcc });
  const timebaseDen = dv.getUint32(16, true);
  const timebaseNum = dv.getUint32(20, true);
  return {
    codec,
    fourcc,
    width: dv.getUint16(12, true),
    height: dv.getUint16(14, true),
    timebaseDen,
    timebaseNum,
  };
}

/** VP8 key frame: bit 0 of the 3-byte frame tag is 0 (RFC 6386 §9.1). */
export function isVp8Keyframe(frame: Uint8Array): boolean {
  return frame.length >= 3 && (frame[0]! & 0x01) === 0;
}

/** VP9 key frame from the uncompressed header (frame_marker, profile, show_existing_frame, frame_type). */
export function isVp9Keyframe(frame: Uint8Array): boolean {
  const b0 = frame[0];
  if (b0 === undefined || b0 >> 6 !== 0b10) return false;
  const profile = ((b0 >> 5) & 1) | (((b0 >> 4) & 1) << 1);
  let bit = 4; // next bit index counted from the MSB of byte 0
  if (profile === 3) bit += 1; // reserved_zero
  const readBit = (): number => {
    const byte = frame[bit >> 3];
    const v = byte === undefined ? 1 : (byte >> (7 - (bit & 7))) & 1;
    bit += 1;
    return v;
  };
  if (readBit() === 1) return false; // show_existing_frame
  return readBit() === 0; // frame_type: 0 = KEY_FRAME
}

export class IvfParser implements FrameParser {
  readonly kind = 'video' as const;
  readonly #q = new ByteQueue();
  readonly #clock: NowSource;
  readonly #maxFrame: number;
  #header: IvfHeader | undefined;
  #failed: RoomdError | undefined;

  constructor(options: IvfParserOptions) {
    this.#clock = options.clock;
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  get header(): IvfHeader | undefined {
    return this.#header;
  }

  get buffered(): number {
    return this.#q.length;
  }

  push(chunk: Uint8Array): MediaFrame[] {
    if (this.#failed !== undefined) throw this.#failed;
    this.#q.push(chunk);
    const out: MediaFrame[] = [];
    try {
      for (;;) {
        if (this.#header === undefined) {
          if (this.#q.length < IVF_FILE_HEADER_BYTES) break;
          this.#header = parseIvfHeader(this.#q.take(IVF_FILE_HEADER_BYTES));
          continue;
        }
        if (this.#q.length < IVF_FRAME_HEADER_BYTES) break;
        const fh = this.#q.peek(IVF_FRAME_HEADER_BYTES);
        const dv = new DataView(fh.buffer, fh.byteOffset, fh.byteLength);
        const size = dv.getUint32(0, true);
        if (size > this.#maxFrame) throw parseFail('frame size out of range', { size });
        if (size === 0) {
          // An empty record (a dropped frame) carries nothing to decode.
          this.#q.skip(IVF_FRAME_HEADER_BYTES);
          continue;
        }
        if (this.#q.length < IVF_FRAME_HEADER_BYTES + size) break;
        const pts = dv.getUint32(4, true) + dv.getUint32(8, true) * 2 ** 32;
        this.#q.skip(IVF_FRAME_HEADER_BYTES);
        const data = this.#q.take(size);
        out.push(this.#frame(this.#header, data, pts));
      }
    } catch (err) {
      this.#failed = err instanceof RoomdError ? err : parseFail('internal error', { cause: String(err) });
      this.#q.clear();
      throw this.#failed;
    }
    return out;
  }

  end(): MediaFrame[] {
    this.#q.clear();
    return [];
  }

  #frame(h: IvfHeader, data: Uint8Array, pts: number): MediaFrame {
    const keyframe = h.codec === 'vp8' ? isVp8Keyframe(data) : isVp9Keyframe(data);
    const frame: MediaFrame = { kind: 'video', codec: h.codec, keyframe, captureTs: this.#clock.now(), data };
    if (h.timebaseDen > 0 && h.timebaseNum > 0) {
      return { ...frame, ptsMs: (pts * h.timebaseNum * 1000) / h.timebaseDen };
    }
    return frame;
  }
}

/** IVF file header for `codec` (used by the headless participant to hand received video to ffmpeg). */
export function writeIvfHeader(h: {
  codec: 'vp8' | 'vp9';
  width: number;
  height: number;
  timebaseDen: number;
  timebaseNum: number;
  frameCount?: number;
}): Uint8Array {
  const b = new Uint8Array(IVF_FILE_HEADER_BYTES);
  const dv = new DataView(b.buffer);
  b.set([0x44, 0x4b, 0x49, 0x46]);
  dv.setUint16(4, 0, true);
  dv.setUint16(6, IVF_FILE_HEADER_BYTES, true);
  b.set(
    Array.from(h.codec === 'vp8' ? 'VP80' : 'VP90', (c) => c.charCodeAt(0)),
    8,
  );
  dv.setUint16(12, h.width, true);
  dv.setUint16(14, h.height, true);
  dv.setUint32(16, h.timebaseDen, true);
  dv.setUint32(20, h.timebaseNum, true);
  dv.setUint32(24, h.frameCount ?? 0, true);
  return b;
}

/** One IVF frame record: size, pts (timebase units), data. */
export function writeIvfFrame(data: Uint8Array, pts: number): Uint8Array {
  const b = new Uint8Array(IVF_FRAME_HEADER_BYTES + data.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, data.length, true);
  dv.setUint32(4, pts % 2 ** 32, true);
  dv.setUint32(8, Math.floor(pts / 2 ** 32), true);
  b.set(data, IVF_FRAME_HEADER_BYTES);
  return b;
}
