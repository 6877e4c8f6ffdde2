/**
 * The web client's media connection to the relay: one RTCPeerConnection of the browser's own WebRTC
 * stack with the unordered, partially reliable `media` data channel, offered after admission,
 * answered by the relay, candidates trickled both ways (docs/protocol.md §Session flow). It is the
 * `MediaRelay` the shared media link (src/meeting/media-link.ts) sends chunks to and hears them
 * from, so the browser runs the room's stream path unchanged: envelope, SFrame, chunks, reassembly.
 *
 * A connection that fails (ICE failed, or `disconnected` for 5 s, or the relay's `media-lost`) is
 * replaced by a new offer on the same admission with the reconnect backoff; the participant and its
 * keys stay. Sending is all-or-none per frame under a `bufferedAmount` bound, as the room's
 * MediaChannel does (docs/protocol.md §Media chunks). On a relay with the Janus media plane
 * (docs/protocol.md §Media planes) a second connection, which Janus offers, is the downlink: this end
 * creates the `JanusDataChannel` Janus needs, answers, and writes each chunk's sender from the
 * relay's feed map (a chunk of a feed the map does not name is dropped and counted), as the room's
 * src/transport/downlink.ts does; the level of speech and a lagging downlink are told to the relay,
 * which reads no chunk header there.
 */
import type { Clock, TimerHandle } from '../../../src/core/clock.ts';
import { EventBus } from '../../../src/core/events.ts';
import type { MediaRelay, MediaRelayEvents } from '../../../src/meeting/media-link.ts';
import { LevelReportGate } from '../../../src/protocol/level-report.ts';
import { MAX_DATA_CHANNEL_MESSAGE } from '../../../src/protocol/limits.ts';
import { FeedMap } from '../../../src/protocol/feed-map.ts';
import type { ClientMessage, IceServer, ServerMessage, WithoutV } from '../../../src/protocol/schemas.ts';
import { type BackoffOptions, backoffDelay } from '../../../src/transport/backoff.ts';
import { isWebRefusal } from './web-errors.ts';

/** The label and options the relay expects (src/transport/peer.ts: unordered, 3 retransmits). */
export const MEDIA_CHANNEL_LABEL = 'media';
const MEDIA_CHANNEL_OPTIONS = { ordered: false, maxRetransmits: 3 };
/** As the room's sender: about 0.8 s of 2.5 Mbit/s queued is latency, not smoothing. */
export const HIGH_WATER_MARK = 256 * 1024;
/** A connection `disconnected` this long is replaced (as the room's, src/transport/relay-client.ts). */
export const DISCONNECTED_GRACE_MS = 5000;
/** The label of the channel a Janus subscriber must create itself (src/transport/downlink.ts). */
export const JANUS_SUBSCRIBER_CHANNEL = 'JanusDataChannel';

/**
 * The parts of the browser's RTCPeerConnection and RTCDataChannel this module uses (the page passes
 * the real ones, tests a fake; the shared typecheck has no DOM library).
 */
