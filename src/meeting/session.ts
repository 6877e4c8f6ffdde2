/**
 * The meeting client session (docs/protocol.md §Session flow): one state machine — idle →
 * connecting → waiting-for-host → keying → secure ⇄ rekeying → reconnecting → left | failed —
 * driving the E2EE session, the relay connection (signaling + wrtc media channel) and media frames.
 *
 * Each relay connection is a fresh participant with fresh ephemeral keys (a new E2EE session);
 * after a relay loss the client reconnects with backoff and shows `verifying` until secure again.
 * The first encryption mode the meeting showed is remembered: a later weaker one is a downgrade and
 * the room leaves, saying why.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { TimerHandle } from '../core/clock.ts';
import { type ErrorCode, type ErrorContext, humanMessage, RoomdError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import {
  bareMeetingId,
  createE2eeSession,
  DEFAULT_PARAMS,
  strongerMode,
  E2EE_PROTOCOL_VERSION,
  type E2eeEffect,
  type E2eeSession,
  type RelayMember,
} from '../e2ee/index.ts';
import { fromBase64Url, toBase64Url } from '../protocol/codec.ts';
import { hostProofMessage, identityProofMessage } from '../protocol/host-proof.ts';
import type { EncryptionMode } from '../protocol/limits.ts';
import type { StreamKind } from '../protocol/media-header.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import { admissionError, RelayClient } from '../transport/relay-client.ts';
import {
  type MeetingCounters,
  type MeetingSessionEvents,
  type MeetingSessionOptions,
  zeroByKind,
} from './session-types.ts';
import { belowMinimum, meetingMinimum } from './policy-gate.ts';
import {
  type CodeChange,
  emptySnapshot,
  type MeetingSnapshot,
  type MeetingStatus,
  participantsFrom,
} from './status.ts';

export type {
  MeetingCounters,
  MeetingSessionEvents,
  MeetingSessionOptions,
  OpenedFrame,
  SessionIdentity,
} from './session-types.ts';

// Meeting ids compare without their dashes (`123-4567-8901` = `12345678901`); one definition, in the E2EE core.
export { bareMeetingId };

/**
 * How long a join may wait for the meeting service's answer (admitted, waiting or refused) before the
 * room gives up and says so (docs/kiosk-and-admin-api.md §Room screen). A healthy service answers
 * in well under a second, a wrong meeting ID included.
 */
export const JOIN_ANSWER_TIMEOUT_MS = 15_000;

export class MeetingSession {
  readonly events: EventBus<MeetingSessionEvents>;
  readonly counters: MeetingCounters = {
    decryptFailures: zeroByKind(),
    keyframeRequests: 0,
    e2eeRejected: 0,
    rekeys: 0,
    reconnects: 0,
  };
  readonly #o: MeetingSessionOptions;
  readonly #log: Logger;
  #snap: MeetingSnapshot;
  #relay: RelayClient | null = null;
  #e2ee: E2eeSession | null = null;
  #firstMode: EncryptionMode | null = null;
  #info: ServerMessageOf<'meeting-info'> | null = null;
  #roster: ServerMessageOf<'roster'>['participants'] = [];
  #leaderId: string | null = null;
  #wasSecure = false;
  #tick: TimerHandle | null = null;
  #bannerUntil = 0;
  #joinResolve: ((s: MeetingSnapshot) => void) | null = null;
  #joinReject: ((e: RoomdError) => void) | null = null;
  #lastEpoch = 0;
  /** When the relay last relabelled a frame's sender (an integrity alarm, like a tampered frame). */
  #relabelledAt: number | null = null;
  #joinDeadline: TimerHandle | null = null;
  /** Participants the relay listed as the meeting's host (for the code-change wording only). */
  readonly #hostIds = new Set<string>();
  /** Display names in the last verified roster, by participant id. */
  #verifiedNames = new Map<string, string>();
  /** A change of key holder seen, waiting for the new leader's roster to name it. */
  #pendingChange: { from: Omit<CodeChange, 'leader' | 'leaderIsSelf'> | null; to: string | null } | null =
    null;

