/**
 * The relay service (architecture brief: "relay — the meeting service"; issue 4 "Relay"): fastify
 * with the WebSocket signaling endpoint at /v1/signal and the management API, TLS when given a
 * certificate, loopback by default. `createRelay(options)` is what `roomd relay`, the demo and the
 * tests embed; `stop()` closes every socket and peer connection.
 */
import type { AddressInfo } from 'node:net';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Clock, SystemClock } from '../core/clock.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { MAX_SIGNAL_BYTES } from '../protocol/limits.ts';
import type { PeerConnectionFactory } from '../transport/peer.ts';
import { WrtcPeerConnectionFactory } from '../transport/wrtc-peer.ts';
import { RelayCore } from './core.ts';
import type { OutgoingBody, RelayHooks } from './hooks.ts';
import { registerHttpApi } from './http-api.ts';
import { Connection } from './session.ts';
import { type Account, MeetingRegistry } from './registry.ts';

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
  /** When set, /api routes need `Authorization: Bearer <token>`. */
  adminToken?: string;
  name?: string;
  receiverBufferBytes?: number;
  maxParticipants?: number;
  lockout?: { threshold?: number; addressThreshold?: number; lockMs?: number };
  defaultAccount?: Omit<Account, 'id'>;
}

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
  readonly registry: MeetingRegistry;
  readonly core: RelayCore;
  readonly peers: PeerConnectionFactory;
  stats(): ReturnType<RelayCore['stats']>;
  /** Test helper: send any message to one participant (through hooks and tap). */
  inject(participantId: string, body: OutgoingBody): boolean;
}

export function createRelay(options: RelayOptions = {}): Relay {
  const clock = options.clock ?? new SystemClock();
  const log = options.logger ?? silentLogger();
  const peers = options.peers ?? new WrtcPeerConnectionFactory();
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
  });
  let app: FastifyInstance | undefined;
  let address: RelayAddress | undefined;

  async function start(): Promise<void> {
    if (app !== undefined) return;
    await registry.load();
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
        const conn = new Connection(core, {
          remoteAddress: request.ip,
          send: (text) => {
            if (socket.readyState === socket.OPEN) socket.send(text);
          },
          close: (code, reason) => socket.close(code, reason),
        });
        socket.on('message', (data: Buffer, isBinary: boolean) =>
          conn.receive(isBinary ? new Uint8Array(data) : data.toString('utf8')),
        );
        socket.on('close', () => conn.closed());
        socket.on('error', () => conn.closed());
      });
      registerHttpApi(scope, core, options.adminToken);
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
    log.info({ url: address.signalUrl }, 'relay listening');
  }

  async function stop(): Promise<void> {
    const server = app;
    app = undefined;
    core.closeAll();
    if (server === undefined) return;
    for (const client of server.websocketServer?.clients ?? []) client.terminate();
    await server.close();
    log.info('relay stopped');
  }

  return {
    start,
    stop,
    get address(): RelayAddress {
      if (address === undefined) throw new Error('The relay has not been started.');
      return address;
    },
    registry,
    core,
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
