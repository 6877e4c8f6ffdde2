/**
 * Ogg pages (RFC 3533) carrying Opus (RFC 7845): a streaming reader that yields Opus packets and a
 * small writer used by audio playout to hand received packets to ffmpeg.
 *
 * Page: "OggS", version 0, header type (1 continued, 2 first, 4 last), granule position i64 LE,
 * serial u32, sequence u32, CRC-32 u32 (polynomial 0x04C11DB7, initial 0, not reflected, computed with
 * the CRC field zeroed), segment count u8, lacing values, data. A packet ends at a lacing value < 255.
 * The granule of a page is the 48 kHz sample count at the end of its last completed packet.
 */

export const OGG_HEADER_BYTES = 27;
export const OGG_MAX_PAGE_BYTES = OGG_HEADER_BYTES + 255 + 255 * 255;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 over `bytes`, treating bytes [skipFrom, skipFrom+4) as zero (the CRC field). */
export function oggCrc(bytes: Uint8Array, skipFrom = -1): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = skipFrom >= 0 && i >= skipFrom && i < skipFrom + 4 ? 0 : bytes[i]!;
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  }
  return crc;
}

export interface OggPage {
  readonly continued: boolean;
  readonly bos: boolean;
  readonly eos: boolean;
  /** Granule position; -1 when no packet ends on this page. */
  readonly granule: number;
  readonly serial: number;
  readonly sequence: number;
  readonly lacing: Uint8Array;
  readonly body: Uint8Array;
}

export type OggPageResult =
  | { readonly ok: true; readonly page: OggPage; readonly size: number }
  | { readonly ok: false; readonly reason: 'need_more' }
  | { readonly ok: false; readonly reason: 'bad_capture' | 'bad_version' | 'bad_crc' };

/** Parse one page at the start of `b`. */
export function parseOggPage(b: Uint8Array): OggPageResult {
  if (b.length < OGG_HEADER_BYTES) {
    for (let i = 0; i < Math.min(4, b.length); i++)
      if (b[i] !== 'OggS'.charCodeAt(i)) return fail('bad_capture');
    return { ok: false, reason: 'need_more' };
  }
  if (b[0] !== 0x4f || b[1] !== 0x67 || b[2] !== 0x67 || b[3] !== 0x53) return fail('bad_capture');
  if (b[4] !== 0) return fail('bad_version');
  const nseg = b[26]!;
  if (b.length < OGG_HEADER_BYTES + nseg) return { ok: false, reason: 'need_more' };
  const lacing = b.subarray(OGG_HEADER_BYTES, OGG_HEADER_BYTES + nseg);
  let bodyLen = 0;
  for (const v of lacing) bodyLen += v;
  const size = OGG_HEADER_BYTES + nseg + bodyLen;
  if (b.length < size) return { ok: false, reason: 'need_more' };
  const page = b.subarray(0, size);
  const dv = new DataView(b.buffer, b.byteOffset, size);
  if (oggCrc(page, 22) !== dv.getUint32(22, true)) return fail('bad_crc');
  const lo = dv.getUint32(6, true);
  const hi = dv.getUint32(10, true);
  const granule = lo === 0xffffffff && hi === 0xffffffff ? -1 : hi * 2 ** 32 + lo;
  const flags = b[5]!;
  return {
    ok: true,
    size,
    page: {
      continued: (flags & 1) !== 0,
      bos: (flags & 2) !== 0,
      eos: (flags & 4) !== 0,
      granule,
      serial: dv.getUint32(14, true),
      sequence: dv.getUint32(18, true),
      lacing: lacing.slice(),
      body: b.slice(OGG_HEADER_BYTES + nseg, size),
    },
  };
}

function fail(reason: 'bad_capture' | 'bad_version' | 'bad_crc'): OggPageResult {
  return { ok: false, reason };
}

export interface OggPageInput {
  readonly serial: number;
  readonly sequence: number;
  readonly granule: number;
  readonly bos?: boolean;
  readonly eos?: boolean;
  /** Complete packets, each < 255·255 bytes; the page must fit 255 lacing values. */
  readonly packets: readonly Uint8Array[];
}

/** Build one page holding whole packets (the writer never splits a packet across pages). */
export function writeOggPage(input: OggPageInput): Uint8Array {
  const lacing: number[] = [];
  let bodyLen = 0;
  for (const p of input.packets) {
    let n = p.length;
    while (n >= 255) {
      lacing.push(255);
      n -= 255;
    }
    lacing.push(n);
    bodyLen += p.length;
  }
  if (lacing.length > 255) throw new RangeError('writeOggPage: packets need more than 255 lacing values');
  const out = new Uint8Array(OGG_HEADER_BYTES + lacing.length + bodyLen);
  const dv = new DataView(out.buffer);
  out.set([0x4f, 0x67, 0x67, 0x53, 0], 0);
  out[5] = (input.bos === true ? 2 : 0) | (input.eos === true ? 4 : 0);
  const g = input.granule < 0 ? 2 ** 64 - 1 : input.granule;
  dv.setUint32(6, g === 2 ** 64 - 1 ? 0xffffffff : g % 2 ** 32, true);
  dv.setUint32(10, g === 2 ** 64 - 1 ? 0xffffffff : Math.floor(g / 2 ** 32), true);
  dv.setUint32(14, input.serial >>> 0, true);
  dv.setUint32(18, input.sequence >>> 0, true);
  out[26] = lacing.length;
  out.set(lacing, OGG_HEADER_BYTES);
  let off = OGG_HEADER_BYTES + lacing.length;
  for (const p of input.packets) {
    out.set(p, off);
    off += p.length;
  }
  dv.setUint32(22, oggCrc(out), true);
  return out;
}
