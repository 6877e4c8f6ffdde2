/**
 * The relay's meeting logic, independent of sockets (issue 4 "Relay"): connections come in as
 * `ClientLink`s (a WebSocket in production, an in-memory link in unit tests). It runs admission,
 * keeps live meetings, names leaders, broadcasts the roster, routes E2EE envelopes verbatim, answers
 * WebRTC offers with one peer connection per participant, and hands media to the fan-out.
 * It holds no key in E2EE meetings and logs no payloads.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { encodeServerMessage, toBase64Url } from '../protocol/codec.ts';
import { FEATURE_NAMES, isE2eeCapable, MEETING_FEATURES, WIRE_VERSION } from '../protocol/limits.ts';
import type { ClientMessageOf, MeetingInfoMessage, WithoutV } from '../protocol/schemas.ts';
import type { PeerConnectionFactory } from '../transport/peer.ts';
import { PasscodeLockout } from './admission.ts';
import { MediaRouter } from './fanout.ts';
import type { OutgoingBody, RelayHooks } from './hooks.ts';
import { asList } from './hooks.ts';
import { LiveMeeting, type Participant } from './live-meeting.ts';
import type { MeetingRegistry } from './registry.ts';

export interface ClientLink {
  readonly remoteAddress: string;
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** What the core needs of a connection (implemented by session.ts Connection). */
export interface ConnectionLike {
  readonly participant: Participant | undefined;
  readonly waitingFor: { meetingId: string } | undefined;
  terminate(code: number, reason: string): void;
}

export interface RelayCoreOptions {
  registry: MeetingRegistry;
  peers: PeerConnectionFactory;
  clock: Clock;
  logger: Logger;
  hooks?: RelayHooks;
  name?: string;
  /** Per-receiver media buffer bound in bytes (bufferedAmount high-water mark). */
  receiverBufferBytes?: number;
  maxParticipants?: number;
  lockout?: { threshold?: number; addressThreshold?: number; lockMs?: number };
}

export class RelayCore {
  readonly registry: MeetingRegistry;
  readonly peers: PeerConnectionFactory;
  readonly clock: Clock;
  readonly log: Logger;
  readonly hooks: RelayHooks;
  readonly name: string;
  readonly receiverBufferBytes: number;
  readonly maxParticipants: number;
  readonly lockout: PasscodeLockout;
  readonly router: MediaRouter;
  readonly live = new Map<string, LiveMeeting>();
  /** Connections waiting for the host, per meeting id. */
  readonly waiting = new Map<string, Set<ConnectionLike>>();
  readonly connections = new Set<ConnectionLike>();
  #nextParticipant = 1;

  constructor(options: RelayCoreOptions) {
    this.registry = options.registry;
    this.peers = options.peers;
    this.clock = options.clock;
    this.log = options.logger;
    this.hooks = options.hooks ?? {};
    this.name = options.name ?? 'roomd-relay';
    this.receiverBufferBytes = options.receiverBufferBytes ?? 512 * 1024;
    this.maxParticipants = options.maxParticipants ?? 100;
    this.lockout = new PasscodeLockout({ clock: options.clock, ...options.lockout });
    this.router = new MediaRouter(this.hooks, this.log);
  }

  /** Registers a new connection and greets it (session.ts calls this from its constructor). */
  register(conn: ConnectionLike & { sendRaw(body: OutgoingBody): void }, nonce: Uint8Array): void {
    this.connections.add(conn);
    conn.sendRaw({
      type: 'hello',
      versions: { min: WIRE_VERSION, max: WIRE_VERSION },
      nonce: toBase64Url(nonce),
      relay: this.name,
    });
  }

  forget(conn: ConnectionLike): void {
    this.connections.delete(conn);
  }

  newParticipantId(): string {
    const id = this.#nextParticipant;
    this.#nextParticipant = id >= 0xffff_fff0 ? 1 : id + 1;
    return String(id);
  }

  liveFor(meetingId: string): LiveMeeting | undefined {
    return this.live.get(meetingId);
  }

  ensureLive(meetingId: string): LiveMeeting | undefined {
    const existing = this.live.get(meetingId);
    const record = this.registry.get(meetingId);
    if (existing !== undefined) {
      if (record !== undefined) existing.record = record;
      return existing;
    }
    if (record === undefined) return undefined;
    const m = new LiveMeeting(record);
    if (record.encryption === 'enhanced' || this.hooks.serverKeyInE2ee?.(record.id) === true) m.rotateKey();
    this.live.set(meetingId, m);
    this.log.info({ meeting: record.id, instance: m.instanceId }, 'meeting occurrence started');
    return m;
  }

