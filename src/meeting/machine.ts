/**
 * The meeting client's state machine (docs/protocol.md §Session flow): idle → connecting →
 * waiting-for-host → keying → secure ⇄ rekeying → reconnecting → left | failed. A reducer like the
 * E2EE core: `handle(event, now)` takes what the shell (session.ts) observed and returns the effects it
 * must carry out (machine-types.ts). No sockets, timers or clocks here: `now` is monotonic ms, and the
 * wall clock comes inside the events that need it.
 *
 * It checks what the relay says about the meeting (machine-info.ts: the meeting asked for, the
 * minimum encryption, no downgrade after a reconnect), drives one E2EE session per relay connection
 * (each connection is a new participant with fresh ephemeral keys), and turns the E2EE status into the
 * snapshot the screens show (status.ts), with the code-change banner and its wording facts.
 */
import { type ErrorCode, type ErrorContext, humanMessage } from '../core/errors.ts';
import {
  createE2eeSession,
  type E2eeEffect,
  type E2eeSession,
  type DirectCrypto,
  type FrameCrypto,
  type MeetingPolicy,
  type RelayMember,
  strongerMode,
} from '../e2ee/index.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';
import { admissionError } from '../protocol/schemas.ts';
import { checkMeetingInfo } from './machine-info.ts';
import { settingFloor } from './policy-gate.ts';
import {
  JOIN_ANSWER_TIMEOUT_MS,
  type MeetingCounters,
  type MeetingEffect,
  type MeetingError,
  type MeetingEvent,
  type MeetingMachineOptions,
} from './machine-types.ts';
import { CodeChangeFacts, connectedStatus, e2eeFields, type RelayRoster } from './snapshot-view.ts';
import { emptySnapshot, type MeetingSnapshot } from './status.ts';

export interface MeetingMachine {
  readonly snapshot: MeetingSnapshot;
  /** Counted as they happen; the same object for the machine's life. */
  readonly counters: MeetingCounters;
  /** `join` was handled once already. */
  readonly joinRequested: boolean;
  /** The frame keys of the current E2EE session, or null while there is none. */
  readonly frames: FrameCrypto | null;
  /** The one-to-one keys of the current E2EE session, or null (none, or an enhanced meeting). */
  readonly direct: DirectCrypto | null;
  /** The epoch our senders encrypt under (0 before keys). */
  readonly sendEpoch: number;
  handle(event: MeetingEvent, now: number): MeetingEffect[];
}

const DEFAULT_TICK_MS = 200;
const DEFAULT_BANNER_MS = 60_000;
/** One log line per (code, sender) of rejected E2EE input this often; at most this many pairs kept. */
const REJECT_LOG_INTERVAL_MS = 60_000;
const REJECT_LOG_KEYS = 256;

class Machine implements MeetingMachine {
  readonly counters: MeetingCounters = { e2eeRejected: 0, rekeys: 0, reconnects: 0 };
  readonly #o: MeetingMachineOptions;
  #snap: MeetingSnapshot;
  #joinRequested = false;
  /** The join's promise is still open. */
  #joinPending = false;
  /** Why the last connection could not be opened (docs/admin.md §Firewalls), shown while joining. */
  #connectProblem: { code: ErrorCode; message: string } | null = null;
  /** Our participant id on the current relay connection, while admitted. */
  #selfId: string | null = null;
  #e2ee: E2eeSession | null = null;
  /** The first encryption mode the meeting showed: a later weaker one is a downgrade. */
  #firstMode: EncryptionMode | null = null;
  #info: ServerMessageOf<'meeting-info'> | null = null;
  /** The relay's roster and leader on the current connection. */
  #roster: RelayRoster = [];
  #leaderId: string | null = null;
  #wasSecure = false;
  #lastEpoch = 0;
  readonly #codeChange = new CodeChangeFacts();
  /** The last logged rejection per (code, sender), and how many since were left out of the log. */
  readonly #rejectLog = new Map<string, { at: number; quiet: number }>();
  /** Effects of the event being handled, and its time. */
  #out: MeetingEffect[] = [];
  #now = 0;

  constructor(o: MeetingMachineOptions) {
    this.#o = o;
    const expected = strongerMode(
      strongerMode(settingFloor(o.minimumEncryption), o.bookedEncryption),
      o.pinned?.encryption,
    );
    this.#snap = emptySnapshot(o.meetingId, expected);
  }

  get snapshot(): MeetingSnapshot {
    return this.#snap;
  }

  get joinRequested(): boolean {
    return this.#joinRequested;
  }

  get frames(): FrameCrypto | null {
    return this.#e2ee?.frames ?? null;
  }

