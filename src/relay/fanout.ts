/**
 * Media fan-out (docs/protocol.md §Media chunks; decision 0006): every chunk a
 * participant sends goes to every other participant of the same meeting over their "media" data
 * channel. The relay reads only the 16-byte cleartext header (and writes the sender field). Each
 * receiver's queue is bounded by its channel's bufferedAmount: over the mark a chunk is dropped,
 * and so is the rest of that frame (a partial frame is useless), counted per receiver.
 */
import { hasCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import {
  AUDIO_LEVEL_SILENT,
  type MediaChunkHeader,
  setChunkSender,
  tryDecodeMediaChunk,
} from '../protocol/media-header.ts';
import { asList, type RelayHooks } from './hooks.ts';
import type { Participant } from './live-meeting.ts';
import { newUplinkState, observeUplink } from './uplink.ts';

export interface FanoutTotals {
  /** Big meetings: audio chunks not forwarded because their sender is not among the loudest. */
  audioNotSelected: number;
  chunksIn: number;
  chunksForwarded: number;
  chunksDropped: number;
  framesDropped: number;
  malformed: number;
  /** `uplink` reports sent to senders (docs/protocol.md §Uplink reports). */
  uplinkReports: number;
  /** Video and screen frames not started for a receiver whose queue would make them too late. */
  framesLate: number;
}

/** A receiver's queue that would take longer than this to drain (ms) gets no new video frame. */
export const RECEIVER_QUEUE_MS = 400;
/** …once it holds at least this much (bytes): below, the drain rate is not worth judging. */
const RECEIVER_QUEUE_MIN_BYTES = 64 * 1024;
/** A receiver's drain rate is measured over at least this long (ms). */
const DRAIN_WINDOW_MS = 500;

/** Called with each audio chunk's sender and level; false: the chunk is not forwarded. */
export type AudioGate = (from: Participant, level: number) => boolean;

export class MediaRouter {
  readonly totals: FanoutTotals = {
    audioNotSelected: 0,
    chunksIn: 0,
    chunksForwarded: 0,
    chunksDropped: 0,
    framesDropped: 0,
    malformed: 0,
    uplinkReports: 0,
    framesLate: 0,
  };
  readonly #hooks: RelayHooks;
  readonly #log: Logger;
  readonly #audio: AudioGate;
  readonly #now: () => number;

  /**
   * `audio` sees every audio chunk's level and says whether the chunk is forwarded; `now` (monotonic
   * ms) times the uplink reports.
   */
  constructor(hooks: RelayHooks, logger: Logger, audio: AudioGate = () => true, now: () => number = () => 0) {
    this.#hooks = hooks;
    this.#log = logger;
    this.#audio = audio;
    this.#now = now;
  }

  /** One chunk arrived from `from`'s media channel. */
  forward(from: Participant, data: Uint8Array): void {
    this.#hooks.tap?.('in', 'media', data, from.id);
    from.stats.chunksIn++;
    this.totals.chunksIn++;
    const decoded = tryDecodeMediaChunk(data);
    if (!decoded.ok) {
      from.stats.malformed++;
      this.totals.malformed++;
      if (from.stats.malformed === 1) {
        this.#log.warn({ participant: from.id, code: decoded.error.code }, 'dropped a malformed media chunk');
      }
      return;
    }
    const header = decoded.chunk.header;
    // Every well-formed chunk that arrived counts for the sender's rate adaptation, forwarded or not.
    from.uplink ??= newUplinkState();
    const report = observeUplink(from.uplink, header, this.#now());
    if (report !== null) {
      this.totals.uplinkReports++;
      from.send(report);
    }
    // Big meetings (docs/protocol.md §Big meetings): the level in the cleartext header picks the
    // speakers; audio of the others is not forwarded.
    if (header.kind === 'audio' && !this.#audioGate(from, header)) {
      this.totals.audioNotSelected++;
      return;
    }
    setChunkSender(data, Number(from.id));
    const streamKey = `${from.id}/${header.kind}/${header.streamId}`;
    for (const to of from.meeting.participants.values()) {
      if (to === from || to.media === undefined || !to.media.open) continue;
      const outs = this.#hooks.media
        ? asList(this.#hooks.media(data, { meetingId: from.meeting.record.id, from: from.id, to: to.id }))
        : [data];
      // A video or screen frame that would wait too long behind what this receiver has queued is
      // not started for it: late pictures are worth less than fresh ones (audio is never judged).
      if (
        header.chunkIndex === 0 &&
        (header.kind === 'video' || header.kind === 'screen') &&
        to.dropping.get(streamKey) !== header.frameNumber &&
        this.#tooLate(to)
      ) {
        to.dropping.set(streamKey, header.frameNumber);
        to.stats.framesDropped++;
        this.totals.framesDropped++;
        this.totals.framesLate++;
      }
      for (const out of outs) this.#sendTo(to, out, streamKey, header.frameNumber);
    }
  }

  /**
   * One decision per audio frame, taken at its first chunk (a frame is forwarded whole or not at
   * all). A frame without a level (127: its sender measures none) is always forwarded, and never
   * counts as speech.
   */
  #audioGate(from: Participant, header: MediaChunkHeader): boolean {
    if (header.audioLevel === AUDIO_LEVEL_SILENT) return true;
    const last = from.audioGate;
    if (header.chunkIndex > 0 && last !== undefined && last.frame === header.frameNumber) return last.forward;
    const forward = this.#audio(from, header.audioLevel);
    from.audioGate = { frame: header.frameNumber, forward };
    return forward;
  }

  /**
   * Whether `to`'s queue (its channel's `bufferedAmount`) would take over RECEIVER_QUEUE_MS to drain
   * at the rate it drained lately (docs/protocol.md §Media chunks).
   */
  #tooLate(to: Participant): boolean {
    const media = to.media!;
    const buffered = media.bufferedAmount;
    const now = this.#now();
    const drained = media.stats.bytesSent - buffered;
    const d = to.drain;
    // The rate is measured only while the queue holds enough to judge, on this channel: an idle
    // stretch, or a channel replaced (its counts start at 0), starts the measurement over.
    if (d === undefined || d.media !== media || buffered < RECEIVER_QUEUE_MIN_BYTES) {
      to.drain = { media, at: now, drained, bytesPerMs: null };
      return false;
    }
    if (now - d.at >= DRAIN_WINDOW_MS) {
      d.bytesPerMs = Math.max(0, drained - d.drained) / (now - d.at);
      d.at = now;
      d.drained = drained;
    }
    return d.bytesPerMs !== null && buffered > d.bytesPerMs * RECEIVER_QUEUE_MS;
  }

  #sendTo(to: Participant, chunk: Uint8Array, streamKey: string, frameNumber: number): void {
    const media = to.media!;
    if (to.dropping.get(streamKey) === frameNumber || !safeSend(media, chunk)) {
      if (to.dropping.get(streamKey) !== frameNumber) {
        to.dropping.set(streamKey, frameNumber);
        to.stats.framesDropped++;
        this.totals.framesDropped++;
      }
      to.stats.chunksDropped++;
      this.totals.chunksDropped++;
      return;
    }
    to.stats.chunksForwarded++;
    this.totals.chunksForwarded++;
    this.#hooks.tap?.('out', 'media', chunk, to.id);
  }
}

function safeSend(media: NonNullable<Participant['media']>, chunk: Uint8Array): boolean {
  try {
    return media.trySend(chunk);
  } catch (error) {
    // Over 64 KiB (only a test hook can make one): never sent.
    if (hasCode(error, 'transport.message_too_large')) return false;
    throw error;
  }
}
