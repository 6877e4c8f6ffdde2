/**
 * Who shares content (docs/protocol.md "# Content sharing"): one sharer at a time, decided by every
 * client from the claims the others send on the encrypted `data` stream, since the relay cannot see
 * content. A sharer sends its claim on every change and every 3 s:
 *
 *   {"v":1,"type":"share","seq":n,"sharing":bool,"since":ms}
 *
 * The rule, the same on every screen: among the claims of members present, the meeting's host takes
 * over (the latest host claim wins); otherwise the first to share keeps it (the earliest `since`);
 * ties go to the lower participant id. Who is host is the meeting service's word (its roster's
 * `host`, given to the host's proven device), never the claim's. A claim not repeated for 10 s, or
 * of someone who left, is gone. Pure: time comes in as arguments; sending goes through the port.
 */
import { isSeq, type DataMessage, encodeDataMessage } from './data-message.ts';

const REPEAT_MS = 3000;
const EXPIRE_MS = 10_000;

export interface ShareMember {
  readonly id: string;
  readonly self: boolean;
  /** The meeting service lists this member as the meeting's host. */
  readonly host: boolean;
}

export interface SharePort {
  send(payload: Uint8Array): boolean;
  members(): readonly ShareMember[];
}

export interface ShareClaim {
  readonly id: string;
  /** Wall-clock ms (the claimant's) when it started sharing. */
  readonly since: number;
  readonly host: boolean;
}

/** The claim that wins, by the rule above; null when nobody shares. */
export function currentSharer(claims: readonly ShareClaim[]): ShareClaim | null {
  const hosts = claims.filter((c) => c.host);
  const pool = hosts.length > 0 ? hosts : claims;
  let best: ShareClaim | null = null;
  for (const c of pool) {
    if (best === null) best = c;
    else if (hosts.length > 0 ? c.since > best.since : c.since < best.since) best = c;
    else if (c.since === best.since && c.id < best.id) best = c;
  }
  return best;
}

interface Remote {
  readonly seq: number;
  readonly sharing: boolean;
  readonly since: number;
  readonly heardAt: number;
}

export class ShareChannel {
  readonly #port: SharePort;
  readonly #remote = new Map<string, Remote>();
  #mine: { since: number; seq: number; sentAt: number } | null = null;
  #seq = 0;
  #onChange: (() => void) | null = null;
  #onPreempted: (() => void) | null = null;
  #last: string | null = null;
  /** Share messages that were malformed (ignored). */
  refused = 0;

  constructor(port: SharePort) {
    this.#port = port;
  }

  onChange(fn: () => void): void {
    this.#onChange = fn;
  }

  /** Called when our share lost to another (a host took over): stop sending the content. */
  onPreempted(fn: () => void): void {
    this.#onPreempted = fn;
  }

  /** Whether the meeting service lists us as the meeting's host: we may take a share over. */
  get selfHost(): boolean {
    return this.#port.members().find((m) => m.self)?.host === true;
  }

  /** Whether we hold the share now. */
  get sharing(): boolean {
    return this.#mine !== null;
  }

  /** The winning claim now (ours included), or null. */
  sharer(now: number): ShareClaim | null {
    return currentSharer(this.#claims(now));
  }

  /** Start sharing; refused while someone else shares and we are not the host. */
  start(now: number, wallNow: number): { ok: true } | { ok: false; code: 'meeting.share_busy' } {
    if (this.#mine !== null) return { ok: true };
    const self = this.#port.members().find((m) => m.self);
    const other = currentSharer(this.#claims(now));
    if (other !== null && self?.host !== true) return { ok: false, code: 'meeting.share_busy' };
    this.#mine = { since: wallNow, seq: 0, sentAt: Number.NEGATIVE_INFINITY };
    this.#announce(now);
    this.#changed(now);
    return { ok: true };
  }

  stop(now: number): void {
    if (this.#mine === null) return;
    this.#mine = null;
    this.#port.send(encodeDataMessage({ type: 'share', seq: this.#seq++, sharing: false, since: 0 }));
    this.#changed(now);
  }

  /** One share message from `from` (the sender the frame's key proved). */
  receive(from: string, msg: DataMessage, now: number): void {
    const seq = msg['seq'];
    const sharing = msg['sharing'];
    const since = msg['since'];
    if (!isSeq(seq) || typeof sharing !== 'boolean' || typeof since !== 'number' || !Number.isFinite(since)) {
      this.refused++;
      return;
    }
    const before = this.#remote.get(from);
    if (before !== undefined && seq <= before.seq) return;
    this.#remote.set(from, { seq, sharing, since, heardAt: now });
    this.#settle(now);
  }

  /** Repeat our claim, forget stale ones. */
  tick(now: number): void {
    if (this.#mine !== null && now - this.#mine.sentAt >= REPEAT_MS) this.#announce(now);
    this.#settle(now);
  }

  #announce(now: number): void {
    const mine = this.#mine;
    if (mine === null) return;
    mine.sentAt = now;
    this.#port.send(encodeDataMessage({ type: 'share', seq: this.#seq++, sharing: true, since: mine.since }));
  }

  #claims(now: number): ShareClaim[] {
    const members = new Map(this.#port.members().map((m) => [m.id, m]));
    const out: ShareClaim[] = [];
    for (const [id, r] of this.#remote) {
      const m = members.get(id);
      if (m === undefined || m.self || !r.sharing || now - r.heardAt > EXPIRE_MS) continue;
      out.push({ id, since: r.since, host: m.host });
    }
    const self = [...members.values()].find((m) => m.self);
    if (this.#mine !== null && self !== undefined)
      out.push({ id: self.id, since: this.#mine.since, host: self.host });
    return out;
  }

  /** Apply the rule: if our claim lost, stop; tell listeners when the sharer changed. */
  #settle(now: number): void {
    for (const [id, r] of this.#remote) if (now - r.heardAt > EXPIRE_MS) this.#remote.delete(id);
    const winner = currentSharer(this.#claims(now));
    const self = this.#port.members().find((m) => m.self);
    if (this.#mine !== null && winner !== null && winner.id !== self?.id) {
      this.stop(now);
      this.#onPreempted?.();
      return;
    }
    this.#changed(now);
  }

  #changed(now: number): void {
    const w = currentSharer(this.#claims(now));
    const key = w === null ? '' : `${w.id}/${w.since}`;
    if (key === this.#last) return;
    this.#last = key;
    this.#onChange?.();
  }
}
