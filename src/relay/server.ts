/**
 * The relay, i.e. the meeting service (docs/protocol.md §Transport, §Management API): fastify
 * with the WebSocket signaling endpoint at /v1/signal and the management API, TLS when given a
 * certificate, loopback by default. `createRelay(options)` is what `roomd relay`, the demo and the
 * tests embed; `stop()` closes every socket and peer connection.
 */
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { type Clock, SystemClock, type TimerHandle } from '../core/clock.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { MAX_SIGNAL_BYTES } from '../protocol/limits.ts';
import type { PeerConnectionFactory } from '../transport/peer.ts';
import { reportedWorkerCounters } from '../transport/worker-counters.ts';
import { WorkerPeerConnectionFactory } from '../transport/worker-peer.ts';
import type { BigMeetingSettings } from './big-meetings.ts';
import { type MediaWorkerStats, RelayCore, type SignalingLimits } from './core.ts';
import type { OutgoingBody, RelayHooks } from './hooks.ts';
import type { LockoutPolicy } from './admission.ts';
import { checkAdminToken, generateAdminToken, registerHttpApi } from './http-api.ts';
import { DEFAULT_WEB_CLIENT_DIR, loadWebClient, registerWebClient } from './web-client.ts';
import { JanusMediaPlane } from './janus/pool.ts';
import { janusInstances, type MediaPlaneChoice } from './media-plane.ts';
import { Connection, describeError } from './session.ts';
import { type Account, MeetingRegistry } from './registry.ts';
import type { TurnSettings } from './turn.ts';

export const SIGNAL_PATH = '/v1/signal';

export interface RelayOptions {
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0 (any free port); the CLI defaults to 7443. */
  port?: number;
  /** Where meetings.json lives; without it meetings are kept in memory only. */
  stateDir?: string;
  tls?: { cert: string | Buffer; key: string | Buffer };
  peers?: PeerConnectionFactory;
  clock?: Clock;
  logger?: Logger;
  hooks?: RelayHooks;
  /**
   * Every /api route needs `Authorization: Bearer <token>` (docs/protocol.md §Management API).
   * Without one a random token is made in memory (`Relay.adminToken`), and the relay then refuses
   * to listen beyond loopback.
   */
  adminToken?: string;
  name?: string;
  receiverBufferBytes?: number;
  maxParticipants?: number;
  /** Wrong-passcode budgets (docs/protocol.md §Wrong passcodes); defaults in DEFAULT_LOCKOUT_POLICY. */
  lockout?: Partial<LockoutPolicy>;
  defaultAccount?: Omit<Account, 'id'>;
  /**
   * Connection hygiene (docs/protocol.md §Limits): join timeout, ping period, per-address caps and
   * the rate limit. Defaults in DEFAULT_SIGNALING_LIMITS.
   */
  limits?: Partial<SignalingLimits>;
  /**
   * What carries the media (docs/decisions/0018-media-planes.md): the relay's own fan-out (default)
   * or Janus VideoRoom data channels at `url`, or on several `instances` with each meeting occurrence
   * placed on one (the relay drives Janus's WebSocket API).
   */
  mediaPlane?: MediaPlaneChoice;
  /**
   * TURN for every media connection (docs/protocol.md §ICE servers): each admitted participant gets
   * time-limited credentials for `urls` made with `secret` (coturn's `static-auth-secret`), and the
   * relay's own end of each connection uses the same servers.
   */
  turn?: TurnSettings;
  /** Big meetings (docs/protocol.md §Big meetings): last N, and speakers heard at once. */
  bigMeeting?: BigMeetingSettings;
  /**
   * The built web client served at /join/<meeting id> (docs/protocol.md §Web client): default
   * web/dist of this installation; null serves none.
   */
  webClientDir?: string | null;
}

/** Close code for a connection refused because its address is over a cap ("try again later"). */
export const ADDRESS_CAP_CLOSE = 1013;
/** How long a closing socket may take to answer our close frame before it is cut off. */
const CLOSE_GRACE_MS = 2000;

export interface RelayAddress {
  host: string;
  port: number;
  /** ws:// or wss:// URL of the signaling endpoint. */
  signalUrl: string;
  /** http:// or https:// base URL of the API. */
  httpUrl: string;
}