  /** Drops an empty occurrence (nobody in it and nobody waiting). */
  maybeEnd(m: LiveMeeting): void {
    if (m.participants.size > 0 || (this.waiting.get(m.record.id)?.size ?? 0) > 0) return;
    m.wipe();
    this.live.delete(m.record.id);
    this.log.info({ meeting: m.record.id, instance: m.instanceId }, 'meeting occurrence ended');
  }

  meetingInfo(m: LiveMeeting, to: Participant | undefined): WithoutV<MeetingInfoMessage> {
    const e2ee = m.record.encryption === 'e2ee';
    const info: WithoutV<MeetingInfoMessage> = {
      type: 'meeting-info',
      meetingId: m.record.id,
      instanceId: m.instanceId,
      title: m.record.title,
      encryption: m.record.encryption,
      disabledFeatures: e2ee
        ? MEETING_FEATURES.map((feature) => ({
            feature,
            reason: `${FEATURE_NAMES[feature]} is off because this meeting is end-to-end encrypted.`,
          }))
        : [],
      hostPresent: m.hostPresent,
    };
    return this.hooks.meetingInfo
      ? this.hooks.meetingInfo(info, { meetingId: m.record.id, participantId: to?.id })
      : info;
  }

  /** Sends roster and leader to everyone after a change. */
  broadcastRoster(m: LiveMeeting): void {
    m.rosterVersion++;
    let roster = m.roster();
    if (this.hooks.roster) roster = this.hooks.roster(roster, m.record.id);
    let leader = m.computeLeader();
    if (this.hooks.leader) leader = this.hooks.leader(leader, roster, m.record.id);
    const leaderChanged = leader.participantId !== m.leader.participantId;
    m.leader = leader;
    if (leaderChanged)
      this.log.info(
        { meeting: m.record.id, leader: leader.participantId, reason: leader.reason },
        'leader named',
      );
    for (const p of m.participants.values()) {
      this.sendTo(p, { type: 'roster', version: m.rosterVersion, participants: roster });
      this.sendTo(p, { type: 'leader', participantId: leader.participantId, reason: leader.reason });
    }
  }

  sendKey(m: LiveMeeting, to: Participant): void {
    if (m.key === undefined) return;
    this.sendTo(to, { type: 'meeting-key', keyId: m.key.keyId, key: toBase64Url(m.key.key) });
  }

  sendTo(p: Participant, body: OutgoingBody): void {
    p.send(body);
  }

  /** Routes an opaque E2EE envelope; returns false when the target does not exist. */
  routeE2ee(from: Participant, msg: ClientMessageOf<'e2ee'>): boolean {
    const m = from.meeting;
    const body = { type: 'e2ee' as const, to: msg.to, from: from.id, payload: msg.payload };
    if (msg.to === 'all') {
      for (const p of m.participants.values()) if (p !== from) this.sendTo(p, body);
      return true;
    }
    const targetId = msg.to === 'leader' ? m.leader.participantId : msg.to;
    const target = targetId === null ? undefined : m.participants.get(targetId);
    if (target === undefined) return false;
    this.sendTo(target, body);
    return true;
  }

  e2eeCapable(join: ClientMessageOf<'join'>): boolean {
    return isE2eeCapable(join.client, join.protocol);
  }

  /** Encodes, applies the outgoing hook and the tap, and writes to one link. */
  deliver(
    link: ClientLink,
    body: OutgoingBody,
    ctx: { meetingId: string | undefined; participantId: string | undefined },
  ): void {
    const bodies = this.hooks.outgoing ? asList(this.hooks.outgoing(body, ctx)) : [body];
    for (const b of bodies) {
      let text: string;
      try {
        text = encodeServerMessage(b);
      } catch (error) {
        this.log.error({ type: b.type, err: (error as Error).message }, 'refused to send an invalid message');
        continue;
      }
      this.hooks.tap?.('out', 'signaling', Buffer.from(text, 'utf8'), ctx.participantId);
      link.send(text);
    }
  }

  stats(): { meetings: number; participants: number; waiting: number; media: MediaRouter['totals'] } {
    let participants = 0;
    for (const m of this.live.values()) participants += m.participants.size;
    let waiting = 0;
    for (const set of this.waiting.values()) waiting += set.size;
    return { meetings: this.live.size, participants, waiting, media: { ...this.router.totals } };
  }

  /** Ends a meeting now (deleted): everyone in it or waiting for it is disconnected. */
  endMeeting(meetingId: string): void {
    for (const conn of [...this.connections]) {
      const id = conn.participant?.meeting.record.id ?? conn.waitingFor?.meetingId;
      if (id === meetingId) conn.terminate(4000, 'meeting deleted');
    }
  }

  /** Closes every connection and peer connection. */
  closeAll(): void {
    for (const conn of [...this.connections]) conn.terminate(1001, 'relay shutting down');
    for (const m of this.live.values()) m.wipe();
    this.live.clear();
    this.waiting.clear();
  }
}
