/**
 * Participant controls on the encrypted path (docs/protocol.md "# Control frames (mute and camera
 * state)"): a sender's mute and camera state travel as small SFrame-encrypted frames on the `data`
 * stream, so the relay neither reads nor forges them. Sent on every change and every few seconds
 * (late joiners learn the state too).
 *
 *   plaintext: UTF-8 JSON {"v":1,"type":"state","muted":bool,"cameraOn":bool,"seq":n}
 *   metadata:  the media layer's 8-byte frame metadata (kind, stream, flags, frame number)
 */
import { frameMetadata } from '../media/pipeline.ts';
import { chunkFrame, tryDecodeMediaChunk } from '../protocol/media-header.ts';
import { Reassembler } from '../protocol/reassembly.ts';
import type { MeetingSession } from './session.ts';

export const CONTROL_STREAM = 2;
const MAX_CONTROL_BYTES = 1024;
/**
 * Reassembly caps for control frames: a sealed control frame is at most MAX_CONTROL_BYTES plus the
 * SFrame header and tag, so one chunk; two are allowed, more is refused (docs/protocol.md §Limits).
 */
const CONTROL_REASSEMBLY = {
  timeoutMs: 2000,
  maxPendingFrames: 16,
  maxChunksPerFrame: 2,
  maxFrameBytes: 2 * MAX_CONTROL_BYTES,
  maxPendingBytes: 16 * 2 * MAX_CONTROL_BYTES,
};

export interface ControlState {
  muted: boolean;
  cameraOn: boolean;
}

export const REACTION_KINDS = ['thumbs_up', 'clap', 'heart', 'laugh', 'surprised', 'raise_hand'] as const;
export type ReactionKind = (typeof REACTION_KINDS)[number];

export interface ReceivedReaction {
  participantId: string;
  reaction: ReactionKind;
  at: number;
}

export function encodeControl(state: ControlState, seq: number): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ v: 1, type: 'state', muted: state.muted, cameraOn: state.cameraOn, seq }),
  );
}

export function encodeReaction(reaction: ReactionKind, seq: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, type: 'reaction', reaction, seq }));
}

/** The JSON object of a decrypted control frame with a valid `seq`, or null. */
function parseFrame(bytes: Uint8Array, type: 'state' | 'reaction'): Record<string, unknown> | null {
  if (bytes.byteLength > MAX_CONTROL_BYTES) return null;
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  const o = v as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || o['v'] !== 1 || o['type'] !== type) return null;
  if (typeof o['seq'] !== 'number' || !Number.isSafeInteger(o['seq']) || o['seq'] < 0) return null;
  return o;
}

/** Strict parse of a decrypted reaction frame; null for anything else. */
export function decodeReaction(bytes: Uint8Array): { reaction: ReactionKind; seq: number } | null {
  const o = parseFrame(bytes, 'reaction');
  if (o === null || !REACTION_KINDS.includes(o['reaction'] as ReactionKind)) return null;
  return { reaction: o['reaction'] as ReactionKind, seq: o['seq'] as number };
}

/** Strict parse of a decrypted control frame; null for anything else (ignored, never half-applied). */
export function decodeControl(bytes: Uint8Array): (ControlState & { seq: number }) | null {
  const o = parseFrame(bytes, 'state');
  if (o === null || typeof o['muted'] !== 'boolean' || typeof o['cameraOn'] !== 'boolean') return null;
  return { muted: o['muted'], cameraOn: o['cameraOn'], seq: o['seq'] as number };
}

/** Sends our control state and keeps the latest verified state of every other participant. */
export class ControlChannel {
  readonly remote = new Map<string, ControlState>();
  /** The last reactions from the others (newest last, at most 20). */
  readonly reactions: ReceivedReaction[] = [];
  readonly #session: MeetingSession;
  readonly #reassembler = new Reassembler(CONTROL_REASSEMBLY);
  readonly #lastSeq = new Map<string, number>();
  #frame = 0;
  #seq = 0;
  #onChange: (() => void) | null = null;
  #malformed = 0;
  /** Unexpected errors caught by the receive guard in push() (the chunk was dropped). */
  guardTrips = 0;

  constructor(session: MeetingSession) {
    this.#session = session;
  }

  onChange(fn: () => void): void {
    this.#onChange = fn;
  }

  /** Encrypt and send our state; false when not possible yet (no key, no channel). */
  send(state: ControlState): boolean {
    return this.#sendPlain(encodeControl(state, this.#seq++));
  }

  /** Encrypt and send a reaction to everyone. */
  react(reaction: ReactionKind): boolean {
    return this.#sendPlain(encodeReaction(reaction, this.#seq++));
  }

  #sendPlain(plain: Uint8Array): boolean {
    if (!this.#session.mediaReady) return false;
    const n = this.#frame;
    try {
      const sealed = this.#session.seal('data', plain, frameMetadata('data', CONTROL_STREAM, true, n));
      this.#frame = (n + 1) >>> 0;
      let ok = true;
      for (const c of chunkFrame(sealed, {
        kind: 'data',
        streamId: CONTROL_STREAM,
        keyframe: true,
        frameNumber: n,
      })) {
        ok = this.#session.sendChunk(c) && ok;
      }
      return ok;
    } catch {
      return false;
    }
  }

  /** Control chunks refused: a bad header, or over the reassembly caps. */
  get rejectedChunks(): number {
    return this.#malformed + this.#reassembler.refused;
  }

  /** Payload bytes held by incomplete control frames (bounded by the caps above). */
  get pendingBytes(): number {
    return this.#reassembler.pendingBytes;
  }

  /**
   * One raw chunk from the relay; returns true when it was a control chunk (consumed here).
   * Last-resort guard: an unexpected error drops the chunk and is counted, never thrown.
   */
  push(raw: Uint8Array, now: number): boolean {
    if (raw.byteLength < 3 || raw[1] !== 3) return false;
    try {
      this.#push(raw, now);
    } catch {
      this.guardTrips++;
    }
    return true;
  }

  #push(raw: Uint8Array, now: number): void {
    const decoded = tryDecodeMediaChunk(raw);
    if (!decoded.ok) {
      this.#malformed++;
      return;
    }
    const frame = this.#reassembler.push(decoded.chunk, now);
    if (frame === undefined) return;
    const sender = String(frame.sender);
    let plain: Uint8Array;
    try {
      plain = this.#session.open(
        frame.sender,
        'data',
        frame.data,
        frameMetadata('data', frame.streamId, frame.keyframe, frame.frameNumber),
      );
    } catch {
      return;
    }
    const reaction = decodeReaction(plain);
    const state = reaction === null ? decodeControl(plain) : null;
    const seq = reaction?.seq ?? state?.seq;
    if (seq === undefined || seq <= (this.#lastSeq.get(sender) ?? -1)) return;
    this.#lastSeq.set(sender, seq);
    if (reaction !== null) {
      this.reactions.push({ participantId: sender, reaction: reaction.reaction, at: Date.now() });
      if (this.reactions.length > 20) this.reactions.shift();
      this.#onChange?.();
      return;
    }
    if (state === null) return;
    const before = this.remote.get(sender);
    this.remote.set(sender, { muted: state.muted, cameraOn: state.cameraOn });
    if (before?.muted !== state.muted || before?.cameraOn !== state.cameraOn) this.#onChange?.();
    return;
  }
}
