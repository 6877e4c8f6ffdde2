/**
 * Synthetic media frames for headless participants and tests: self-verifying payloads
 * (magic, sequence number, send time, a pattern derived from the sequence) so a receiver can tell
 * a correctly decrypted frame from anything else without a decoder.
 *
 *   0  4  "RDSY"
 *   4  4  u32 sequence number (big-endian)
 *   8  8  f64 send time, ms since the epoch
 *  16  …  byte i = (seq * 31 + i) & 0xff
 */
const MAGIC = [0x52, 0x44, 0x53, 0x59];

export function makeSyntheticFrame(seq: number, size: number, sentAt: number): Uint8Array {
  const n = Math.max(16, size);
  const out = new Uint8Array(n);
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, seq >>> 0);
  view.setFloat64(8, sentAt);
  for (let i = 16; i < n; i++) out[i] = (seq * 31 + i) & 0xff;
  return out;
}

export interface SyntheticCheck {
  ok: boolean;
  seq: number;
  sentAt: number;
}

export function checkSyntheticFrame(data: Uint8Array): SyntheticCheck {
  if (data.byteLength < 16 || MAGIC.some((b, i) => data[i] !== b)) return { ok: false, seq: -1, sentAt: 0 };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = view.getUint32(4);
  const sentAt = view.getFloat64(8);
  for (let i = 16; i < data.byteLength; i++) {
    if (data[i] !== ((seq * 31 + i) & 0xff)) return { ok: false, seq, sentAt };
  }
  return { ok: true, seq, sentAt };
}
