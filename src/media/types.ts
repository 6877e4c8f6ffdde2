/**
 * Media frame types shared by the parsers, the chunker, the jitter buffer and playout
 * (wire formats: docs/protocol.md "Media chunks", "Frame envelope (inside SFrame)").
 *
 * A frame is one encoded video picture (IVF frame / H.264 access unit) or one Opus packet.
 */

export type MediaKind = 'video' | 'audio';
export type VideoCodec = 'vp8' | 'vp9' | 'h264';
export type AudioCodec = 'opus';
export type MediaCodec = VideoCodec | AudioCodec;

export interface MediaFrame {
  readonly kind: MediaKind;
  readonly codec: MediaCodec;
  /** True for a picture a decoder can start from (VP8/VP9 key frame, H.264 IDR). Always true for Opus. */
  readonly keyframe: boolean;
  /** Wall-clock milliseconds (Clock.now) when the frame left the encoder pipe and was parsed. */
  readonly captureTs: number;
  /** Presentation time in milliseconds from the encoder's bitstream, when the container carries one. */
  readonly ptsMs?: number;
  /** Duration in milliseconds, when known (Opus packets). */
  readonly durationMs?: number;
  /**
   * Audio only, when measured: the level as -dBov, an integer 0 (loudest) .. 127 (silence), carried
   * in the chunk header and driving DTX (docs/protocol.md §Media chunks).
   */
  readonly audioLevel?: number;
  readonly data: Uint8Array;
}

/** A streaming parser: feed pipe chunks in, get whole frames out. */
export interface FrameParser {
  readonly kind: MediaKind;
  /** Feed the next bytes of the stream; returns the frames completed by them, in order. */
  push(chunk: Uint8Array): MediaFrame[];
  /** End of stream: returns any frame that only the end of input completes. */
  end(): MediaFrame[];
  /** Bytes held waiting for more input (bounded by the parser's limits). */
  readonly buffered: number;
}

/** Where a parser reads the time from; a Clock satisfies it. */
export interface NowSource {
  now(): number;
}

export const CODEC_KIND: Readonly<Record<MediaCodec, MediaKind>> = {
  vp8: 'video',
  vp9: 'video',
  h264: 'video',
  opus: 'audio',
};

/** Wire numbers for codecs, used by the chunk header and the kiosk feed (docs/protocol.md). */
export const CODEC_IDS: Readonly<Record<MediaCodec, number>> = { vp8: 1, vp9: 2, h264: 3, opus: 4 };

export function codecFromId(id: number): MediaCodec | undefined {
  for (const [name, value] of Object.entries(CODEC_IDS)) {
    if (value === id) return name as MediaCodec;
  }
  return undefined;
}

/** Default limit on one encoded frame: far above a 1080p key frame at sane bitrates. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
