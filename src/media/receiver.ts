/**
 * Receiving side of the media channel (docs/protocol.md "Media chunks"):
 * chunks → whole frames (src/protocol/reassembly.ts, with a timeout) → per-stream ordering and gap
 * detection for video. After a gap a video stream drops frames until the next keyframe and asks the
 * sender for one, at most once per `keyframeRequestIntervalMs`. Audio frames are passed on as they
 * complete; the jitter buffer orders them and counts their losses.
 *
 * Frames handed out are still SFrame-encrypted; decrypt comes next in the meeting client's pipeline.
 * Memory is bounded: reassembly keeps ≤ maxPendingFrames and ≤ maxPendingBytes (each frame within
 * the chunk-count and size caps of docs/protocol.md §Limits), each video stream holds ≤ maxHeldFrames.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { type StreamKind, tryDecodeMediaChunk } from '../protocol/media-header.ts';
import { type AssembledFrame, DEFAULT_MAX_PENDING_BYTES, Reassembler } from '../protocol/reassembly.ts';
import { MediaStats } from './stats.ts';

export type ReceivedFrame = AssembledFrame;

export interface StreamKey {
  readonly sender: number;
  readonly kind: StreamKind;
  readonly streamId: number;
}

export interface MediaReceiverOptions {
  readonly clock: Clock;
  readonly onFrame: (frame: ReceivedFrame) => void;
  /** Ask `sender` for a keyframe on `streamId` (through the control path). Rate-limited here. */
  readonly onKeyframeRequest: (key: StreamKey) => void;
  /** Give up on a frame whose chunks have not all arrived after this long (default 1 s, docs/protocol.md). */
  readonly reassemblyTimeoutMs?: number;
  /** Wait this long for a missing video frame before declaring a gap (default 100 ms). */
  readonly reorderWindowMs?: number;
  readonly keyframeRequestIntervalMs?: number;
  readonly maxPendingFrames?: number;
  /** Payload bytes all incomplete frames together may hold (default 16 MiB). */
  readonly maxPendingBytes?: number;
  readonly maxHeldFrames?: number;
}

interface VideoState {
  readonly key: StreamKey;
  readonly stats: MediaStats;
  next: number | undefined;
  dropUntilKeyframe: boolean;
  readonly held: Map<number, ReceivedFrame>;
  timer: TimerHandle | undefined;
  lastRequestAt: number;
}

/** Frame-number distance that means the sender started over rather than a late frame. */
const RESET_DISTANCE = 1000;

const diff = (a: number, b: number): number => (a - b) | 0;

export class MediaReceiver {
  readonly #clock: Clock;
  readonly #onFrame: (frame: ReceivedFrame) => void;
  readonly #onKeyframeRequest: (key: StreamKey) => void;
  readonly #reassembler: Reassembler;
  readonly #reorderMs: number;
  readonly #requestIntervalMs: number;
  readonly #maxHeld: number;
  readonly #video = new Map<string, VideoState>();
  readonly #stats = new Map<string, MediaStats>();
  #malformed = 0;
  #guardTrips = 0;
  #closed = false;

