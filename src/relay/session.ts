/**
 * One client connection to the relay (docs/protocol.md "# Wire protocol" §Session flow):
 * hello -> join -> (waiting ->) admitted -> offer/answer/ICE -> envelopes, keyframe requests,
 * feature requests -> leave. Every message is validated whole before anything is applied; a bad one
 * gets a typed `error` reply and changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { RoomdError } from '../core/errors.ts';
import { decodeClientMessage, errorMessage, fromBase64Url } from '../protocol/codec.ts';
import { hostProofMessage } from '../protocol/host-proof.ts';
import type { ClientMessage, ClientMessageOf } from '../protocol/schemas.ts';
import { MediaChannel } from '../transport/media-channel.ts';
import { MEDIA_CHANNEL_LABEL } from '../transport/peer.ts';
import { type AdmissionDecision, decideAdmission, WAITING_MESSAGE } from './admission.ts';
import type { ClientLink, RelayCore } from './core.ts';
import type { OutgoingBody } from './hooks.ts';
import { type LiveMeeting, newStats, type Participant } from './live-meeting.ts';

type JoinMessage = ClientMessageOf<'join'>;
const MAX_BAD_MESSAGES = 20;
/** Signaling messages a connection may send: a burst of BURST, then RATE per second. */
const BURST = 400;
const RATE = 200;

export class Connection {
  readonly core: RelayCore;
  readonly link: ClientLink;
  readonly nonce: Uint8Array;
  state: 'new' | 'waiting' | 'admitted' | 'closed' = 'new';
  participant: Participant | undefined;
  waitingFor: { meetingId: string; join: JoinMessage } | undefined;
  #bad = 0;
  #tokens = BURST;
  #tokensAt: number | undefined;
  #limited = false;

  constructor(core: RelayCore, link: ClientLink) {
    this.core = core;
    this.link = link;
    this.nonce = new Uint8Array(randomBytes(32));
    core.register(this, this.nonce);
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

  receive(data: string | Uint8Array): void {
    if (this.state === 'closed') return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.core.hooks.tap?.('in', 'signaling', bytes, this.participant?.id);
    if (!this.#takeToken()) return;
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
      const e = error instanceof RoomdError ? error : new RoomdError('core.internal');
      if (!(error instanceof RoomdError))
        this.core.log.error({ err: (error as Error).message, type: msg.type }, 'handler failed');
      this.#reject(e, msg.type);
    }
  }

  /** Token bucket against floods (an `all` envelope fans out to everyone). Tells the client once per episode. */
  #takeToken(): boolean {
    const now = this.core.clock.monotonic();
    if (this.#tokensAt !== undefined)
      this.#tokens = Math.min(BURST, this.#tokens + ((now - this.#tokensAt) / 1000) * RATE);
    this.#tokensAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      this.#limited = false;
      return true;
    }
    if (!this.#limited) {
      this.#limited = true;
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
        void this.#answer(p, msg.sdp);
        return;
      case 'ice':
        p.pc?.addIceCandidate(msg).catch(() => {});
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
    const hostClaim =
      record !== undefined && join.identityKey !== undefined && join.identityKey === record.hostIdentityKey;
    const hostProven = hostClaim && join.hostProof !== undefined && this.#verifyProof(join);
    const live = core.liveFor(join.meetingId);
    let decision: AdmissionDecision = decideAdmission(join, {
      now: core.clock.now(),
      meeting: record,
      account: record === undefined ? undefined : core.registry.account(record.account),
      hostProven,
      hostProofFailed: hostClaim && !hostProven,
      hostHasJoined: live?.hostHasJoined ?? false,
      lockout: core.lockout.status(join.meetingId, join.deviceId, address),
      recordFailure: () => core.lockout.recordFailure(join.meetingId, join.deviceId, address),
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
    core.lockout.recordSuccess(join.meetingId, join.deviceId);
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
      stats: newStats(),
      send: (body) => this.send(body),
    };
    if (host) m.hostHasJoined = true;
    m.participants.set(p.id, p);
    this.participant = p;
    this.state = 'admitted';
    this.send({ type: 'admission', status: 'admitted', participantId: p.id, instanceId: m.instanceId, host });
    this.send(core.meetingInfo(m, p));
    core.sendKey(m, p);
  }

  #verifyProof(join: JoinMessage): boolean {
    try {
      return ed25519.verify(
        fromBase64Url(join.hostProof!),
        hostProofMessage(this.nonce, join.meetingId),
        fromBase64Url(join.identityKey!),
      );
    } catch {
      return false;
    }
  }

  async #answer(p: Participant, sdp: string): Promise<void> {
    const core = this.core;
    p.media?.close();
    p.pc?.close();
    const pc = core.peers.create();
    p.pc = pc;
    p.media = undefined;
    pc.onIceCandidate((c) => {
      if (p.pc === pc) this.send({ type: 'ice', ...c });
    });
    pc.onDataChannel((channel) => {
      if (channel.label !== MEDIA_CHANNEL_LABEL || p.pc !== pc) {
        channel.close();
        return;
      }
      const media = new MediaChannel(channel, { highWaterMark: core.receiverBufferBytes });
      p.media = media;
      channel.onMessage((data) => core.router.forward(p, data));
      const ready = () => {
        if (p.media === media) this.send({ type: 'media-ready' });
      };
      if (channel.readyState === 'open') ready();
      else channel.onOpen(ready);
    });
    pc.onStateChange((s) => {
      if (s === 'failed' && p.pc === pc) core.log.warn({ participant: p.id }, 'media connection failed');
    });
    try {
      const answer = await pc.acceptOffer({ type: 'offer', sdp });
      if (p.pc !== pc || this.state !== 'admitted') return;
      this.send({ type: 'sdp', sdpType: 'answer', sdp: answer.sdp });
    } catch (error) {
      core.log.warn({ participant: p.id, err: (error as Error).message }, 'could not answer a media offer');
      if (p.pc === pc) {
        pc.close();
        p.pc = undefined;
      }
      this.send(
        errorMessage(
          new RoomdError('transport.open_failed', { message: 'The relay could not set up media.' }),
          'sdp',
        ),
      );
    }
  }

  #removeParticipant(p: Participant): void {
    const core = this.core;
    const m = p.meeting;
    p.media?.close();
    p.pc?.close();
    p.media = undefined;
    p.pc = undefined;
    m.participants.delete(p.id);
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
