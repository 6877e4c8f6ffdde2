/**
 * Rate adaptation of one participant's uplink (docs/protocol.md §Uplink reports,
 * docs/decisions/0021-rate-adaptation.md). Pure: the sender says what it sent and when, the relay's
 * reports say what arrived; from the two it learns
 *
 * - the queueing delay on the way: how much longer than the quietest recent moment a frame took to
 *   reach the relay (the data channel's `bufferedAmount` sees only the top of the stack's queue);
 * - the delivery rate: bytes the relay got per second;
 *
 * and steers the video encoder's bitrate (`tick`): down to 85 % of what was delivered, less the
 * audio's share (never below half at once), when frames queue; up by steps when they do not. Until the queue it predicts has
 * drained below `maxQueueMs`, video frames wait their turn (`roomForVideo`: not sent), audio never does.
 * Without reports (the Janus plane, an old relay) it decides nothing and holds nothing back.
 */

export interface RateSettings {
  /** The most the video encoder may make (the configured bitrate), kbit/s. */
  readonly maxKbps: number;
  /** The least it is asked to make, kbit/s (default 150). */
  readonly minKbps?: number;
  /** Kept for audio and framing when sizing video to what the link delivers, kbit/s (default 64). */
  readonly audioKbps?: number;
  /** Predicted queueing delay above which video frames are not sent, ms (default 400). */
  readonly maxQueueMs?: number;
}

export interface UplinkStreamReport {
  readonly streamId: number;
  readonly frameNumber: number;
  readonly ageMs: number;
}

/** What the controller knows now (for stats and benchmarks). */
export interface RateEstimate {
  readonly targetKbps: number;
  /** The last report's queueing delay, ms (0 without reports). */
  readonly queueMs: number;
  /** Bytes the relay received per second over the last second, as kbit/s (null: not known yet). */
  readonly deliveredKbps: number | null;
  /** Bytes sent that no report has yet said arrived. */
  readonly inFlightBytes: number;
  /** The link's capacity as learnt at the last overuse, kbit/s (null: none learnt, or outgrown). */
  readonly capacityKbps: number | null;
}

export interface RateCounters {
  reports: number;
  /** Report entries naming a frame we have no record of (never sent, or too old): ignored. */
  entriesIgnored: number;
  decreases: number;
  increases: number;
}

/** Two reports in a row at least this far above the quietest recent delay mean the link is full. */
export const OVERUSE_MS = 100;
/** Below this the link has room: the rate may go up. */
export const UNDERUSE_MS = 40;
/** Least time between two decreases: one has to take effect before the next is judged. */
export const DECREASE_EVERY_MS = 1000;
/** Least time between an increase and the change before it. */
export const INCREASE_EVERY_MS = 2000;
/**
 * For this long after a decrease the target stays under 95 % of the capacity it learnt; then it may
 * probe past it (ms).
 */
export const PROBE_AFTER_MS = 4000;
/** A target past the capacity learnt that brings no queue for this long shows the link widened (ms). */
export const PROBE_HOLDS_MS = 4000;
/** The quietest delay is the least of this long (ms). */
const BASE_WINDOW_MS = 20_000;
/** Delivery rate measured over this window (ms). */
const RATE_WINDOW_MS = 1000;
/** Sent frames remembered per stream for matching reports. */
const SENT_LOG = 512;
/** Reports older than this say nothing about now (ms): the controller holds. */
const STALE_REPORT_MS = 2000;
/** Reporters whose last queue counts (ms). */
const REPORTER_FRESH_MS = 1000;
/** Reporters remembered at once. */
const MAX_REPORTERS = 64;
/** Stream ids tracked (a sender uses four). */
const MAX_STREAMS = 8;

interface SentRecord {
  frameNumber: number;
  at: number;
  /** Bytes sent on all streams up to and including this frame. */
  cum: number;
}

class SentLog {
  readonly #ring: (SentRecord | undefined)[] = new Array(SENT_LOG);
  #next = 0;