  constructor(options: MediaReceiverOptions) {
    this.#clock = options.clock;
    this.#onFrame = options.onFrame;
    this.#onKeyframeRequest = options.onKeyframeRequest;
    this.#reassembler = new Reassembler({
      timeoutMs: options.reassemblyTimeoutMs ?? 1000,
      maxPendingFrames: options.maxPendingFrames ?? 64,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
    });
    this.#reorderMs = options.reorderWindowMs ?? 100;
    this.#requestIntervalMs = options.keyframeRequestIntervalMs ?? 1000;
    this.#maxHeld = options.maxHeldFrames ?? 32;
  }

  /** Chunks that failed header validation. */
  get malformedChunks(): number {
    return this.#malformed;
  }

  /** Chunks refused by the reassembly caps (too many chunks or bytes for one frame). */
  get refusedChunks(): number {
    return this.#reassembler.refused;
  }

  /** Payload bytes held by incomplete frames. */
  get pendingBytes(): number {
    return this.#reassembler.pendingBytes;
  }

  /** Unexpected errors caught by the receive guard in push() (the message was dropped). */
  get guardTrips(): number {
    return this.#guardTrips;
  }

  /** Frames whose chunks never all arrived (all streams). */
  get incompleteFrames(): number {
    return this.#reassembler.dropped;
  }

  /** Stats of one stream (created on first use, so the meeting client can attach decrypt failures). */
  stats(key: StreamKey): MediaStats {
    const id = keyId(key);
    let s = this.#stats.get(id);
    if (s === undefined) {
      s = new MediaStats();
      this.#stats.set(id, s);
    }
    return s;
  }

  streams(): StreamKey[] {
    return [...this.#stats.keys()].map(parseKeyId);
  }

  /**
   * One message from the media data channel. Malformed chunks are counted and ignored. Last-resort
   * guard: an unexpected error (e.g. from a frame consumer) drops the message and is counted, never
   * thrown into the channel's handler.
   */
  push(message: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#push(message);
    } catch {
      this.#guardTrips += 1;
    }
  }

  #push(message: Uint8Array): void {
    const decoded = tryDecodeMediaChunk(message);
    if (!decoded.ok) {
      this.#malformed += 1;
      return;
    }
    const frame = this.#reassembler.push(decoded.chunk, this.#clock.monotonic());
    if (frame === undefined) return;
    const key: StreamKey = { sender: frame.sender, kind: frame.kind, streamId: frame.streamId };
    if (frame.kind === 'video' || frame.kind === 'screen') this.#onVideo(key, frame);
    else this.#deliver(this.stats(key), frame);
  }

  /**
   * A delivered video frame turned out unusable (e.g. it failed to decrypt): the decoder must not see
   * what follows, so drop to the next keyframe and ask for one (rate-limited).
   */
  markBroken(key: StreamKey): void {
    if (key.kind !== 'video' && key.kind !== 'screen') return;
    const st = this.#state(key);
    this.#clearHeld(st);
    st.dropUntilKeyframe = true;
    this.#requestKeyframe(st);
  }

  /** Forget a participant who left (timers and held frames). */
  removeSender(sender: number): void {
    for (const [id, st] of this.#video) {
      if (st.key.sender !== sender) continue;
      if (st.timer !== undefined) this.#clock.clear(st.timer);
      this.#video.delete(id);
    }
    for (const id of [...this.#stats.keys()]) if (parseKeyId(id).sender === sender) this.#stats.delete(id);
  }

  close(): void {
    this.#closed = true;
    for (const st of this.#video.values()) if (st.timer !== undefined) this.#clock.clear(st.timer);
    this.#video.clear();
  }

  #deliver(stats: MediaStats, frame: ReceivedFrame): void {
    stats.recordReceived(frame.data.length, frame.keyframe);
    this.#onFrame(frame);
  }

  #state(key: StreamKey): VideoState {
    const id = keyId(key);
    let st = this.#video.get(id);
    if (st === undefined) {
      st = {
        key,
        stats: this.stats(key),
        next: undefined,
        dropUntilKeyframe: true,
        held: new Map(),
        timer: undefined,
        lastRequestAt: Number.NEGATIVE_INFINITY,
      };
      this.#video.set(id, st);
    }
    return st;
  }

  #onVideo(key: StreamKey, frame: ReceivedFrame): void {
    const st = this.#state(key);
    const n = frame.frameNumber;
    if (st.next !== undefined && diff(n, st.next) < 0) {
      if (diff(st.next, n) > RESET_DISTANCE && frame.keyframe) {
        // The sender restarted its numbering: start the stream over from this keyframe.
        this.#clearHeld(st);
        st.dropUntilKeyframe = true;
      } else {
        st.stats.framesLate += 1;
        return;
      }
    }
    if (st.dropUntilKeyframe) {
      if (!frame.keyframe) {
        // Hold it briefly: on an unordered channel the keyframe before it may still be arriving.
        st.held.set(n, frame);
        if (st.held.size > this.#maxHeld) this.#discardHeld(st, 1);
        this.#requestKeyframe(st);
        this.#arm(st);
        return;
      }
      const cleared = this.#clearHeld(st, n);
      if (st.next !== undefined) st.stats.framesLost += Math.max(0, diff(n, st.next) - cleared);
      st.dropUntilKeyframe = false;
      st.next = n;
    }
    if (n === st.next) {
      this.#deliver(st.stats, frame);
      st.next = (n + 1) >>> 0;
      this.#flush(st);
      return;
    }
    st.held.set(n, frame);
    if (st.held.size > this.#maxHeld) this.#gap(st);
    else this.#arm(st);
  }

  #arm(st: VideoState): void {
    if (st.timer === undefined)
      st.timer = this.#clock.setTimeout(() => this.#onReorderTimeout(st), this.#reorderMs);
  }

  #onReorderTimeout(st: VideoState): void {
    st.timer = undefined;
    if (st.held.size === 0) return;
    if (st.dropUntilKeyframe) this.#discardHeld(st, st.held.size);
    else this.#gap(st);
  }

  /** While waiting for a keyframe: throw away the `count` oldest held frames. */
  #discardHeld(st: VideoState, count: number): void {
    const numbers = [...st.held.keys()].sort((a, b) => diff(a, b)).slice(0, count);
    for (const k of numbers) {
      st.held.delete(k);
      st.stats.framesDiscarded += 1;
      if (st.next !== undefined && diff(k, st.next) >= 0) {
        st.stats.framesLost += diff(k, st.next);
        st.next = (k + 1) >>> 0;
      }
    }
    if (st.held.size === 0 && st.timer !== undefined) {
      this.#clock.clear(st.timer);
      st.timer = undefined;
    }
  }

  /** Frames before the earliest held one are lost: resume at a held keyframe or wait for one. */
  #gap(st: VideoState): void {
    const numbers = [...st.held.keys()].sort((a, b) => diff(a, b));
    const last = numbers[numbers.length - 1];
    if (last === undefined || st.next === undefined) return;
    const resumeAt = numbers.find((k) => st.held.get(k)!.keyframe);
    const stop = resumeAt ?? (last + 1) >>> 0;
    let heldBefore = 0;
    for (const k of numbers) {
      if (diff(k, stop) >= 0) break;
      st.held.delete(k);
      heldBefore += 1;
    }
    st.stats.framesLost += Math.max(0, diff(stop, st.next) - heldBefore);
    st.stats.framesDiscarded += heldBefore;
    st.next = stop;
    if (resumeAt === undefined) {
      st.dropUntilKeyframe = true;
      this.#requestKeyframe(st);
    }
    this.#flush(st);
  }

  #flush(st: VideoState): void {
    for (;;) {
      const f = st.next === undefined ? undefined : st.held.get(st.next);
      if (f === undefined) break;
      st.held.delete(f.frameNumber);
      this.#deliver(st.stats, f);
      st.next = (f.frameNumber + 1) >>> 0;
    }
    if (st.held.size === 0 && st.timer !== undefined) {
      this.#clock.clear(st.timer);
      st.timer = undefined;
    } else if (st.held.size > 0 && st.timer === undefined) {
      st.timer = this.#clock.setTimeout(() => this.#onReorderTimeout(st), this.#reorderMs);
    }
  }

  /** Drop held frames before `before` (all when undefined); returns how many were dropped. */
  #clearHeld(st: VideoState, before?: number): number {
    let n = 0;
    for (const k of [...st.held.keys()]) {
      if (before === undefined || diff(k, before) < 0) {
        st.held.delete(k);
        n += 1;
      }
    }
    st.stats.framesDiscarded += n;
    if (st.held.size === 0 && st.timer !== undefined) {
      this.#clock.clear(st.timer);
      st.timer = undefined;
    }
    return n;
  }

  #requestKeyframe(st: VideoState): void {
    const now = this.#clock.monotonic();
    if (now - st.lastRequestAt < this.#requestIntervalMs) return;
    st.lastRequestAt = now;
    st.stats.keyframeRequests += 1;
    this.#onKeyframeRequest(st.key);
  }
}

function keyId(k: StreamKey): string {
  return `${k.sender}/${k.kind}/${k.streamId}`;
}

function parseKeyId(id: string): StreamKey {
  const [sender, kind, streamId] = id.split('/');
  return { sender: Number(sender), kind: kind as StreamKind, streamId: Number(streamId) };
}
