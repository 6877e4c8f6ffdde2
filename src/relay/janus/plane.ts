/**
 * Media through one Janus instance's VideoRoom data channels (docs/decisions/0018-media-planes.md):
 * the relay stays the meeting service and drives Janus over its WebSocket API; participants never
 * talk to Janus's API. The relay's plane (pool.ts) places each meeting occurrence on one instance.
 *
 * - One Janus session for the relay; one VideoRoom room per meeting occurrence, created on its
 *   first offer and destroyed when the occurrence ends (rooms.ts, with the rooms of lost sessions).
 * - Uplink: the participant's offer (one `media` channel) is published on a publisher handle under
 *   a feed id the relay picks; Janus's answer goes back as `sdp answer`, and `webrtcup` as `media-ready`.
 * - Downlink: a subscriber handle per participant with every other live feed; Janus's offer goes to
 *   the client as `media-down-offer`, its answer comes back as `media-down-answer` and is `start`ed.
 *   Feeds that go live later are added with `update`. Every participant is sent `media-feeds`
 *   (feed id ↔ participant id) before it can receive a feed: Janus labels each downlink channel with
 *   the feed id, and the client writes the chunk's sender from that map (docs/protocol.md §Media chunks).
 * - After a subscriber is up (or gets new feeds), each of those publishers is asked for a key frame:
 *   Janus drops what was sent before a subscriber was ready.
 * - Any failure of a participant's handles (a refused or unanswered request, a hangup, the Janus
 *   session lost) closes both its handles and sends `media-lost`; the client offers again.
 *
 * Each participant's Janus requests run one after another (its lane); a newer offer or leaving
 * bumps its generation, and steps of an older generation stop at their next check.
 */
import type { Clock } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { IceCandidate } from '../../transport/peer.ts';
import type { LiveMeeting, Participant } from '../live-meeting.ts';
import type { JanusInstanceCounts, MediaHost } from '../media-plane.ts';
import { type JanusConnect, JanusClient } from './client.ts';
import type { JanusMessage } from './messages.ts';
import { type FeedEntry, feedMap, freshId, subscriptionChanges, wantedFeeds } from './plane-state.ts';
import { errorText, JanusRooms } from './rooms.ts';
import * as vr from './videoroom.ts';

/** Candidates held per direction until the handle they belong to exists. */
const MAX_HELD_CANDIDATES = 64;
/** Stream ids asked for a key frame when a subscriber starts receiving a feed (video, screen). */
const KEYFRAME_STREAMS = [1, 2] as const;

export interface JanusPlaneOptions {
  url: string;
  clock: Clock;
  logger: Logger;
  /** Publishers per room (the meeting's participant cap). */
  maxPublishers: number;
  connect?: JanusConnect;
  requestTimeoutMs?: number;
  random?: () => number;
}

interface PeerState {
  readonly p: Participant;
  host: MediaHost;
  gen: number;
  pub: number | undefined;
  feed: number | undefined;
  live: boolean;
  sub: number | undefined;
  subState: 'none' | 'joining' | 'offered' | 'started';
  subFeeds: Set<number>;
  upCandidates: IceCandidate[];
  downCandidates: IceCandidate[];
  lane: Promise<void>;
}

/** The plane's work on one Janus instance: its session, rooms and handles. */
export class JanusInstancePlane {
  readonly client: JanusClient;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #rooms: JanusRooms;
  readonly #peers = new Map<Participant, PeerState>();
  readonly #handles = new Map<number, { s: PeerState; role: 'pub' | 'sub'; gen: number }>();
  #requestsFailed = 0;

