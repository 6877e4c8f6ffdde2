/**
 * One client connection to the relay (docs/protocol.md "# Wire protocol" §Session flow):
 * hello -> join -> (waiting ->) admitted -> offer/answer/ICE -> envelopes, keyframe requests,
 * feature requests -> leave. Every message is validated whole before anything is applied; a bad one
 * gets a typed `error` reply and changes nothing. The media connection's setup and loss are in
 * `session-media.ts`.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { decodeClientMessage, errorMessage, fromBase64Url } from '../protocol/codec.ts';
import { hostProofMessage, identityProofMessage } from '../protocol/host-proof.ts';
import type { ClientMessage, ClientMessageOf } from '../protocol/schemas.ts';
import {
  type AdmissionDecision,
  decideAdmission,
  type PasscodeAttempt,
  WAITING_MESSAGE,
} from './admission.ts';
import type { ClientLink, RelayCore } from './core.ts';
import type { OutgoingBody } from './hooks.ts';
import { type LiveMeeting, newStats, type Participant } from './live-meeting.ts';

type JoinMessage = ClientMessageOf<'join'>;
const MAX_BAD_MESSAGES = 20;
/** Close code for a connection that sent no valid join in time (docs/protocol.md §Transport). */
export const JOIN_TIMEOUT_CLOSE = 4408;
/** Close code after a last-resort guard caught an unexpected error (docs/protocol.md §Validation). */
export const GUARD_TRIP_CLOSE = 1011;

export class Connection {
  readonly core: RelayCore;
  readonly link: ClientLink;
  readonly nonce: Uint8Array;
  state: 'new' | 'waiting' | 'admitted' | 'closed' = 'new';
  participant: Participant | undefined;
  waitingFor: { meetingId: string; join: JoinMessage } | undefined;
  #bad = 0;
  #tokens: number;
  #tokensAt: number | undefined;
  #limited = false;
  #joinTimer: TimerHandle | undefined;
  #tripped = false;

  constructor(core: RelayCore, link: ClientLink) {
    this.core = core;
    this.link = link;
    this.nonce = new Uint8Array(randomBytes(32));
    this.#tokens = core.limits.burst;
    core.register(this, this.nonce);
    this.#armJoinTimer();
  }

