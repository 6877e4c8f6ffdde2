/**
 * Reassembly of media chunks into frames (docs/protocol.md "# Wire protocol" §Media chunks).
 * Pure: time comes in as `now`. Chunks may arrive in any order (the channel is unordered) or not at
 * all (partial reliability); an incomplete frame is dropped after `timeoutMs` or when too many frames
 * are pending, and counted.
 *
 * Memory is bounded whatever a sender announces: a frame may have at most `maxChunksPerFrame` chunks
 * and `maxFrameBytes` payload bytes (both per stream kind if wanted), and all pending frames together
 * at most `maxPendingBytes`. A chunk over a per-frame cap is refused (and its frame given up); over
 * the total budget the oldest other pending frames are given up to make room.
 *
 * All chunks of one frame carry the same header but for the chunk index: a chunk whose count or
 * flags (keyframe, audio level) differ from the frame's first chunk is ignored and counted
 * (`inconsistent`), like a duplicate; the frame then completes only if consistent chunks arrive.
 */
import { MAX_FRAME_BYTES } from './limits.ts';
import { MAX_CHUNK_PAYLOAD, type MediaChunk, type MediaChunkHeader } from './media-header.ts';
import type { StreamKind } from './vocabulary.ts';

export interface AssembledFrame {
  sender: number;
  kind: StreamKind;
  streamId: number;
  frameNumber: number;
  keyframe: boolean;
  /** From the chunk header: the audio level (-dBov) for audio, AUDIO_LEVEL_SILENT otherwise. */
  audioLevel: number;
  data: Uint8Array;
}

interface Pending {
  header: MediaChunkHeader;
  parts: (Uint8Array | undefined)[];
  received: number;
  bytes: number;
  firstAt: number;
}

/** Chunks a frame of MAX_FRAME_BYTES needs: no sender has a reason to announce more. */
export const MAX_CHUNKS_PER_FRAME = Math.ceil(MAX_FRAME_BYTES / MAX_CHUNK_PAYLOAD);
/** Default budget for all pending frames of one reassembler. */
export const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;

export interface FrameCaps {
  /** Most chunks one frame may announce. */
  maxChunksPerFrame?: number;
  /** Largest frame in payload bytes. */
  maxFrameBytes?: number;
}

export interface ReassemblerOptions extends FrameCaps {
  timeoutMs?: number;
  maxPendingFrames?: number;
  /** Payload bytes held by all pending frames together. */
  maxPendingBytes?: number;
  /** Tighter caps for some stream kinds (e.g. small control frames on `data`). */
  perKind?: Partial<Record<StreamKind, FrameCaps>>;
}

interface Caps {
  chunks: number;
  bytes: number;
}

export class Reassembler {
  readonly #pending = new Map<string, Pending>();
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #maxPendingBytes: number;
  readonly #caps: Caps;
  readonly #perKind: Partial<Record<StreamKind, Caps>> = {};
  #pendingBytes = 0;
  /** Frames given up on (timed out, evicted, or over a cap). */
  dropped = 0;
  completed = 0;
  /** Chunks refused because their frame is over a cap (chunk count or bytes). */
  refused = 0;
  /** Chunks ignored because their chunk count or flags differ from their frame's first chunk. */
  inconsistent = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 1000;
    this.#maxPending = Math.max(1, options.maxPendingFrames ?? 64);
    this.#maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#caps = this.#capsOf(options, { chunks: MAX_CHUNKS_PER_FRAME, bytes: MAX_FRAME_BYTES });
    for (const [kind, caps] of Object.entries(options.perKind ?? {}) as [StreamKind, FrameCaps][]) {
      this.#perKind[kind] = this.#capsOf(caps, this.#caps);
    }
  }

  /** Payload bytes held by pending frames. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  get pendingFrames(): number {
    return this.#pending.size;
  }

  /**
   * Adds a chunk; returns the frame when it is complete. Duplicate chunks are ignored; a chunk over
   * a cap is refused and counted.
   */
  push(chunk: MediaChunk, now: number): AssembledFrame | undefined {
    this.expire(now);
    const h = chunk.header;
    const caps = this.#perKind[h.kind] ?? this.#caps;
    if (h.chunkCount > caps.chunks || chunk.payload.byteLength > caps.bytes) {
      this.refused++;
      return undefined;
    }
    if (h.chunkCount === 1) {
      this.completed++;
      return this.#frame(h, chunk.payload.slice());
    }
    const key = `${h.sender}/${h.kind}/${h.streamId}/${h.frameNumber}`;
    let p = this.#pending.get(key);
    if (p === undefined) {
      if (this.#pending.size >= this.#maxPending) this.#evictOldest(key);
      p = { header: h, parts: new Array(h.chunkCount), received: 0, bytes: 0, firstAt: now };
      this.#pending.set(key, p);
    }
    if (
      h.chunkCount !== p.header.chunkCount ||
      h.keyframe !== p.header.keyframe ||
      h.audioLevel !== p.header.audioLevel
    ) {
      this.inconsistent++;
      return undefined;
    }
    if (p.parts[h.chunkIndex] !== undefined) return undefined;
    const size = chunk.payload.byteLength;
    if (p.bytes + size > caps.bytes) {
      this.refused++;
      this.#drop(key, p);
      return undefined;
    }
    while (this.#pendingBytes + size > this.#maxPendingBytes) {
      if (!this.#evictOldest(key)) break;
    }
    p.parts[h.chunkIndex] = chunk.payload.slice();
    p.received++;
    p.bytes += size;
    this.#pendingBytes += size;
    if (p.received < h.chunkCount) return undefined;
    this.#pending.delete(key);
    this.#pendingBytes -= p.bytes;
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
        this.#drop(key, p);
        n++;
      }
    }
    return n;
  }

  #capsOf(caps: FrameCaps, fallback: Caps): Caps {
    return {
      chunks: Math.max(1, Math.min(caps.maxChunksPerFrame ?? fallback.chunks, 0xffff)),
      // A frame never needs more than the whole budget; a cap above it could never be met.
      bytes: Math.min(caps.maxFrameBytes ?? fallback.bytes, this.#maxPendingBytes),
    };
  }

  #drop(key: string, p: Pending): void {
    this.#pending.delete(key);
    this.#pendingBytes -= p.bytes;
    this.dropped++;
  }

  /** Gives up the oldest pending frame other than `except`; false when there is none. */
  #evictOldest(except: string): boolean {
    let oldestKey: string | undefined;
    let oldest: Pending | undefined;
    for (const [key, p] of this.#pending) {
      if (key !== except && (oldest === undefined || p.firstAt < oldest.firstAt)) {
        oldest = p;
        oldestKey = key;
      }
    }
    if (oldestKey === undefined || oldest === undefined) return false;
    this.#drop(oldestKey, oldest);
    return true;
  }

  #frame(h: MediaChunkHeader, data: Uint8Array): AssembledFrame {
    return {
      sender: h.sender,
      kind: h.kind,
      streamId: h.streamId,
      frameNumber: h.frameNumber,
      keyframe: h.keyframe,
      audioLevel: h.audioLevel,
      data,
    };
  }
}
