/**
 * Admission rules (docs/protocol.md §Admission rules), as a pure decision over the meeting, its
 * account, the join message and the relay's view, plus the wrong-passcode budgets
 * (`PasscodeLockout`, docs/protocol.md §Wrong passcodes; decision 0010): per meeting, per remote
 * address and per proven identity key, each with free failures and then exponential waits. A
 * claimed device id never counts; identities that know the passcode already (admitted before, the
 * proven host, the booked room) are exempt from the meeting and address budgets, so nobody can aim
 * a lockout at them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { MIN_E2EE_PROTOCOL } from '../protocol/limits.ts';
import { isE2eeCapable } from '../protocol/vocabulary.ts';
import type { ClientMessageOf, RefusalReason } from '../protocol/schemas.ts';
import type { Account, MeetingRecord } from './registry.ts';

export type AdmissionDecision =
  | { kind: 'admitted'; host: boolean }
  | { kind: 'waiting' }
  | {
      kind: 'refused';
      reason: RefusalReason;
      message: string;
      retryAfterSeconds?: number;
      attemptsLeft?: number;
    };

export interface AdmissionContext {
  now: number;
  /** The meeting record, or undefined when no meeting has that id. */
  meeting: MeetingRecord | undefined;
  account: Account | undefined;
  /** The join presents the host key and a valid proof for it. */
  hostProven: boolean;
  /** The join presents the host key but the proof is missing or wrong. */
  hostProofFailed: boolean;
  /** The host has joined this meeting occurrence (is present or was). */
  hostHasJoined: boolean;
  /** The join carries an identity proof that does not verify (or one without an identity key). */
  identityProofFailed: boolean;
  /** The wrong-passcode budgets as they stand for this join. */
  lockout: LockoutStatus;
  /** Called when the passcode is wrong, to count the failure; returns the budgets after it. */
  recordFailure: () => LockoutStatus;
}

const CLIENT_NAMES: Record<string, string> = {
  web: 'Web browsers without end-to-end encryption',
  phone: 'Telephone dial-in',
  sip: 'SIP room systems',
  h323: 'H.323 room systems',
};

export function passcodeMatches(expected: string | null, given: string | undefined): boolean {
  if (expected === null) return true;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256')
    .update(given ?? '', 'utf8')
    .digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

export function decideAdmission(join: ClientMessageOf<'join'>, ctx: AdmissionContext): AdmissionDecision {
  const m = ctx.meeting;
  if (m === undefined) {
    return { kind: 'refused', reason: 'meeting_not_found', message: 'There is no meeting with that ID.' };
  }
  if (ctx.identityProofFailed) {
    return {
      kind: 'refused',
      reason: 'bad_identity_proof',
      message: 'This device presented an identity key but could not prove that it holds it.',
    };
  }
  // A held-back attempt is refused before the passcode is even compared: no guess while waiting.
  if (ctx.lockout.retryAfterMs > 0) return lockedOut(ctx.lockout.retryAfterMs);
  if (!passcodeMatches(m.passcode, join.passcode)) {
    const after = ctx.recordFailure();
    return {
      kind: 'refused',
      reason: 'bad_passcode',
      message:
        after.retryAfterMs > 0
          ? `The passcode is wrong. Too many wrong passcodes: try again in ${waitText(after.retryAfterMs)}.`
          : 'The passcode is wrong.',
      attemptsLeft: after.attemptsLeft,
      ...(after.retryAfterMs > 0 ? { retryAfterSeconds: Math.ceil(after.retryAfterMs / 1000) } : {}),
    };
  }
  if (m.end !== null && Date.parse(m.end) <= ctx.now) {
    return { kind: 'refused', reason: 'meeting_ended', message: 'This meeting has ended.' };
  }
  if (m.encryption === 'e2ee') {
    if (ctx.account === undefined || !ctx.account.allowE2ee) {
      return {
        kind: 'refused',
        reason: 'e2ee_not_allowed',
        message:
          'This meeting is end-to-end encrypted, but the account no longer allows end-to-end encryption.',
      };
    }
    const name = CLIENT_NAMES[join.client];
    // A web client is refused only without the E2EE protocol; phone, SIP and H.323 always are.
    if (name !== undefined && !isE2eeCapable(join.client, join.protocol)) {
      return {
        kind: 'refused',
        reason: 'client_not_allowed',
        message: `${name} cannot join end-to-end encrypted meetings. Join from the desktop or mobile app or a room system.`,
      };
    }
    if (!isE2eeCapable(join.client, join.protocol)) {
      return {
        kind: 'refused',
        reason: 'protocol_too_old',
        message: `This app is too old for end-to-end encrypted meetings (version ${join.protocol}; ${MIN_E2EE_PROTOCOL} or later needed). Update it and join again.`,
      };
    }
  }
  if (ctx.hostProofFailed) {
    return {
      kind: 'refused',
      reason: 'bad_host_proof',
      message: "This device presented the host's identity but could not prove it.",
    };
  }
  if (ctx.hostProven) return { kind: 'admitted', host: true };
  const mayJoinBeforeHost = m.encryption === 'enhanced' && m.joinBeforeHost;
  if (!ctx.hostHasJoined && !mayJoinBeforeHost) return { kind: 'waiting' };
  return { kind: 'admitted', host: false };
}

function waitText(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 90) return `${s} second${s === 1 ? '' : 's'}`;
  return `${Math.ceil(s / 60)} minutes`;
}

