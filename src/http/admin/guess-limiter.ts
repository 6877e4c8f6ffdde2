/**
 * How many guesses at the admin secrets (setup code, password) the admin API lets through
 * (docs/kiosk-and-admin-api.md §Lockout). Two budgets:
 *
 * - per client (remote IPv4 address, or IPv6 /64): `perClientFree` failures, then exponential
 *   backoff (`perClientBaseMs` after the last free one, doubling per further failure up to
 *   `perClientMaxMs`). A success clears that client's count and nobody else's.
 * - global, for network clients only: a leaky bucket of failures, `globalCapacity` deep, one
 *   failure forgiven every `globalDrainMs`. While it is full, network sign-in and claim pause.
 *
 * Clients on this machine (loopback: the device's console, or an SSH tunnel to it) are never
 * under the global budget and have a count of their own, so no one on the network can lock the
 * owner out of the device itself.
 *
 * Check-and-count is atomic: `reserve` takes a slot before the slow comparison and counts it as
 * pending, so N parallel guesses from one client are bounded by what that client has left. A
 * reservation is settled exactly once: `fail`, `succeed` or `release` (no verdict).
 *
 * Pure: time is an argument; no timers, no I/O. The caller persists `budget()`.
 */

export interface GuessPolicy {
  /** Failures a client may make before its backoff starts. */
  perClientFree: number;
  /** Backoff after the last free failure; doubles per further failure. */
  perClientBaseMs: number;
  perClientMaxMs: number;
  /** A client's count is forgotten this long after its last failure. */
  clientForgetMs: number;
  /** Clients remembered at most (oldest forgotten first; the global budget still holds). */
  maxClients: number;
  /** Network failures the global bucket holds before network sign-in pauses. */
  globalCapacity: number;
  /** One failure leaks out of the global bucket every this many ms. */
  globalDrainMs: number;
}

const PENDING_RETRY_MS = 1_000;

export const DEFAULT_GUESS_POLICY: GuessPolicy = {
  perClientFree: 5,
  perClientBaseMs: 60_000,
  perClientMaxMs: 60 * 60_000,
  clientForgetMs: 24 * 60 * 60_000,
  maxClients: 10_000,
  globalCapacity: 100,
  globalDrainMs: 5 * 60_000,
};

/** The persisted part: the global bucket's level at a moment. */
export interface GuessBudget {
  level: number;
  at: number;
}

export interface Client {
  /** Counting key: an IPv4 address, an IPv6 /64, or "local". */
  key: string;
  /** On this machine (loopback): outside the global budget. */
  local: boolean;
}

export interface Reservation {
  readonly kind: 'reservation';
  readonly client: Client;
  settled: boolean;
}

export interface Refusal {
  readonly kind: 'refusal';
  /** `client`: this client's backoff; `global`: network sign-in is paused for everyone. */
  readonly scope: 'client' | 'global';
  /** When a new attempt may be let through (ms since the epoch). */
  readonly until: number;
}

interface ClientRecord {
  failures: number;
  pending: number;
  blockedUntil: number;
  lastFailureAt: number;
}

export class GuessLimiter {
  readonly #policy: GuessPolicy;
  readonly #clients = new Map<string, ClientRecord>();
  #level: number;
  #at: number;
  #globalPending = 0;

  constructor(policy: GuessPolicy = DEFAULT_GUESS_POLICY, budget: GuessBudget = { level: 0, at: 0 }) {
    this.#policy = policy;
    this.#level = Math.max(0, Math.min(budget.level, policy.globalCapacity));
    this.#at = budget.at;
  }

