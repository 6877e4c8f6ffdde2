/**
 * Meeting chat on the encrypted `data` stream (docs/protocol.md "# Chat"): group messages every
 * member can read, and one-to-one messages sealed again under the pair's direct key (src/e2ee/
 * direct.ts), so the other members — who hold the meeting key and receive every data frame — cannot.
 *
 *   {"v":1,"type":"chat","id":I,"seq":n,"to":"all","at":ms,"text":T}
 *   {"v":1,"type":"chat","id":I,"seq":n,"to":P,"at":ms,"sealed":{"iv":…,"box":…}}   box = {"id","seq","text"}
 *   {"v":1,"type":"chat-ack","to":P,"ids":[I…]}                                      at most 16 ids
 *
 * Each sender numbers its messages per conversation (the group, or one recipient); receivers show
 * them in that order, hold early ones until the gap fills (or 5 s pass), drop repeats by id, and
 * acknowledge every message they were sent. Senders resend what is not acknowledged every 3 s to
 * whoever it was for and is still present, after a reconnect too, and give up when they leave.
 * Pure: time comes in as arguments; sending goes through the injected port.
 */
import { encodeBase64Url } from '../core/encoding.ts';
import { RoomdError } from '../core/errors.ts';
import type { DirectCrypto } from '../e2ee/index.ts';
import { encodeDataMessage, isSeq, type DataMessage } from './data-message.ts';

/** Text of one message: 1 to 1000 UTF-8 bytes, no control characters but line breaks. */
export const MAX_CHAT_TEXT_BYTES = 1000;
/** Messages kept for the screen, newest last. */
export const CHAT_HISTORY = 200;
/** Own messages waiting for acknowledgements; an older one is given up when a newer needs room. */
const MAX_OUTBOX = 64;
const RESEND_MS = 3000;
const HOLD_MS = 5000;
const MAX_HELD = 32;
const MAX_ACK_IDS = 16;
const MAX_SEEN = 1024;
/** The last millisecond a JavaScript Date can show. */
const MAX_DATE_MS = 8.64e15;

export interface ChatEntry {
  readonly id: string;
  /** The sender's participant id (ours for our own messages). */
  readonly from: string;
  readonly fromName: string;
  /** 'all', or the recipient's participant id. */
  readonly to: string;
  readonly toName: string | null;
  readonly text: string;
  /** Wall-clock ms: the sender's for messages received, ours for ours. */
  readonly at: number;
  readonly mine: boolean;
  /** Everyone it was for acknowledged it (own messages; true for received ones). */
  readonly delivered: boolean;
}

export interface ChatMember {
  readonly id: string;
  readonly name: string;
  /** Holds the meeting key (only keyed members can read chat). */
  readonly keyed: boolean;
  readonly self: boolean;
}

export interface ChatPort {
  /** Put one payload on our `data` stream; false when it could not be sent now. */
  send(payload: Uint8Array): boolean;
  /** The E2EE session's one-to-one keys, or null (none yet, or an enhanced meeting). */
  direct(): DirectCrypto | null;
  /** Ask the E2EE session to make a one-to-one key with `peer`. */
  requestDirect(peer: string): void;
  /** Who is in the meeting now (the verified roster in E2EE meetings). */
  members(): readonly ChatMember[];
  /** Random bytes for message ids. */
  random(n: number): Uint8Array;
  /**
   * Whether one-to-one messages can be sealed for their recipient alone: in E2EE meetings; not in
   * enhanced ones, where every member and the service hold the only key there is.
   */
  privateMessages(): boolean;
}

export type ChatSendError =
  | 'meeting.chat_no_private'
  | 'meeting.chat_invalid'
  | 'meeting.chat_unknown_recipient'
  | 'meeting.chat_not_ready';

interface Outgoing {
  readonly id: string;
  readonly seq: number;
  readonly to: string;
  readonly text: string;
  readonly at: number;
  /** Members it is for that have not acknowledged it. */
  readonly waiting: Set<string>;
  lastSentAt: number;
  /** Someone it was for left before acknowledging it: never `delivered`. */
  abandoned: boolean;
}

interface Conversation {
  next: number | undefined;
  readonly held: Map<number, { entry: ChatEntry; at: number }>;
}

/** Whether `text` may be sent as a chat message. */
export function validChatText(text: string): boolean {
  // C0 and C1 controls (but the line feed) and the bidirectional overrides and isolates, which could
  // make a message read as something else on the screen.
  if (text.length === 0 || /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text))
    return false;
  return new TextEncoder().encode(text).byteLength <= MAX_CHAT_TEXT_BYTES;
}

export class ChatChannel {
  readonly #port: ChatPort;
  readonly #history: ChatEntry[] = [];
  readonly #outbox: Outgoing[] = [];
  readonly #seq = new Map<string, number>();
  readonly #conversations = new Map<string, Conversation>();
  readonly #seen = new Set<string>();
  #onChange: (() => void) | null = null;
  /** Received chat messages that were malformed, forged, or not for us to read. */
  refused = 0;
  /** Own messages given up before everyone acknowledged them. */
  givenUp = 0;