function lockedOut(retryAfterMs: number): AdmissionDecision {
  return {
    kind: 'refused',
    reason: 'locked_out',
    message: `Too many wrong passcodes. Try again in ${waitText(retryAfterMs)}.`,
    retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
  };
}

export const WAITING_MESSAGE = 'Waiting for the host to start the meeting. You will join automatically.';

/** One wrong-passcode budget: `free` failures, then a wait that doubles with each further failure. */
export interface PasscodeBudget {
  /** Failures allowed before any wait. */
  free: number;
  /** The wait after failure number `free`; each further failure doubles it. */
  firstWaitMs: number;
  /** The longest wait. */
  maxWaitMs: number;
  /** A budget is refilled this long after its last failure (must exceed `maxWaitMs`). */
  forgetMs: number;
}

export interface LockoutPolicy {
  /** Per (meeting, proven identity key): a person who mistypes. */
  identity: PasscodeBudget;
  /** Per remote address, across meetings: one source spraying guesses. */
  address: PasscodeBudget;
  /** Per meeting, shared by every join that is not exempt: many sources guessing one passcode. */
  meeting: PasscodeBudget;
  /** Admitted identities remembered per meeting (the oldest are forgotten first). */
  rememberPerMeeting: number;
  /** Identity and address budgets kept at most (the oldest are dropped; the meeting budget still holds). */
  maxCounters: number;
}

/** docs/protocol.md §Wrong passcodes. */
export const DEFAULT_LOCKOUT_POLICY: LockoutPolicy = {
  identity: { free: 5, firstWaitMs: 2_000, maxWaitMs: 300_000, forgetMs: 3_600_000 },
  address: { free: 20, firstWaitMs: 2_000, maxWaitMs: 300_000, forgetMs: 3_600_000 },
  meeting: { free: 20, firstWaitMs: 2_000, maxWaitMs: 300_000, forgetMs: 3_600_000 },
  rememberPerMeeting: 1000,
  maxCounters: 10_000,
};

export interface LockoutOptions {
  clock: Clock;
  policy?: Partial<LockoutPolicy>;
}

/** One join attempt as the budgets see it. */
export interface PasscodeAttempt {
  meetingId: string;
  address: string;
  /** The identity key this join proved (identity or host proof); undefined when unproven. */
  provenIdentity: string | undefined;
  /** Exempt from the meeting and address budgets: the proven host, or the booked room proven by its key. */
  trusted: boolean;
}

export interface LockoutStatus {
  /** How long this join must wait before its passcode is compared (0: now). */
  retryAfterMs: number;
  /** Failures left before waits start, for the tightest budget that applies. */
  attemptsLeft: number;
}

interface Counter {
  failures: number;
  lastAt: number;
}

/** Wait after `failures` failures under `budget` (0 while free). */
export function budgetWaitMs(budget: PasscodeBudget, failures: number): number {
  if (failures < budget.free) return 0;
  const doublings = Math.min(failures - budget.free, 40);
  return Math.min(budget.maxWaitMs, budget.firstWaitMs * 2 ** doublings);
}

/**
 * The wrong-passcode budgets (docs/protocol.md §Wrong passcodes): pure over the injected clock.
 * A join is held back while any budget that applies to it is waiting; a wrong passcode counts
 * against every budget that applies. Budgets that apply: the proven identity's own (if proven);
 * and, unless the identity is exempt, the address's and the meeting's.
 */