  push(r: SentRecord): void {
    this.#ring[this.#next] = r;
    this.#next = (this.#next + 1) % SENT_LOG;
  }

  /** The newest record of `frameNumber`, or undefined. */
  find(frameNumber: number): SentRecord | undefined {
    for (let i = 1; i <= SENT_LOG; i++) {
      const r = this.#ring[(this.#next - i + SENT_LOG) % SENT_LOG];
      if (r === undefined) return undefined;
      if (r.frameNumber === frameNumber) return r;
    }
    return undefined;
  }
}

export class RateController {
  readonly counters: RateCounters = {
    reports: 0,
    entriesIgnored: 0,
    decreases: 0,
    increases: 0,
  };
  readonly #max: number;
  readonly #min: number;
  readonly #audio: number;
  readonly #maxQueueMs: number;
  #target: number;
  readonly #logs = new Map<number, SentLog>();
  #cum = 0;
  #acked = 0;
  #lastReportAt = Number.NEGATIVE_INFINITY;
  /** Bytes sent when the last report came. */
  #cumAtReport = 0;
  #queueMs = 0;
  /** The queue left at the last report (ms at the link's rate), for roomForVideo. */
  #queuedAtReportMs = 0;
  #overuses = 0;
  /** Per reporter: per-second minimum delays (the base, oldest first), its last queue and when. */
  readonly #reporters = new Map<
    string,
    { base: { second: number; delay: number }[]; queueMs: number; at: number }
  >();
  /** (time, acked bytes) at each report within the rate window, oldest first. */
  readonly #deliveries: { at: number; acked: number }[] = [];
  #capacity: number | null = null;
  /** Since when the target has been past the capacity learnt, without a queue (ms), or null. */
  #probeSince: number | null = null;
  #lastChangeAt = Number.NEGATIVE_INFINITY;
  #lastDecreaseAt = Number.NEGATIVE_INFINITY;

  constructor(settings: RateSettings) {
    this.#max = Math.max(1, settings.maxKbps);
    this.#min = Math.min(this.#max, settings.minKbps ?? 150);
    this.#audio = settings.audioKbps ?? 64;
    this.#maxQueueMs = settings.maxQueueMs ?? 400;
    this.#target = this.#max;
  }

  get targetKbps(): number {
    return this.#target;
  }

  get estimate(): RateEstimate {
    return {
      targetKbps: this.#target,
      queueMs: this.#queueMs,
      deliveredKbps: this.#delivered(),
      inFlightBytes: this.#cum - this.#acked,
      capacityKbps: this.#capacity,
    };
  }

