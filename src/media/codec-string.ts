/**
 * The WebCodecs codec string for a video frame (docs/protocol.md "# Kiosk media feed" §Message
 * layout): VP8 and VP9 by name; H.264 from the profile, constraint and level bytes of the SPS that
 * precedes every IDR, so a decoder configured without `description` reads Annex-B. Pure: the kiosk
 * page and the web client both use it.
 */
import type { MediaCodec } from './types.ts';

/** The codec string, or null when an H.264 frame carries no SPS (a delta frame) or it is audio. */
export function webCodecsVideoCodec(codec: MediaCodec, data: Uint8Array): string | null {
  if (codec === 'vp8') return 'vp8';
  if (codec === 'vp9') return 'vp09.00.10.08';
  if (codec !== 'h264') return null;
  const d = data;
  for (let i = 0; i + 7 < d.length; i++) {
    const startCode = d[i] === 0 && d[i + 1] === 0 && (d[i + 2] === 1 || (d[i + 2] === 0 && d[i + 3] === 1));
    if (!startCode) continue;
    const at = d[i + 2] === 1 ? i + 3 : i + 4;
    if (((d[at] ?? 0) & 0x1f) === 7) {
      const hex = (b: number | undefined) => (b ?? 0).toString(16).padStart(2, '0').toUpperCase();
      return `avc1.${hex(d[at + 1])}${hex(d[at + 2])}${hex(d[at + 3])}`;
    }
  }
  return null;
}
