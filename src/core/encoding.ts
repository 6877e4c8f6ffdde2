/**
 * Text and base64url encodings on the web platform's own primitives (TextEncoder, TextDecoder,
 * typed arrays), so that the protocol and E2EE code that uses them runs unchanged in Node and in a
 * browser (docs/decisions/0022-one-core-in-node-and-browser.md). base64url is RFC 4648 §5 without
 * padding; decoding is strict: only the alphabet, no padding, and the unused low bits of the last
 * character zero, so every byte string has exactly one text (the canonical form signatures rely on).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const CODES = new Uint8Array(ALPHABET.length);
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  CODES[i] = ALPHABET.charCodeAt(i);
  VALUES[ALPHABET.charCodeAt(i)] = i;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** base64url of `bytes`, without padding. */
export function encodeBase64Url(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil((n * 4) / 3));
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o++] = CODES[v >>> 18] as number;
    out[o++] = CODES[(v >>> 12) & 63] as number;
    out[o++] = CODES[(v >>> 6) & 63] as number;
    out[o++] = CODES[v & 63] as number;
  }
  if (i < n) {
    const rest = n - i;
    const v = ((bytes[i] as number) << 16) | (rest === 2 ? (bytes[i + 1] as number) << 8 : 0);
    out[o++] = CODES[v >>> 18] as number;
    out[o++] = CODES[(v >>> 12) & 63] as number;
    if (rest === 2) out[o++] = CODES[(v >>> 6) & 63] as number;
  }
  return decoder.decode(out.subarray(0, o));
}

/**
 * The bytes of a canonical unpadded base64url text, or null when the text is anything else (a
 * character outside the alphabet, padding, an impossible length, non-zero spare bits). With
 * `canonical: false` non-zero spare bits are ignored, as Node's Buffer does.
 */
export function decodeBase64Url(text: string, { canonical = true } = {}): Uint8Array | null {
  const len = text.length;
  if (len % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (VALUES[c] as number) : -1;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  // What is left over must be zero bits, or two texts would decode to the same bytes.
  if (canonical && (acc & ((1 << bits) - 1)) !== 0) return null;
  return out;
}

export function utf8Encode(text: string): Uint8Array {
  return encoder.encode(text);
}

/** UTF-8 decode; invalid sequences become U+FFFD (as Buffer's toString does). */
export function utf8Decode(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The length of `text` in UTF-8 bytes, without encoding it (lone surrogates count 3, as U+FFFD). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
