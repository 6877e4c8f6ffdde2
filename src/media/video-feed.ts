/**
 * The kiosk video feed: video forwarded, still encoded, over a local WebSocket to the kiosk page,
 * which decodes it with WebCodecs. Binary message layout in docs/protocol.md
 * "# Kiosk media feed":
 *
 *   0  u8   version (1)
 *   1  u8   flags: bit 0 keyframe, bit 1 self view (this room's own camera)
 *   2  u8   codec (1 vp8, 2 vp9, 3 h264)
 *   3  u8   stream id (per participant)
 *   4  f64  capture timestamp, ms since the Unix epoch (sender's clock), big-endian
 *  12  u8   participant id length N (1..255)
 *  13  N    participant id, UTF-8
 *  13+N ... one encoded frame (VP8/VP9 frame, or H.264 Annex-B access unit)
 *
 * A subscriber (one kiosk WebSocket) only ever receives a stream from a keyframe on: a new subscriber
 * is first sent each stream's current group of pictures (last keyframe and the frames since, bounded),
 * and a subscriber whose socket is backed up skips frames and then waits for the next keyframe
 * (`onKeyframeNeeded`, once per stream until its next keyframe, lets the meeting client ask for one).
 */
import { RoomdError } from '../core/errors.ts';
import { CODEC_IDS, codecFromId, type VideoCodec } from './types.ts';

export const FEED_VERSION = 1;
export const FEED_FLAG_KEYFRAME = 1;
export const FEED_FLAG_SELF = 2;

export interface FeedFrame {
  readonly participantId: string;
  readonly streamId: number;
  readonly codec: VideoCodec;
  readonly keyframe: boolean;
  readonly self: boolean;
  readonly captureTs: number;
  readonly data: Uint8Array;
}

const enc = new TextEncoder();
/** Strict UTF-8 that keeps a leading BOM: the id is exactly its bytes (docs/protocol.md "# Kiosk media feed"). */
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function encodeFeedMessage(f: FeedFrame): Uint8Array {
  const id = enc.encode(f.participantId);
  if (id.length === 0 || id.length > 255)
    throw new RangeError('participant id must be 1..255 bytes of UTF-8');
  if (!Number.isInteger(f.streamId) || f.streamId < 0 || f.streamId > 255)
    throw new RangeError('stream id must be 0..255');
  const out = new Uint8Array(13 + id.length + f.data.length);
  const dv = new DataView(out.buffer);
  out[0] = FEED_VERSION;
  out[1] = (f.keyframe ? FEED_FLAG_KEYFRAME : 0) | (f.self ? FEED_FLAG_SELF : 0);
  out[2] = CODEC_IDS[f.codec];
  out[3] = f.streamId;
  dv.setFloat64(4, f.captureTs);
  out[12] = id.length;
  out.set(id, 13);
  out.set(f.data, 13 + id.length);
  return out;
}

export function decodeFeedMessage(b: Uint8Array): FeedFrame {
  const bad = (why: string) =>
    new RoomdError('media.parse_failed', { message: `Kiosk feed message: ${why}.` });
  if (b.length < 14 || b[0] !== FEED_VERSION) throw bad('bad version or too short');
  if ((b[1]! & ~(FEED_FLAG_KEYFRAME | FEED_FLAG_SELF)) !== 0) throw bad('unknown flags');
  const codec = codecFromId(b[2]!);
  if (codec === undefined || codec === 'opus') throw bad('unknown video codec');
  const n = b[12]!;
  if (n === 0 || b.length < 13 + n) throw bad('bad participant id');
  let participantId: string;
  try {
    participantId = dec.decode(b.subarray(13, 13 + n));
  } catch {
    throw bad('participant id is not UTF-8');
  }
  const captureTs = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(4);
  if (!Number.isFinite(captureTs)) throw bad('capture time is not a number');
  return {
    participantId,
    streamId: b[3]!,
    codec,
    keyframe: (b[1]! & FEED_FLAG_KEYFRAME) !== 0,
    self: (b[1]! & FEED_FLAG_SELF) !== 0,
    captureTs,
    data: b.subarray(13 + n),
  };
}

/** One kiosk connection as the feed sees it. */
export interface FeedSink {
  send(message: Uint8Array): void;
  /** Bytes accepted by send() but not yet written out (WebSocket bufferedAmount). */
  bufferedBytes(): number;
}