export interface Relay {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly address: RelayAddress;
  /** Whether it serves the web client at /join/<id> (its bundle was found at start). */
  readonly servesWebClient: boolean;
  readonly registry: MeetingRegistry;
  readonly core: RelayCore;
  /** The management API's admin token (the given one, or the one made in memory). */
  readonly adminToken: string;
  readonly peers: PeerConnectionFactory;
  stats(): ReturnType<RelayCore['stats']>;
  /** Test helper: send any message to one participant (through hooks and tap). */
  inject(participantId: string, body: OutgoingBody): boolean;
}

export function createRelay(options: RelayOptions = {}): Relay {
  const clock = options.clock ?? new SystemClock();
  const log = options.logger ?? silentLogger();
  // A factory the relay made is the relay's to stop (its worker process goes with it).
  const ownPeers =
    options.peers === undefined
      ? new WorkerPeerConnectionFactory({ logger: log.child({ component: 'media-worker' }) })
      : null;
  const peers: PeerConnectionFactory = options.peers ?? (ownPeers as WorkerPeerConnectionFactory);
  const worker = peers instanceof WorkerPeerConnectionFactory ? peers : null;
  const adminToken = options.adminToken ?? generateAdminToken();
  const registry = new MeetingRegistry({
    logger: log,
    now: () => clock.now(),
    ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
    ...(options.defaultAccount === undefined ? {} : { defaultAccount: options.defaultAccount }),
  });
  const core = new RelayCore({
    registry,
    peers,
    clock,
    logger: log,
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    ...(options.name === undefined ? {} : { name: options.name }),
    ...(options.receiverBufferBytes === undefined
      ? {}
      : { receiverBufferBytes: options.receiverBufferBytes }),
    ...(options.maxParticipants === undefined ? {} : { maxParticipants: options.maxParticipants }),
    ...(options.lockout === undefined ? {} : { lockout: options.lockout }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.turn === undefined ? {} : { turn: options.turn }),
    ...(options.bigMeeting === undefined ? {} : { bigMeeting: options.bigMeeting }),
    ...(worker === null ? {} : { mediaWorker: () => mediaWorkerStats(worker) }),
    ...(options.mediaPlane?.kind === 'janus'
      ? {
          mediaPlane: new JanusMediaPlane({
            urls: janusInstances(options.mediaPlane),
            clock,
            logger: log,
            maxPublishers: options.maxParticipants ?? 100,
          }),
        }
      : {}),
  });
  let app: FastifyInstance | undefined;
  let address: RelayAddress | undefined;
  let servesWebClient = false;
  let pingTimer: TimerHandle | undefined;
  /** Open signaling sockets and whether each still owes us a pong. */
  const sockets = new Map<WebSocket, { awaitingPong: boolean }>();
  const guardLogged = new WeakSet<WebSocket>();

  /** Close with a close frame, and cut the socket off if it does not answer in time. */
  function closeSocket(socket: WebSocket, code: number, reason: string): void {
    if (socket.readyState === socket.CLOSED) return;
    socket.close(code, reason);
    const timer = clock.setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    socket.once('close', () => clock.clear(timer));
  }

  /**
   * Last-resort guard around each socket event (docs/protocol.md §Validation). Connection guards
   * its own input; this catches whatever escapes it (e.g. while tearing a participant down): logged
   * once per socket, counted, and that socket is cut off. Never the process.
   */
  function guarded(socket: WebSocket, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      core.signaling.guardTrips++;
      if (!guardLogged.has(socket)) {
        guardLogged.add(socket);
        log.error({ ...describeError(error) }, 'socket guard caught an unexpected error; closing the socket');
      }
      socket.terminate();
    }
  }

  /** Pings every socket; one that has not answered the previous ping is half-open and cut off. */
  function sweep(): void {
    for (const [socket, state] of sockets) {
      if (state.awaitingPong) {
        sockets.delete(socket);
        core.signaling.pongTimeouts++;
        log.debug('closed a signaling socket that stopped answering pings');
        socket.terminate();
        continue;
      }
      if (socket.readyState !== socket.OPEN) continue;
      state.awaitingPong = true;
      socket.ping();
    }
  }

  async function start(): Promise<void> {
    if (app !== undefined) return;
    checkAdminToken(options.host, options.adminToken);
    await registry.load();
    const webDir = options.webClientDir === undefined ? DEFAULT_WEB_CLIENT_DIR : options.webClientDir;
    const webClient = webDir === null ? null : await loadWebClient(webDir);
    servesWebClient = webClient !== null;
    const tls = options.tls;
    const server: FastifyInstance = (
      tls === undefined
        ? Fastify({ logger: false })
        : Fastify({ logger: false, https: { cert: tls.cert, key: tls.key } })
    ) as FastifyInstance;
    // Twice the message limit at the socket, so an oversized message still gets a typed error reply.
    await server.register(fastifyWebsocket, { options: { maxPayload: 2 * MAX_SIGNAL_BYTES } });
    await server.register(async (scope) => {
      scope.get(SIGNAL_PATH, { websocket: true }, (socket, request) => {
        const refusal = core.refuseAddress(request.ip);
        if (refusal !== undefined) {
          closeSocket(socket, ADDRESS_CAP_CLOSE, refusal);
          return;
        }
        let conn: Connection | undefined;
        guarded(socket, () => {
          conn = new Connection(core, {
            remoteAddress: request.ip,
            send: (text) => {
              if (socket.readyState === socket.OPEN) socket.send(text);
            },
            close: (code, reason) => closeSocket(socket, code, reason),
          });
        });
        const c = conn;
        if (c === undefined) return;
        sockets.set(socket, { awaitingPong: false });
        socket.on('pong', () => {
          const state = sockets.get(socket);
          if (state !== undefined) state.awaitingPong = false;
        });
        // Binary frames reach the connection as bytes, which it refuses: signaling is text only.
        socket.on('message', (data: Buffer, isBinary: boolean) =>
          guarded(socket, () => c.receive(isBinary ? new Uint8Array(data) : data.toString('utf8'))),
        );
        socket.on('close', () => {
          sockets.delete(socket);
          guarded(socket, () => c.closed());
        });
        socket.on('error', () => guarded(socket, () => c.closed()));
      });
      registerHttpApi(scope, core, adminToken);
      registerWebClient(scope, webClient);
    });
    await server.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    const info = server.server.address() as AddressInfo;
    const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
    const secure = tls !== undefined;
    address = {
      host: info.address,
      port: info.port,
      signalUrl: `${secure ? 'wss' : 'ws'}://${host}:${info.port}${SIGNAL_PATH}`,
      httpUrl: `${secure ? 'https' : 'http'}://${host}:${info.port}`,
    };
    app = server;
    const every = core.limits.pingIntervalMs;
    if (Number.isFinite(every) && every > 0) pingTimer = clock.setInterval(sweep, every);
    log.info({ url: address.signalUrl }, 'relay listening');
  }

  async function stop(): Promise<void> {
    const server = app;
    app = undefined;
    if (pingTimer !== undefined) clock.clear(pingTimer);
    pingTimer = undefined;
    core.closeAll();
    await core.plane.close();
    if (server !== undefined) {
      for (const client of server.websocketServer?.clients ?? []) client.terminate();
      await server.close();
      log.info('relay stopped');
    }
    await ownPeers?.close();
  }

  return {
    start,
    stop,
    get address(): RelayAddress {
      if (address === undefined) throw new Error('The relay has not been started.');
      return address;
    },
    get servesWebClient(): boolean {
      return servesWebClient;
    },
    registry,
    core,
    adminToken,
    peers,
    stats: () => core.stats(),
    inject(participantId, body) {
      for (const m of core.live.values()) {
        const p = m.participants.get(participantId);
        if (p !== undefined) {
          p.send(body);
          return true;
        }
      }
      return false;
    },
  };
}

/** The relay's media worker in `stats()` (docs/protocol.md §Management API). */
function mediaWorkerStats(f: WorkerPeerConnectionFactory): MediaWorkerStats {
  return {
    ...reportedWorkerCounters(f.counters),
    pid: f.workerPid ?? null,
    rssBytes: f.workerRssBytes ?? 0,
  };
}
