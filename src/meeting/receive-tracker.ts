/**
 * Loss handling for received media (architecture brief, media path): per sender stream, frame
 * numbers must follow each other; after a gap (or a frame that failed to decrypt) video is dropped
 * until the next keyframe, and a keyframe is asked for — at most once per `minRequestGapMs`.
 * Audio frames stand alone: a gap is counted, nothing is dropped.
 */
import type { Clock } from '../core/clock.ts';
import type { StreamKind } from '../protocol/media-header.ts';

interface StreamState {
  last: number | null;
  waitingForKeyframe: boolean;
  lastRequestAt: number;
}

export interface ReceiveTrackerOptions {
  clock: Clock;
  requestKeyframe: (sender: string, streamId: number) => void;
  minRequestGapMs?: number;
}

export class ReceiveTracker {
  readonly #o: ReceiveTrackerOptions;
  readonly #streams = new Map<string, StreamState>();
  readonly #lost: Record<StreamKind, number> = { audio: 0, video: 0, screen: 0, data: 0 };
  /** Frames thrown away while waiting for a keyframe. */
  droppedWaiting = 0;

  constructor(options: ReceiveTrackerOptions) {
    this.#o = options;
  }

  /** Whether to decode this frame. */
  accept(
    sender: string,
    kind: StreamKind,
    streamId: number,
    frameNumber: number,
    keyframe: boolean,
  ): boolean {
    const key = `${sender}/${kind}/${streamId}`;
    let s = this.#streams.get(key);
    if (s === undefined) {
      s = { last: null, waitingForKeyframe: kind === 'video' || kind === 'screen', lastRequestAt: -Infinity };
      this.#streams.set(key, s);
    }
    if (s.last !== null) {
      const delta = (frameNumber - s.last) >>> 0;
      if (delta === 0 || delta > 0x7fffffff) return false; // duplicate or late: the channel is unordered
      if (delta > 1) {
        this.#lost[kind] += delta - 1;
        if (kind === 'video' || kind === 'screen') s.waitingForKeyframe = true;
      }
    }
    s.last = frameNumber;
    if (s.waitingForKeyframe) {
      if (keyframe) {
        s.waitingForKeyframe = false;
        return true;
      }
      this.droppedWaiting++;
      this.#request(sender, streamId, s);
      return false;
    }
    return true;
  }

  /** A frame that was accepted could not be decrypted or decoded: resynchronise at a keyframe. */
  failed(sender: string, kind: StreamKind, streamId: number): void {
    if (kind !== 'video' && kind !== 'screen') return;
    const s = this.#streams.get(`${sender}/${kind}/${streamId}`);
    if (s === undefined) return;
    s.waitingForKeyframe = true;
    this.#request(sender, streamId, s);
  }

  lostByKind(): Readonly<Record<StreamKind, number>> {
    return this.#lost;
  }

  reset(): void {
    this.#streams.clear();
  }

  #request(sender: string, streamId: number, s: StreamState): void {
    const now = this.#o.clock.monotonic();
    if (now - s.lastRequestAt < (this.#o.minRequestGapMs ?? 500)) return;
    s.lastRequestAt = now;
    this.#o.requestKeyframe(sender, streamId);
  }
}