export class PasscodeLockout {
  readonly #clock: Clock;
  readonly #policy: LockoutPolicy;
  readonly #meetings = new Map<string, Counter>();
  /** `meetingId|identityKey` and `address` budgets, oldest first (bounded by maxCounters). */
  readonly #identities = new Map<string, Counter>();
  readonly #addresses = new Map<string, Counter>();
  /** Identities that got past the passcode, per meeting, oldest first. */
  readonly #admitted = new Map<string, Set<string>>();

  constructor(options: LockoutOptions) {
    this.#clock = options.clock;
    this.#policy = { ...DEFAULT_LOCKOUT_POLICY, ...options.policy };
  }

  get policy(): LockoutPolicy {
    return this.#policy;
  }

  /** Whether this attempt is exempt from the meeting and address budgets. */
  exempt(a: PasscodeAttempt): boolean {
    if (a.trusted) return true;
    return (
      a.provenIdentity !== undefined && (this.#admitted.get(a.meetingId)?.has(a.provenIdentity) ?? false)
    );
  }

  status(a: PasscodeAttempt): LockoutStatus {
    const now = this.#clock.monotonic();
    let retryAfterMs = 0;
    let attemptsLeft = Number.MAX_SAFE_INTEGER;
    for (const [map, key, budget] of this.#budgets(a)) {
      const c = this.#live(map, key, budget, now);
      const failures = c?.failures ?? 0;
      if (c !== undefined)
        retryAfterMs = Math.max(retryAfterMs, c.lastAt + budgetWaitMs(budget, failures) - now);
      attemptsLeft = Math.min(attemptsLeft, Math.max(0, budget.free - failures));
    }
    if (attemptsLeft === Number.MAX_SAFE_INTEGER) attemptsLeft = this.#policy.identity.free;
    return { retryAfterMs, attemptsLeft };
  }

  recordFailure(a: PasscodeAttempt): LockoutStatus {
    const now = this.#clock.monotonic();
    for (const [map, key, budget] of this.#budgets(a)) {
      const c = this.#live(map, key, budget, now) ?? { failures: 0, lastAt: now };
      c.failures++;
      c.lastAt = now;
      map.delete(key);
      map.set(key, c);
      if (map !== this.#meetings) this.#trim(map);
    }
    return this.status(a);
  }

  /** The passcode was right: remember the proven identity for this meeting and clear its own count. */
  recordSuccess(a: PasscodeAttempt): void {
    if (a.provenIdentity === undefined) return;
    this.#identities.delete(`${a.meetingId}|${a.provenIdentity}`);
    let set = this.#admitted.get(a.meetingId);
    if (set === undefined) {
      set = new Set();
      this.#admitted.set(a.meetingId, set);
    }
    set.delete(a.provenIdentity);
    set.add(a.provenIdentity);
    while (set.size > this.#policy.rememberPerMeeting) set.delete(set.values().next().value as string);
  }

  /** The meeting was deleted: its budgets and admitted identities go with it. */
  forgetMeeting(meetingId: string): void {
    this.#meetings.delete(meetingId);
    this.#admitted.delete(meetingId);
    const prefix = `${meetingId}|`;
    for (const key of [...this.#identities.keys()]) if (key.startsWith(prefix)) this.#identities.delete(key);
  }

  #budgets(a: PasscodeAttempt): [Map<string, Counter>, string, PasscodeBudget][] {
    const out: [Map<string, Counter>, string, PasscodeBudget][] = [];
    const p = this.#policy;
    if (a.provenIdentity !== undefined) {
      out.push([this.#identities, `${a.meetingId}|${a.provenIdentity}`, p.identity]);
    }
    if (!this.exempt(a)) {
      out.push([this.#addresses, a.address, p.address]);
      out.push([this.#meetings, a.meetingId, p.meeting]);
    }
    return out;
  }

  /** The counter, or undefined once it has been quiet for `forgetMs`. */
  #live(map: Map<string, Counter>, key: string, budget: PasscodeBudget, now: number): Counter | undefined {
    const c = map.get(key);
    if (c === undefined) return undefined;
    if (now - c.lastAt >= budget.forgetMs) {
      map.delete(key);
      return undefined;
    }
    return c;
  }

  /** Bounds a map of identity or address budgets: the oldest go first (the meeting budget still holds). */
  #trim(map: Map<string, Counter>): void {
    while (map.size > this.#policy.maxCounters) map.delete(map.keys().next().value as string);
  }
}