  constructor(options: JanusPlaneOptions) {
    this.#log = options.logger.child({ component: 'janus', janus: options.url });
    this.#random = options.random ?? Math.random;
    this.client = new JanusClient({
      url: options.url,
      clock: options.clock,
      logger: this.#log,
      ...(options.connect === undefined ? {} : { connect: options.connect }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
    });
    this.#rooms = new JanusRooms({
      client: this.client,
      logger: this.#log,
      maxPublishers: options.maxPublishers,
      random: this.#random,
    });
    this.client.events.on('handle-event', ({ handle, message }) => this.#onHandleEvent(handle, message));
    this.client.events.on('down', () => this.#sessionLost());
  }

  offer(host: MediaHost, p: Participant, sdp: string): void {
    let s = this.#peers.get(p);
    if (s === undefined) {
      s = {
        p,
        host,
        gen: 0,
        pub: undefined,
        feed: undefined,
        live: false,
        sub: undefined,
        subState: 'none',
        subFeeds: new Set(),
        upCandidates: [],
        downCandidates: [],
        lane: Promise.resolve(),
      };
      this.#peers.set(p, s);
    } else {
      this.#dropHandles(s);
    }
    s.host = host;
    const state = s;
    const gen = state.gen;
    this.#run(state, async () => {
      if (!this.#current(state, gen)) return;
      const room = await this.#rooms.room(p.meeting);
      if (!this.#current(state, gen)) return;
      const pub = await this.client.attach(vr.VIDEOROOM_PLUGIN);
      if (!this.#adopt(state, gen, pub, 'pub')) return;
      state.pub = pub;
      for (const c of state.upCandidates.splice(0)) this.#trickle(pub, c);
      const feed = freshId(this.#random, (id) => this.#feedTaken(p.meeting, id));
      state.feed = feed;
      await vr.joinPublisher(this.client, pub, room, feed);
      if (state.gen !== gen) return;
      const answer = await vr.publish(this.client, pub, { type: 'offer', sdp });
      if (state.gen !== gen || host.state !== 'admitted') return;
      host.send({ type: 'sdp', sdpType: 'answer', sdp: answer.sdp });
    });
  }

  candidate(p: Participant, c: IceCandidate, pc: 'up' | 'down'): void {
    const s = this.#peers.get(p);
    if (s === undefined) return;
    const candidate = { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex };
    const handle = pc === 'up' ? s.pub : s.sub;
    if (handle !== undefined) {
      this.#trickle(handle, candidate);
      return;
    }
    const held = pc === 'up' ? s.upCandidates : s.downCandidates;
    if (held.length < MAX_HELD_CANDIDATES) held.push(candidate);
  }

  downAnswer(host: MediaHost, p: Participant, sdp: string): void {
    const s = this.#peers.get(p);
    if (s === undefined || s.subState !== 'offered' || s.sub === undefined)
      throw new RoomdError('protocol.unexpected', { message: 'No downlink offer is waiting for an answer.' });
    s.host = host;
    const sub = s.sub;
    const gen = s.gen;
    this.#run(s, async () => {
      await vr.start(this.client, sub, { type: 'answer', sdp });
      if (s.gen !== gen) return;
      s.subState = 'started';
      for (const c of s.downCandidates.splice(0)) this.#trickle(sub, c);
      this.#reconcile(s);
    });
  }

  detach(p: Participant): void {
    const s = this.#peers.get(p);
    if (s === undefined) return;
    this.#peers.delete(p);
    this.#dropHandles(s);
  }

  /** The occurrence has ended: its room is destroyed (once created, if that is under way). */
  end(m: LiveMeeting): void {
    this.#rooms.end(m);
  }

  /** Participants that are behind follow the meeting's most recent speakers. */
  selectionChanged(m: LiveMeeting): void {
    for (const q of m.participants.values()) {
      const s = this.#peers.get(q);
      if (s !== undefined) this.#reconcile(s);
    }
  }

  /** A session on the instance is open (again): the rooms lost sessions left on Janus are destroyed. */
  sessionOpened(): void {
    this.#rooms.sessionOpened();
  }

  counts(): JanusInstanceCounts {
    let publishers = 0;
    let subscribers = 0;
    for (const s of this.#peers.values()) {
      if (s.live) publishers++;
      if (s.subState === 'started') subscribers++;
    }
    return {
      connected: this.client.session !== undefined,
      rooms: this.#rooms.size,
      publishers,
      subscribers,
      requestsFailed: this.#requestsFailed,
      reconnects: this.client.counters.reconnects,
      malformed: this.client.counters.malformed,
    };
  }

  /** Waits for the rooms being destroyed (each request has its deadline), then ends the session. */
  async close(): Promise<void> {
    for (const s of this.#peers.values()) s.gen++;
    this.#peers.clear();
    this.#handles.clear();
    await this.#rooms.close();
    this.client.close();
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Runs `step` after the participant's earlier steps; a failure of the current generation loses its media. */
  #run(s: PeerState, step: () => Promise<void>): void {
    const gen = s.gen;
    s.lane = s.lane.then(step).catch((error: unknown) => this.#failed(s, gen, error));
  }

  /** The participant is still here and no newer offer or leaving has come since `gen`. */
  #current(s: PeerState, gen: number): boolean {
    return s.gen === gen && this.#peers.get(s.p) === s;
  }

  #adopt(s: PeerState, gen: number, handle: number, role: 'pub' | 'sub'): boolean {
    if (s.gen !== gen) {
      this.#detachHandle(handle);
      return false;
    }
    this.#handles.set(handle, { s, role, gen });
    return true;
  }

  #feeds(m: LiveMeeting): FeedEntry[] {
    const out: FeedEntry[] = [];
    for (const q of m.participants.values()) {
      const s = this.#peers.get(q);
      if (s?.feed !== undefined) out.push({ participantId: q.id, feed: s.feed, live: s.live });
    }
    return out;
  }

