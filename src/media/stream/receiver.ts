/**
 * The receiving half of every encrypted stream (docs/protocol.md "Media chunks"): chunks from the
 * media channel → whole frames (one bounded reassembler, tighter caps for the `data` stream) → per-
 * stream order for video and screen → SFrame open, which must name the sender and kind the relay
 * claimed → envelope unpacked → the consumer. Audio and data frames pass on as they complete (the
 * jitter buffer orders audio).
 *
 * After a gap a video stream drops frames until the next keyframe and asks its sender for one: at
 * once, then with back-off while the gap lasts (KeyframeBackoff: 500 ms doubling to 4 s by default),
 * starting over when a keyframe is delivered; a frame that fails to open counts as a gap. Memory is
 * bounded: reassembly keeps <= maxPendingFrames and <= maxPendingBytes (each frame within the caps
 * of docs/protocol.md §Limits), each video stream holds <= maxHeldFrames. Nothing a sender or the
 * relay sends makes `push` throw: bad chunks and frames are counted and dropped.
 */
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { type ErrorCode, RoomdError } from '../../core/errors.ts';
import { tryDecodeMediaChunk } from '../../protocol/media-header.ts';
import { type AssembledFrame, DEFAULT_MAX_PENDING_BYTES, Reassembler } from '../../protocol/reassembly.ts';
import { STREAM_ID, type StreamKind } from '../../protocol/vocabulary.ts';
import { type PayloadCodec, payloadFits, unpackFrame } from '../envelope.ts';
import { MediaStats } from '../stats.ts';
import { frameMetadata, type KeySource } from './frame.ts';
import {
  DEFAULT_KEYFRAME_BACKOFF,
  KeyframeBackoff,
  type KeyframeBackoffSettings,
} from './keyframe-backoff.ts';

export interface StreamKey {
  readonly sender: number;
  readonly kind: StreamKind;
}

/** One frame opened and unpacked. */
export interface ReceivedFrame {
  /** The sender's participant id (the chunk header carries it as a number). */
  readonly participantId: string;
  readonly kind: StreamKind;
  /** The key epoch the frame was encrypted under. */
  readonly epoch: number;
  readonly frameNumber: number;
  readonly keyframe: boolean;
  readonly codec: PayloadCodec;
  /** The sender's capture time (wall clock, ms), from inside the encryption. */
  readonly captureTs: number;
  /** This box's wall clock minus the sender's capture time. */
  readonly latencyMs: number;
  readonly data: Uint8Array;
}

/** The largest `data` frame (a control or chat message, sealed): at most 2 chunks (docs/protocol.md §Limits). */
export const MAX_DATA_FRAME_BYTES = 8192;

export interface StreamReceiverOptions {
  readonly clock: Clock;
  readonly keys: KeySource;
  readonly onFrame: (frame: ReceivedFrame) => void;
  /** Ask `key.sender` for a keyframe (through the relay's signaling). Backed off here. */
  readonly requestKeyframe: (key: StreamKey) => void;
  /** Give up on a frame whose chunks have not all arrived after this long (default 1 s). */
  readonly reassemblyTimeoutMs?: number;
  /** Wait this long for a missing video frame before declaring a gap (default 100 ms). */
  readonly reorderWindowMs?: number;
  /** The wait after a stream's first keyframe request in a gap (default 500 ms); it doubles after each. */
  readonly keyframeRequestIntervalMs?: number;
  /** The longest wait between two keyframe requests of one stream (default 4 s). */
  readonly keyframeRequestMaxIntervalMs?: number;
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
  readonly held: Map<number, AssembledFrame>;
  timer: TimerHandle | undefined;
  readonly backoff: KeyframeBackoff;
}

/** Frame-number distance that means the sender started over rather than a late frame. */
const RESET_DISTANCE = 1000;

const diff = (a: number, b: number): number => (a - b) | 0;

/** Errors a frame that fails to open may raise: refused and counted, never thrown on. */
const OPEN_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'e2ee.unknown_key',
  'e2ee.malformed',
  'e2ee.unsupported_suite',
  'e2ee.decrypt_failed',
  'e2ee.replay',
  'e2ee.frame_relabelled',
  'media.parse_failed',
]);

export class StreamReceiver {
  readonly #o: StreamReceiverOptions;
  readonly #clock: Clock;
  readonly #reassembler: Reassembler;
  readonly #reorderMs: number;
  readonly #backoff: Required<KeyframeBackoffSettings>;
  readonly #maxHeld: number;
  readonly #video = new Map<string, VideoState>();
  readonly #stats = new Map<string, MediaStats>();
  /** Frames that failed to open or unpack, by stream kind. */
  readonly decryptFailures: Record<StreamKind, number> = { audio: 0, video: 0, screen: 0, data: 0 };
  #malformed = 0;
  #guardTrips = 0;
  #closed = false;

