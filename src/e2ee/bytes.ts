/**
 * Byte helpers for the E2EE core: base64url, canonical field encoding used under every signature,
 * MAC and AAD (docs/protocol.md "Encodings"), constant-time compare and best-effort zeroing.
 */
import { decodeBase64Url, encodeBase64Url, utf8Length } from '../core/encoding.ts';
import { RoomdError } from '../core/errors.ts';

const B64URL = /^[A-Za-z0-9_-]*$/;

export function toB64u(bytes: Uint8Array): string {
  return encodeBase64Url(bytes);
}

/** Strict base64url decode (no padding, canonical); throws e2ee.malformed. */
export function fromB64u(text: string, what = 'field'): Uint8Array {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) {
    throw new RoomdError('e2ee.malformed', { message: `Field ${what} is not base64url.`, context: { what } });
  }
  const bytes = decodeBase64Url(text);
  if (bytes === null) {
    throw new RoomdError('e2ee.malformed', {
      message: `Field ${what} is not canonical base64url.`,
      context: { what },
    });
  }
  return bytes;
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Constant-time (for equal lengths) comparison. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return d === 0;
}

/** Best-effort wipe of secret bytes (JS gives no guarantee about copies made by the engine). */
export function zeroize(...arrays: readonly (Uint8Array | undefined | null)[]): void {
  for (const a of arrays) a?.fill(0);
}

const utf8 = new TextEncoder();

export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

/**
 * Canonical encoding: each field is a 4-byte big-endian length followed by its bytes; strings are
 * UTF-8, integers are 8-byte big-endian (u64), booleans one byte. Unambiguous by construction.
 */
export type Field = Uint8Array | string | number | bigint | boolean;

export function encodeFields(fields: readonly Field[]): Uint8Array {
  let size = 0;
  for (const f of fields) {
    size += 4;
    if (f instanceof Uint8Array) size += f.length;
    else if (typeof f === 'string') size += utf8Length(f);
    else if (typeof f === 'boolean') size += 1;
    else size += 8;
  }
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const f of fields) {
    if (f instanceof Uint8Array) {
      dv.setUint32(o, f.length);
      out.set(f, o + 4);
      o += 4 + f.length;
    } else if (typeof f === 'string') {
      const n = utf8.encodeInto(f, out.subarray(o + 4)).written;
      dv.setUint32(o, n);
      o += 4 + n;
    } else if (typeof f === 'boolean') {
      dv.setUint32(o, 1);
      out[o + 4] = f ? 1 : 0;
      o += 5;
    } else {
      dv.setUint32(o, 8);
      if (typeof f === 'number' && Number.isSafeInteger(f) && f >= 0) {
        dv.setUint32(o + 4, Math.floor(f / 0x1_0000_0000));
        dv.setUint32(o + 8, f >>> 0);
      } else {
        const v = BigInt(f);
        if (v < 0n || v > 0xffff_ffff_ffff_ffffn)
          throw new RangeError('encodeFields: integer out of u64 range');
        dv.setBigUint64(o + 4, v);
      }
      o += 12;
    }
  }
  return out;
}