export interface PeerConfig {
  iceServers: { urls: string[]; username?: string; credential?: string }[];
}
export interface IceCandidateLike {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}
export interface ChannelLike {
  readonly label: string;
  binaryType: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
}
export interface PeerLike {
  readonly connectionState: string;
  createDataChannel(label: string, options: { ordered: boolean; maxRetransmits?: number }): ChannelLike;
  createOffer(): Promise<{ type: string; sdp?: string }>;
  createAnswer(): Promise<{ type: string; sdp?: string }>;
  setLocalDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  setRemoteDescription(description: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
  addIceCandidate(candidate: IceCandidateLike): Promise<void>;
  close(): void;
  onicecandidate: ((event: { candidate: IceCandidateLike | null }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  ondatachannel: ((event: { channel: ChannelLike }) => void) | null;
}

export interface WebMediaEvents extends MediaRelayEvents {
  /** Our end of the channel is open and the relay said `media-ready`: frames can flow. */
  'media-open': undefined;
  /** The current connection failed and another will be offered. */
  'media-closed': undefined;
}

/** What RTCPeerConnection throws for ICE servers it cannot use (DOMException names). */
const ICE_SERVER_REFUSALS = new Set(['InvalidAccessError', 'SyntaxError', 'NotSupportedError']);

export interface WebMediaCounters {
  /** Connections offered (the first and every replacement). */
  offers: number;
  /** Chunks received. */
  chunksIn: number;
  /** Chunks sent, and chunks of frames not sent for backpressure or a closed channel. */
  chunksOut: number;
  chunksDropped: number;
  /** Messages on the channel that were not binary (dropped). */
  textDropped: number;
  /** `media-lost` from the relay. */
  mediaLost: number;
  /** Janus plane: downlink offers taken (each a new connection). */
  downOffers: number;
  /** Janus plane: chunks on a channel whose label is no feed in the relay's map (dropped). */
  unmappedChunks: number;
  /** Janus plane: `audio-level` reports sent. */
  levelReports: number;
  /** `ice-servers` the browser refused (the connection then went without them). */
  iceServersRefused: number;
  /** Candidates from the relay the browser refused (that path only is lost). */
  candidatesRefused: number;
}

export interface WebMediaConnectionOptions {
  clock: Clock;
  /** Sends on the signaling socket; false when it is not open. */
  send: (message: WithoutV<ClientMessage>) => boolean;
  /** Makes the peer connection: the browser's RTCPeerConnection, a fake in tests. */
  createPeer: (config: PeerConfig) => PeerLike;
  backoff?: BackoffOptions;
}

export class WebMediaConnection implements MediaRelay {
  readonly events = new EventBus<WebMediaEvents>();
  readonly counters: WebMediaCounters = {
    offers: 0,
    chunksIn: 0,
    chunksOut: 0,
    chunksDropped: 0,
    textDropped: 0,
    mediaLost: 0,
    downOffers: 0,
    unmappedChunks: 0,
    levelReports: 0,
    iceServersRefused: 0,
    candidatesRefused: 0,
  };
  readonly #o: WebMediaConnectionOptions;
  #pc: PeerLike | null = null;
  #channel: ChannelLike | null = null;
  #iceServers: IceServer[] = [];
  #participantId: string | undefined;
  #relayReady = false;
  #open = false;
  #retries = 0;
  #retry: TimerHandle | null = null;
  #grace: TimerHandle | null = null;
  #closed = false;
  /** Janus plane: the downlink connection, and the relay's map of feed ids to participant ids. */
  #down: PeerLike | null = null;
  #feeds = new FeedMap();
  #janus = false;
  readonly #level = new LevelReportGate();

  constructor(options: WebMediaConnectionOptions) {
    this.#o = options;
  }

  get participantId(): string | undefined {
    return this.#participantId;
  }

  get janusPlane(): boolean {
    return this.#janus;
  }

  get mediaOpen(): boolean {
    return this.#open;
  }

  /** The browser's peer connection now (for its stats), null between connections. */
  get peer(): PeerLike | null {
    return this.#pc;
  }

  /** A signaling message from the relay; the media ones change the connection, all are heard. */
  handle(m: ServerMessage): void {
    if (this.#closed) return;
    switch (m.type) {
      case 'ice-servers':
        this.#iceServers = m.iceServers;
        return;
      case 'admission':
        if (m.status === 'admitted') {
          this.#participantId = m.participantId;
          this.events.emit('admission', m);
          this.#start();
        }
        return;
      case 'sdp': {
        const pc = this.#pc;
        if (m.sdpType !== 'answer' || pc === null) return;
        // An answer the browser refuses fails this connection; another offer follows.
        pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch((error: unknown) => {
          if (!isWebRefusal(error)) throw error;
          this.#failed(pc);
        });
        return;
      }
      case 'ice': {
        const pc = this.#pc;
        // A candidate the browser refuses only loses that path; ICE goes on with the others.
        pc?.addIceCandidate({
          candidate: m.candidate,
          sdpMid: m.sdpMid,
          sdpMLineIndex: m.sdpMLineIndex,
        }).catch((error: unknown) => {
          if (!isWebRefusal(error)) throw error;
          this.counters.candidatesRefused++;
        });
        return;
      }
      case 'media-ready':
        this.#relayReady = true;
        this.#maybeOpen();
        return;
      case 'media-lost':
        this.counters.mediaLost++;
        this.#failed(this.#pc);
        return;
      case 'media-down-offer':
        this.#janus = true;
        this.#downOffer(m.sdp);
        return;
      case 'media-feeds':
        this.#feeds.set(m.feeds);
        return;
      case 'keyframe-request':
      case 'video-layer':
      case 'uplink':
      case 'roster':
        (this.events.emit as (k: string, p: unknown) => void)(m.type, m);
        return;
      default:
        return;
    }
  }

  /** The signaling connection is gone: so is this admission's media (a new join makes new ones). */
  reset(): void {
    this.#participantId = undefined;
    this.#iceServers = [];
    // The next relay may be another plane, and speech starts anew.
    this.#janus = false;
    this.#feeds = new FeedMap();
    this.#level.reset();
    this.#retries = 0;
    this.#clearRetry();
    this.#teardown();
  }

  close(): void {
    this.#closed = true;
    this.reset();
  }

  requestKeyframe(participantId: string, streamId: number): boolean {
    return this.#o.send({ type: 'keyframe-request', to: participantId, streamId });
  }

  /** Janus plane: a speaking level goes to the relay too (the embedded relay reads chunk headers). */
  audioLevelSent(level: number): void {
    const now = this.#o.clock.monotonic();
    if (this.#janus && this.#level.due(level, now) && this.#o.send({ type: 'audio-level', level })) {
      this.#level.sent(now);
      this.counters.levelReports++;
    }
  }

  /** Janus plane: the relay then sends us the most recent speakers only (docs/protocol.md §Big meetings). */
  downlinkBehind(behind: boolean): void {
    if (this.#janus) this.#o.send({ type: 'media-behind', behind });
  }

  sendChunks(chunks: readonly Uint8Array[]): boolean {
    const ch = this.#channel;
    let total = 0;
    for (const c of chunks) total += c.byteLength;
    if (
      ch === null ||
      !this.#open ||
      ch.readyState !== 'open' ||
      ch.bufferedAmount + total > HIGH_WATER_MARK
    ) {
      this.counters.chunksDropped += chunks.length;
      return false;
    }
    for (const c of chunks) {
      // The stream path cuts frames into chunks well under the channel's message limit.
      if (c.byteLength > MAX_DATA_CHANNEL_MESSAGE) throw new RangeError('media chunk over the channel limit');
      ch.send(c as Uint8Array<ArrayBuffer>);
    }
    this.counters.chunksOut += chunks.length;
    return true;
  }

  #start(): void {
    this.#teardown();
    if (this.#closed || this.#participantId === undefined) return;
    const pc = this.#createPeer();
    const channel = pc.createDataChannel(MEDIA_CHANNEL_LABEL, MEDIA_CHANNEL_OPTIONS);
    channel.binaryType = 'arraybuffer';
    this.#pc = pc;
    this.#channel = channel;
    this.#relayReady = false;
    this.counters.offers++;
    channel.onopen = () => this.#maybeOpen();
    channel.onclose = () => this.#failed(pc);
    channel.onmessage = (e) => {
      if (this.#pc !== pc) return;
      if (!(e.data instanceof ArrayBuffer)) {
        this.counters.textDropped++;
        return;
      }
      this.counters.chunksIn++;
      this.events.emit('chunk', new Uint8Array(e.data));
    };
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (this.#pc !== pc || c === null || c.candidate === '') return;
      this.#o.send({ type: 'ice', candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
    };
    pc.onconnectionstatechange = () => {
      if (this.#pc !== pc) return;
      const state = pc.connectionState;
      if (state === 'failed') this.#failed(pc);
      else if (state === 'disconnected' && this.#grace === null)
        this.#grace = this.#o.clock.setTimeout(() => {
          this.#grace = null;
          if (this.#pc === pc && pc.connectionState === 'disconnected') this.#failed(pc);
        }, DISCONNECTED_GRACE_MS);
      else if (state !== 'disconnected' && this.#grace !== null) {
        // Back before the grace ran out: a later disconnect gets the whole grace again.
        this.#o.clock.clear(this.#grace);
        this.#grace = null;
      }
    };
    pc.createOffer()
      .then(async (offer) => {
        if (this.#pc !== pc) return;
        const sdp = offer.sdp;
        if (this.#pc !== pc || sdp === undefined) return;
        await pc.setLocalDescription({ type: 'offer', sdp });
        if (this.#pc !== pc) return;
        if (!this.#o.send({ type: 'sdp', sdpType: 'offer', sdp })) this.#failed(pc);
      })
      .catch((error: unknown) => {
        if (!isWebRefusal(error)) throw error;
        this.#failed(pc);
      });
  }

  /** Janus offers the downlink: answer on a connection of its own (replacing any previous one). */
  #downOffer(sdp: string): void {
    this.#closeDown();
    if (this.#closed || this.#participantId === undefined) return;
    this.counters.downOffers++;
    const pc = this.#createPeer();
    this.#down = pc;
    pc.ondatachannel = ({ channel }) => {
      const label = channel.label;
      channel.binaryType = 'arraybuffer';
      channel.onmessage = (e) => {
        if (this.#down === pc) this.#downChunk(label, e.data);
      };
    };
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      if (this.#down !== pc || c === null || c.candidate === '') return;
      this.#o.send({
        type: 'media-down-ice',
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
      });
    };
    // A failed downlink replaces all of our media, as `media-lost` does.
    pc.onconnectionstatechange = () => {
      if (this.#down === pc && pc.connectionState === 'failed') this.#failed(this.#pc);
    };
    pc.createDataChannel(JANUS_SUBSCRIBER_CHANNEL, { ordered: true });
    pc.setRemoteDescription({ type: 'offer', sdp })
      .then(() => pc.createAnswer())
      .then(async (answer) => {
        const local = answer.sdp;
        if (this.#down !== pc || local === undefined) return;
        await pc.setLocalDescription({ type: 'answer', sdp: local });
        if (this.#down === pc) this.#o.send({ type: 'media-down-answer', sdp: local });
      })
      .catch((error: unknown) => {
        // An offer the browser refuses fails all of our media, as `media-lost` does.
        if (!isWebRefusal(error)) throw error;
        if (this.#down === pc) this.#failed(this.#pc);
      });
  }

  /** A downlink chunk: its sender is written from the feed map, never taken from the bytes. */
  #downChunk(label: string, data: unknown): void {
    if (!(data instanceof ArrayBuffer)) {
      this.counters.textDropped++;
      return;
    }
    const chunk = this.#feeds.relabel(label, new Uint8Array(data));
    if (chunk === null) {
      this.counters.unmappedChunks++;
      return;
    }
    this.counters.chunksIn++;
    this.events.emit('chunk', chunk);
  }

  #closeDown(): void {
    const pc = this.#down;
    this.#down = null;
    if (pc !== null) {
      pc.ondatachannel = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    }
  }

  /**
   * A peer connection with this admission's ICE servers. The browser refuses servers it cannot use
   * (a `turn:` URL without credentials, one it cannot parse) by throwing: those servers are then
   * dropped and counted, and the connection goes direct (docs/protocol.md §ICE servers).
   */
  #createPeer(): PeerLike {
    try {
      return this.#o.createPeer({ iceServers: this.#iceServers.map((s) => ({ ...s, urls: [...s.urls] })) });
    } catch (error) {
      if (!(error instanceof Error && ICE_SERVER_REFUSALS.has(error.name)) || this.#iceServers.length === 0)
        throw error;
      this.counters.iceServersRefused++;
      this.#iceServers = [];
      return this.#o.createPeer({ iceServers: [] });
    }
  }

  #maybeOpen(): void {
    const ch = this.#channel;
    if (this.#open || ch === null || ch.readyState !== 'open' || !this.#relayReady) return;
    this.#open = true;
    this.#retries = 0;
    this.events.emit('media-open', undefined);
  }

  /** The connection `pc` failed: replace it with backoff (an older one, already replaced, is ignored). */
  #failed(pc: PeerLike | null): void {
    if (pc === null || this.#pc !== pc) return;
    this.#teardown();
    this.events.emit('media-closed', undefined);
    if (this.#closed || this.#participantId === undefined || this.#retry !== null) return;
    this.#retries++;
    this.#retry = this.#o.clock.setTimeout(
      () => {
        this.#retry = null;
        if (this.#pc === null) this.#start();
      },
      backoffDelay(this.#retries, this.#o.backoff),
    );
  }

  #clearRetry(): void {
    if (this.#retry !== null) this.#o.clock.clear(this.#retry);
    this.#retry = null;
  }

  #teardown(): void {
    const pc = this.#pc;
    const ch = this.#channel;
    this.#pc = null;
    this.#channel = null;
    this.#open = false;
    this.#relayReady = false;
    if (this.#grace !== null) this.#o.clock.clear(this.#grace);
    this.#grace = null;
    if (ch !== null) {
      ch.onopen = ch.onclose = ch.onmessage = null;
      ch.close();
    }
    if (pc !== null) {
      pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    }
    this.#closeDown();
  }
}