  constructor(port: ChatPort) {
    this.#port = port;
  }

  onChange(fn: () => void): void {
    this.#onChange = fn;
  }

  /** What the screen shows: newest last, at most CHAT_HISTORY. */
  get messages(): readonly ChatEntry[] {
    return this.#history;
  }

  /** Send `text` to everyone ('all') or one participant; the message shows at once as ours. */
  send(
    text: string,
    to: string,
    now: number,
    wallNow: number,
  ): { ok: true; id: string } | { ok: false; code: ChatSendError } {
    if (!validChatText(text)) return { ok: false, code: 'meeting.chat_invalid' };
    const members = this.#port.members();
    const self = members.find((m) => m.self);
    if (self === undefined || !self.keyed) return { ok: false, code: 'meeting.chat_not_ready' };
    const others = members.filter((m) => !m.self && m.keyed);
    const recipient = to === 'all' ? null : (others.find((m) => m.id === to) ?? undefined);
    if (recipient === undefined) return { ok: false, code: 'meeting.chat_unknown_recipient' };
    if (recipient !== null && !this.#port.privateMessages())
      return { ok: false, code: 'meeting.chat_no_private' };
    const seq = this.#seq.get(to) ?? 0;
    this.#seq.set(to, seq + 1);
    const id = encodeBase64Url(this.#port.random(9));
    const out: Outgoing = {
      id,
      seq,
      to,
      text,
      at: wallNow,
      waiting: new Set(recipient === null ? others.map((m) => m.id) : [recipient.id]),
      lastSentAt: Number.NEGATIVE_INFINITY,
      abandoned: false,
    };
    this.#outbox.push(out);
    if (this.#outbox.length > MAX_OUTBOX) {
      this.#outbox.shift();
      this.givenUp++;
    }
    this.#remember({
      id,
      from: self.id,
      fromName: self.name,
      to,
      toName: recipient?.name ?? null,
      text,
      at: wallNow,
      mine: true,
      delivered: out.waiting.size === 0,
    });
    this.#transmit(out, now);
    return { ok: true, id };
  }

  /** One chat or chat-ack message from `from` (the sender the frame's key proved). */
  receive(from: string, msg: DataMessage, now: number): void {
    if (msg.type === 'chat-ack') this.#onAck(from, msg);
    else if (msg.type === 'chat') this.#onChat(from, msg, now);
  }

  /** Resend what is due, release held messages whose gap did not fill, forget who left. */
  tick(now: number): void {
    const members = this.#port.members();
    // Not a keyed member ourselves (reconnecting, not keyed again yet): we cannot tell who left nor
    // send; what waits is kept for when we are back ("after a reconnect too", docs/protocol.md "# Chat").
    if (!members.some((m) => m.self && m.keyed)) return;
    const present = new Set(members.filter((m) => m.keyed && !m.self).map((m) => m.id));
    for (let i = this.#outbox.length - 1; i >= 0; i--) {
      const out = this.#outbox[i]!;
      for (const id of out.waiting)
        if (!present.has(id)) {
          out.waiting.delete(id);
          out.abandoned = true;
        }
      if (out.waiting.size === 0) this.#settle(i);
      else if (now - out.lastSentAt >= RESEND_MS) this.#transmit(out, now);
    }
    for (const [key, conv] of this.#conversations) {
      if (!present.has(key.split('\n')[0]!)) {
        this.#conversations.delete(key);
        continue;
      }
      const oldest = [...conv.held.values()].reduce((m, h) => Math.min(m, h.at), Number.POSITIVE_INFINITY);
      if (now - oldest < HOLD_MS) continue;
      // The missing messages are not coming (their sender gave up or left): go on from what is here.
      conv.next = Math.min(...conv.held.keys());
      this.#flush(conv);
    }
  }

