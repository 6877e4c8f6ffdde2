/**
 * A participant's connection to the relay (docs/protocol.md "# Wire protocol" §Session flow): the
 * signaling socket plus, once admitted, one peer connection with the unordered "media" data channel.
 * It joins again after every reconnect (each connection is a new participant: the session above it
 * starts fresh keys) and closes the peer connection whenever the socket drops or on close().
 * No E2EE or media logic lives here: envelopes and chunks are opaque bytes in and out. Nothing the relay sends makes this end
 * throw: bad messages and chunks are dropped and counted, and an unexpected error in a receive
 * handler or listener is a guard trip, logged once per connection and counted (docs/protocol.md
 * §Validation).
 */
import { type Clock, SystemClock, type TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { fromBase64Url } from '../protocol/codec.ts';
import { LevelReportGate } from '../protocol/level-report.ts';
import type {
  ClientMessageOf,
  IceServer,
  ServerMessage,
  ServerMessageOf,
  WithoutV,
} from '../protocol/schemas.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import { Downlink, type DownlinkCounters } from './downlink.ts';
import {
  loadTrust,
  meetingServiceAgent,
  type NetworkSettings,
  type ProxySpec,
  proxyFor,
  type Target,
  type TlsTrust,
} from './http-proxy.ts';
import { MediaChannel } from './media-channel.ts';
import {
  MEDIA_CHANNEL_LABEL,
  type MediaPath,
  mediaChannelOptions,
  type PeerConnection,
  type PeerConnectionFactory,
  type PeerConnectionOptions,
} from './peer.ts';
import { SignalingClient, type SignalingClientOptions, type SignalingCounters } from './signaling-client.ts';
import { type BridgeCounters, newBridgeCounters, TurnBridges } from './turn-bridge.ts';

/** Receive counters of a relay connection (all reconnects), for the room's /metrics. */
export type RelayClientCounters = SignalingCounters;

/** How long a media connection may stay `disconnected` before it is replaced. */
export const MEDIA_DISCONNECTED_GRACE_MS = 5000;

export type JoinBody = Omit<WithoutV<ClientMessageOf<'join'>>, 'type'>;
/** Hello from the relay: its nonce is what a host signs (protocol/host-proof.ts). */
export type HelloMessage = ServerMessageOf<'hello'>;

export interface RelayClientEvents {
  hello: HelloMessage;
  admission: ServerMessageOf<'admission'>;
  'meeting-info': ServerMessageOf<'meeting-info'>;
  roster: ServerMessageOf<'roster'>;
  leader: ServerMessageOf<'leader'>;
  /** Enhanced meetings: the relay's meeting key (raw 32 bytes). */
  'meeting-key': { keyId: number; key: Uint8Array };
  e2ee: ServerMessageOf<'e2ee'>;
  'keyframe-request': ServerMessageOf<'keyframe-request'>;
  'feature-result': ServerMessageOf<'feature-result'>;
  /** Big meetings: the video layer the relay wants from us now (docs/protocol.md §Big meetings). */
  'video-layer': ServerMessageOf<'video-layer'>;
  /** Embedded plane: what of our media reached the relay (docs/protocol.md §Uplink reports). */
  uplink: ServerMessageOf<'uplink'>;
  /** A typed error the relay replied with. */
  'relay-error': ServerMessageOf<'error'>;
  pong: ServerMessageOf<'pong'>;
  /** The media channel is open at both ends (ours, and the relay's said media-ready): frames can flow. */
  'media-open': undefined;
  /** One media chunk from the media channel, unparsed (the media layer checks and reassembles it). */
  chunk: Uint8Array;
  /**
   * The signaling socket dropped (or could not be opened: `error` says why when it was the proxy or
   * TLS, docs/admin.md §Firewalls); the peer connection is closed; a reconnect may follow.
   */
  disconnected: { willReconnect: boolean; code: number; error?: RoomdError };
  reconnecting: { attempt: number; delayMs: number };
  /** Something the relay sent failed validation and was ignored. */
  'protocol-error': RoomdError;
}

export interface RelayClientOptions {
  url: string;
  peers: PeerConnectionFactory;
  /** Called on every hello (first connect and each reconnect) to build the join message. */
  join: (hello: HelloMessage) => JoinBody | Promise<JoinBody>;
  clock?: Clock;
  logger?: Logger;
  reconnect?: boolean;
  backoff?: BackoffOptions;
  wsOptions?: SignalingClientOptions['wsOptions'];
  tap?: SignalingClientOptions['tap'];
  /** bufferedAmount above which outgoing frames are dropped (default 256 KiB). */
  highWaterMark?: number;
  maxRetransmits?: number;
  /**
   * How the meeting service and TURN are reached (docs/admin.md §Firewalls): the proxy and the
   * service's key pin. Default: no setting, so `HTTPS_PROXY`/`NO_PROXY` apply. A `wsOptions.agent`
   * replaces it for the signaling socket.
   */
  network?: NetworkSettings;
}

export class RelayClient {
  readonly events = new EventBus<RelayClientEvents>((event, error) => this.#guardTrip(String(event), error));
  readonly signaling: SignalingClient;
  readonly #opts: RelayClientOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  #pc: PeerConnection | undefined;
  /** Media connections opened again in a row after one failed (reset when media opens). */
  #peerRetries = 0;
  #peerRetry: TimerHandle | undefined;
  #media: MediaChannel | undefined;
  /** Janus plane only: the second peer connection, which Janus offers (transport/downlink.ts). */
  readonly #downlink: Downlink;
  #participantId: string | undefined;
  /** The relay's `ice-servers` for this signaling connection (docs/protocol.md §ICE servers). */
  #iceServers: IceServer[] = [];
  #closed = false;
  #relayReady = false;
  #onMediaReady: (() => void) | undefined;
  #guardTrips = 0;
  #mediaLost = 0;
  /** Janus plane: this relay offered a downlink, so nobody reads our chunk headers on the way. */
  #janusPlane = false;
  /** When our level goes to the relay (`audio-level`, docs/protocol.md §Big meetings). */
  readonly #level = new LevelReportGate();
  /** Whether a guard trip was logged on the current connection (log once per connection). */
  #guardLogged = false;
  /** TURN bridges of the current admission (turn-bridge.ts), and their opening while under way. */
  #bridges: TurnBridges | null = null;
  #bridging: Promise<unknown> | null = null;
  #turnTrust: TlsTrust | undefined;
  #proxyWarned = false;
  /** Every TURN bridge's counters, over all admissions. */
  readonly bridgeCounters: BridgeCounters = newBridgeCounters();

  constructor(options: RelayClientOptions) {
    this.#opts = options;
    this.#log = options.logger ?? silentLogger();
    this.#clock = options.clock ?? new SystemClock();
    const sig: SignalingClientOptions = { url: options.url, logger: this.#log };
    if (options.clock !== undefined) sig.clock = options.clock;
    if (options.reconnect !== undefined) sig.reconnect = options.reconnect;
    if (options.backoff !== undefined) sig.backoff = options.backoff;
    // Every connection to the meeting service goes through the proxy and trust (http-proxy.ts).
    sig.wsOptions = {
      agent: meetingServiceAgent(new URL(options.url).protocol, this.#network()),
      ...options.wsOptions,
    };
    if (options.tap !== undefined) sig.tap = options.tap;
    this.signaling = new SignalingClient(sig);
    this.#downlink = new Downlink({
      peers: options.peers,
      peerOptions: () => this.#peerOptions(),
      log: this.#log,
      send: (m) => this.#trySend(m),
      onChunk: (data) => {
        try {
          this.events.emit('chunk', data);
        } catch (error) {
          this.#guardTrip('downlink channel', error); // last-resort guard: drop the chunk, count, log once
        }
      },
      onFailed: (error) => this.#peerFailed(this.#pc, error),
    });
    this.signaling.events.on('message', (m) => this.#onMessage(m));
    this.signaling.events.on('protocol-error', (e) => this.events.emit('protocol-error', e));
    this.signaling.events.on('reconnecting', (r) => this.events.emit('reconnecting', r));
    this.signaling.events.on('close', ({ willReconnect, code, error }) => {
      this.#guardLogged = false;
      this.#teardownPeer();
      this.#participantId = undefined;
      this.#iceServers = [];
      this.#closeBridges();
      // Per connection: the next relay may be another plane, and speech starts anew.
      this.#janusPlane = false;
      this.#level.reset();
      this.events.emit('disconnected', { willReconnect, code, ...(error === undefined ? {} : { error }) });
    });
  }

  /** Our participant id while admitted. */
  /** Whether the relay put us on the Janus plane (it offered a downlink): nobody reads our headers. */
  get janusPlane(): boolean {
    return this.#janusPlane;
  }

  get participantId(): string | undefined {
    return this.#participantId;
  }

  get mediaOpen(): boolean {
    return this.#media?.open ?? false;
  }

  get mediaStats(): MediaChannel['stats'] | undefined {
    return this.#media?.stats;
  }

  /** What was refused or caught on receive, over all connections of this client. */
  get counters(): RelayClientCounters {
    const sig = this.signaling.counters;
    return {
      messagesRejected: sig.messagesRejected,
      binaryFrames: sig.binaryFrames,
      guardTrips: sig.guardTrips + this.#guardTrips,
    };
  }

  /** Janus plane: downlink offers taken and chunks dropped for a feed the relay did not name. */
  get downlinkCounters(): DownlinkCounters {
    return { ...this.#downlink.counters };
  }

  /** Media connections the relay said it lost (`media-lost`), each replaced at once. */
  get mediaLost(): number {
    return this.#mediaLost;
  }

  /**
   * Our downlink fell behind or caught up (meeting/lag-monitor.ts). On the Janus plane the relay is
   * told (`media-behind`) and then sends us the most recent speakers only; the embedded relay
   * bounds each receiver's queue itself, so nothing is sent there.
   */
  downlinkBehind(behind: boolean): void {
    if (this.#janusPlane) this.#trySend({ type: 'media-behind', behind });
  }

  /**
   * How our media goes now (docs/admin.md §Firewalls): the uplink connection's selected candidate
   * pair; null while there is none.
   */
  async mediaPath(): Promise<MediaPath | null> {
    return (await this.#pc?.path()) ?? null;
  }

  /** `audio-level` messages sent (Janus plane only). */
  get levelReports(): number {
    return this.#level.reports;
  }

  /**
   * The level (−dBov, RFC 6464) of an audio frame we just sent. On the Janus plane, which reads no
   * chunk header, a speaking level is also sent to the relay, at most every AUDIO_LEVEL_REPORT_MS
   * (docs/protocol.md §Big meetings); on the embedded plane the relay reads it from the header.
   */
  audioLevelSent(level: number): void {
    const now = this.#clock.monotonic();
    if (this.#janusPlane && this.#level.due(level, now) && this.#trySend({ type: 'audio-level', level }))
      this.#level.sent(now);
  }

  start(): void {
    this.signaling.connect();
  }

  /**
   * An opaque E2EE envelope to the leader, everyone else, or one participant; false when the socket
   * is not open (the protocol resends what matters after a reconnect).
   */
  sendE2ee(to: 'leader' | 'all' | string, payload: string): boolean {
    return this.#trySend({ type: 'e2ee', to, payload });
  }

  /** Ask a participant for a keyframe on one of its streams; false when the socket is not open. */
  requestKeyframe(to: string, streamId: number): boolean {
    return this.#trySend({ type: 'keyframe-request', to, streamId });
  }

  requestFeature(feature: ClientMessageOf<'feature-request'>['feature']): void {
    this.signaling.send({ type: 'feature-request', feature });
  }

  ping(id: number): void {
    this.signaling.send({ type: 'ping', id });
  }

  /**
   * Sends the chunks of one frame, all or none: none under backpressure or before the channel is
   * open. Returns whether they were sent.
   */
  sendChunks(chunks: readonly Uint8Array[]): boolean {
    return this.#media?.trySendAll(chunks) ?? false;
  }

  /** Leaves the meeting politely and closes everything; no reconnect. */
  async leave(): Promise<void> {
    // The socket may go away in between: then closing is all that is left.
    if (this.signaling.connected) this.#trySend({ type: 'leave' });
    await this.close();
  }

  /** Closes the peer connection, its channel and the socket; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#peerRetry !== undefined) this.#clock.clear(this.#peerRetry);
    this.#peerRetry = undefined;
    this.#teardownPeer();
    this.#closeBridges();
    await this.signaling.close();
  }

  #onMessage(m: ServerMessage): void {
    switch (m.type) {
      case 'hello':
        this.events.emit('hello', m);
        void this.#join(m);
        return;
      case 'admission':
        if (m.status === 'admitted') {
          this.#participantId = m.participantId;
          this.events.emit('admission', m);
          this.#startPeer().catch((error: unknown) => this.#peerFailed(this.#pc, error));
        } else {
          this.events.emit('admission', m);
        }
        return;
      case 'ice-servers':
        // Used by the media connections made from now on; credentials the TURN server refuses
        // only fail ICE, which the media connection's own retry handles.
        this.#iceServers = m.iceServers;
        this.#openBridges();
        return;
      case 'sdp':
        if (m.sdpType === 'answer' && this.#pc !== undefined) {
          const pc = this.#pc;
          pc.acceptAnswer({ type: 'answer', sdp: m.sdp }).catch((e: unknown) => this.#peerFailed(pc, e));
        }
        return;
      case 'ice':
        this.#pc?.addIceCandidate(m).catch(() => {});
        return;
      case 'media-down-offer':
        this.#janusPlane = true;
        this.#downlink.offer(m.sdp).catch((e: unknown) => this.#peerFailed(this.#pc, e));
        return;
      case 'media-feeds':
        this.#downlink.setFeeds(m.feeds);
        return;
      case 'media-ready':
        this.#relayReady = true;
        this.#onMediaReady?.();
        return;
      case 'media-lost':
        // The relay's end is gone (its media worker died, ICE failed): replace ours now rather than
        // wait for it to time out (docs/protocol.md §Session flow).
        this.#mediaLost++;
        this.#peerFailed(
          this.#pc,
          new RoomdError('transport.disconnected', {
            message: `The relay lost its end of the media connection (${m.reason}).`,
          }),
        );
        return;
      case 'meeting-key':
        this.events.emit('meeting-key', { keyId: m.keyId, key: fromBase64Url(m.key) });
        return;
      case 'error':
        this.events.emit('relay-error', m);
        return;
      default:
        this.#emitPlain(m);
    }
  }

  #emitPlain(
    m: Exclude<
      ServerMessage,
      {
        type:
          | 'hello'
          | 'admission'
          | 'sdp'
          | 'ice'
          | 'meeting-key'
          | 'error'
          | 'media-down-offer'
          | 'media-feeds'
          | 'ice-servers';
      }
    >,
  ): void {
    (this.events.emit as (k: string, p: unknown) => void)(m.type, m);
  }

  async #join(hello: HelloMessage): Promise<void> {
    try {
      const body = await this.#opts.join(hello);
      this.signaling.send({ type: 'join', ...body });
    } catch (error) {
      this.#log.warn({ err: (error as Error).message }, 'could not send join');
    }
  }

  #peerOptions(): PeerConnectionOptions {
    const bridged = this.#bridges?.peerOptions();
    const iceServers = (bridged?.iceServers ?? this.#iceServers).map((s) => ({ ...s, urls: [...s.urls] }));
    return bridged === undefined || bridged.bridges.length === 0
      ? { iceServers }
      : { iceServers, bridges: bridged.bridges };
  }

  #network(): NetworkSettings {
    return this.#opts.network ?? { proxy: null, tlsPin: null };
  }

  /** The proxy for a TURN target; a proxy address that is not valid counts as none (logged once). */
  #turnProxy(t: Target): ProxySpec | null {
    const n = this.#network();
    try {
      return proxyFor(t, n.proxy, n.env);
    } catch (error) {
      if (!(error instanceof RoomdError && error.code === 'config.invalid')) throw error;
      if (!this.#proxyWarned) this.#log.warn({ code: error.code }, error.message);
      this.#proxyWarned = true;
      return null;
    }
  }

  /**
   * Bridges for this admission's `turns:` servers (and TCP ones when a proxy applies,
   * turn-bridge.ts); the media connection waits for them (a few ms: loopback listeners).
   */
  #openBridges(): void {
    this.#closeBridges();
    const n = this.#network();
    this.#turnTrust ??= loadTrust(n.caFile === undefined ? {} : { caFile: n.caFile });
    const opening = TurnBridges.open(this.#iceServers, {
      proxy: (t) => this.#turnProxy(t),
      trust: this.#turnTrust,
      counters: this.bridgeCounters,
      logger: this.#log,
      ...(n.clock === undefined ? {} : { clock: n.clock }),
      ...(n.timeoutMs === undefined ? {} : { timeoutMs: n.timeoutMs }),
    }).then(
      (b) => {
        if (this.#bridging !== opening || this.#closed) b.close();
        else {
          this.#bridges = b;
          this.#bridging = null;
        }
      },
      (error: unknown) => {
        // Last-resort guard: the servers are then used as the relay sent them; logged, counted.
        this.bridgeCounters.failures['core.internal'] =
          (this.bridgeCounters.failures['core.internal'] ?? 0) + 1;
        this.#log.warn(
          { error: error instanceof Error ? error.name : typeof error },
          'TURN bridges could not be opened',
        );
        if (this.#bridging === opening) this.#bridging = null;
      },
    );
    this.#bridging = opening;
  }

  #closeBridges(): void {
    this.#bridges?.close();
    this.#bridges = null;
    this.#bridging = null;
  }

  /** TURN bridges open now: loopback listeners and bridged sockets (tests check 0 after close). */
  get bridgesOpen(): { listeners: number; sockets: number } {
    return { listeners: this.#bridges?.listening ?? 0, sockets: this.#bridges?.openSockets ?? 0 };
  }

  #startPeer(): Promise<void> {
    const bridging = this.#bridging;
    if (bridging === null) return this.#startPeerNow();
    // Still admitted on this socket once the bridges are up? (A drop closed them meanwhile.)
    const admitted = this.#participantId;
    return bridging.then(() => (this.#participantId === admitted ? this.#startPeerNow() : undefined));
  }

  async #startPeerNow(): Promise<void> {
    this.#teardownPeer();
    if (this.#closed) return;
    const pc = this.#opts.peers.create(this.#peerOptions());
    this.#pc = pc;
    const channel = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions(this.#opts.maxRetransmits));
    const media = new MediaChannel(
      channel,
      this.#opts.highWaterMark === undefined ? {} : { highWaterMark: this.#opts.highWaterMark },
    );
    this.#media = media;
    let localOpen = false;
    this.#relayReady = false;
    this.#onMediaReady = () => {
      if (this.#media !== media || !localOpen || !this.#relayReady) return;
      this.#peerRetries = 0;
      this.events.emit('media-open', undefined);
    };
    channel.onOpen(() => {
      localOpen = true;
      this.#onMediaReady?.();
    });
    channel.onMessage((data) => {
      try {
        this.events.emit('chunk', data);
      } catch (error) {
        this.#guardTrip('media channel', error); // last-resort guard: drop the chunk, count, log once
      }
    });
    // A media connection that dies under us (its media worker crashed, ICE failed) is replaced,
    // on the same admission: a new offer replaces the old connection (docs/protocol.md §Session flow).
    // A connection `disconnected` for long is as good as failed: wrtc may never say `failed` when
    // the far end's process is gone.
    const lost = () =>
      this.#peerFailed(
        pc,
        new RoomdError('transport.disconnected', { message: 'The media connection failed.' }),
      );
    pc.onStateChange((state) => {
      if (state === 'failed') lost();
      else if (state === 'disconnected')
        this.#clock.setTimeout(() => {
          if (pc.state === 'disconnected') lost();
        }, MEDIA_DISCONNECTED_GRACE_MS);
    });
    pc.onIceCandidate((c) => {
      // Socket gone: the peer is torn down by the close handler.
      if (this.#pc === pc) this.#trySend({ type: 'ice', ...c });
    });
    try {
      const offer = await pc.createOffer();
      if (this.#pc !== pc) return;
      this.signaling.send({ type: 'sdp', sdpType: 'offer', sdp: offer.sdp });
    } catch (error) {
      this.#peerFailed(pc, error);
    }
  }

  /** Send on the signaling socket; false when it is not open (`transport.closed`), anything else throws. */
  #trySend(message: Parameters<SignalingClient['send']>[0]): boolean {
    try {
      this.signaling.send(message);
      return true;
    } catch (err) {
      if (err instanceof RoomdError && err.code === 'transport.closed') return false;
      throw err;
    }
  }

  #guardTrip(where: string, error: unknown): void {
    this.#guardTrips++;
    if (this.#guardLogged) return;
    this.#guardLogged = true;
    this.#log.error(
      { where, error: error instanceof Error ? error.name : typeof error },
      'relay receive guard caught an unexpected error; the message was dropped',
    );
  }

  /** The current media connection failed (set-up or later): close it and open another, with back-off. */
  #peerFailed(pc: PeerConnection | undefined, error: unknown): void {
    if (this.#pc !== pc) return; // an older connection, already replaced or torn down
    this.#log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'media connection failed; opening another',
    );
    this.#teardownPeer();
    if (this.#closed || this.#participantId === undefined || this.#peerRetry !== undefined) return;
    this.#peerRetries++;
    this.#peerRetry = this.#clock.setTimeout(
      () => {
        this.#peerRetry = undefined;
        // Still admitted on the same socket and nothing opened meanwhile (a rejoin opens its own).
        if (this.#closed || this.#participantId === undefined || this.#pc !== undefined) return;
        this.#startPeer().catch((e: unknown) => this.#peerFailed(this.#pc, e));
      },
      backoffDelay(this.#peerRetries, this.#opts.backoff),
    );
  }

  #teardownPeer(): void {
    // Forget them first: closing reports `closed` to listeners that must see them as gone.
    const media = this.#media;
    const pc = this.#pc;
    this.#media = undefined;
    this.#pc = undefined;
    media?.close();
    pc?.close();
    this.#downlink.close();
  }
}
