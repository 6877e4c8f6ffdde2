/**
 * SFrame header codec, RFC 9605 §4.3: config byte X|K(3)|Y|C(3), then KID and CTR as minimal
 * big-endian integers of 1..8 bytes (values 0..7 fit in K or C directly). KID and CTR are bigint
 * (they reach 2^64−1).
 */
import { RoomdError } from '../../core/errors.ts';

export interface SFrameHeader {
  kid: bigint;
  ctr: bigint;
  /** Encoded header length in bytes. */
  length: number;
}

export const MAX_U64 = 0xffff_ffff_ffff_ffffn;
/** Longest possible header: config + 8-byte KID + 8-byte CTR. */
export const MAX_HEADER_LENGTH = 17;

function byteLength(v: bigint): number {
  if (v < 0x100n) return 1;
  if (v < 0x10000n) return 2;
  if (v < 0x1000000n) return 3;
  if (v < 0x100000000n) return 4;
  let n = 4;
  let x = v >> 32n;
  while (x > 0n) {
    n++;
    x >>= 8n;
  }
  return n;
}

/** Encoded size of a header for these values. */
export function headerLength(kid: bigint, ctr: bigint): number {
  return 1 + (kid < 8n ? 0 : byteLength(kid)) + (ctr < 8n ? 0 : byteLength(ctr));
}

function checkU64(v: bigint, what: string): void {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_U64) {
    throw new RoomdError('e2ee.malformed', {
      message: `SFrame ${what} must be an integer in 0..2^64-1.`,
      context: { what },
    });
  }
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function writeBE(out: Uint8Array, offset: number, v: bigint, len: number): void {
  if (v <= SAFE) {
    // Hot path: plain number arithmetic (values below 2^53 are exact).
    let x = Number(v);
    for (let i = len - 1; i >= 0; i--) {
      out[offset + i] = x % 256;
      x = Math.floor(x / 256);
    }
    return;
  }
  let x = v;
  for (let i = len - 1; i >= 0; i--) {
    out[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** Write the header for (kid, ctr) into `out` at `offset`; returns the bytes written. */
export function writeHeader(out: Uint8Array, offset: number, kid: bigint, ctr: bigint): number {
  checkU64(kid, 'KID');
  checkU64(ctr, 'CTR');
  let config = 0;
  let o = offset + 1;
  if (kid < 8n) config |= Number(kid) << 4;
  else {
    const n = byteLength(kid);
    config |= 0x80 | ((n - 1) << 4);
    writeBE(out, o, kid, n);
    o += n;
  }
  if (ctr < 8n) config |= Number(ctr);
  else {
    const n = byteLength(ctr);
    config |= 0x08 | (n - 1);
    writeBE(out, o, ctr, n);
    o += n;
  }
  out[offset] = config;
  return o - offset;
}

export function encodeHeader(kid: bigint, ctr: bigint): Uint8Array {
  const out = new Uint8Array(headerLength(kid, ctr));
  writeHeader(out, 0, kid, ctr);
  return out;
}

function readBE(bytes: Uint8Array, offset: number, len: number): bigint {
  if (len <= 6) {
    let n = 0;
    for (let i = 0; i < len; i++) n = n * 256 + (bytes[offset + i] ?? 0);
    return BigInt(n);
  }
  let v = 0n;
  for (let i = 0; i < len; i++) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

function truncated(): never {
  throw new RoomdError('e2ee.malformed', { message: 'SFrame header is truncated.' });
}

/** Decode the header at the start of `bytes`. Throws e2ee.malformed on truncation. */
export function decodeHeader(bytes: Uint8Array): SFrameHeader {
  if (!(bytes instanceof Uint8Array) || bytes.length < 1) truncated();
  const config = bytes[0] ?? 0;
  let o = 1;
  let kid: bigint;
  if ((config & 0x80) === 0) kid = BigInt((config >> 4) & 7);
  else {
    const n = ((config >> 4) & 7) + 1;
    if (bytes.length < o + n) truncated();
    kid = readBE(bytes, o, n);
    o += n;
  }
  let ctr: bigint;
  if ((config & 0x08) === 0) ctr = BigInt(config & 7);
  else {
    const n = (config & 7) + 1;
    if (bytes.length < o + n) truncated();
    ctr = readBE(bytes, o, n);
    o += n;
  }
  return { kid, ctr, length: o };
}
