/**
 * Per-stream media statistics: frames and bytes sent/received, frames lost or skipped,
 * decrypt failures, keyframe requests (from receivers, and a sender's own to its encoder),
 * end-to-end latency p50/p95 over a sliding window.
 * Plain counters the sender/receiver bump, and a snapshot for the state API and metrics.
 */

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly maxMs: number | null;
}

export interface MediaStatsSnapshot {
  readonly framesSent: number;
  readonly bytesSent: number;
  readonly framesReceived: number;
  readonly bytesReceived: number;
  /** Frames that never arrived whole (gaps in the frame numbers, reassembly timeouts). */
  readonly framesLost: number;
  /** Frames that arrived after newer ones were already played. */
  readonly framesLate: number;
  /** Whole frames thrown away while waiting for a keyframe after a gap. */
  readonly framesDiscarded: number;
  /** Delta frames a sender did not send because a frame they depend on was not sent. */
  readonly dependentFramesSkipped: number;
  /** Times a frame a sender did not send made it ask its own encoder for a keyframe. */
  readonly keyframesAskedAfterDrop: number;
  readonly decryptFailures: number;
  /** Keyframe requests sent (receiver) or received (sender). */
  readonly keyframeRequests: number;
  readonly keyframes: number;
  readonly latency: LatencySummary;
}

export interface MediaStatsOptions {
  /** How many latency samples the percentile window keeps (default 600: 20 s of 30 fps video). */
  readonly window?: number;
}

export class MediaStats {
  framesSent = 0;
  bytesSent = 0;
  framesReceived = 0;
  bytesReceived = 0;
  framesLost = 0;
  framesLate = 0;
  framesDiscarded = 0;
  dependentFramesSkipped = 0;
  keyframesAskedAfterDrop = 0;
  decryptFailures = 0;
  keyframeRequests = 0;
  keyframes = 0;
  readonly #window: Float64Array;
  #count = 0;
  #next = 0;

  constructor(options: MediaStatsOptions = {}) {
    this.#window = new Float64Array(Math.max(1, options.window ?? 600));
  }

  recordSent(bytes: number, keyframe = false): void {
    this.framesSent += 1;
    this.bytesSent += bytes;
    if (keyframe) this.keyframes += 1;
  }

  recordReceived(bytes: number, keyframe = false): void {
    this.framesReceived += 1;
    this.bytesReceived += bytes;
    if (keyframe) this.keyframes += 1;
  }

  /** Hook for the decrypt step (SFrame lives in the meeting client's pipeline). */
  recordDecryptFailure(): void {
    this.decryptFailures += 1;
  }

  /** One end-to-end latency sample: receiver's now minus the sender's capture timestamp. */
  recordLatency(ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.#window[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#window.length;
    this.#count = Math.min(this.#count + 1, this.#window.length);
  }

  latency(): LatencySummary {
    if (this.#count === 0) return { samples: 0, p50Ms: null, p95Ms: null, maxMs: null };
    const sorted = this.#window.slice(0, this.#count).sort();
    return {
      samples: this.#count,
      p50Ms: percentile(sorted, 0.5),
      p95Ms: percentile(sorted, 0.95),
      maxMs: sorted[sorted.length - 1]!,
    };
  }

  snapshot(): MediaStatsSnapshot {
    return {
      framesSent: this.framesSent,
      bytesSent: this.bytesSent,
      framesReceived: this.framesReceived,
      bytesReceived: this.bytesReceived,
      framesLost: this.framesLost,
      framesLate: this.framesLate,
      framesDiscarded: this.framesDiscarded,
      dependentFramesSkipped: this.dependentFramesSkipped,
      keyframesAskedAfterDrop: this.keyframesAskedAfterDrop,
      decryptFailures: this.decryptFailures,
      keyframeRequests: this.keyframeRequests,
      keyframes: this.keyframes,
      latency: this.latency(),
    };
  }
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n)));
  return sorted[rank - 1]!;
}
