/**
 * The room's own TURN bridge (docs/admin.md §TURN, docs/decisions/0020-through-proxies-and-443.md):
 * libwebrtc cannot use an HTTP proxy and checks `turns:` certificates against roots of its own that
 * we cannot extend. So for each `turns:H:P?transport=tcp` ICE server — and, when a proxy applies,
 * each `turn:H:P?transport=tcp` — the room listens on a loopback port and hands the peer connection
 * `turn:127.0.0.1:PORT?transport=tcp` with the same credentials; every connection accepted there is
 * piped to H:P over TLS (verified by Node's roots plus the system store, http-proxy.ts) or plain TCP,
 * through the proxy when one applies. UDP TURN URLs stay as they are: ICE tries them first.
 *
 * Bounded: at most BRIDGE_LIMITS.listeners per admission, BRIDGE_LIMITS.connectionsPerListener each;
 * close() ends every listener and connection. Counted: connections, failures by error code, bytes
 * both ways.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { IceServer } from '../protocol/schemas.ts';
import { openTls, openTunnel, type ProxySpec, type Target, type TlsTrust } from './http-proxy.ts';
import type { BridgedPath, BridgedServer, PeerConnectionOptions } from './peer.ts';

export const BRIDGE_LIMITS = Object.freeze({ listeners: 8, connectionsPerListener: 16 });

/** Counters over every bridge of one client (all admissions). */
export interface BridgeCounters {
  /** Connections accepted and piped (or being opened). */
  connections: number;
  /** Connections refused because a listener had BRIDGE_LIMITS.connectionsPerListener open. */
  refused: number;
  /** Upstream connections that failed, by RoomdError code. */
  failures: Record<string, number>;
  /** Bytes from the peer connection to the TURN server, and back. */
  bytesUp: number;
  bytesDown: number;
}

export function newBridgeCounters(): BridgeCounters {
  return { connections: 0, refused: 0, failures: {}, bytesUp: 0, bytesDown: 0 };
}

export interface TurnUrl {
  scheme: 'turn' | 'turns';
  host: string;
  port: number;
  transport: 'udp' | 'tcp' | null;
}