  #feedTaken(m: LiveMeeting, id: number): boolean {
    return m.participants.has(String(id)) || this.#feeds(m).some((f) => f.feed === id);
  }

  #publisherOf(m: LiveMeeting, feed: number): PeerState | undefined {
    for (const q of m.participants.values()) {
      const s = this.#peers.get(q);
      if (s?.feed === feed && s.live) return s;
    }
    return undefined;
  }

  /** The meeting's live feeds changed: everyone gets the new map, then their subscription follows. */
  #feedsChanged(m: LiveMeeting): void {
    const feeds = this.#feeds(m);
    for (const q of m.participants.values()) {
      const s = this.#peers.get(q);
      if (s === undefined) continue;
      q.send({ type: 'media-feeds', feeds: feedMap(feeds, q.id) });
      this.#reconcile(s);
    }
  }

  /** Brings the participant's subscription to every other live feed, one step at a time. */
  #reconcile(s: PeerState): void {
    const gen = s.gen;
    this.#run(s, async () => {
      if (!this.#current(s, gen) || s.pub === undefined) return;
      const m = s.p.meeting;
      // Behind: only the most recent speakers' feeds (docs/protocol.md §Big meetings).
      const wanted = wantedFeeds(
        this.#feeds(m),
        s.p.id,
        s.p.behind ? m.speakers.behindFeeds(s.p.id) : undefined,
      );
      if (s.subState === 'none') {
        if (wanted.length === 0) return;
        const room = await this.#rooms.room(m);
        if (!this.#current(s, gen)) return;
        s.subState = 'joining';
        const sub = await this.client.attach(vr.VIDEOROOM_PLUGIN);
        if (!this.#adopt(s, gen, sub, 'sub')) return;
        s.sub = sub;
        const offer = await vr.joinSubscriber(this.client, sub, room, wanted);
        if (s.gen !== gen) return;
        s.subFeeds = new Set(wanted);
        s.subState = 'offered';
        s.host.send({ type: 'media-down-offer', sdp: offer.sdp });
        return;
      }
      if (s.subState !== 'started' || s.sub === undefined) return; // followed up once started
      const change = subscriptionChanges(wanted, s.subFeeds, (f) => this.#publisherOf(m, f) !== undefined);
      for (const f of change.departed) s.subFeeds.delete(f);
      if (change.subscribe.length === 0 && change.unsubscribe.length === 0) return;
      const reoffer = await vr.update(this.client, s.sub, change.subscribe, change.unsubscribe);
      if (s.gen !== gen) return;
      for (const f of change.subscribe) s.subFeeds.add(f);
      for (const f of change.unsubscribe) s.subFeeds.delete(f);
      if (reoffer !== undefined)
        throw new RoomdError('relay.media_plane_failed', {
          message: 'Janus renegotiated a data subscription.',
        });
      this.#askKeyframes(s, change.subscribe);
    });
  }

  #askKeyframes(s: PeerState, feeds: Iterable<number>): void {
    for (const f of feeds) {
      const publisher = this.#publisherOf(s.p.meeting, f);
      if (publisher === undefined) continue;
      for (const streamId of KEYFRAME_STREAMS)
        publisher.p.send({ type: 'keyframe-request', from: s.p.id, streamId });
    }
  }

  #onHandleEvent(handle: number, m: JanusMessage): void {
    const entry = this.#handles.get(handle);
    if (entry === undefined) return; // a handle we already let go of
    const { s, role, gen } = entry;
    if (s.gen !== gen) return;
    switch (m.janus) {
      case 'webrtcup':
        if (role === 'pub') {
          s.live = true;
          if (s.host.state === 'admitted') s.host.send({ type: 'media-ready' });
          this.#feedsChanged(s.p.meeting);
        } else {
          this.#askKeyframes(s, s.subFeeds);
        }
        return;
      case 'hangup':
      case 'detached':
        this.#lost(s, 'failed');
        return;
      default:
        // `media`, `slowlink`, and VideoRoom notifications: the plane keeps its own account.
        return;
    }
  }

  #failed(s: PeerState, gen: number, error: unknown): void {
    if (s.gen !== gen || this.#peers.get(s.p) !== s) return;
    this.#requestsFailed++;
    const code = error instanceof RoomdError ? error.code : 'core.internal';
    this.#log.warn({ participant: s.p.id, code, err: errorText(error) }, 'Janus media setup failed');
    if (!(error instanceof RoomdError)) s.host.guardTrip('media', error);
    else this.#lost(s, 'setup_failed');
  }

  /** The participant's media through Janus is gone: close both handles and tell the client. */
  #lost(s: PeerState, reason: 'failed' | 'setup_failed'): void {
    if (this.#peers.get(s.p) !== s) return;
    this.#dropHandles(s);
    s.host.core.mediaConnectionsLost++;
    this.#log.warn({ participant: s.p.id, reason }, 'media through Janus lost; the client was told');
    if (s.host.state === 'admitted') s.host.send({ type: 'media-lost', reason });
  }

  /** Lets go of both handles (a new generation); a feed that was live leaves everyone's map. */
  #dropHandles(s: PeerState): void {
    s.gen++;
    for (const h of [s.pub, s.sub]) if (h !== undefined) this.#detachHandle(h);
    const wasLive = s.live;
    s.pub = undefined;
    s.sub = undefined;
    s.feed = undefined;
    s.live = false;
    s.subState = 'none';
    s.subFeeds = new Set();
    s.upCandidates = [];
    s.downCandidates = [];
    if (wasLive) this.#feedsChanged(s.p.meeting);
  }

  #detachHandle(h: number): void {
    this.#handles.delete(h);
    this.client
      .detach(h)
      .catch((error: unknown) => this.#log.debug({ err: errorText(error) }, 'Janus detach failed'));
  }

  #trickle(handle: number, c: IceCandidate): void {
    this.client
      .trickle(handle, c)
      .catch((error: unknown) => this.#log.debug({ err: errorText(error) }, 'Janus trickle failed'));
  }

  /**
   * The Janus session is gone, and every handle with it. Its rooms stay on Janus until destroyed:
   * they are remembered for the next session (sessionOpened).
   */
  #sessionLost(): void {
    this.#rooms.sessionLost();
    this.#handles.clear();
    for (const s of [...this.#peers.values()])
      if (s.pub !== undefined || s.subState !== 'none' || s.feed !== undefined) this.#lost(s, 'failed');
  }
}
