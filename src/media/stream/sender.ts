/**
 * The sending half of one encrypted stream, for every kind (docs/protocol.md "Media chunks"):
 * payload → envelope → SFrame seal with the current send key → numbered chunks with the cleartext
 * routing header → the media channel, all or nothing per frame. Counts what it sent and why it did not.
 *
 * Video and screen frames pass a DependencyGate: once a frame is not sent, for whatever reason, the
 * delta frames after it are not sent either (they could not be decoded) until the next keyframe,
 * and the encoder is asked for that keyframe at once. Audio and data frames stand alone.
 *
 * An audio frame may carry its level (-dBov, RFC 6464), which goes into the chunk header and the
 * authenticated metadata. Discontinuous transmission (DTX, docs/protocol.md §Media chunks): with a
 * clock, an audio frame at level DTX_FROM_LEVEL or more (that quiet or quieter) is sent only when
 * DTX_KEEPALIVE_MS have passed since the last frame sent; the others are skipped without using a
 * frame number, so receivers see no gap.
 */
import type { Clock } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { chunkFrame, mediaFlags } from '../../protocol/media-header.ts';
import { STREAM_ID, type StreamKind } from '../../protocol/vocabulary.ts';
import { type FramePayload, packFrame } from '../envelope.ts';
import { MediaStats } from '../stats.ts';
import { DependencyGate } from './dependency-gate.ts';
import { frameMetadata, type KeySource } from './frame.ts';

/** Where chunks go: the relay connection's media channel. */
export interface ChunkOut {
  /** Whether the channel is open at both ends. */
  readonly mediaOpen: boolean;
  /** Sends every chunk of one frame, or none of them (backpressure); false when none were sent. */
  sendChunks(chunks: readonly Uint8Array[]): boolean;
}

export interface StreamSenderOptions {
  readonly kind: StreamKind;
  readonly keys: KeySource;
  readonly out: ChunkOut;
  readonly stats?: MediaStats;
  /** First frame number (default 0); wraps at 2^32. */
  readonly firstFrameNumber?: number;
  /**
   * Ask this stream's encoder for a keyframe (MediaCapture.requestKeyframe, which coalesces
   * repeated requests): after a frame was not sent, and for every request from a receiver.
   */
  readonly requestKeyframe?: () => void;
  /** Time for DTX (audio) and the uplink pacer; without a clock every frame is sent. */
  readonly clock?: Clock;
  /**
   * The uplink's rate controller (rate-control.ts), shared by every stream of one connection: told
   * of each frame sent, and asked before each video or screen frame whether the queue has room.
   */
  readonly uplink?: UplinkPacer;
}

/** What a sender needs of the rate controller. */
export interface UplinkPacer {
  /** Whether the uplink's queue has room for a video frame now (no side effects). */
  roomForVideo(now: number): boolean;
  sent(streamId: number, frameNumber: number, bytes: number, now: number): void;
}

/** Audio levels from this one on (quieter than -65 dBov) count as silence for DTX. */
export const DTX_FROM_LEVEL = 65;
/** During silence an audio sender still sends a frame this often (ms), so receivers keep the stream. */
export const DTX_KEEPALIVE_MS = 400;

/**
 * Why a frame was not sent: no key or channel yet, congestion, the send key is used up, it is a
 * delta frame that depends on a frame that was not sent, or it is a silent audio frame left out by DTX.
 */
export type SendOutcome =
  | 'sent'
  | 'queued'
  | 'not-ready'
  | 'congested'
  | 'key-exhausted'
  | 'skipped'
  | 'silent';

/**
 * With a pacer, a video or screen frame waits for room on the uplink at most this long (ms); then
 * every frame waiting goes, and the next keyframe is asked for once there is room.
 */
export const PACING_MAX_WAIT_MS = 500;
/** …and at most this many frames wait at once. */
export const PACING_MAX_FRAMES = 30;

interface Waiting {
  readonly chunks: readonly Uint8Array[];
  readonly bytes: number;
  readonly n: number;
  readonly keyframe: boolean;
  readonly sealedLength: number;
  readonly at: number;
  state: 'waiting' | 'sent' | 'dropped';
}

