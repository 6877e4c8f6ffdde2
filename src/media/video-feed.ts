/**
 * The kiosk video feed: video forwarded, still encoded, over a local WebSocket to the kiosk page,
 * which decodes it with WebCodecs. One binary message per frame, laid out and coded in
 * src/media/kiosk-feed.ts (docs/protocol.md "# Kiosk media feed").
 *
 * A subscriber (one kiosk WebSocket) only ever receives a stream from a keyframe on: a new subscriber
 * is first sent each stream's current group of pictures (last keyframe and the frames since, bounded),
 * and a subscriber whose socket is backed up skips frames and then waits for the next keyframe
 * (`onKeyframeNeeded`, once per stream until its next keyframe, lets the meeting client ask for one).
 */
import { encodeFeedMessage, type FeedFrame } from './kiosk-feed.ts';

/** One kiosk connection as the feed sees it. */
export interface FeedSink {
  /** Queue one message; a sink whose connection is gone drops it (and is unsubscribed by its owner). */
  send(message: Uint8Array): void;
  /** Bytes accepted by send() but not yet written out (WebSocket bufferedAmount). */
  bufferedBytes(): number;
}

export interface VideoFeedOptions {
  /** A sink with more than this queued skips frames until the next keyframe (default 256 KiB: under a second of 720p). */
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
    this.#maxBuffered = options.maxBufferedBytes ?? 256 * 1024;
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
    sub.sink.send(msg);
    this.#sent += 1;
  }
}
