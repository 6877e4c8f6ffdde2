/**
 * Participant controls on the encrypted path (docs/protocol.md "# Control frames (mute and camera
 * state)"): a sender's mute and camera state and reactions travel as small messages on the `data`
 * stream — the same encrypted stream path as audio and video — so the relay neither reads nor forges
 * them. State is sent on every change and every few seconds (late joiners learn it too).
 *
 *   payload: UTF-8 JSON {"v":1,"type":"state","muted":bool,"cameraOn":bool,"seq":n}
 *            or {"v":1,"type":"reaction","reaction":"clap","seq":n}, at most 1 KiB
 */
import type { Clock } from '../core/clock.ts';
import { REACTIONS, type Reaction } from '../protocol/vocabulary.ts';
import { type DataMessage, isSeq, parseDataMessage } from './data-message.ts';

const MAX_CONTROL_BYTES = 1024;

export interface ControlState {
  muted: boolean;
  cameraOn: boolean;
}

export interface ReceivedReaction {
  participantId: string;
  reaction: Reaction;
  at: number;
}

export function encodeControl(state: ControlState, seq: number): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ v: 1, type: 'state', muted: state.muted, cameraOn: state.cameraOn, seq }),
  );
}

export function encodeReaction(reaction: Reaction, seq: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, type: 'reaction', reaction, seq }));
}

/** The message of a decrypted data frame of `type` with a valid `seq` and at most 1 KiB, or null. */
function parseFrame(bytes: Uint8Array, type: 'state' | 'reaction'): DataMessage | null {
  if (bytes.byteLength > MAX_CONTROL_BYTES) return null;
  const o = parseDataMessage(bytes);
  return o !== null && o.type === type && isSeq(o['seq']) ? o : null;
}

/** Strict parse of a decrypted reaction frame; null for anything else. */
export function decodeReaction(bytes: Uint8Array): { reaction: Reaction; seq: number } | null {
  const o = parseFrame(bytes, 'reaction');
  if (o === null || !REACTIONS.includes(o['reaction'] as Reaction)) return null;
  return { reaction: o['reaction'] as Reaction, seq: o['seq'] as number };
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
  /** Opened control frames that were not a control message we know (ignored). */
  malformed = 0;
  readonly #send: (payload: Uint8Array) => boolean;
  readonly #clock: Clock;
  readonly #lastSeq = new Map<string, number>();
  #seq = 0;
  #onChange: (() => void) | null = null;

  /** `send` puts one payload on our encrypted `data` stream; false when it could not be sent. */
  constructor(send: (payload: Uint8Array) => boolean, clock: Clock) {
    this.#send = send;
    this.#clock = clock;
  }

  onChange(fn: () => void): void {
    this.#onChange = fn;
  }

  /** Send our state; false when not possible yet (no key, no channel). */
  send(state: ControlState): boolean {
    return this.#send(encodeControl(state, this.#seq++));
  }

  /** Send a reaction to everyone. */
  react(reaction: Reaction): boolean {
    return this.#send(encodeReaction(reaction, this.#seq++));
  }

  /** One opened `data` frame from `sender`: applied when it is a newer control message. */
  receive(sender: string, payload: Uint8Array): void {
    const reaction = decodeReaction(payload);
    const state = reaction === null ? decodeControl(payload) : null;
    const seq = reaction?.seq ?? state?.seq;
    if (seq === undefined) {
      this.malformed++;
      return;
    }
    if (seq <= (this.#lastSeq.get(sender) ?? -1)) return;
    this.#lastSeq.set(sender, seq);
    if (reaction !== null) {
      this.reactions.push({ participantId: sender, reaction: reaction.reaction, at: this.#clock.now() });
      if (this.reactions.length > 20) this.reactions.shift();
      this.#onChange?.();
      return;
    }
    if (state === null) return;
    const before = this.remote.get(sender);
    this.remote.set(sender, { muted: state.muted, cameraOn: state.cameraOn });
    if (before?.muted !== state.muted || before?.cameraOn !== state.cameraOn) this.#onChange?.();
  }

  /** Forget a participant who left. */
  forget(sender: string): void {
    this.remote.delete(sender);
    this.#lastSeq.delete(sender);
  }
}