  get #ctx(): { meetingId: string | undefined; participantId: string | undefined } {
    return {
      meetingId: this.participant?.meeting.record.id ?? this.waitingFor?.meetingId,
      participantId: this.participant?.id,
    };
  }

  /** Sends through hooks and tap. */
  send(body: OutgoingBody): void {
    if (this.state === 'closed') return;
    this.core.deliver(this.link, body, this.#ctx);
  }

  /** The hello, sent before any hook context exists. */
  sendRaw(body: OutgoingBody): void {
    this.core.deliver(this.link, body, { meetingId: undefined, participantId: undefined });
  }

  /**
   * One signaling frame: text is a message; a Uint8Array is a binary frame, which signaling does not
   * allow (docs/protocol.md §Transport) and is refused like a malformed message. Last-resort guard:
   * an unexpected error closes this connection (1011), never the relay.
   */
  receive(data: string | Uint8Array): void {
    if (this.state === 'closed') return;
    try {
      this.#receive(data);
    } catch (error) {
      this.guardTrip('signaling', error);
    }
  }

  #receive(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.core.hooks.tap?.('in', 'signaling', bytes, this.participant?.id);
    if (!this.#takeToken()) return;
    if (typeof data !== 'string') {
      this.core.signaling.binaryFrames++;
      this.#reject(
        new RoomdError('protocol.malformed', { message: 'Signaling messages must be text frames.' }),
        undefined,
      );
      return;
    }
    const decoded = decodeClientMessage(data);
    if (!decoded.ok) {
      this.#reject(decoded.error, decoded.ref);
      return;
    }
    const msg = this.core.hooks.incoming
      ? this.core.hooks.incoming(decoded.message, this.#ctx)
      : decoded.message;
    if (msg === null) return;
    try {
      this.#handle(msg);
    } catch (error) {
      if (!(error instanceof RoomdError)) throw error;
      this.#reject(error, msg.type);
    }
    if (msg.type === 'join') this.#armJoinTimer();
  }

  /**
   * Last-resort guard (docs/protocol.md §Validation): an error nobody expected while handling this
   * connection's input. Logged once (the error's class and where it was thrown, never the input),
   * counted, and the connection is closed with 1011; the relay and everyone else carry on.
   */
  guardTrip(where: 'signaling' | 'media', error: unknown): void {
    if (this.#tripped) return;
    this.#tripped = true;
    this.core.signaling.guardTrips++;
    this.core.log.error(
      { where, participant: this.participant?.id, ...describeError(error) },
      'receive guard caught an unexpected error; closing the connection',
    );
    this.terminate(GUARD_TRIP_CLOSE, 'internal error');
  }

  /**
   * Until admitted or waiting, a connection has joinTimeoutMs from opening (or from its last refused
   * join) to get there; then it is closed (docs/protocol.md §Transport).
   */
  #armJoinTimer(): void {
    const clock = this.core.clock;
    if (this.#joinTimer !== undefined) clock.clear(this.#joinTimer);
    this.#joinTimer = undefined;
    const ms = this.core.limits.joinTimeoutMs;
    if (this.state !== 'new' || !Number.isFinite(ms)) return;
    this.#joinTimer = clock.setTimeout(() => {
      this.#joinTimer = undefined;
      if (this.state !== 'new') return;
      this.core.signaling.joinTimeouts++;
      this.terminate(JOIN_TIMEOUT_CLOSE, 'no join in time');
    }, ms);
  }

  /**
   * Token bucket against floods (an `all` envelope fans out to everyone). The client is told once
   * per episode: an episode starts with the first dropped message and ends only when the bucket is
   * full again (docs/protocol.md §Validation).
   */
  #takeToken(): boolean {
    const { burst, perSecond } = this.core.limits;
    const now = this.core.clock.monotonic();
    if (this.#tokensAt !== undefined)
      this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) / 1000) * perSecond);
    this.#tokensAt = now;
    if (this.#limited && this.#tokens >= burst) this.#limited = false;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    this.core.signaling.rateLimitedMessages++;
    if (!this.#limited) {
      this.#limited = true;
      this.core.signaling.rateLimitEpisodes++;
      this.send(errorMessage(new RoomdError('relay.rate_limited')));
    }
    return false;
  }

  /** The socket closed (or the relay is stopping). */
  closed(): void {
    if (this.state === 'closed') return;
    const p = this.participant;
    const waiting = this.waitingFor;
    this.state = 'closed';
    if (this.#joinTimer !== undefined) this.core.clock.clear(this.#joinTimer);
    this.#joinTimer = undefined;
    this.core.forget(this);
    if (waiting !== undefined) {
      this.core.waiting.get(waiting.meetingId)?.delete(this);
      const live = this.core.liveFor(waiting.meetingId);
      if (live !== undefined) this.core.maybeEnd(live);
    }
    if (p !== undefined) this.#removeParticipant(p);
  }

  terminate(code: number, reason: string): void {
    this.closed();
    this.link.close(code, reason);
  }

  #reject(error: RoomdError, ref: string | undefined): void {
    this.core.signaling.messagesRejected++;
    this.send(errorMessage(error, ref));
    if (++this.#bad > MAX_BAD_MESSAGES) this.terminate(1008, 'too many bad messages');
  }

  #handle(msg: ClientMessage): void {
    if (msg.type === 'ping') {
      this.send({ type: 'pong', id: msg.id });
      return;
    }
    if (msg.type === 'join') {
      if (this.state !== 'new')
        throw new RoomdError('protocol.unexpected', { message: 'This connection has already joined.' });
      this.#join(msg);
      return;
    }
    if (msg.type === 'leave') {
      this.terminate(1000, 'left');
      return;
    }
    const p = this.participant;
    if (p === undefined || this.state !== 'admitted') throw new RoomdError('relay.not_admitted');
    switch (msg.type) {
      case 'e2ee':
        if (!this.core.routeE2ee(p, msg)) {
          throw new RoomdError('relay.unknown_participant', {
            message: `No participant "${msg.to}" to deliver to.`,
          });
        }
        return;
      case 'sdp':
        if (msg.sdpType !== 'offer')
          throw new RoomdError('protocol.unexpected', { message: 'The relay only takes offers.' });
        this.core.plane.offer(this, p, msg.sdp);
        return;
      case 'ice':
        this.core.plane.candidate(p, msg, 'up');
        return;
      case 'media-down-answer':
        this.core.plane.downAnswer(this, p, msg.sdp);
        return;
      case 'media-down-ice':
        this.core.plane.candidate(p, msg, 'down');
        return;
      case 'media-behind':
        this.core.big.setBehind(p, msg.behind);
        return;
      case 'audio-level':
        this.core.big.speakerEvent(p.meeting, { type: 'level', participant: p.id, level: msg.level });
        return;
      case 'keyframe-request': {
        const target = p.meeting.participants.get(msg.to);
        if (target === undefined) throw new RoomdError('relay.unknown_participant');
        target.send({ type: 'keyframe-request', from: p.id, streamId: msg.streamId });
        return;
      }
      case 'feature-request': {
        const e2ee = p.meeting.record.encryption === 'e2ee';
        this.send({
          type: 'feature-result',
          feature: msg.feature,
          granted: false,
          reason: e2ee ? 'disabled_in_e2ee' : 'not_offered',
          message: e2ee
            ? 'That feature is off in end-to-end encrypted meetings.'
            : 'This meeting service does not offer that feature.',
        });
        return;
      }
    }
  }

  #join(typed: JoinMessage): void {
    const core = this.core;
    const record = core.registry.get(typed.meetingId);
    // Canonical id from here on (the person may have typed it without dashes).
    const join: JoinMessage = record === undefined ? typed : { ...typed, meetingId: record.id };
    const address = this.link.remoteAddress;
    // Proofs are checked against the id the client signed (as typed), bound to this connection's nonce.
    const hostClaim =
      record !== undefined && join.identityKey !== undefined && join.identityKey === record.hostIdentityKey;
    const hostProven =
      hostClaim && join.hostProof !== undefined && this.#verifyProof(typed, join.hostProof, hostProofMessage);
    // Verified only for a meeting that exists: a signature check costs real CPU (docs/protocol.md §Host proof).
    const identityProven =
      record !== undefined &&
      join.identityProof !== undefined &&
      this.#verifyProof(typed, join.identityProof, identityProofMessage);
    // Wrong-passcode budgets (docs/protocol.md §Wrong passcodes) key on proven identities only; the
    // proven host and the booked room (proven by the key it registered) are exempt from the shared ones.
    const provenIdentity = hostProven || identityProven ? join.identityKey : undefined;
    const bookedRoomKey = record === undefined ? undefined : core.registry.bookedRoomKey(record);
    const attempt: PasscodeAttempt = {
      meetingId: join.meetingId,
      address,
      provenIdentity,
      trusted: hostProven || (provenIdentity !== undefined && provenIdentity === bookedRoomKey),
    };
    const live = core.liveFor(join.meetingId);
    let decision: AdmissionDecision = decideAdmission(join, {
      now: core.clock.now(),
      meeting: record,
      account: record === undefined ? undefined : core.registry.account(record.account),
      hostProven,
      hostProofFailed: hostClaim && !hostProven,
      hostHasJoined: live?.hostHasJoined ?? false,
      identityProofFailed: join.identityProof !== undefined && !identityProven,
      lockout: core.lockout.status(attempt),
      recordFailure: () => core.lockout.recordFailure(attempt),
    });
    if (core.hooks.admission) decision = core.hooks.admission(decision, join, this.#ctx);
    if (
      decision.kind === 'admitted' &&
      live !== undefined &&
      live.participants.size >= core.maxParticipants
    ) {
      decision = { kind: 'refused', reason: 'meeting_full', message: 'The meeting is full.' };
    }
    core.log.info(
      {
        meeting: join.meetingId,
        client: join.client,
        protocol: join.protocol,
        decision: decision.kind,
        ...(decision.kind === 'refused' ? { reason: decision.reason } : {}),
      },
      'join',
    );
    if (decision.kind === 'refused') {
      const { kind: _k, ...rest } = decision;
      this.send({ type: 'admission', status: 'refused', ...rest });
      return;
    }
    const m = core.ensureLive(join.meetingId);
    if (m === undefined) {
      this.send({
        type: 'admission',
        status: 'refused',
        reason: 'meeting_not_found',
        message: 'There is no meeting with that ID.',
      });
      return;
    }
    core.lockout.recordSuccess(attempt);
    if (decision.kind === 'waiting') {
      this.state = 'waiting';
      this.waitingFor = { meetingId: join.meetingId, join };
      let set = core.waiting.get(join.meetingId);
      if (set === undefined) {
        set = new Set();
        core.waiting.set(join.meetingId, set);
      }
      set.add(this);
      this.send({
        type: 'admission',
        status: 'waiting',
        reason: 'waiting_for_host',
        message: WAITING_MESSAGE,
      });
      this.send(core.meetingInfo(m, undefined));
      return;
    }
    this.admit(m, join, decision.host);
    if (decision.host) {
      for (const other of [...(core.waiting.get(join.meetingId) ?? [])]) {
        if (other instanceof Connection && other.waitingFor !== undefined && other.state === 'waiting') {
          other.admit(m, other.waitingFor.join, false);
        }
      }
      core.waiting.delete(join.meetingId);
    }
    core.broadcastRoster(m);
  }

  /** Makes this connection a participant (roster broadcast is the caller's). */
  admit(m: LiveMeeting, join: JoinMessage, host: boolean): void {
    const core = this.core;
    core.waiting.get(m.record.id)?.delete(this);
    this.waitingFor = undefined;
    const p: Participant = {
      id: core.newParticipantId(),
      seq: m.nextSeq(),
      join,
      host,
      e2eeCapable: core.e2eeCapable(join),
      joinedAt: core.clock.now(),
      meeting: m,
      pc: undefined,
      media: undefined,
      dropping: new Map(),
      behind: false,
      stats: newStats(),
      send: (body) => this.send(body),
    };
    if (host) m.hostHasJoined = true;
    m.participants.set(p.id, p);
    this.participant = p;
    this.state = 'admitted';
    // The TURN credentials come first so the client has them when it creates its media connection.
    const iceServers = core.iceServersFor(p.id);
    if (iceServers.length > 0) this.send({ type: 'ice-servers', iceServers });
    this.send({ type: 'admission', status: 'admitted', participantId: p.id, instanceId: m.instanceId, host });
    this.send(core.meetingInfo(m, p));
    core.sendKey(m, p);
    core.big.speakerEvent(m, { type: 'joined', participant: p.id });
  }

  /** A proof by `join.identityKey` over `message(nonce, meeting id as the client sent it)`. */
  #verifyProof(
    join: JoinMessage,
    proof: string,
    message: (nonce: Uint8Array, meetingId: string) => Uint8Array,
  ): boolean {
    if (join.identityKey === undefined) return false;
    const signature = fromBase64Url(proof);
    const key = fromBase64Url(join.identityKey);
    // A key or signature of the wrong length (the only input Ed25519 verification throws for) is a
    // failed proof.
    if (signature.length !== 64 || key.length !== 32) return false;
    return ed25519.verify(signature, message(this.nonce, join.meetingId), key);
  }

  #removeParticipant(p: Participant): void {
    const core = this.core;
    const m = p.meeting;
    core.plane.detach(p);
    core.big.left(p);
    m.participants.delete(p.id);
    core.big.speakerEvent(m, { type: 'left', participant: p.id });
    core.log.info({ meeting: m.record.id, participant: p.id }, 'participant left');
    if (m.participants.size === 0) {
      core.maybeEnd(m);
      return;
    }
    if (m.key !== undefined) {
      m.rotateKey();
      for (const other of m.participants.values()) core.sendKey(m, other);
    }
    core.broadcastRoster(m);
  }
}

/** What a log line may say about an unexpected error: its class and where it was thrown, never input. */
export function describeError(error: unknown): { error: string; at?: string } {
  if (!(error instanceof Error)) return { error: typeof error };
  const at = error.stack
    ?.split('\n')
    .find((line) => line.trimStart().startsWith('at '))
    ?.trim()
    .slice(0, 200);
  return at === undefined ? { error: error.name } : { error: error.name, at };
}