  constructor(options: MeetingSessionOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: 'meeting', meetingId: options.meetingId });
    this.events = new EventBus((event, err) =>
      this.#log.error({ event: String(event), err }, 'meeting listener failed'),
    );
    const expected = strongerMode(
      strongerMode(options.minimumEncryption ?? 'enhanced', options.bookedEncryption),
      options.policies?.get(options.meetingId)?.encryption,
    );
    this.#snap = emptySnapshot(options.meetingId, expected);
  }

  get snapshot(): MeetingSnapshot {
    return this.#snap;
  }

  get participantId(): string | null {
    return this.#relay?.participantId ?? null;
  }

  /** Data-channel counters (bytes, dropped under backpressure). */
  get channelStats(): RelayClient['mediaStats'] {
    return this.#relay?.mediaStats;
  }

  /** What the relay connection refused or caught on receive (for /metrics; docs/protocol.md §Validation). */
  get relayCounters(): RelayClient['counters'] | undefined {
    return this.#relay?.counters;
  }

  /**
   * Connect and join. Resolves once admitted (or told to wait for the host); rejects with a typed
   * error when refused. The session keeps itself connected until `leave()`.
   */
  join(): Promise<MeetingSnapshot> {
    if (this.#relay !== null) throw new RoomdError('meeting.already_in_meeting');
    const o = this.#o;
    const relay = new RelayClient({
      url: o.relayUrl,
      peers: o.peers,
      clock: o.clock,
      logger: this.#log,
      reconnect: true,
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
      ...(o.tap === undefined ? {} : { tap: o.tap }),
      join: (hello) => {
        const nonce = fromBase64Url(hello.nonce);
        const sign = (message: Uint8Array) => toBase64Url(ed25519.sign(message, o.identity.secretKey));
        return {
          meetingId: o.meetingId,
          ...(o.passcode === undefined ? {} : { passcode: o.passcode }),
          displayName: o.displayName,
          client: o.clientType,
          protocol: o.protocolVersion ?? E2EE_PROTOCOL_VERSION,
          deviceId: o.identity.deviceId,
          identityKey: toBase64Url(o.identity.publicKey),
          hostProof: sign(hostProofMessage(nonce, o.meetingId)),
          // Proves we hold our identity key: wrong-passcode budgets never count our device id
          // against us, only this key (docs/protocol.md §Wrong passcodes).
          identityProof: sign(identityProofMessage(nonce, o.meetingId)),
        };
      },
    });
    this.#relay = relay;
    this.#wire(relay);
    this.#set({ status: 'connecting', error: null });
    this.#tick = o.clock.setInterval(() => this.#onTick(), o.tickMs ?? 200);
    // A service that does not answer at all must not leave the room "joining" for ever.
    const answerMs = o.joinAnswerTimeoutMs ?? JOIN_ANSWER_TIMEOUT_MS;
    this.#joinDeadline = o.clock.setTimeout(() => {
      this.#joinDeadline = null;
      if (this.#joinReject === null) return;
      const seconds = Math.max(1, Math.round(answerMs / 1000));
      void this.#end('failed', {
        code: 'meeting.relay_unreachable',
        message: `The meeting service did not answer within ${seconds} second${seconds === 1 ? '' : 's'}, so the room stopped joining.`,
      });
    }, answerMs);
    relay.start();
    return new Promise((resolve, reject) => {
      this.#joinResolve = resolve;
      this.#joinReject = reject;
    });
  }

  /**
   * SFrame-encrypt one media frame with our current send key. `metadata` is authenticated with it
   * (the media layer binds the cleartext routing fields). Throws before we hold a send key.
   */
  seal(kind: StreamKind, plain: Uint8Array, metadata: Uint8Array): Uint8Array {
    const e2ee = this.#e2ee;
    if (e2ee === null || e2ee.frames.sendEpoch === 0)
      throw new RoomdError('e2ee.unknown_key', { message: 'No media key yet.' });
    return e2ee.frames.seal(kind, plain, metadata);
  }

  /**
   * Decrypt a frame the relay says came from `sender` on a `kind` stream. Throws unless the
   * authenticated KID names that same sender and stream kind (a relay that re-labels frames is caught).
   */
  open(sender: number, kind: StreamKind, cipher: Uint8Array, metadata: Uint8Array): Uint8Array {
    const e2ee = this.#e2ee;
    if (e2ee === null) throw new RoomdError('e2ee.unknown_key', { message: 'No media keys.' });
    try {
      const opened = e2ee.frames.open(cipher, metadata, this.#now());
      if (opened.senderId !== String(sender) || opened.stream !== kind) {
        this.#relabelledAt = this.#now();
        throw new RoomdError('e2ee.decrypt_failed', { message: 'A frame was relabelled on the way.' });
      }
      this.events.emit('frame', {
        senderId: opened.senderId,
        kind,
        epoch: opened.epoch,
        payload: opened.payload,
        receivedAt: this.#o.clock.now(),
      });
      return opened.payload;
    } catch (error) {
      this.counters.decryptFailures[kind]++;
      // A refused frame may raise the integrity alarm: the shield must drop now, not at the next tick.
      this.#refresh();
      throw error;
    }
  }

  /** Put one media chunk on the channel; false when it was dropped (not connected, congestion). */
  sendChunk(chunk: Uint8Array): boolean {
    return this.#relay?.sendChunk(chunk) ?? false;
  }

  /** Whether media can flow now (admitted, channel open, a send key). */
  get mediaReady(): boolean {
    return this.#relay?.mediaOpen === true && (this.#e2ee?.frames.sendEpoch ?? 0) > 0;
  }

  /** Ask a sender (numeric participant id) for a keyframe on one of its streams. */
  requestKeyframe(sender: number, streamId: number): void {
    try {
      this.#relay?.requestKeyframe(String(sender), streamId);
    } catch {
      // not connected: the receiver asks again on its next gap
    }
  }

  /** The epoch our senders currently encrypt under (0 before keys). */
  get sendEpoch(): number {
    return this.#e2ee?.frames.sendEpoch ?? 0;
  }

  /** Dismiss the code-change banner. */
  acknowledgeCodeChange(): void {
    this.#bannerUntil = 0;
    this.#refresh();
  }

  async leave(): Promise<void> {
    await this.#end('left', null);
  }

  // ---- wiring -----------------------------------------------------------------------------

  #wire(relay: RelayClient): void {
    const ev = relay.events;
    ev.on('admission', (m) => {
      if (m.status === 'admitted') {
        this.#set({
          status: 'keying',
          selfId: m.participantId,
          joinedAt: this.#snap.joinedAt ?? this.#o.clock.now(),
        });
        this.#resolveJoin();
        this.#ensureE2ee();
      } else if (m.status === 'waiting') {
        this.#set({ status: 'waiting-for-host', error: null });
        this.#resolveJoin();
      } else {
        const err = admissionError(m)!;
        // The join's rejection keeps the service's reason (e.g. client_not_allowed) for callers.
        void this.#end('failed', { code: err.code, message: m.message }, err.context);
      }
    });
    ev.on('meeting-info', (m) => this.#onMeetingInfo(m));
    ev.on('roster', (m) => {
      this.#roster = m.participants;
      for (const p of m.participants) if (p.host) this.#hostIds.add(p.participantId);
      this.#feedRoster();
    });
    ev.on('leader', (m) => {
      this.#leaderId = m.participantId;
      this.#feedRoster();
    });
    ev.on('meeting-key', (k) =>
      this.#apply(this.#e2ee?.handle({ type: 'enhanced-key', epoch: k.keyId, key: k.key }, this.#now())),
    );
    ev.on('e2ee', (m) => {
      let message: unknown;
      try {
        message = JSON.parse(m.payload);
      } catch {
        this.#log.warn({ from: m.from }, 'unparseable E2EE payload dropped');
        return;
      }
      this.#apply(this.#e2ee?.handle({ type: 'message', from: m.from, message }, this.#now()));
    });
    ev.on('media-raw', (chunk) => this.events.emit('media-chunk', chunk));
    ev.on('keyframe-request', (m) => {
      this.counters.keyframeRequests++;
      const kind: StreamKind = m.streamId === 0 ? 'audio' : 'video';
      this.events.emit('keyframe-needed', { kind, streamId: m.streamId, reason: 'request' });
    });
    ev.on('relay-error', (m) => this.#log.warn({ code: m.code }, `relay error: ${m.message}`));
    ev.on('disconnected', ({ willReconnect }) => {
      this.#closeE2ee();
      if (willReconnect && this.#snap.status !== 'left' && this.#snap.status !== 'failed') {
        this.counters.reconnects++;
        this.#set({
          status: 'reconnecting',
          shield: this.#snap.encryption === null ? 'none' : 'verifying',
          error: {
            code: 'meeting.relay_unreachable',
            message: 'Lost the connection to the meeting service; reconnecting…',
          },
        });
      }
    });
    ev.on('reconnecting', () => {
      if (this.#snap.status !== 'reconnecting') this.#set({ status: 'reconnecting' });
    });
  }

  #onMeetingInfo(m: ServerMessageOf<'meeting-info'>): void {
    if (bareMeetingId(m.meetingId) !== bareMeetingId(this.#o.meetingId)) {
      // The relay put us into another meeting than the one we asked for: never key or show it.
      void this.#end('failed', {
        code: 'meeting.wrong_meeting',
        message: `The meeting service answered for meeting ${m.meetingId} instead of ${this.#o.meetingId}, so the room left.`,
      });
      return;
    }
    // The effective minimum is the strongest of the room's setting, the booking, the host-signed
    // policy pinned for this meeting and a verified policy in this meeting-info (docs/protocol.md
    // "Meeting policy"). The relay can add strength, never take it away.
    const o = this.#o;
    const pinned = o.policies?.get(o.meetingId);
    const decision = meetingMinimum({
      meetingId: o.meetingId,
      setting: o.minimumEncryption ?? 'enhanced',
      ...(o.bookedEncryption === undefined ? {} : { booked: o.bookedEncryption }),
      ...(pinned === undefined ? {} : { pinned }),
      ...(m.policy === undefined ? {} : { offered: m.policy }),
      trust: {
        anchors: o.trust?.anchors ?? [],
        wallNow: o.trust?.wallClock?.() ?? o.clock.now(),
        trustedHosts: [toBase64Url(o.identity.publicKey)],
      },
    });
    if (!decision.ok) {
      this.counters.e2eeRejected++;
      void this.#end('failed', { code: decision.code, message: decision.message });
      return;
    }
    if (decision.verified !== null) o.policies?.pin(decision.verified);
    if (decision.ignored !== null) {
      this.counters.e2eeRejected++;
      this.#log.warn(
        { reason: decision.ignored.reason, identity: decision.ignored.identity },
        'meeting policy refused',
      );
    }
    const refusal = belowMinimum(decision, m.encryption, this.#firstMode !== null);
    if (refusal !== null) {
      void this.#end('failed', { code: 'e2ee.downgrade', message: refusal });
      return;
    }
    if (this.#firstMode === null) {
      this.#firstMode = m.encryption;
    } else if (this.#firstMode === 'e2ee' && m.encryption !== 'e2ee') {
      // Same meeting, weaker encryption after a reconnect: the relay is downgrading us.
      void this.#end('failed', {
        code: 'e2ee.downgrade',
        message: 'The meeting service tried to turn off end-to-end encryption, so the room left the meeting.',
      });
      return;
    }
    if (this.#info !== null && this.#info.instanceId !== m.instanceId) this.#closeE2ee();
    this.#info = m;
    if (this.#e2ee !== null && m.encryption !== this.#firstMode) {
      this.#apply(this.#e2ee.handle({ type: 'mode', mode: m.encryption }, this.#now()));
    }
    this.#set({ title: m.title, encryption: this.#firstMode, disabledFeatures: m.disabledFeatures });
    this.#ensureE2ee();
  }

  /** A fresh E2EE session once we are admitted and know the meeting occurrence. */
  #ensureE2ee(): void {
    const info = this.#info;
    const self = this.#relay?.participantId;
    if (this.#e2ee !== null || info === null || self === undefined || this.#firstMode === null) {
      this.#feedRoster();
      return;
    }
    this.#e2ee = createE2eeSession({
      mode: this.#firstMode,
      meetingId: info.meetingId,
      instanceId: info.instanceId,
      participantId: self,
      deviceId: this.#o.identity.deviceId,
      displayName: this.#o.displayName,
      client: this.#o.clientType,
      identity: { publicKey: this.#o.identity.publicKey, secretKey: this.#o.identity.secretKey },
      ...(this.#o.e2eeParams === undefined ? {} : { params: this.#o.e2eeParams }),
      ...(this.#o.e2eeRandom === undefined ? {} : { random: this.#o.e2eeRandom }),
      ...(this.#o.trust === undefined ? {} : { trust: this.#o.trust }),
    });
    this.#apply(this.#e2ee.start(this.#now()));
    this.#feedRoster();
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
    this.#apply(this.#e2ee.handle({ type: 'relay-roster', leaderId: this.#leaderId, members }, this.#now()));
  }

  #onTick(): void {
    if (this.#e2ee !== null) this.#apply(this.#e2ee.handle({ type: 'tick' }, this.#now()));
    this.#refresh();
  }

  #apply(effects: E2eeEffect[] | undefined): void {
    if (effects === undefined) return;
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          try {
            this.#relay?.sendE2ee(e.to, JSON.stringify(e.message));
          } catch {
            // Not connected right now: the protocol resends what matters after the reconnect.
          }
          break;
        case 'keyframe':
          this.events.emit('keyframe-needed', { kind: 'video', streamId: 1, reason: 'key-switch' });
          this.events.emit('keyframe-needed', { kind: 'audio', streamId: 0, reason: 'key-switch' });
          break;
        case 'ui':
          if (e.fact.type === 'leader-changed') {
            const from = e.fact.from;
            this.#pendingChange = {
              from:
                from === null
                  ? null
                  : {
                      previousLeader: this.#verifiedNames.get(from) ?? null,
                      previousLeaderHost: this.#hostIds.has(from),
                      previousLeaderLeft: !this.#roster.some((p) => p.participantId === from),
                    },
              to: null,
            };
          }
          if (e.fact.type === 'security-code' && e.fact.changed) {
            this.#bannerUntil = this.#o.clock.monotonic() + (this.#o.codeChangeBannerMs ?? 60_000);
            this.#pendingChange = { from: this.#pendingChange?.from ?? null, to: e.fact.leaderId };
          }
          if (e.fact.type === 'alarm') this.#log.warn({ code: e.fact.code }, e.fact.reason);
          if (e.fact.type === 'rejected') {
            this.counters.e2eeRejected++;
            this.#log.warn(
              { code: e.fact.code, from: e.fact.from, what: e.fact.what },
              'e2ee input rejected',
            );
          }
          break;
        case 'leave':
          void this.#end('failed', { code: e.code, message: e.reason });
          return;
        case 'install-keys':
          break;
      }
    }
    this.#refresh();
  }

  #refresh(): void {
    const e2ee = this.#e2ee;
    if (this.#snap.status === 'left' || this.#snap.status === 'failed') return;
    if (e2ee === null) {
      this.#set({ securityCodeChanged: this.#bannerUntil > this.#o.clock.monotonic() });
      return;
    }
    const now = this.#now();
    const st = e2ee.status(now);
    const alarms = st.alarms.map((a) => a.reason);
    let shield = st.shield;
    const alarmMs = this.#o.e2eeParams?.integrityAlarmMs ?? DEFAULT_PARAMS.integrityAlarmMs;
    if (this.#relabelledAt !== null && now - this.#relabelledAt < alarmMs) {
      // Same rule as a tampered frame: the shield is not green while the relay forges senders.
      if (shield === 'e2ee') shield = 'partial';
      else if (shield === 'enhanced') shield = 'verifying';
      alarms.push('Media frames arrived labelled with the wrong sender and were dropped.');
    }
    const secureShield = shield === 'e2ee' || shield === 'enhanced';
    let status: MeetingStatus = this.#snap.status;
    if (status === 'keying' || status === 'secure' || status === 'rekeying' || status === 'reconnecting') {
      if (this.#relay?.participantId === undefined) status = 'reconnecting';
      else if (secureShield && st.sendEpoch === st.epoch) status = 'secure';
      else if (this.#wasSecure) status = 'rekeying';
      else status = 'keying';
    }
    if (status === 'secure') this.#wasSecure = true;
    if (st.epoch > this.#lastEpoch) {
      if (this.#lastEpoch !== 0) this.counters.rekeys++;
      this.#lastEpoch = st.epoch;
    }
    if (st.roster.length > 0)
      this.#verifiedNames = new Map(st.roster.map((r) => [r.participantId, r.displayName]));
    const codeChange = this.#codeChange(st.roster);
    this.#set({
      status,
      shield,
      securityCode: st.mode === 'e2ee' ? st.securityCode : null,
      securityCodeChanged: this.#bannerUntil > this.#o.clock.monotonic(),
      codeChange,
      rosterCode: st.mode === 'e2ee' ? st.rosterCode : null,
      identityPolicy: st.identityPolicy,
      epoch: st.epoch,
      leader: st.leaderId,
      participants: participantsFrom(
        st.roster,
        this.#roster,
        this.#relay?.participantId ?? null,
        this.#firstMode,
      ),
      alarms,
      error: status === 'secure' || status === 'keying' || status === 'rekeying' ? null : this.#snap.error,
    });
  }

  /** The code change the banner explains, once the new leader's signed roster names it. */
  #codeChange(roster: readonly { participantId: string; displayName: string }[]): CodeChange | null {
    const pending = this.#pendingChange;
    if (pending === null || pending.to === null) return this.#snap.codeChange;
    const to = pending.to;
    const name = roster.find((r) => r.participantId === to)?.displayName;
    if (name === undefined) return this.#snap.codeChange;
    this.#pendingChange = null;
    return {
      previousLeader: pending.from?.previousLeader ?? null,
      previousLeaderHost: pending.from?.previousLeaderHost ?? false,
      previousLeaderLeft: pending.from?.previousLeaderLeft ?? false,
      leader: name,
      leaderIsSelf: to === this.#relay?.participantId,
    };
  }

  #set(patch: Partial<MeetingSnapshot>): void {
    const next = { ...this.#snap, ...patch };
    if (JSON.stringify(next) === JSON.stringify(this.#snap)) return;
    this.#snap = next;
    this.events.emit('state', next);
  }

  #resolveJoin(): void {
    this.#clearJoinDeadline();
    this.#joinResolve?.(this.#snap);
    this.#joinResolve = null;
    this.#joinReject = null;
  }

  #clearJoinDeadline(): void {
    if (this.#joinDeadline !== null) this.#o.clock.clear(this.#joinDeadline);
    this.#joinDeadline = null;
  }

  #now(): number {
    return this.#o.clock.monotonic();
  }

  #closeE2ee(): void {
    this.#e2ee?.close();
    this.#e2ee = null;
    this.#info = null;
    // Roster and leader belong to one relay connection; a reconnect starts from the relay's new claims.
    this.#roster = [];
    this.#leaderId = null;
  }

  async #end(
    status: 'left' | 'failed',
    error: { code: ErrorCode; message: string } | null,
    context: ErrorContext = {},
  ): Promise<void> {
    if (this.#snap.status === 'left' || this.#snap.status === 'failed') return;
    if (this.#tick !== null) this.#o.clock.clear(this.#tick);
    this.#tick = null;
    this.#clearJoinDeadline();
    const relay = this.#relay;
    this.#closeE2ee();
    this.#set({ status, error, shield: 'none', securityCode: null, securityCodeChanged: false });
    if (status === 'failed') this.#log.warn({ code: error?.code }, error?.message ?? 'meeting failed');
    if (this.#joinReject !== null) {
      this.#joinReject(
        new RoomdError(error?.code ?? 'meeting.join_failed', {
          message: error?.message ?? humanMessage(null),
          context,
        }),
      );
      this.#joinReject = null;
      this.#joinResolve = null;
    }
    try {
      await (status === 'left' ? relay?.leave() : relay?.close());
    } catch (err) {
      this.#log.warn({ err }, 'closing the relay connection failed');
    }
    this.events.emit('ended', { status, error });
  }
}
