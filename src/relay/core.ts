/**
 * The relay's meeting logic, independent of sockets (docs/protocol.md §Session flow): connections come in as
 * `ClientLink`s (a WebSocket in production, an in-memory link in unit tests). It runs admission,
 * keeps live meetings, names leaders, broadcasts the roster, routes E2EE envelopes verbatim, answers
 * WebRTC offers with one peer connection per participant, and hands media to the fan-out.
 * It holds no key in E2EE meetings and logs no payloads.
 */
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { encodeServerMessage, toBase64Url } from '../protocol/codec.ts';
import { WIRE_VERSION } from '../protocol/limits.ts';
import { FEATURE_NAMES, isE2eeCapable, MEETING_FEATURES } from '../protocol/vocabulary.ts';
import type { ClientMessageOf, IceServer, MeetingInfoMessage, WithoutV } from '../protocol/schemas.ts';
import type { PeerConnectionFactory } from '../transport/peer.ts';
import type { ReportedWorkerCounters } from '../transport/worker-counters.ts';
import { type LockoutPolicy, PasscodeLockout } from './admission.ts';
import { MediaRouter } from './fanout.ts';
import type { OutgoingBody, RelayHooks } from './hooks.ts';
import { asList } from './hooks.ts';
import { LiveMeeting, type Participant } from './live-meeting.ts';
import { EmbeddedMediaPlane, type MediaPlane, type MediaPlaneStats } from './media-plane.ts';
import type { MeetingRegistry } from './registry.ts';
import { BigMeetings, type BigMeetingSettings } from './big-meetings.ts';
import { checkTurnSettings, type TurnSettings, turnIceServer } from './turn.ts';

export interface ClientLink {
  readonly remoteAddress: string;
  send(text: string): void;
  close(code: number, reason: string): void;
}

/** What the core needs of a connection (implemented by session.ts Connection). */
export interface ConnectionLike {
  readonly link: ClientLink;
  readonly state: 'new' | 'waiting' | 'admitted' | 'closed';
  readonly participant: Participant | undefined;
  readonly waitingFor: { meetingId: string } | undefined;
  terminate(code: number, reason: string): void;
}

/** Close code for a not-yet-joined connection closed to make room for a newer one from its address. */
export const UNJOINED_EVICTED_CLOSE = 4429;

/** Limits on signaling connections (docs/protocol.md §Limits and §Transport). */
export interface SignalingLimits {
  /** A connection neither admitted nor waiting this long after opening or a refused join is closed (4408). */
  joinTimeoutMs: number;
  /** WebSocket ping period; a connection that has not answered the previous ping is closed. */
  pingIntervalMs: number;
  /** Concurrent signaling connections from one remote address; more are refused at once (1013). */
  maxConnectionsPerAddress: number;
  /** Of those, connections not yet admitted or waiting; over it the oldest of them is closed. */
  maxUnjoinedPerAddress: number;
  /** Addresses the per-address caps do not apply to (a reverse proxy in front of the relay). */
  uncappedAddresses: readonly string[];
  /** Rate limit per connection: a burst of `burst` messages, then `perSecond`. */
  burst: number;
  perSecond: number;
}

export const DEFAULT_SIGNALING_LIMITS: Readonly<SignalingLimits> = {
  joinTimeoutMs: 10_000,
  pingIntervalMs: 15_000,
  maxConnectionsPerAddress: 16,
  maxUnjoinedPerAddress: 8,
  uncappedAddresses: [],
  burst: 400,
  perSecond: 200,
};

/** Counters of hostile or broken signaling traffic, in `stats()` and /healthz. */
export interface SignalingTotals {
  /** Messages answered with a typed `error` (failed validation, binary frames, refused by the session). */
  messagesRejected: number;
  /** Binary frames refused (signaling is text only); also counted in messagesRejected. */
  binaryFrames: number;
  /** Rate-limit episodes, each told to its client once with `relay.rate_limited`. */
  rateLimitEpisodes: number;
  /** Messages dropped by the rate limit. */
  rateLimitedMessages: number;
  /** Unexpected errors caught by a last-resort guard; each closed its connection (1011). */
  guardTrips: number;
  /** Connections closed for sending no valid join in time. */
  joinTimeouts: number;
  /** Connections closed for not answering a WebSocket ping (half-open). */
  pongTimeouts: number;
  /** Connections refused at once because their address was over the total cap. */
  addressRefusals: number;
  /** Not-yet-joined connections closed to make room for a newer one from the same address. */
  unjoinedEvicted: number;
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
  /** Wrong-passcode budgets (docs/protocol.md §Wrong passcodes); defaults in DEFAULT_LOCKOUT_POLICY. */
  lockout?: Partial<LockoutPolicy>;
  limits?: Partial<SignalingLimits>;
  /** The media worker's counters, when the relay's peers run in one (docs/decisions/0013-media-worker.md). */
  mediaWorker?: () => MediaWorkerStats;
  /** What carries the media (docs/decisions/0018-media-planes.md); default the relay's own fan-out. */
  mediaPlane?: MediaPlane;
  /** TURN for the media connections, with per-participant credentials (docs/protocol.md §ICE servers). */
  turn?: TurnSettings;
  /** Big meetings (docs/protocol.md §Big meetings): last N and how many speakers' audio at once. */
  bigMeeting?: BigMeetingSettings;
}

