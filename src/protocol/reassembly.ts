/**
 * Reassembly of media chunks into frames (docs/protocol.md "# Wire protocol" §Media chunks).
 * Pure: time comes in as `now`. Chunks may arrive in any order (the channel is unordered) or not at
 * all (partial reliability); an incomplete frame is dropped after `timeoutMs` or when too many frames
 * are pending, and counted.
 */
import type { MediaChunk, MediaChunkHeader, StreamKind } from './media-header.ts';

export interface AssembledFrame {
  sender: number;
  kind: StreamKind;
  streamId: number;
  frameNumber: number;
  keyframe: boolean;
  data: Uint8Array;
}

interface Pending {
  header: MediaChunkHeader;
  parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  firstAt: number;
}

export interface ReassemblerOptions {
  timeoutMs?: number;
  maxPendingFrames?: number;
}

export class Reassembler {
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  /** Frames given up on (timed out or evicted). */
  dropped = 0;
  completed = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#maxPending = options.maxPendingFrames ?? 64;
  }

  /** Adds a chunk; returns the frame when it is complete. Duplicate chunks are ignored. */
  push(chunk: MediaChunk, now: number): AssembledFrame | undefined {
    this.expire(now);
    const h = chunk.header;
    if (h.chunkCount === 1) {
      this.completed++;
      return this.#frame(h, chunk.payload.slice());
    }
    const key = `${h.sender}/${h.kind}/${h.streamId}/${h.frameNumber}`;
    let p = this.#pending.get(key);
    if (p === undefined) {
      if (this.#pending.size >= this.#maxPending) this.#evictOldest();
      p = { header: h, parts: new Array(h.chunkCount), received: 0, bytes: 0, firstAt: now };
      this.#pending.set(key, p);
    }
    if (h.chunkCount !== p.header.chunkCount || p.parts[h.chunkIndex] !== undefined) return undefined;
    p.parts[h.chunkIndex] = chunk.payload.slice();
    p.received++;
    p.bytes += chunk.payload.byteLength;
    if (h.keyframe) p.header = { ...p.header, keyframe: true };
    if (p.received < h.chunkCount) return undefined;
    this.#pending.delete(key);
    const data = new Uint8Array(p.bytes);
    let off = 0;
    for (const part of p.parts) {
      data.set(part!, off);
      off += part!.byteLength;
    }
    this.completed++;
    return this.#frame(p.header, data);
  }

  /** Drops frames older than the timeout; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (const [key, p] of this.#pending) {
      if (now - p.firstAt > this.#timeoutMs) {
        this.#pending.delete(key);
        n++;
      }
    }
    this.dropped += n;
    return n;
  }

  get pendingFrames(): number {
    return this.#pending.size;
  }

  #evictOldest(): void {
    let oldestKey: string | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const [key, p] of this.#pending) {
      if (p.firstAt < oldest) {
        oldest = p.firstAt;
        oldestKey = key;
      }
    }
    if (oldestKey !== undefined) {
      this.#pending.delete(oldestKey);
      this.dropped++;
    }
  }

  #frame(h: MediaChunkHeader, data: Uint8Array): AssembledFrame {
    return {
      sender: h.sender,
      kind: h.kind,
      streamId: h.streamId,
      frameNumber: h.frameNumber,
      keyframe: h.keyframe,
      data,
    };
  }
}
