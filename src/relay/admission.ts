/**
 * Admission rules (product brief, "What end-to-end encrypted meeting means"; issue 4 "Admission"),
 * as a pure decision over the meeting, its account, the join message and the relay's view, plus the
 * wrong-passcode lockout: after 10 failures a client (by device id, and by remote address with a
 * higher bound since many devices can share one address) is locked out of that meeting for 30 minutes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { isE2eeCapable, MIN_E2EE_PROTOCOL } from '../protocol/limits.ts';
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
  lockout: { lockedForMs: number; attemptsLeft: number };
  /** Called when the passcode is wrong, to count the failure; returns the lockout state after it. */
  recordFailure: () => { lockedForMs: number; attemptsLeft: number };
}

const CLIENT_NAMES: Record<string, string> = {
  web: 'Web browsers',
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
  if (ctx.lockout.lockedForMs > 0) {
    const retryAfterSeconds = Math.ceil(ctx.lockout.lockedForMs / 1000);
    return {
      kind: 'refused',
      reason: 'locked_out',
      message: `Too many wrong passcodes. Try again in ${Math.ceil(retryAfterSeconds / 60)} minutes.`,
      retryAfterSeconds,
    };
  }
  if (!passcodeMatches(m.passcode, join.passcode)) {
    const after = ctx.recordFailure();
    if (after.lockedForMs > 0) {
      return {
        kind: 'refused',
        reason: 'locked_out',
        message: `Too many wrong passcodes. Try again in ${Math.ceil(after.lockedForMs / 60_000)} minutes.`,
        retryAfterSeconds: Math.ceil(after.lockedForMs / 1000),
      };
    }
    return {
      kind: 'refused',
      reason: 'bad_passcode',
      message: 'The passcode is wrong.',
      attemptsLeft: after.attemptsLeft,
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
    if (name !== undefined) {
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

export const WAITING_MESSAGE = 'Waiting for the host to start the meeting. You will join automatically.';

export interface LockoutOptions {
  clock: Clock;
  threshold?: number;
  addressThreshold?: number;
  lockMs?: number;
}

interface Counter {
  failures: number;
  lockedUntil: number;
}

/** Counts wrong passcodes per (meeting, device id) and per (meeting, remote address). */
export class PasscodeLockout {
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #addressThreshold: number;
  readonly #lockMs: number;
  readonly #counters = new Map<string, Counter>();

  constructor(options: LockoutOptions) {
    this.#clock = options.clock;
    this.#threshold = options.threshold ?? 10;
    this.#addressThreshold = options.addressThreshold ?? 30;
    this.#lockMs = options.lockMs ?? 30 * 60_000;
  }

  status(
    meetingId: string,
    deviceId: string,
    address: string,
  ): { lockedForMs: number; attemptsLeft: number } {
    const now = this.#clock.now();
    const d = this.#get(`d|${meetingId}|${deviceId}`, now);
    const a = this.#get(`a|${meetingId}|${address}`, now);
    const lockedForMs = Math.max(0, d.lockedUntil - now, a.lockedUntil - now);
    const attemptsLeft = Math.max(
      0,
      Math.min(this.#threshold - d.failures, this.#addressThreshold - a.failures),
    );
    return { lockedForMs, attemptsLeft };
  }

  recordFailure(
    meetingId: string,
    deviceId: string,
    address: string,
  ): { lockedForMs: number; attemptsLeft: number } {
    const now = this.#clock.now();
    this.#bump(`d|${meetingId}|${deviceId}`, this.#threshold, now);
    this.#bump(`a|${meetingId}|${address}`, this.#addressThreshold, now);
    return this.status(meetingId, deviceId, address);
  }

  /** A successful join clears the device's count (not the address's). */
  recordSuccess(meetingId: string, deviceId: string): void {
    const key = `d|${meetingId}|${deviceId}`;
    const c = this.#counters.get(key);
    if (c !== undefined && c.lockedUntil <= this.#clock.now()) this.#counters.delete(key);
  }

  #get(key: string, now: number): Counter {
    const c = this.#counters.get(key);
    if (c === undefined) return { failures: 0, lockedUntil: 0 };
    if (c.lockedUntil !== 0 && c.lockedUntil <= now) {
      this.#counters.delete(key);
      return { failures: 0, lockedUntil: 0 };
    }
    return c;
  }

  #bump(key: string, threshold: number, now: number): void {
    const c = this.#get(key, now);
    c.failures++;
    if (c.failures >= threshold) c.lockedUntil = now + this.#lockMs;
    this.#counters.set(key, c);
  }
}