/**
 * The relay's media worker as `stats().mediaWorker` reports it: what its supervisor counted since the
 * relay started (transport/worker-counters.ts MediaWorkerCounters) and the running worker's last report.
 */
export interface MediaWorkerStats extends ReportedWorkerCounters {
  /** The running worker's process id, null between workers. */
  pid: number | null;
  /** Its resident memory at its last health report, in bytes (0 before the first). */
  rssBytes: number;
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
  readonly plane: MediaPlane;
  readonly live = new Map<string, LiveMeeting>();
  /** Connections waiting for the host, per meeting id. */
  readonly waiting = new Map<string, Set<ConnectionLike>>();
  readonly connections = new Set<ConnectionLike>();
  readonly limits: Readonly<SignalingLimits>;
  readonly signaling: SignalingTotals = {
    messagesRejected: 0,
    binaryFrames: 0,
    rateLimitEpisodes: 0,
    rateLimitedMessages: 0,
    guardTrips: 0,
    joinTimeouts: 0,
    pongTimeouts: 0,
    addressRefusals: 0,
    unjoinedEvicted: 0,
  };
  /** Media connections whose relay end failed; each client was told with `media-lost`. */
  mediaConnectionsLost = 0;
  /** Speakers, video layers and receivers that are behind (docs/protocol.md §Big meetings). */
  readonly big: BigMeetings;
  readonly #mediaWorker: (() => MediaWorkerStats) | undefined;
  readonly #turn: TurnSettings | undefined;
  /** Open connections per remote address (for the per-address caps). */
  readonly #byAddress = new Map<string, Set<ConnectionLike>>();
  /** Links already logged as having been sent an invalid message (log once per link). */
  readonly #sendFailureLogged = new WeakSet<ClientLink>();
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
    this.lockout = new PasscodeLockout({
      clock: options.clock,
      ...(options.lockout === undefined ? {} : { policy: options.lockout }),
    });
    this.plane = options.mediaPlane ?? new EmbeddedMediaPlane();
    this.big = new BigMeetings(options.clock, this.plane, options.bigMeeting);
    this.router = new MediaRouter(
      this.hooks,
      this.log,
      (from, level) => this.big.audioLevel(from, level),
      () => this.clock.monotonic(),
    );
    this.limits = { ...DEFAULT_SIGNALING_LIMITS, ...options.limits };
    this.#mediaWorker = options.mediaWorker;
    if (options.turn !== undefined) checkTurnSettings(options.turn);
    this.#turn = options.turn;
  }

  /**
   * The ICE servers for `user`'s media connections (a participant id, or RELAY_TURN_USER for the
   * relay's own end), with credentials valid from now; empty without TURN.
   */
  iceServersFor(user: string): IceServer[] {
    return this.#turn === undefined ? [] : [turnIceServer(this.#turn, user, this.clock.now())];
  }

  /**
   * Admits one more connection from `address` under the per-address caps (docs/protocol.md §Limits);
   * returns the reason to close the newcomer with when it does not fit (counted). Over the total cap
   * the newcomer is refused. Over the cap for connections that have not joined yet, the OLDEST of
   * those is closed instead (4429, counted), so a neighbour sharing the address (NAT, the same box)
   * cannot hold every slot and keep a room from connecting: a slot can be churned, never held, and a
   * newcomer only needs it for the one round trip its join takes. Checked before the connection is
   * created.
   */
  refuseAddress(address: string): string | undefined {
    const open = this.#byAddress.get(address);
    if (open === undefined || this.limits.uncappedAddresses.includes(address)) return undefined;
    if (open.size >= this.limits.maxConnectionsPerAddress) {
      this.signaling.addressRefusals++;
      return 'too many connections from this address';
    }
    let unjoined = 0;
    let oldest: ConnectionLike | undefined;
    // Sets iterate in insertion order: the first unjoined connection is the oldest.
    for (const c of open)
      if (c.state === 'new') {
        unjoined++;
        oldest ??= c;
      }
    if (oldest !== undefined && unjoined >= this.limits.maxUnjoinedPerAddress) {
      this.signaling.unjoinedEvicted++;
      oldest.terminate(UNJOINED_EVICTED_CLOSE, 'replaced by a newer connection from this address');
    }
    return undefined;
  }

  /** Registers a new connection and greets it (session.ts calls this from its constructor). */
  register(conn: ConnectionLike & { sendRaw(body: OutgoingBody): void }, nonce: Uint8Array): void {
    this.connections.add(conn);
    const address = conn.link.remoteAddress;
    let open = this.#byAddress.get(address);
    if (open === undefined) {
      open = new Set();
      this.#byAddress.set(address, open);
    }
    open.add(conn);
    conn.sendRaw({
      type: 'hello',
      versions: { min: WIRE_VERSION, max: WIRE_VERSION },
      nonce: toBase64Url(nonce),
      relay: this.name,
    });
  }

  forget(conn: ConnectionLike): void {
    this.connections.delete(conn);
    const address = conn.link.remoteAddress;
    const open = this.#byAddress.get(address);
    open?.delete(conn);
    if (open?.size === 0) this.#byAddress.delete(address);
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
    const m = new LiveMeeting(record, this.big.speakerParams);
    if (record.encryption === 'enhanced' || this.hooks.serverKeyInE2ee?.(record.id) === true) m.rotateKey();
    this.live.set(meetingId, m);
    this.log.info({ meeting: record.id, instance: m.instanceId }, 'meeting occurrence started');
    return m;
  }

  /** Drops an empty occurrence (nobody in it and nobody waiting). */
  maybeEnd(m: LiveMeeting): void {
    if (m.participants.size > 0 || (this.waiting.get(m.record.id)?.size ?? 0) > 0) return;
    m.wipe();
    this.plane.end(m);
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
      ...(m.record.policy === undefined ? {} : { policy: m.record.policy }),
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
        // Once per link: a client can make the relay build invalid messages (an envelope that grows
        // over the size limit with `from` added), and must not flood the log with it.
        if (!this.#sendFailureLogged.has(link)) {
          this.#sendFailureLogged.add(link);
          const code = error instanceof RoomdError ? error.code : 'core.internal';
          this.log.error({ type: b.type, code }, 'refused to send an invalid message');
        }
        continue;
      }
      this.hooks.tap?.('out', 'signaling', Buffer.from(text, 'utf8'), ctx.participantId);
      link.send(text);
    }
  }

  stats(): {
    meetings: number;
    participants: number;
    waiting: number;
    connections: number;
    media: MediaRouter['totals'];
    mediaPlane: MediaPlaneStats;
    signaling: SignalingTotals;
    mediaConnectionsLost: number;
    /** Big meetings: `video-layer` messages sent. */
    videoLayerChanges: number;
    /** Janus plane: times a participant's downlink fell behind. */
    downlinksBehind: number;
    /** `media-behind` changes held back to a second after the previous one. */
    behindDeferred: number;
    /** null when the relay's peer connections do not run in a media worker (tests). */
    mediaWorker: MediaWorkerStats | null;
  } {
    let participants = 0;
    for (const m of this.live.values()) participants += m.participants.size;
    let waiting = 0;
    for (const set of this.waiting.values()) waiting += set.size;
    return {
      meetings: this.live.size,
      participants,
      waiting,
      connections: this.connections.size,
      media: { ...this.router.totals },
      mediaPlane: this.plane.stats(),
      signaling: { ...this.signaling },
      mediaConnectionsLost: this.mediaConnectionsLost,
      videoLayerChanges: this.big.videoLayerChanges,
      downlinksBehind: this.big.downlinksBehind,
      behindDeferred: this.big.behindDeferred,
      mediaWorker: this.#mediaWorker?.() ?? null,
    };
  }

  /** Ends a meeting now (deleted): everyone in it or waiting for it is disconnected. */
  endMeeting(meetingId: string): void {
    for (const conn of [...this.connections]) {
      const id = conn.participant?.meeting.record.id ?? conn.waitingFor?.meetingId;
      if (id === meetingId) conn.terminate(4000, 'meeting deleted');
    }
  }

  /** Closes every connection and peer connection (the media plane itself is closed by the server). */
  closeAll(): void {
    for (const conn of [...this.connections]) conn.terminate(1001, 'relay shutting down');
    for (const m of this.live.values()) {
      m.wipe();
      this.plane.end(m);
    }
    this.live.clear();
    this.waiting.clear();
  }
}