const TURN_URL = /^(turns?):(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

/** A `turn:`/`turns:` URL (RFC 7065), or null for anything else. */
export function parseTurnUrl(url: string): TurnUrl | null {
  const m = TURN_URL.exec(url);
  if (m === null) return null;
  const scheme = m[1] as 'turn' | 'turns';
  const port = m[3] === undefined ? (scheme === 'turns' ? 5349 : 3478) : Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const raw = m[2] as string;
  const host = raw.startsWith('[') ? raw.slice(1, -1) : raw;
  return { scheme, host, port, transport: (m[4] as 'udp' | 'tcp' | undefined) ?? null };
}

/** One bridge to make: the target and how it is reached. */
export interface BridgePlan {
  key: string;
  target: Target;
  path: BridgedPath;
  proxy: ProxySpec | null;
}

/**
 * Which URLs to bridge (pure): `turns:` over TCP always, `turn:` over TCP when a proxy applies;
 * one bridge per distinct target and path, the first BRIDGE_LIMITS.listeners of them.
 */
export function planBridges(
  servers: readonly IceServer[],
  proxyFor: (t: Target) => ProxySpec | null,
): { plans: BridgePlan[]; byUrl: Map<string, string> } {
  const plans = new Map<string, BridgePlan>();
  const byUrl = new Map<string, string>();
  for (const s of servers) {
    for (const url of s.urls) {
      const t = parseTurnUrl(url);
      if (t === null) continue;
      const tls = t.scheme === 'turns';
      // turns: without a transport is TLS over TCP; `turns:…?transport=udp` (DTLS) is left to libwebrtc.
      if (t.transport === 'udp' || (!tls && t.transport !== 'tcp')) continue;
      const target = { host: t.host, port: t.port };
      const proxy = proxyFor(target);
      if (!tls && proxy === null) continue;
      const path: BridgedPath = tls ? (proxy === null ? 'turn-tls' : 'turn-tls-proxy') : 'turn-tcp-proxy';
      const key = `${path} ${t.host} ${t.port}`;
      if (!plans.has(key)) {
        if (plans.size >= BRIDGE_LIMITS.listeners) continue;
        plans.set(key, { key, target, path, proxy });
      }
      byUrl.set(url, key);
    }
  }
  return { plans: [...plans.values()], byUrl };
}

export interface TurnBridgeOptions {
  /** The proxy for a TURN target (`(t) => proxyFor(t, setting)`), or none. */
  proxy: (t: Target) => ProxySpec | null;
  /** Trust for `turns:` servers: Node's roots plus the system store (http-proxy.ts loadTrust). */
  trust: TlsTrust;
  counters?: BridgeCounters;
  clock?: Clock;
  timeoutMs?: number;
  logger?: Logger;
}

interface Listener {
  plan: BridgePlan;
  server: Server;
  port: number;
  /** Accepted connections and their upstreams. */
  open: Set<Socket>;
}

/** The bridges of one set of ICE servers (one admission). */
export class TurnBridges {
  readonly #o: TurnBridgeOptions;
  readonly #servers: readonly IceServer[];
  readonly #byUrl: Map<string, string>;
  readonly #listeners = new Map<string, Listener>();
  readonly #sockets = new Set<Duplex>();
  readonly counters: BridgeCounters;
  readonly #log: Logger;
  #closed = false;
  #warned = false;

  private constructor(servers: readonly IceServer[], byUrl: Map<string, string>, o: TurnBridgeOptions) {
    this.#servers = servers;
    this.#byUrl = byUrl;
    this.#o = o;
    this.counters = o.counters ?? newBridgeCounters();
    this.#log = o.logger ?? silentLogger();
  }

  /** Listens for every planned bridge; a listener that cannot be made leaves its URLs as they were. */
  static async open(servers: readonly IceServer[], o: TurnBridgeOptions): Promise<TurnBridges> {
    const { plans, byUrl } = planBridges(servers, o.proxy);
    const b = new TurnBridges(servers, byUrl, o);
    await Promise.all(plans.map((p) => b.#listen(p)));
    return b;
  }

  /** Loopback listeners open now (tests check 0 after close). */
  get listening(): number {
    return this.#listeners.size;
  }

  /** Bridged connections open now (each counted with its upstream once opened). */
  get openSockets(): number {
    return this.#sockets.size;
  }

  /** The ICE servers for a peer connection, bridged URLs replaced by the loopback ones, and which those are. */
  peerOptions(): Required<Pick<PeerConnectionOptions, 'iceServers' | 'bridges'>> {
    const bridges: BridgedServer[] = [];
    const iceServers = this.#servers.map((s) => ({
      ...s,
      urls: s.urls.map((url) => {
        const l = this.#listenerFor(url);
        if (l === undefined) return url;
        const local = `turn:127.0.0.1:${l.port}?transport=tcp`;
        if (!bridges.some((b) => b.url === local)) bridges.push({ url: local, path: l.plan.path });
        return local;
      }),
    }));
    return { iceServers, bridges };
  }

  /** Stops listening and closes every bridged connection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const l of this.#listeners.values()) l.server.close();
    this.#listeners.clear();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }

  #listenerFor(url: string): Listener | undefined {
    const key = this.#byUrl.get(url);
    return key === undefined ? undefined : this.#listeners.get(key);
  }

  async #listen(plan: BridgePlan): Promise<void> {
    const open = new Set<Socket>();
    const server = createServer({ pauseOnConnect: true }, (client) => this.#accept(listener, client));
    const listener: Listener = { plan, server, port: 0, open };
    let listening = false;
    await new Promise<void>((resolve) => {
      // For the server's whole life: a listening server also reports failed accepts (EMFILE) here,
      // and an 'error' without a listener would take the process down.
      server.on('error', (error: NodeJS.ErrnoException) => {
        if (!listening) {
          this.#log.warn(
            { err: error.message, path: plan.path },
            'TURN bridge could not listen; its server is left as it was',
          );
          resolve();
          return;
        }
        this.#failed(
          new RoomdError('transport.open_failed', { message: `TURN bridge: ${error.code ?? error.message}` }),
          plan,
        );
      });
      server.listen(0, '127.0.0.1', () => {
        listening = true;
        const address = server.address();
        if (address !== null && typeof address === 'object') listener.port = address.port;
        resolve();
      });
    });
    if (listener.port === 0 || this.#closed) {
      server.close();
      return;
    }
    this.#listeners.set(plan.key, listener);
  }

  #accept(l: Listener, client: Socket): void {
    if (this.#closed || l.open.size >= BRIDGE_LIMITS.connectionsPerListener) {
      this.counters.refused++;
      client.destroy();
      return;
    }
    this.counters.connections++;
    l.open.add(client);
    this.#sockets.add(client);
    let upstream: Duplex | undefined;
    // A connection holds its place under the limit until the client is gone AND the upstream attempt
    // has settled: a client that connects and closes at once cannot start attempts without bound.
    let gone = false;
    let settled = false;
    const release = () => {
      if (!gone || !settled) return;
      l.open.delete(client);
      this.#sockets.delete(client);
      if (upstream !== undefined) this.#sockets.delete(upstream);
    };
    const end = () => {
      client.destroy();
      upstream?.destroy();
      gone = true;
      release();
    };
    client.on('error', end);
    client.on('close', end);
    const { target, proxy, path } = l.plan;
    const opened =
      path === 'turn-tcp-proxy'
        ? openTunnel(target, proxy, this.#connectOptions())
        : openTls(target, this.#o.trust, proxy, this.#connectOptions());
    opened.then(
      (up) => {
        settled = true;
        if (client.destroyed || this.#closed) {
          up.destroy();
          release();
          return;
        }
        upstream = up;
        this.#sockets.add(up);
        up.on('error', end);
        up.on('close', end);
        up.on('data', (d: Buffer) => {
          this.counters.bytesDown += d.byteLength;
        });
        client.on('data', (d: Buffer) => {
          this.counters.bytesUp += d.byteLength;
        });
        client.pipe(up);
        up.pipe(client);
      },
      (error: unknown) => {
        settled = true;
        this.#failed(error, l.plan);
        end();
      },
    );
  }

  #failed(error: unknown, plan: BridgePlan): void {
    // Every failure of openTunnel/openTls is a RoomdError; anything else counts as core.internal.
    const e = error instanceof RoomdError ? error : new RoomdError('core.internal', { cause: error });
    this.counters.failures[e.code] = (this.counters.failures[e.code] ?? 0) + 1;
    if (this.#warned) return;
    this.#warned = true;
    // The message names hosts and the redacted proxy only (http-proxy.ts); logged once per admission.
    this.#log.warn({ code: e.code, path: plan.path }, `TURN bridge: ${e.message}`);
  }

  #connectOptions(): { clock?: Clock; timeoutMs?: number } {
    return {
      ...(this.#o.clock === undefined ? {} : { clock: this.#o.clock }),
      ...(this.#o.timeoutMs === undefined ? {} : { timeoutMs: this.#o.timeoutMs }),
    };
  }
}