export class StreamSender {
  readonly kind: StreamKind;
  readonly streamId: number;
  readonly stats: MediaStats;
  /** Frames not sent because no send key or no open channel was there yet. */
  notReady = 0;
  /** Frames dropped whole under backpressure. */
  framesDropped = 0;
  /** Frames refused because the send key's counter ran out (a rekey brings a fresh key). */
  keyExhausted = 0;
  /** Silent audio frames left out by DTX (not dropped: nothing was lost). */
  silentSkipped = 0;
  /** Video or screen frames that waited for room on the uplink and were dropped (also in framesDropped). */
  queueHeld = 0;
  /** Frames waiting were dropped: the encoder is asked for a keyframe once the queue has room. */
  #keyframeOwed = false;
  /** Video and screen frames sealed and waiting for room on the uplink, oldest first. */
  #waiting: Waiting[] = [];
  readonly #o: StreamSenderOptions;
  /** Video and screen only: whether the next delta frame still has all it depends on. */
  readonly #gate: DependencyGate | undefined;
  #frameNumber: number;
  /** Clock.monotonic() when this sender last sent a frame (DTX), or undefined before the first. */
  #lastSentAt: number | undefined;

  constructor(options: StreamSenderOptions) {
    this.#o = options;
    this.kind = options.kind;
    this.streamId = STREAM_ID[options.kind];
    this.stats = options.stats ?? new MediaStats();
    this.#frameNumber = (options.firstFrameNumber ?? 0) >>> 0;
    this.#gate = options.kind === 'video' || options.kind === 'screen' ? new DependencyGate() : undefined;
  }

  /** Delta frames not sent because a frame they depend on was not sent (in `stats` too). */
  get dependentFramesSkipped(): number {
    return this.stats.dependentFramesSkipped;
  }

  /** Times a frame that was not sent made this sender ask its encoder for a keyframe (in `stats` too). */
  get keyframesAskedAfterDrop(): number {
    return this.stats.keyframesAskedAfterDrop;
  }

  /** A receiver asked for a keyframe on this stream: counted, and passed to the encoder. */
  keyframeRequested(): void {
    this.stats.keyframeRequests += 1;
    this.#o.requestKeyframe?.();
  }

  /** Frame number the next sent frame will carry. */
  get nextFrameNumber(): number {
    return this.#frameNumber;
  }