  /** Take a slot for one guess, or say until when there is none. */
  reserve(client: Client, now: number): Reservation | Refusal {
    const p = this.#policy;
    const record = this.#record(client.key, now);
    if (record !== undefined && record.blockedUntil > now) {
      return { kind: 'refusal', scope: 'client', until: record.blockedUntil };
    }
    const failures = record?.failures ?? 0;
    const pending = record?.pending ?? 0;
    // Pending guesses count as failures until they are settled; past the free ones, one at a time.
    // They settle within one password hash, so the client may ask again a moment later.
    if (pending >= Math.max(1, p.perClientFree - failures)) {
      return { kind: 'refusal', scope: 'client', until: now + PENDING_RETRY_MS };
    }
    // A guess needs a whole free failure in the bucket (it drains continuously, so "full" means
    // less than one failure of room left).
    if (!client.local && this.#levelAt(now) + this.#globalPending > p.globalCapacity - 1) {
      return { kind: 'refusal', scope: 'global', until: this.#globalFreeAt(now, this.#globalPending) };
    }
    const next = record ?? { failures: 0, pending: 0, blockedUntil: 0, lastFailureAt: now };
    next.pending += 1;
    this.#touch(client.key, next);
    if (!client.local) this.#globalPending += 1;
    return { kind: 'reservation', client, settled: false };
  }

  /** The guess was wrong: count it, start or lengthen this client's backoff, fill the bucket. */
  fail(r: Reservation, now: number): void {
    if (!this.#settle(r)) return;
    const p = this.#policy;
    const record = this.#clients.get(r.client.key);
    if (record !== undefined) {
      record.failures += 1;
      record.lastFailureAt = now;
      if (record.failures >= p.perClientFree) {
        const steps = Math.min(record.failures - p.perClientFree, 30);
        record.blockedUntil = now + Math.min(p.perClientBaseMs * 2 ** steps, p.perClientMaxMs);
      }
    }
    if (!r.client.local) {
      this.#level = Math.min(this.#levelAt(now) + 1, p.globalCapacity);
      this.#at = now;
    }
  }

  /** The guess was right: this client's count starts over. Nobody else's changes. */
  succeed(r: Reservation): void {
    if (!this.#settle(r)) return;
    const record = this.#clients.get(r.client.key);
    if (record === undefined) return;
    record.failures = 0;
    record.blockedUntil = 0;
    if (record.pending === 0) this.#clients.delete(r.client.key);
  }

  /** No verdict (the request failed for another reason): give the slot back uncounted. */
  release(r: Reservation): void {
    if (!this.#settle(r)) return;
    const record = this.#clients.get(r.client.key);
    if (record !== undefined && record.pending === 0 && record.failures === 0) {
      this.#clients.delete(r.client.key);
    }
  }

  /** Whether network sign-in is paused, and until when. */
  globalLock(now: number): { locked: boolean; until: number | null } {
    if (this.#levelAt(now) <= this.#policy.globalCapacity - 1) return { locked: false, until: null };
    return { locked: true, until: this.#globalFreeAt(now, 0) };
  }

  /** The global bucket as of now, to persist. */
  budget(now: number): GuessBudget {
    return { level: this.#levelAt(now), at: now };
  }

  /** Clients with a count or a pending guess (for tests and diagnostics). */
  get trackedClients(): number {
    return this.#clients.size;
  }

  #settle(r: Reservation): boolean {
    if (r.settled) return false;
    r.settled = true;
    const record = this.#clients.get(r.client.key);
    if (record !== undefined) record.pending = Math.max(0, record.pending - 1);
    if (!r.client.local) this.#globalPending = Math.max(0, this.#globalPending - 1);
    return true;
  }

  #levelAt(now: number): number {
    const drained = Math.max(0, now - this.#at) / this.#policy.globalDrainMs;
    return Math.max(0, this.#level - drained);
  }

  /** When the bucket, with `pending` guesses on top, is one failure below full again. */
  #globalFreeAt(now: number, pending: number): number {
    const over = this.#levelAt(now) + pending - (this.#policy.globalCapacity - 1);
    return now + Math.ceil(Math.max(over, 0) * this.#policy.globalDrainMs);
  }

  /** The client's record, forgotten when its last failure is old and nothing is pending. */
  #record(key: string, now: number): ClientRecord | undefined {
    const record = this.#clients.get(key);
    if (record === undefined) return undefined;
    const idle =
      record.pending === 0 &&
      record.blockedUntil <= now &&
      now - record.lastFailureAt >= this.#policy.clientForgetMs;
    if (idle) {
      this.#clients.delete(key);
      return undefined;
    }
    return record;
  }

  /** Most recently used last; past `maxClients`, the least recently used idle ones go. */
  #touch(key: string, record: ClientRecord): void {
    this.#clients.delete(key);
    this.#clients.set(key, record);
    if (this.#clients.size <= this.#policy.maxClients) return;
    for (const [k, r] of this.#clients) {
      if (this.#clients.size <= this.#policy.maxClients) break;
      if (r.pending === 0) this.#clients.delete(k);
    }
  }
}

/**
 * The counting key of a remote address: loopback is "local"; an IPv4-mapped IPv6 address counts
 * as its IPv4 address; other IPv6 addresses count per /64 (one host usually holds a whole /64).
 */
export function clientOf(remoteAddress: string | undefined): Client {
  const raw = (remoteAddress ?? '').trim().toLowerCase();
  const v4 = raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(v4)) {
    return v4.startsWith('127.') ? { key: 'local', local: true } : { key: v4, local: false };
  }
  const groups = expandIpv6(raw);
  if (groups === null) return { key: raw === '' ? 'unknown' : raw, local: false };
  if (groups.every((g, i) => (i === 7 ? g === 1 : g === 0))) return { key: 'local', local: true };
  return {
    key: `${groups
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':')}::/64`,
    local: false,
  };
}

/** Eight 16-bit groups of an IPv6 address (zone id dropped), or null when it is not one. */
function expandIpv6(text: string): number[] | null {
  const address = text.split('%')[0] ?? '';
  if (address.length > 45 || !address.includes(':')) return null;
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] ?? '';
      if (i === pieces.length - 1 && piece.includes('.')) {
        const octets = piece.split('.').map(Number);
        if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return null;
        const [a = 0, b = 0, c = 0, d = 0] = octets;
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9a-f]{1,4}$/.test(piece)) return null;
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  const tail = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
