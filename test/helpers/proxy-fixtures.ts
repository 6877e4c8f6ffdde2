/**
 * In-process fixtures for the proxy and TURN bridge tests (src/transport/http-proxy.ts,
 * turn-bridge.ts): certificates from the test CA (test-ca.ts), a CONNECT proxy with basic auth and
 * misbehaviours on request, and TCP/TLS echo servers. The proxy connects to the address a CONNECT
 * names, and to 127.0.0.1 for a name (relay.test, turn.test), recording what was asked.
 */
import { readFileSync } from 'node:fs';
import {
  type AddressInfo,
  createServer,
  isIP,
  connect as netConnect,
  type Server,
  type Socket,
} from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { type IssuedCert, makeCa, spkiSha256 } from './test-ca.ts';

export interface TestCa {
  /** The CA certificate file (the "system store" of a test). */
  caFile: string;
  /** The server certificate and key as files (for coturn). */
  serverFiles: { cert: string; key: string };
  /** A server certificate for relay.test, turn.test, 127.0.0.1 (and `ips`), signed by the CA. */
  server: { key: string; cert: string };
  /** The same names, from a CA nothing trusts. */
  selfSigned: { key: string; cert: string };
  /** SPKI SHA-256 (base64) of the server key and of the untrusted one. */
  serverPin: string;
  selfSignedPin: string;
  remove(): void;
}

/** The test CA of test-ca.ts, with one server certificate it trusts and one it does not. */
export function makeTestCa(ips: readonly string[] = []): TestCa {
  const names = { dns: ['relay.test', 'turn.test'], ip: ['127.0.0.1', ...ips] };
  const ca = makeCa();
  const stranger = makeCa();
  const server = ca.issue(names);
  const untrusted = stranger.issue(names);
  const key = (c: IssuedCert) => readFileSync(c.keyPath, 'utf8');
  return {
    caFile: ca.certPath,
    serverFiles: { cert: server.certPath, key: server.keyPath },
    server: { key: key(server), cert: server.certPem },
    selfSigned: { key: key(untrusted), cert: untrusted.certPem },
    serverPin: spkiSha256(server.certPem),
    selfSignedPin: spkiSha256(untrusted.certPem),
    remove: () => {
      ca.close();
      stranger.close();
    },
  };
}

export interface Listening {
  port: number;
  /** Connections open at the server now. */
  readonly open: number;
  close(): Promise<void>;
}

function track(server: Server): { listening: () => Promise<Listening> } {
  // TCP connections (counted), and a TLS server's TLS sockets on them (closed first: a socket
  // under TLS must not go before it).
  const sockets = new Set<Socket>();
  const secure = new Set<Socket>();
  const keep = (set: Set<Socket>) => (s: Socket) => {
    set.add(s);
    s.on('close', () => set.delete(s));
  };
  server.on('connection', keep(sockets));
  server.on('secureConnection', keep(secure));
  const listening = () =>
    new Promise<Listening>((resolve) => {
      server.listen(0, '127.0.0.1', () =>
        resolve({
          port: (server.address() as AddressInfo).port,
          get open() {
            return sockets.size;
          },
          close: () =>
            new Promise<void>((done) => {
              for (const s of secure) s.destroy();
              for (const s of sockets) s.destroy();
              server.close(() => done());
            }),
        }),
      );
    });
  return { listening };
}

/** Echoes every byte back, over TCP, or TLS with these credentials. */
export function startEcho(tls?: TlsOptions): Promise<Listening> {
  const echo = (s: Socket) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  };
  const server = tls === undefined ? createServer(echo) : createTlsServer(tls, echo);
  if (tls !== undefined) server.on('tlsClientError', () => {});
  return track(server).listening();
}

/** `401-on-wrong`: wrong credentials get 401, as tinyproxy 1.11 answers them (none still 407). */
export type ProxyMode = 'ok' | '403' | 'garbage' | 'oversized' | 'close' | 'silent' | '401-on-wrong';

export interface TestProxy extends Listening {
  /** `host:port` of every CONNECT, in order. */
  readonly connects: string[];
  /** Every Proxy-Authorization header received (null: none). */
  readonly authorizations: (string | null)[];
  mode: ProxyMode;
}

/**
 * A CONNECT proxy. With `credentials` it wants `Proxy-Authorization: Basic` for them (407 else);
 * `mode` makes it misbehave. Tunnels always go to 127.0.0.1 at the port asked for.
 */
export async function startProxy(
  credentials?: { user: string; password: string },
  /** Listen over TLS with these credentials (an `https://` proxy). */
  tls?: TlsOptions,
): Promise<TestProxy> {
  const connects: string[] = [];
  const authorizations: (string | null)[] = [];
  const want =
    credentials === undefined
      ? null
      : `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`;
  const state = { mode: 'ok' as ProxyMode };
  const handle = (client: Socket) => {
    client.on('error', () => client.destroy());
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.removeListener('data', onData);
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const rest = buf.subarray(end + 4);
      const target = /^CONNECT (\S+) HTTP\/1\.1$/.exec(lines[0] ?? '')?.[1] ?? '';
      const auth = lines.find((l) => /^proxy-authorization:/i.test(l));
      connects.push(target);
      authorizations.push(auth === undefined ? null : auth.slice(auth.indexOf(':') + 1).trim());
      switch (state.mode) {
        case 'silent':
          return;
        case 'close':
          client.destroy();
          return;
        case 'garbage':
          client.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
          return;
        case 'oversized':
          client.write(`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(9000)}\r\n\r\n`);
          return;
        case '403':
          client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
          return;
        case 'ok':
        case '401-on-wrong':
          break;
      }
      if (
        state.mode === '401-on-wrong' &&
        want !== null &&
        auth !== undefined &&
        authorizations.at(-1) !== want
      ) {
        client.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      if (want !== null && authorizations.at(-1) !== want) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="t"\r\n\r\n',
        );
        return;
      }
      const port = Number(target.slice(target.lastIndexOf(':') + 1));
      const host = target.slice(0, target.lastIndexOf(':')).replace(/^\[|\]$/g, '');
      const up = netConnect({ host: isIP(host) === 0 ? '127.0.0.1' : host, port }, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.byteLength > 0) up.write(rest);
        client.pipe(up);
        up.pipe(client);
      });
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
      up.on('close', () => client.destroy());
    };
    client.on('data', onData);
  };
  const server = tls === undefined ? createServer(handle) : createTlsServer(tls, handle);
  if (tls !== undefined) server.on('tlsClientError', () => {});
  const l = await track(server).listening();
  return {
    get port() {
      return l.port;
    },
    get open() {
      return l.open;
    },
    close: l.close,
    connects,
    authorizations,
    get mode() {
      return state.mode;
    },
    set mode(m: ProxyMode) {
      state.mode = m;
    },
  };
}

/** Resolves when `check` holds, polling each 10 ms, or rejects after `ms` naming `what`. */
export async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