  /**
   * Encrypt, chunk and send one frame. `audioLevel` (audio only: -dBov, 0..127) goes into the chunk
   * header and the metadata; given on an audio sender with a clock, it also drives DTX. A level the
   * header cannot carry (not an integer 0..127, or any level but 127 on another kind) is the caller's
   * mistake: protocol.malformed is thrown before anything is counted or sent.
   */
  send(payload: FramePayload, keyframe: boolean, audioLevel?: number): SendOutcome {
    mediaFlags(this.kind, keyframe, audioLevel);
    const now = this.#o.clock?.monotonic();
    if (
      this.kind === 'audio' &&
      audioLevel !== undefined &&
      audioLevel >= DTX_FROM_LEVEL &&
      now !== undefined &&
      this.#lastSentAt !== undefined &&
      now - this.#lastSentAt < DTX_KEEPALIVE_MS
    ) {
      this.silentSkipped++;
      return 'silent';
    }
    const keys = this.#o.keys();
    if (keys === null || keys.sendEpoch === 0 || !this.#o.out.mediaOpen) {
      this.notReady++;
      this.#notSent(keyframe);
      return 'not-ready';
    }
    if (this.#keyframeOwed && (now === undefined || this.#o.uplink?.roomForVideo(now) !== false)) {
      this.#keyframeOwed = false;
      this.stats.keyframesAskedAfterDrop += 1;
      this.#o.requestKeyframe?.();
    }
    if (this.#gate !== undefined && !this.#gate.admit(keyframe)) {
      this.stats.dependentFramesSkipped += 1;
      return 'skipped';
    }
    const n = this.#frameNumber;
    let sealed: Uint8Array;
    try {
      const meta = frameMetadata(this.kind, this.streamId, keyframe, n, audioLevel);
      sealed = keys.seal(this.kind, packFrame(payload), meta);
    } catch (err) {
      if (!(err instanceof RoomdError)) throw err;
      if (err.code === 'e2ee.counter_exhausted') {
        this.keyExhausted++;
        this.#notSent(keyframe);
        return 'key-exhausted';
      }
      if (err.code !== 'e2ee.unknown_key') throw err;
      this.notReady++;
      this.#notSent(keyframe);
      return 'not-ready';
    }
    this.#frameNumber = (n + 1) >>> 0;
    const meta = { kind: this.kind, streamId: this.streamId, keyframe, frameNumber: n, audioLevel };
    const chunks = chunkFrame(sealed, meta);
    let bytes = 0;
    for (const c of chunks) bytes += c.byteLength;
    const uplink = this.#o.uplink;
    if (uplink !== undefined && now !== undefined && this.#gate !== undefined) {
      // Paced: the frame goes when the uplink's queue has room, after those waiting before it.
      const w: Waiting = {
        chunks,
        bytes,
        n,
        keyframe,
        sealedLength: sealed.length,
        at: now,
        state: 'waiting',
      };
      // A keyframe makes every frame waiting before it unneeded.
      if (keyframe) this.#dropWaiting(false);
      this.#waiting.push(w);
      if (this.#waiting.length > PACING_MAX_FRAMES) this.#dropWaiting(true);
      else this.flush(now);
      return w.state === 'sent' ? 'sent' : w.state === 'waiting' ? 'queued' : 'congested';
    }
    if (!this.#o.out.sendChunks(chunks)) {
      this.framesDropped++;
      this.#notSent(keyframe);
      return 'congested';
    }
    if (uplink !== undefined && now !== undefined) uplink.sent(this.streamId, n, bytes, now);
    this.#gate?.sent(keyframe);
    this.#lastSentAt = now;
    this.stats.recordSent(sealed.length, keyframe);
    return 'sent';
  }

  /**
   * Send the frames waiting for room on the uplink, oldest first, while there is room. A frame that
   * waited over PACING_MAX_WAIT_MS takes every waiting frame with it: late pictures are worth less
   * than a fresh keyframe, which is asked for once the queue has room (a keyframe asked for now would
   * only queue behind what is waiting).
   */
  flush(now: number): void {
    const uplink = this.#o.uplink;
    if (uplink === undefined) return;
    while (this.#waiting.length > 0) {
      const head = this.#waiting[0]!;
      if (now - head.at > PACING_MAX_WAIT_MS) {
        this.#dropWaiting(true);
        return;
      }
      if (!uplink.roomForVideo(now)) return;
      this.#waiting.shift();
      if (!this.#o.out.sendChunks(head.chunks)) {
        head.state = 'dropped';
        this.framesDropped++;
        this.#notSent(head.keyframe);
        // What waits behind it depends on it.
        this.#dropWaiting(false);
        return;
      }
      head.state = 'sent';
      uplink.sent(this.streamId, head.n, head.bytes, now);
      this.#gate?.sent(head.keyframe);
      this.#lastSentAt = now;
      this.stats.recordSent(head.sealedLength, head.keyframe);
    }
  }

  /** Drop every waiting frame (counted in framesDropped and queueHeld); `breakChain`: as unsent. */
  #dropWaiting(breakChain: boolean): void {
    const first = this.#waiting[0];
    if (first === undefined) return;
    for (const w of this.#waiting) w.state = 'dropped';
    this.framesDropped += this.#waiting.length;
    this.queueHeld += this.#waiting.length;
    this.#waiting = [];
    if (breakChain && this.#gate !== undefined) {
      this.#gate.notSent(first.keyframe);
      this.#keyframeOwed = true;
    }
  }

  #notSent(keyframe: boolean): void {
    if (this.#gate === undefined || !this.#gate.notSent(keyframe)) return;
    this.stats.keyframesAskedAfterDrop += 1;
    this.#o.requestKeyframe?.();
  }
}