  constructor(options: StreamReceiverOptions) {
    this.#o = options;
    this.#clock = options.clock;
    this.#reassembler = new Reassembler({
      timeoutMs: options.reassemblyTimeoutMs ?? 1000,
      maxPendingFrames: options.maxPendingFrames ?? 64,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      perKind: { data: { maxChunksPerFrame: 2, maxFrameBytes: MAX_DATA_FRAME_BYTES } },
    });
    this.#reorderMs = options.reorderWindowMs ?? 100;
    this.#backoff = {
      initialMs: options.keyframeRequestIntervalMs ?? DEFAULT_KEYFRAME_BACKOFF.initialMs,
      maxMs: options.keyframeRequestMaxIntervalMs ?? DEFAULT_KEYFRAME_BACKOFF.maxMs,
    };
    this.#maxHeld = options.maxHeldFrames ?? 32;
  }

  /** Chunks that failed header validation, or came on a stream id that is not their kind's. */
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

  /** Stats of one stream (created on first use). */
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
   * One message from the media data channel. Last-resort guard: an error nobody expected (e.g. from
   * a frame consumer) drops the message and is counted, never thrown into the channel's handler.
   */
  push(message: Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#push(message);
    } catch {
      this.#guardTrips += 1;
    }
  }

  /** Forget a participant who left (timers, held frames and stats). */
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

  #push(message: Uint8Array): void {
    const decoded = tryDecodeMediaChunk(message);
    if (!decoded.ok || decoded.chunk.header.streamId !== STREAM_ID[decoded.chunk.header.kind]) {
      this.#malformed += 1;
      return;
    }
    const frame = this.#reassembler.push(decoded.chunk, this.#clock.monotonic());
    if (frame === undefined) return;
    const key: StreamKey = { sender: frame.sender, kind: frame.kind };
    if (frame.kind === 'video' || frame.kind === 'screen') this.#onVideo(key, frame);
    else this.#open(frame);
  }

  /** Open, unpack and hand on one frame in order; a frame that does not open breaks its stream. */
  #open(frame: AssembledFrame): void {
    const key: StreamKey = { sender: frame.sender, kind: frame.kind };
    const stats = this.stats(key);
    stats.recordReceived(frame.data.length, frame.keyframe);
    const keys = this.#o.keys();
    const participantId = String(frame.sender);
    let opened: ReturnType<typeof unpackFrame>;
    let epoch: number;
    try {
      if (keys === null) throw new RoomdError('e2ee.unknown_key', { message: 'No media keys.' });
      const meta = frameMetadata(
        frame.kind,
        frame.streamId,
        frame.keyframe,
        frame.frameNumber,
        frame.audioLevel,
      );
      const plain = keys.openAs(participantId, frame.kind, frame.data, meta, this.#clock.monotonic());
      epoch = plain.epoch;
      opened = unpackFrame(plain.payload);
      if (!payloadFits(opened.kind, frame.kind)) {
        throw new RoomdError('media.parse_failed', { message: 'A frame carries another kind of payload.' });
      }
    } catch (err) {
      if (!(err instanceof RoomdError) || !OPEN_ERRORS.has(err.code)) throw err;
      stats.recordDecryptFailure();
      this.decryptFailures[frame.kind]++;
      this.#markBroken(key);
      return;
    }
    const latencyMs = this.#clock.now() - opened.captureTs;
    stats.recordLatency(latencyMs);
    // The gap, if there was one, is over: the next one asks at once.
    if (frame.keyframe) this.#video.get(keyId(key))?.backoff.reset();
    this.#o.onFrame({
      participantId,
      kind: frame.kind,
      epoch,
      frameNumber: frame.frameNumber,
      keyframe: frame.keyframe,
      codec: opened.codec,
      captureTs: opened.captureTs,
      latencyMs,
      data: opened.data,
    });
  }

  /**
   * A video frame turned out unusable: the decoder must not see what follows, so drop to the next
   * keyframe and ask for one (backed off).
   */
  #markBroken(key: StreamKey): void {
    if (key.kind !== 'video' && key.kind !== 'screen') return;
    const st = this.#state(key);
    this.#clearHeld(st);
    st.dropUntilKeyframe = true;
    this.#requestKeyframe(st);
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
        backoff: new KeyframeBackoff(this.#backoff),
      };
      this.#video.set(id, st);
    }
    return st;
  }

  #onVideo(key: StreamKey, frame: AssembledFrame): void {
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
      this.#open(frame);
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
      this.#open(f);
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
    if (!st.backoff.ask(this.#clock.monotonic())) return;
    st.stats.keyframeRequests += 1;
    this.#o.requestKeyframe(st.key);
  }
}

function keyId(k: StreamKey): string {
  return `${k.sender}/${k.kind}`;
}

function parseKeyId(id: string): StreamKey {
  const [sender, kind] = id.split('/');
  return { sender: Number(sender), kind: kind as StreamKind };
}