  /** A frame of `bytes` (all its chunks) went onto the media channel at `now` (monotonic ms). */
  sent(streamId: number, frameNumber: number, bytes: number, now: number): void {
    this.#cum += bytes;
    let log = this.#logs.get(streamId);
    if (log === undefined) {
      if (this.#logs.size >= MAX_STREAMS) return;
      log = new SentLog();
      this.#logs.set(streamId, log);
    }
    log.push({ frameNumber, at: now, cum: this.#cum });
  }

  /**
   * A report from `reporter` arrived at `now`: the relay's (docs/protocol.md §Uplink reports), or on
   * the Janus plane a receiver's (its `rx` message). Entries naming frames we never sent (or long
   * forgotten) are ignored and counted: nobody can acknowledge the future. Each reporter's delays
   * have their own base; the queue is the least any reporter heard from in the last second sees, as
   * the uplink's queue is in every reporter's path and a receiver's own downlink is only in its own.
   * Nothing in a report can make the rate rise above `maxKbps` or the controller throw.
   */
  report(streams: readonly UplinkStreamReport[], now: number, reporter = 'relay'): void {
    this.counters.reports++;
    let newest: SentRecord | undefined;
    let newestAge = 0;
    let acked = this.#acked;
    for (const s of streams) {
      const r = this.#logs.get(s.streamId)?.find(s.frameNumber);
      if (r === undefined || s.ageMs < 0 || !Number.isFinite(s.ageMs)) {
        this.counters.entriesIgnored++;
        continue;
      }
      if (r.cum > acked) acked = r.cum;
      if (newest === undefined || r.at > newest.at) {
        newest = r;
        newestAge = s.ageMs;
      }
    }
    if (newest === undefined) return;
    this.#acked = acked;
    this.#lastReportAt = now;
    this.#cumAtReport = this.#cum;
    // How long the newest frame took to reach the relay and the report to come back; an age longer
    // than the frame has existed is a relay's error, read as no time at all.
    const delay = Math.max(0, now - newest.at - newestAge);
    const r = this.#reporter(reporter, now);
    const second = Math.floor(now / 1000);
    const last = r.base.at(-1);
    if (last !== undefined && last.second === second) last.delay = Math.min(last.delay, delay);
    else r.base.push({ second, delay });
    while (r.base.length > 0 && r.base[0]!.second <= second - BASE_WINDOW_MS / 1000) r.base.shift();
    let base = delay;
    for (const b of r.base) base = Math.min(base, b.delay);
    r.queueMs = delay - base;
    r.at = now;
    let queue = r.queueMs;
    for (const other of this.#reporters.values())
      if (now - other.at <= REPORTER_FRESH_MS) queue = Math.min(queue, other.queueMs);
    this.#queueMs = queue;
    // What is still queued now: the bytes sent since the newest frame that arrived, less what the
    // path itself holds (its quietest delay) and what went out while the report waited (its age).
    this.#queuedAtReportMs = Math.max(0, ((this.#cum - acked) * 8) / this.#linkKbps() - base - newestAge);
    // A queue is bytes waiting: a late report with nothing on the way (our own process stalled, a
    // scheduler hiccup) is no sign of a full link.
    const inFlightMs = ((this.#cum - acked) * 8) / this.#linkKbps();
    this.#overuses = this.#queueMs > OVERUSE_MS && inFlightMs >= OVERUSE_MS / 2 ? this.#overuses + 1 : 0;
    this.#deliveries.push({ at: now, acked });
    while (this.#deliveries.length > 2 && this.#deliveries[1]!.at <= now - RATE_WINDOW_MS)
      this.#deliveries.shift();
  }

  /**
   * May a video frame go now? No while the queue predicted from the last report — what was still
   * on the way then beyond what the path itself holds, plus what was sent since, at the rate the
   * link drains, less the time since — is over
   * `maxQueueMs`. The frame's own size does not count: a frame, a keyframe however large, goes
   * whenever the queue before it is short, so no frame size can hold a stream back for good. Yes
   * without a recent report or a delivery rate.
   */
  roomForVideo(now: number): boolean {
    if (now - this.#lastReportAt > STALE_REPORT_MS || this.#delivered() === null) return true;
    const since = now - this.#lastReportAt;
    const addedMs = ((this.#cum - this.#cumAtReport) * 8) / this.#linkKbps();
    return this.#queuedAtReportMs + addedMs - since <= this.#maxQueueMs;
  }

  /**
   * The media connection was replaced (a reconnect, another relay, a path through TURN): its delays
   * and rates say nothing of the new one. The bitrate stays; what was learnt of the link goes.
   */
  newPath(): void {
    this.#reporters.clear();
    this.#deliveries.length = 0;
    this.#queueMs = 0;
    this.#queuedAtReportMs = 0;
    this.#overuses = 0;
    this.#capacity = null;
    this.#lastReportAt = Number.NEGATIVE_INFINITY;
  }

  /** Decide at `now`; returns the new video target (kbit/s) when it changed, else null. */
  tick(now: number): number | null {
    if (now - this.#lastReportAt > STALE_REPORT_MS) return null;
    const delivered = this.#delivered();
    // A long queue is certain and growing: the next decrease may follow sooner.
    const decreaseEvery = this.#queueMs >= 2 * OVERUSE_MS ? DECREASE_EVERY_MS / 2 : DECREASE_EVERY_MS;
    if (this.#overuses >= 2 && delivered !== null && now - this.#lastDecreaseAt >= decreaseEvery) {
      // What was delivered is what the link carries while frames queue. A far lower figure than
      // the capacity known is a thinner link; a little lower, noise: the capacity stays.
      const known = this.#capacity;
      this.#capacity = known === null || delivered < 0.7 * known ? delivered : Math.max(delivered, known);
      // A long queue is certain: follow the link at once. A short one may come from a moment with
      // less to send (a still picture, video waiting): never below half at once.
      const floor = this.#queueMs >= 2 * OVERUSE_MS ? 0 : 0.5 * this.#target;
      const next = Math.round(
        Math.max(this.#min, floor, Math.min(0.85 * delivered - this.#audio, 0.85 * this.#target)),
      );
      this.#overuses = 0;
      this.#lastDecreaseAt = now;
      if (next >= this.#target) return null;
      this.counters.decreases++;
      return this.#set(next, now);
    }
    if (this.#queueMs >= UNDERUSE_MS || this.#target >= this.#max) return null;
    if (now - this.#lastChangeAt < INCREASE_EVERY_MS) return null;
    // A probe past what the link carried when it last filled went by without a queue: the link
    // widened, forget it.
    const probing =
      this.#capacity !== null &&
      this.#lastChangeAt > this.#lastDecreaseAt &&
      this.#target + this.#audio > 1.05 * this.#capacity;
    if (!probing) this.#probeSince = null;
    else if (this.#probeSince === null) this.#probeSince = this.#lastChangeAt;
    else if (now - this.#probeSince >= PROBE_HOLDS_MS) this.#capacity = null;
    // Near that capacity, creep; without one, leap.
    const capacity = this.#capacity;
    let next = Math.round(Math.min(this.#max, this.#target * (capacity !== null ? 1.15 : 1.6)));
    if (capacity !== null && now - this.#lastDecreaseAt < PROBE_AFTER_MS)
      next = Math.min(next, Math.round(0.95 * capacity - this.#audio));
    if (next <= this.#target) return null;
    this.counters.increases++;
    return this.#set(next, now);
  }

  #set(kbps: number, now: number): number {
    this.#target = kbps;
    this.#lastChangeAt = now;
    return kbps;
  }

  /** The reporter's state, made on its first report; past MAX_REPORTERS the stalest is forgotten. */
  #reporter(
    id: string,
    now: number,
  ): { base: { second: number; delay: number }[]; queueMs: number; at: number } {
    let r = this.#reporters.get(id);
    if (r !== undefined) return r;
    if (this.#reporters.size >= MAX_REPORTERS) {
      let stalest: string | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const [k, v] of this.#reporters)
        if (v.at < at) {
          at = v.at;
          stalest = k;
        }
      if (stalest !== undefined) this.#reporters.delete(stalest);
    }
    r = { base: [], queueMs: 0, at: now };
    this.#reporters.set(id, r);
    return r;
  }

  /**
   * The rate to expect the queue to drain at: what was delivered, or what we are sending now if more
   * — a delivery rate measured while we had little to send (video held back) says nothing of the
   * link, and would hold video back for ever.
   */
  #linkKbps(): number {
    const delivered = this.#delivered() ?? 0;
    // While frames queue, what arrives is all the link carries.
    if (this.#queueMs > OVERUSE_MS && delivered > 0) return delivered;
    return Math.max(delivered, this.#target + this.#audio);
  }

  #delivered(): number | null {
    const first = this.#deliveries[0];
    const last = this.#deliveries.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < RATE_WINDOW_MS / 2) return null;
    return ((last.acked - first.acked) * 8) / (last.at - first.at);
  }
}