  #transmit(out: Outgoing, now: number): void {
    out.lastSentAt = now;
    if (out.to === 'all') {
      this.#port.send(
        encodeDataMessage({ type: 'chat', id: out.id, seq: out.seq, to: 'all', at: out.at, text: out.text }),
      );
      return;
    }
    const direct = this.#port.direct();
    if (direct === null || !direct.ready(out.to)) {
      // The pair is made first; the next resend carries the message.
      this.#port.requestDirect(out.to);
      out.lastSentAt = now - RESEND_MS + 500;
      return;
    }
    const inner = new TextEncoder().encode(JSON.stringify({ id: out.id, seq: out.seq, text: out.text }));
    const sealed = direct.seal(out.to, inner);
    this.#port.send(
      encodeDataMessage({ type: 'chat', id: out.id, seq: out.seq, to: out.to, at: out.at, sealed }),
    );
  }

  #settle(index: number): void {
    const out = this.#outbox[index]!;
    this.#outbox.splice(index, 1);
    if (out.abandoned) {
      this.givenUp++;
      return;
    }
    const i = this.#history.findIndex((e) => e.id === out.id && e.mine);
    if (i >= 0) {
      this.#history[i] = { ...this.#history[i]!, delivered: true };
      this.#onChange?.();
    }
  }

  #onAck(from: string, msg: DataMessage): void {
    const ids = msg['ids'];
    if (!Array.isArray(ids) || ids.length > MAX_ACK_IDS || ids.some((i) => typeof i !== 'string')) {
      this.refused++;
      return;
    }
    const self = this.#port.members().find((m) => m.self);
    if (msg['to'] !== self?.id) return; // an acknowledgement for someone else
    for (let i = this.#outbox.length - 1; i >= 0; i--) {
      const out = this.#outbox[i]!;
      if (!ids.includes(out.id) || !out.waiting.delete(from)) continue;
      if (out.waiting.size === 0) this.#settle(i);
    }
  }

  #onChat(from: string, msg: DataMessage, now: number): void {
    const id = msg['id'];
    const seq = msg['seq'];
    const to = msg['to'];
    const at = msg['at'];
    if (
      typeof id !== 'string' ||
      id.length > 64 ||
      !isSeq(seq) ||
      typeof to !== 'string' ||
      // The sender's wall clock in whole ms: anything else would show as a nonsense time.
      !isSeq(at) ||
      at > MAX_DATE_MS
    ) {
      this.refused++;
      return;
    }
    const members = this.#port.members();
    const self = members.find((m) => m.self);
    const sender = members.find((m) => m.id === from);
    if (self === undefined || sender === undefined) return;
    let text: unknown;
    if (to === 'all') {
      text = msg['text'];
    } else {
      if (to !== self.id) return; // another pair's conversation: sealed for them, not for us
      text = this.#openDirect(from, msg, id, seq);
    }
    if (typeof text !== 'string' || !validChatText(text)) {
      this.refused++;
      return;
    }
    this.#port.send(encodeDataMessage({ type: 'chat-ack', to: from, ids: [id] }));
    if (this.#seen.has(id)) return;
    const entry: ChatEntry = {
      id,
      from,
      fromName: sender.name,
      to,
      toName: to === 'all' ? null : self.name,
      text,
      at,
      mine: false,
      delivered: true,
    };
    const key = `${from}\n${to}`;
    let conv = this.#conversations.get(key);
    if (conv === undefined) {
      conv = { next: seq, held: new Map() };
      this.#conversations.set(key, conv);
    }
    if (conv.next !== undefined && seq < conv.next) {
      // Behind the conversation's start or a gap given up on (it arrived late, or before the
      // first one we saw): acknowledged, so shown now rather than lost.
      this.#remember(entry);
      this.#onChange?.();
      return;
    }
    if (conv.held.size >= MAX_HELD && !conv.held.has(seq)) {
      this.refused++;
      return;
    }
    conv.held.set(seq, { entry, at: now });
    this.#flush(conv);
  }

  #openDirect(from: string, msg: DataMessage, id: string, seq: number): unknown {
    const sealed = msg['sealed'] as { iv?: unknown; box?: unknown } | undefined;
    const direct = this.#port.direct();
    if (
      typeof sealed !== 'object' ||
      sealed === null ||
      typeof sealed.iv !== 'string' ||
      typeof sealed.box !== 'string' ||
      direct === null
    )
      return undefined;
    if (!direct.ready(from)) {
      // They made a pair we lost (or never finished): ask for a new one; their resend will open.
      this.#port.requestDirect(from);
      return undefined;
    }
    let inner: unknown;
    try {
      inner = JSON.parse(
        new TextDecoder('utf-8', { fatal: true }).decode(
          direct.open(from, { iv: sealed.iv, box: sealed.box }),
        ),
      );
    } catch (err) {
      if (err instanceof SyntaxError || err instanceof TypeError || isRefusal(err)) return undefined;
      throw err;
    }
    const o = inner as Record<string, unknown> | null;
    // The sealed id and number must be the outer ones: another member cannot re-label a sealed box.
    if (typeof o !== 'object' || o === null || o['id'] !== id || o['seq'] !== seq) return undefined;
    return o['text'];
  }

  #flush(conv: Conversation): void {
    let changed = false;
    for (;;) {
      const next = conv.next === undefined ? undefined : conv.held.get(conv.next);
      if (next === undefined) break;
      conv.held.delete(conv.next as number);
      conv.next = (conv.next as number) + 1;
      if (this.#seen.has(next.entry.id)) continue;
      this.#remember(next.entry);
      changed = true;
    }
    if (changed) this.#onChange?.();
  }

  #remember(entry: ChatEntry): void {
    this.#seen.add(entry.id);
    if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.values().next().value as string);
    this.#history.push(entry);
    if (this.#history.length > CHAT_HISTORY) this.#history.shift();
    if (entry.mine) this.#onChange?.();
  }
}

/** Errors a direct message that does not open raises (counted as refused). */
function isRefusal(err: unknown): boolean {
  return err instanceof RoomdError && (err.code === 'e2ee.decrypt_failed' || err.code === 'e2ee.unknown_key');
}