export interface VideoFeedOptions {
  /** A sink with more than this queued skips frames until the next keyframe (default 2 MiB). */
  readonly maxBufferedBytes?: number;
  /** Largest group of pictures kept for new subscribers, per stream (default 4 MiB). */
  readonly maxGopBytes?: number;
  readonly onKeyframeNeeded?: (participantId: string, streamId: number) => void;
}

interface StreamCache {
  gop: Uint8Array[];
  bytes: number;
  /** The cache overflowed: nothing valid to replay until the next keyframe. */
  broken: boolean;
}

interface Subscriber {
  readonly sink: FeedSink;
  /** Streams this sink must restart at a keyframe. */
  readonly waiting: Set<string>;
}

export class VideoFeed {
  readonly #maxBuffered: number;
  readonly #maxGop: number;
  readonly #onKeyframeNeeded: ((participantId: string, streamId: number) => void) | undefined;
  readonly #streams = new Map<string, StreamCache>();
  readonly #subs = new Set<Subscriber>();
  /** Streams a keyframe was already asked for since their last keyframe. */
  readonly #asked = new Set<string>();
  #sent = 0;
  #skipped = 0;

  constructor(options: VideoFeedOptions = {}) {
    this.#maxBuffered = options.maxBufferedBytes ?? 2 * 1024 * 1024;
    this.#maxGop = options.maxGopBytes ?? 4 * 1024 * 1024;
    this.#onKeyframeNeeded = options.onKeyframeNeeded;
  }

  get subscriberCount(): number {
    return this.#subs.size;
  }

  stats(): {
    readonly sent: number;
    readonly skipped: number;
    readonly streams: number;
    readonly subscribers: number;
  } {
    return {
      sent: this.#sent,
      skipped: this.#skipped,
      streams: this.#streams.size,
      subscribers: this.#subs.size,
    };
  }

  /** Add a kiosk connection; it gets each stream's current picture group at once. Returns unsubscribe. */
  subscribe(sink: FeedSink): () => void {
    const sub: Subscriber = { sink, waiting: new Set() };
    for (const [key, cache] of this.#streams) {
      if (cache.broken || cache.gop.length === 0) {
        sub.waiting.add(key);
        continue;
      }
      for (const m of cache.gop) this.#send(sub, m);
    }
    this.#subs.add(sub);
    return () => this.#subs.delete(sub);
  }

  publish(frame: Omit<FeedFrame, 'self'> & { readonly self?: boolean }): void {
    const msg = encodeFeedMessage({ ...frame, self: frame.self ?? false });
    const key = `${frame.participantId}\u0000${frame.streamId}`;
    let cache = this.#streams.get(key);
    if (cache === undefined) {
      cache = { gop: [], bytes: 0, broken: !frame.keyframe };
      this.#streams.set(key, cache);
    }
    if (frame.keyframe) {
      this.#asked.delete(key);
      cache.gop = [msg];
      cache.bytes = msg.length;
      cache.broken = false;
    } else if (!cache.broken) {
      cache.gop.push(msg);
      cache.bytes += msg.length;
      if (cache.bytes > this.#maxGop) {
        cache.gop = [];
        cache.bytes = 0;
        cache.broken = true;
      }
    }
    let needKeyframe = false;
    for (const sub of this.#subs) {
      if (sub.waiting.has(key)) {
        if (!frame.keyframe) {
          this.#skipped += 1;
          needKeyframe = true;
          continue;
        }
        sub.waiting.delete(key);
      }
      if (sub.sink.bufferedBytes() > this.#maxBuffered) {
        sub.waiting.add(key);
        this.#skipped += 1;
        needKeyframe = true;
        continue;
      }
      this.#send(sub, msg);
    }
    if (needKeyframe && !this.#asked.has(key)) {
      this.#asked.add(key);
      this.#onKeyframeNeeded?.(frame.participantId, frame.streamId);
    }
  }

  /** Forget a participant's streams (they left). */
  removeParticipant(participantId: string): void {
    const prefix = `${participantId}\u0000`;
    for (const key of [...this.#streams.keys()]) {
      if (!key.startsWith(prefix)) continue;
      this.#streams.delete(key);
      for (const sub of this.#subs) sub.waiting.delete(key);
    }
  }

  #send(sub: Subscriber, msg: Uint8Array): void {
    try {
      sub.sink.send(msg);
      this.#sent += 1;
    } catch {
      this.#subs.delete(sub);
    }
  }
}