  get direct(): DirectCrypto | null {
    return this.#e2ee?.direct ?? null;
  }

  get sendEpoch(): number {
    return this.#e2ee?.frames.sendEpoch ?? 0;
  }

  handle(event: MeetingEvent, now: number): MeetingEffect[] {
    // Re-entrant calls (a frame alarm raised while this handles an event) keep their own effects.
    const outer = { out: this.#out, now: this.#now };
    const out: MeetingEffect[] = [];
    this.#out = out;
    this.#now = now;
    if (!this.#over()) this.#dispatch(event);
    else if (event.type === 'join' && !this.#joinRequested) {
      // A join asked of a session that is already over is refused at once, never left hanging.
      this.#joinRequested = true;
      out.push({
        type: 'reject-join',
        code: this.#snap.error?.code ?? 'meeting.join_failed',
        message: this.#snap.error?.message ?? humanMessage(null),
        context: {},
      });
    }
    this.#out = outer.out;
    this.#now = outer.now;
    return out;
  }

  #dispatch(event: MeetingEvent): void {
    switch (event.type) {
      case 'join':
        this.#join();
        return;
      case 'admission':
        this.#admission(event.message, event.wallNow);
        return;
      case 'meeting-info':
        this.#meetingInfo(event.message, event.wallNow, event.pinned);
        return;
      case 'roster':
        this.#roster = event.message.participants;
        this.#codeChange.relayRoster(event.message.participants);
        this.#feedRoster();
        return;
      case 'leader':
        this.#leaderId = event.message.participantId;
        this.#feedRoster();
        return;
      case 'meeting-key':
        this.#apply(
          this.#e2ee?.handle({ type: 'enhanced-key', epoch: event.keyId, key: event.key }, this.#now),
        );
        return;
      case 'e2ee':
        this.#e2eeMessage(event.from, event.payload);
        return;
      case 'relay-error':
        this.#warn({ code: event.code }, `relay error: ${event.message}`);
        return;
      case 'disconnected':
        this.#disconnected(event.willReconnect, event.error);
        return;
      case 'reconnecting':
        if (this.#snap.status !== 'reconnecting') this.#set({ status: 'reconnecting' });
        return;
      case 'connected':
        // A proxy or certificate problem of an earlier attempt is no reason to give up on this one.
        this.#connectProblem = null;
        return;
      case 'tick':
        if (this.#e2ee !== null) this.#apply(this.#e2ee.handle({ type: 'tick' }, this.#now));
        this.#refresh();
        return;
      case 'frame-alarm':
        this.#refresh();
        return;
      case 'direct-request':
        if (this.#e2ee !== null)
          this.#apply(this.#e2ee.handle({ type: 'direct-request', peer: event.peer }, this.#now));
        return;
      case 'join-deadline':
        this.#joinDeadline();
        return;
      case 'leave':
        this.#end('left', null);
        return;
      case 'acknowledge-code-change':
        this.#codeChange.acknowledge();
        this.#refresh();
        return;
    }
  }

  #join(): void {
    if (this.#joinRequested) return;
    this.#joinRequested = true;
    this.#joinPending = true;
    this.#set({ status: 'connecting', error: null });
    this.#out.push(
      { type: 'start-tick', everyMs: this.#o.tickMs ?? DEFAULT_TICK_MS },
      // A service that does not answer at all must not leave the room "joining" for ever.
      { type: 'arm-join-deadline', afterMs: this.#answerMs() },
      { type: 'connect' },
    );
  }

  #answerMs(): number {
    return this.#o.joinAnswerTimeoutMs ?? JOIN_ANSWER_TIMEOUT_MS;
  }

  #joinDeadline(): void {
    if (!this.#joinPending) return;
    const seconds = Math.max(1, Math.round(this.#answerMs() / 1000));
    if (this.#connectProblem !== null) {
      this.#end('failed', this.#connectProblem);
      return;
    }
    this.#end('failed', {
      code: 'meeting.relay_unreachable',
      message: `The meeting service did not answer within ${seconds} second${seconds === 1 ? '' : 's'}, so the room stopped joining.`,
    });
  }

  #admission(m: ServerMessageOf<'admission'>, wallNow: number): void {
    if (m.status === 'admitted') {
      this.#selfId = m.participantId;
      this.#set({ status: 'keying', selfId: m.participantId, joinedAt: this.#snap.joinedAt ?? wallNow });
      this.#resolveJoin();
      this.#ensureE2ee();
    } else if (m.status === 'waiting') {
      this.#set({ status: 'waiting-for-host', error: null });
      this.#resolveJoin();
    } else {
      const err = admissionError(m);
      // The join's rejection keeps the service's reason (e.g. client_not_allowed) for callers.
      this.#end(
        'failed',
        { code: err?.code ?? 'meeting.join_failed', message: m.message },
        err?.context ?? {},
      );
    }
  }

  #meetingInfo(m: ServerMessageOf<'meeting-info'>, wallNow: number, pinned: MeetingPolicy | undefined): void {
    const v = checkMeetingInfo(this.#o, m, wallNow, pinned, this.#firstMode);
    if (v.pin !== null) this.#out.push({ type: 'pin-policy', policy: v.pin });
    if (v.ignored !== null) {
      this.counters.e2eeRejected++;
      this.#warn({ reason: v.ignored.reason, identity: v.ignored.identity }, 'meeting policy refused');
    }
    if (v.refusal !== null) {
      if (v.refusal.counted) this.counters.e2eeRejected++;
      this.#end('failed', { code: v.refusal.code, message: v.refusal.message });
      return;
    }
    this.#firstMode ??= m.encryption;
    if (this.#info !== null && this.#info.instanceId !== m.instanceId) this.#closeE2ee();
    this.#info = m;
    if (this.#e2ee !== null && m.encryption !== this.#firstMode) {
      this.#apply(this.#e2ee.handle({ type: 'mode', mode: m.encryption }, this.#now));
      if (this.#over()) return;
    }
    this.#set({ title: m.title, encryption: this.#firstMode, disabledFeatures: m.disabledFeatures });
    this.#ensureE2ee();
  }

  #e2eeMessage(from: string, payload: string): void {
    let message: unknown;
    try {
      message = JSON.parse(payload);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      this.#warn({ from }, 'unparseable E2EE payload dropped');
      return;
    }
    this.#apply(this.#e2ee?.handle({ type: 'message', from, message }, this.#now));
  }

  #disconnected(willReconnect: boolean, cause?: { code: ErrorCode; message: string }): void {
    this.#selfId = null;
    this.#closeE2ee();
    this.#connectProblem = cause ?? null;
    if (!willReconnect) return;
    this.counters.reconnects++;
    this.#set({
      status: 'reconnecting',
      shield: this.#snap.encryption === null ? 'none' : 'verifying',
      error:
        cause === undefined
          ? {
              code: 'meeting.relay_unreachable',
              message: 'Lost the connection to the meeting service; reconnecting…',
            }
          : { code: cause.code, message: `${cause.message} Reconnecting…` },
    });
  }

  /** A fresh E2EE session once we are admitted and know the meeting occurrence. */
  #ensureE2ee(): void {
    const info = this.#info;
    const self = this.#selfId;
    if (this.#e2ee !== null || info === null || self === null || this.#firstMode === null) {
      this.#feedRoster();
      return;
    }
    const o = this.#o;
    this.#e2ee = createE2eeSession({
      mode: this.#firstMode,
      meetingId: info.meetingId,
      instanceId: info.instanceId,
      participantId: self,
      deviceId: o.identity.deviceId,
      displayName: o.displayName,
      client: o.clientType,
      identity: { publicKey: o.identity.publicKey, secretKey: o.identity.secretKey },
      ...(o.e2eeParams === undefined ? {} : { params: o.e2eeParams }),
      ...(o.e2eeRandom === undefined ? {} : { random: o.e2eeRandom }),
      ...(o.trust === undefined ? {} : { trust: o.trust }),
      // A refused frame may raise the integrity alarm: the shield must drop now, not at the next tick.
      ...(o.onFrameAlarm === undefined ? {} : { onFrameAlarm: o.onFrameAlarm }),
    });
    this.#apply(this.#e2ee.start(this.#now));
    if (!this.#over()) this.#feedRoster();
  }

  #feedRoster(): void {
    if (this.#e2ee === null || this.#leaderId === null) {
      this.#refresh();
      return;
    }
    const members: RelayMember[] = this.#roster.map((p) => ({
      participantId: p.participantId,
      displayName: p.displayName,
      client: p.client,
      e2ee: p.e2eeCapable,
      slot: Number(p.participantId) & 0xffff,
    }));
    this.#apply(this.#e2ee.handle({ type: 'relay-roster', leaderId: this.#leaderId, members }, this.#now));
  }

  #apply(effects: E2eeEffect[] | undefined): void {
    if (effects === undefined) return;
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          this.#out.push({ type: 'send-e2ee', to: e.to, payload: JSON.stringify(e.message) });
          break;
        case 'keyframe':
          this.#out.push({ type: 'key-switch' });
          break;
        case 'ui':
          this.#fact(e.fact);
          break;
        case 'leave':
          this.#end('failed', { code: e.code, message: e.reason });
          return;
        case 'install-keys':
          break;
      }
    }
    this.#refresh();
  }

  #fact(fact: Extract<E2eeEffect, { type: 'ui' }>['fact']): void {
    if (fact.type === 'leader-changed') this.#codeChange.leaderChanged(fact.from, this.#roster);
    if (fact.type === 'security-code' && fact.changed) {
      const until = this.#now + (this.#o.codeChangeBannerMs ?? DEFAULT_BANNER_MS);
      this.#codeChange.codeChanged(fact.leaderId, until);
    }
    if (fact.type === 'alarm') this.#warn({ code: fact.code }, fact.reason);
    if (fact.type === 'rejected') {
      this.counters.e2eeRejected++;
      // Every rejection is counted; the log gets one line per sender and code a minute (with how
      // many were left out), so a peer or relay repeating a refused message cannot flood it.
      const key = `${fact.code}|${fact.from}`;
      const seen = this.#rejectLog.get(key);
      if (seen !== undefined && this.#now - seen.at < REJECT_LOG_INTERVAL_MS) {
        seen.quiet++;
        return;
      }
      if (this.#rejectLog.size >= REJECT_LOG_KEYS) this.#rejectLog.clear();
      this.#rejectLog.set(key, { at: this.#now, quiet: 0 });
      this.#warn(
        { code: fact.code, from: fact.from, what: fact.what, ...(seen ? { leftOut: seen.quiet } : {}) },
        'e2ee input rejected',
      );
    }
  }

  /** The snapshot from the E2EE session's status (or just the banner while there is none). */
  #refresh(): void {
    if (this.#over()) return;
    const e2ee = this.#e2ee;
    const bannerUp = this.#codeChange.bannerUp(this.#now);
    if (e2ee === null) {
      this.#set({ securityCodeChanged: bannerUp });
      return;
    }
    const st = e2ee.status(this.#now);
    const status = connectedStatus(this.#snap.status, st, this.#selfId !== null, this.#wasSecure);
    if (status === 'secure') this.#wasSecure = true;
    if (st.epoch > this.#lastEpoch) {
      if (this.#lastEpoch !== 0) this.counters.rekeys++;
      this.#lastEpoch = st.epoch;
    }
    this.#set({
      ...e2eeFields(st, this.#roster, this.#selfId, this.#firstMode),
      status,
      securityCodeChanged: bannerUp,
      codeChange: this.#codeChange.current(st.roster, this.#selfId, this.#snap.codeChange),
      error: status === 'secure' || status === 'keying' || status === 'rekeying' ? null : this.#snap.error,
    });
  }

  #set(patch: Partial<MeetingSnapshot>): void {
    const next = { ...this.#snap, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.#snap)) return;
    this.#snap = next;
    this.#out.push({ type: 'state', snapshot: next });
  }

  #warn(fields: Record<string, unknown>, message: string): void {
    this.#out.push({ type: 'warn', fields, message });
  }

  #resolveJoin(): void {
    if (!this.#joinPending) return;
    this.#joinPending = false;
    this.#out.push({ type: 'disarm-join-deadline' }, { type: 'resolve-join', snapshot: this.#snap });
  }

  #over(): boolean {
    return this.#snap.status === 'left' || this.#snap.status === 'failed';
  }

  #closeE2ee(): void {
    this.#e2ee?.close();
    this.#e2ee = null;
    this.#info = null;
    // Roster and leader belong to one relay connection; a reconnect starts from the relay's new claims.
    this.#roster = [];
    this.#leaderId = null;
  }

  #end(status: 'left' | 'failed', error: MeetingError | null, context: ErrorContext = {}): void {
    if (this.#over()) return;
    if (this.#joinRequested) this.#out.push({ type: 'stop-tick' }, { type: 'disarm-join-deadline' });
    this.#closeE2ee();
    this.#set({ status, error, shield: 'none', securityCode: null, securityCodeChanged: false });
    if (status === 'failed') this.#warn({ code: error?.code }, error?.message ?? 'meeting failed');
    if (this.#joinPending) {
      this.#joinPending = false;
      this.#out.push({
        type: 'reject-join',
        code: error?.code ?? 'meeting.join_failed',
        message: error?.message ?? humanMessage(null),
        context,
      });
    }
    this.#out.push({ type: 'end', status, error });
  }
}

export function createMeetingMachine(options: MeetingMachineOptions): MeetingMachine {
  return new Machine(options);
}
