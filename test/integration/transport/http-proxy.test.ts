/**
 * Connections to the meeting service and TURN (src/transport/http-proxy.ts, docs/admin.md
 * §Firewalls): which proxy applies, the proxy's answer decoded totally, CONNECT with basic auth and
 * every way a proxy can fail, TLS verified by a CA or a key pin, the agent under node:http(s) and
 * ws, and the proxy's password never in an error.
 */
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { FakeClock } from '../../../src/core/clock.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import {
  decodeConnectAnswer,
  isLoopbackHost,
  loadTrust,
  MAX_PROXY_ANSWER_BYTES,
  meetingServiceAgent,
  noProxyMatches,
  openTls,
  openTunnel,
  parseProxyUrl,
  proxyFor,
  redactProxyUrl,
  TunnelAgent,
} from '../../../src/transport/http-proxy.ts';
import { bookMeeting } from '../../../src/meeting/booking.ts';
import { RelayScheduleSource } from '../../../src/meeting/schedule.ts';
import { apiRequest } from '../../../src/transport/http-request.ts';
import { SignalingClient, type SignalingEvents } from '../../../src/transport/signaling-client.ts';
import {
  type Listening,
  makeTestCa,
  startEcho,
  startProxy,
  type TestCa,
  type TestProxy,
  waitFor,
} from '../../helpers/proxy-fixtures.ts';

const PASSWORD = 'pr0xy-s3cret';

function ed25519Identity(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = ed25519.utils.randomSecretKey();
  return { publicKey: ed25519.getPublicKey(secretKey), secretKey };
}
const NO_STORE = '/nonexistent/ca-certificates.crt';

let ca: TestCa;
let proxy: TestProxy;
let echo: Listening;
let tlsEcho: Listening;
let selfSignedEcho: Listening;

beforeAll(async () => {
  ca = makeTestCa();
  proxy = await startProxy({ user: 'room', password: PASSWORD });
  echo = await startEcho();
  tlsEcho = await startEcho(ca.server);
  selfSignedEcho = await startEcho(ca.selfSigned);
});
afterAll(async () => {
  await Promise.all([proxy?.close(), echo?.close(), tlsEcho?.close(), selfSignedEcho?.close()]);
  ca?.remove();
});

const proxyUrl = (password = PASSWORD) => `http://room:${password}@127.0.0.1:${proxy.port}`;

/** Writes `text` and resolves with the same number of bytes read back. */
async function roundTrip(s: Socket, text: string): Promise<string> {
  const got: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve) =>
    s.on('data', (d: Buffer) => {
      got.push(d);
      n += d.byteLength;
      if (n >= Buffer.byteLength(text)) resolve();
    }),
  );
  s.write(text);
  await done;
  return Buffer.concat(got).toString();
}

async function failure(p: Promise<unknown>): Promise<RoomdError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof RoomdError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

/** The password appears nowhere a person or a log could see it. */
function expectNoSecret(e: RoomdError): void {
  const seen = `${e.message} ${JSON.stringify(e.toJSON())} ${JSON.stringify(e.context)}`;
  expect(seen).not.toContain(PASSWORD);
  expect(seen).not.toContain(Buffer.from(`room:${PASSWORD}`).toString('base64'));
}

describe('which proxy', () => {
  const env = {
    HTTPS_PROXY: 'http://envproxy:3128',
    NO_PROXY: 'internal.example, .corp.test,relay.test:8443',
  };

  it('the setting wins; without it HTTPS_PROXY applies, minus NO_PROXY; loopback never', () => {
    const t = { host: 'relay.example', port: 443 };
    expect(proxyFor(t, 'http://setting:8080', env)?.host).toBe('setting');
    expect(proxyFor(t, null, env)?.host).toBe('envproxy');
    expect(proxyFor(t, null, { https_proxy: 'http://lower:1' })?.host).toBe('lower');
    expect(proxyFor(t, null, {})).toBeNull();
    expect(proxyFor({ host: 'a.internal.example', port: 443 }, null, env)).toBeNull();
    expect(proxyFor({ host: 'x.corp.test', port: 443 }, null, env)).toBeNull();
    // A port in NO_PROXY limits the entry to it.
    expect(proxyFor({ host: 'relay.test', port: 8443 }, null, env)).toBeNull();
    expect(proxyFor({ host: 'relay.test', port: 443 }, null, env)?.host).toBe('envproxy');
    expect(proxyFor(t, null, { ...env, no_proxy: 'x', NO_PROXY: '*' })).toBeNull();
    for (const host of ['127.0.0.1', '127.9.9.9', 'localhost', '::1', '[::1]']) {
      expect(isLoopbackHost(host)).toBe(true);
      expect(proxyFor({ host, port: 443 }, 'http://setting:8080', env)).toBeNull();
    }
    expect(isLoopbackHost('128.0.0.1')).toBe(false);
    expect(noProxyMatches({ host: 'notinternal.example', port: 1 }, 'internal.example')).toBe(false);
  });

  it('parses the proxy URL; its credentials become a Basic header and are redacted everywhere else', () => {
    const p = parseProxyUrl(`http://room:${encodeURIComponent('p@ss:word')}@proxy.corp:3128`);
    expect(p).toMatchObject({
      host: 'proxy.corp',
      port: 3128,
      tls: false,
      display: 'http://***@proxy.corp:3128',
    });
    expect(p.authorization).toBe(`Basic ${Buffer.from('room:p@ss:word').toString('base64')}`);
    expect(parseProxyUrl('https://proxy.corp')).toMatchObject({ port: 443, tls: true, authorization: null });
    expect(parseProxyUrl('http://proxy.corp')).toMatchObject({ port: 80 });
    expect(redactProxyUrl(`http://room:${PASSWORD}@p:1`)).toBe('http://***@p:1');
    for (const bad of ['socks5://p:1', 'not a url', `ftp://room:${PASSWORD}@p`]) {
      const e = (() => {
        try {
          parseProxyUrl(bad);
        } catch (error) {
          return error as RoomdError;
        }
        throw new Error('accepted');
      })();
      expect(e.code).toBe('config.invalid');
      expectNoSecret(e);
    }
  });
});

describe("the proxy's answer, decoded totally", () => {
  const dec = (s: string) => decodeConnectAnswer(Buffer.from(s, 'latin1'));

  it('reads the status line and headers, and says when more is needed', () => {
    expect(dec('HTTP/1.1 200 Connection established\r\n\r\n')).toEqual({
      kind: 'answer',
      status: 200,
      headerBytes: 39,
    });
    expect(dec('HTTP/1.0 407 Auth\r\nProxy-Authenticate: Basic\r\n\r\nxyz')).toMatchObject({ status: 407 });
    expect(dec('HTTP/1.1 200')).toEqual({ kind: 'incomplete' });
    expect(dec('HT')).toEqual({ kind: 'incomplete' });
    expect(dec('')).toEqual({ kind: 'incomplete' });
  });

  it('refuses what is not HTTP, a bad status line or header, and more than 8 KiB of headers', () => {
    expect(dec('SSH-2.0')).toMatchObject({ kind: 'malformed' });
    expect(dec('HTTP/2 200\r\n\r\n')).toMatchObject({ kind: 'malformed' });
    expect(dec('HTTP/1.1 99 x\r\n\r\n')).toMatchObject({ kind: 'malformed' });
    expect(dec('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n')).toMatchObject({ kind: 'malformed' });
    expect(dec(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_PROXY_ANSWER_BYTES)}`)).toMatchObject({
      kind: 'malformed',
    });
    expect(dec(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_PROXY_ANSWER_BYTES)}\r\n\r\n`)).toMatchObject({
      kind: 'malformed',
    });
  });
});

describe('CONNECT through the proxy', () => {
  it('tunnels to the target with our credentials, both ways', async () => {
    proxy.mode = 'ok';
    const s = await openTunnel({ host: 'relay.test', port: echo.port }, parseProxyUrl(proxyUrl()), {
      timeoutMs: 5000,
    });
    expect(await roundTrip(s, 'hello through the proxy')).toBe('hello through the proxy');
    s.destroy();
    expect(proxy.connects.at(-1)).toBe(`relay.test:${echo.port}`);
    expect(proxy.authorizations.at(-1)).toBe(`Basic ${Buffer.from(`room:${PASSWORD}`).toString('base64')}`);
  });

  it('407: our credentials refused, or none given; never the password in the error', async () => {
    proxy.mode = 'ok';
    const target = { host: 'relay.test', port: echo.port };
    const wrong = await failure(
      openTunnel(target, parseProxyUrl(proxyUrl('wrong-password')), { timeoutMs: 5000 }),
    );
    expect(wrong.code).toBe('transport.proxy_auth');
    expect(wrong.message).toMatch(/refused our credentials/);
    expect(wrong.context).toMatchObject({ status: 407, proxy: `http://***@127.0.0.1:${proxy.port}` });
    expect(wrong.message).not.toContain('wrong-password');
    const none = await failure(
      openTunnel(target, parseProxyUrl(`http://127.0.0.1:${proxy.port}`), { timeoutMs: 5000 }),
    );
    expect(none.code).toBe('transport.proxy_auth');
    expect(none.message).toMatch(/needs credentials.*meetingService\.proxy/);
    // Some proxies answer wrong credentials with 401: still the credentials, not the port.
    proxy.mode = '401-on-wrong';
    const wrong401 = await failure(
      openTunnel(target, parseProxyUrl(proxyUrl('wrong-password')), { timeoutMs: 5000 }),
    );
    expect(wrong401.code).toBe('transport.proxy_auth');
    expect(wrong401.message).toMatch(/refused our credentials \(401\)/);
    proxy.mode = 'ok';
    const right = await openTunnel(target, parseProxyUrl(proxyUrl()), { timeoutMs: 5000 });
    right.destroy();
    for (const e of [wrong, none, wrong401]) expectNoSecret(e);
  });

  it('403, garbage, oversized headers, a close mid-handshake: typed errors, and the socket closed', async () => {
    const target = { host: 'relay.test', port: echo.port };
    const cases = [
      ['403', 'transport.proxy_refused', /refused to connect to relay\.test:\d+ \(HTTP 403\).*allow CONNECT/],
      ['garbage', 'transport.proxy_malformed', /not HTTP/],
      ['oversized', 'transport.proxy_malformed', /longer than 8192 bytes/],
      ['close', 'transport.proxy_refused', /closed the connection/],
    ] as const;
    for (const [mode, code, message] of cases) {
      proxy.mode = mode;
      const e = await failure(openTunnel(target, parseProxyUrl(proxyUrl()), { timeoutMs: 5000 }));
      expect(e.code, mode).toBe(code);
      expect(e.message, mode).toMatch(message);
      expectNoSecret(e);
    }
    expect(
      (await failure(openTunnel(target, parseProxyUrl(proxyUrl()), { timeoutMs: 5000 }))).context,
    ).toMatchObject({ status: null });
    proxy.mode = 'ok';
    await waitFor(() => proxy.open === 0, 'the proxy to see every refused connection closed');
  });

  it('a proxy that never answers: core.timeout at the clock deadline, and the connection closed', async () => {
    proxy.mode = 'silent';
    const clock = new FakeClock();
    const before = proxy.connects.length;
    const p = failure(
      openTunnel({ host: 'relay.test', port: echo.port }, parseProxyUrl(proxyUrl()), {
        clock,
        timeoutMs: 3000,
      }),
    );
    await waitFor(() => proxy.connects.length > before, 'the CONNECT to arrive');
    clock.advance(2999);
    expect(proxy.open).toBe(1);
    clock.advance(1);
    const e = await p;
    expect(e.code).toBe('core.timeout');
    expect(e.message).toMatch(/3000 ms/);
    expectNoSecret(e);
    await waitFor(() => proxy.open === 0, 'the proxy to see the connection closed');
    proxy.mode = 'ok';
  });

  it('a proxy nobody listens on: transport.proxy_unreachable', async () => {
    const gone = await startEcho();
    const port = gone.port;
    await gone.close();
    const e = await failure(
      openTunnel(
        { host: 'relay.test', port: 443 },
        parseProxyUrl(`http://room:${PASSWORD}@127.0.0.1:${port}`),
      ),
    );
    expect(e.code).toBe('transport.proxy_unreachable');
    expect(e.message).toMatch(/ECONNREFUSED/);
    expectNoSecret(e);
  });

  it('direct (no proxy): plain TCP, and open_failed naming the target', async () => {
    const s = await openTunnel({ host: '127.0.0.1', port: echo.port });
    expect(await roundTrip(s, 'direct')).toBe('direct');
    s.destroy();
    const gone = await startEcho();
    await gone.close();
    const e = await failure(openTunnel({ host: '127.0.0.1', port: gone.port }));
    expect(e).toMatchObject({ code: 'transport.open_failed', context: { errno: 'ECONNREFUSED' } });
  });
});

describe('an https:// proxy: TLS to the proxy itself', () => {
  it('tunnels over TLS to the proxy, trusted by the store; an untrusted proxy certificate is named', async () => {
    const secure = await startProxy({ user: 'room', password: PASSWORD }, ca.server);
    try {
      const url = `https://room:${PASSWORD}@127.0.0.1:${secure.port}`;
      const s = await openTunnel({ host: 'relay.test', port: echo.port }, parseProxyUrl(url), {
        proxyTrust: loadTrust({ caFile: ca.caFile }),
        timeoutMs: 5000,
      });
      expect(await roundTrip(s, 'inside TLS to the proxy')).toBe('inside TLS to the proxy');
      s.destroy();
      expect(secure.connects).toEqual([`relay.test:${echo.port}`]);
      // TLS to the target inside TLS to the proxy.
      const t = await openTls(
        { host: 'relay.test', port: tlsEcho.port },
        loadTrust({ caFile: ca.caFile }),
        parseProxyUrl(url),
        {
          proxyTrust: loadTrust({ caFile: ca.caFile }),
          timeoutMs: 5000,
        },
      );
      expect(await roundTrip(t, 'TLS in TLS')).toBe('TLS in TLS');
      t.destroy();
      const e = await failure(
        openTunnel({ host: 'relay.test', port: echo.port }, parseProxyUrl(url), {
          proxyTrust: loadTrust({ caFile: NO_STORE }),
          timeoutMs: 5000,
        }),
      );
      expect(e.code).toBe('transport.tls_untrusted');
      expect(e.message).toMatch(/the HTTP proxy 127\.0\.0\.1:\d+ is not trusted/);
      expectNoSecret(e);
    } finally {
      await secure.close();
    }
  });
});

describe('TLS on top, by CA or pin', () => {
  const withCa = () => loadTrust({ caFile: ca.caFile });

  it('a chain to a CA in the system store: trusted, through the proxy', async () => {
    proxy.mode = 'ok';
    const s = await openTls({ host: 'relay.test', port: tlsEcho.port }, withCa(), parseProxyUrl(proxyUrl()), {
      timeoutMs: 5000,
    });
    expect(s.authorized).toBe(true);
    expect(await roundTrip(s, 'over TLS through the proxy')).toBe('over TLS through the proxy');
    s.destroy();
  });

  it('a CA not in the store: tls_untrusted, naming the host and the fix', async () => {
    const e = await failure(
      openTls(
        { host: 'relay.test', port: tlsEcho.port },
        loadTrust({ caFile: NO_STORE }),
        parseProxyUrl(proxyUrl()),
        {
          timeoutMs: 5000,
        },
      ),
    );
    expect(e.code).toBe('transport.tls_untrusted');
    expect(e.message).toMatch(/relay\.test:\d+ is not trusted.*system store.*meetingService\.tlsPin/);
    expectNoSecret(e);
    // A certificate for another name is not trusted either, even from a trusted CA.
    const other = await failure(
      openTls({ host: '127.0.0.1', port: tlsEcho.port, servername: 'other.test' }, withCa(), null),
    );
    expect(other.code).toBe('transport.tls_untrusted');
  });

  it('a pin: the presented key must match it, whatever signed the certificate', async () => {
    const target = { host: 'relay.test', port: selfSignedEcho.port };
    const ok = await openTls(
      target,
      loadTrust({ caFile: NO_STORE, pin: ca.selfSignedPin }),
      parseProxyUrl(proxyUrl()),
    );
    expect(await roundTrip(ok, 'pinned')).toBe('pinned');
    ok.destroy();
    const e = await failure(
      openTls(target, loadTrust({ caFile: ca.caFile, pin: ca.serverPin }), parseProxyUrl(proxyUrl())),
    );
    expect(e.code).toBe('transport.tls_pin_mismatch');
    expect(e.context).toMatchObject({ expected: ca.serverPin, presented: ca.selfSignedPin });
    expect(e.message).toContain(`expected ${ca.serverPin}, presented ${ca.selfSignedPin}`);
    expectNoSecret(e);
  });
});

describe('the agent: node:https requests and ws through the proxy', () => {
  let https: ReturnType<typeof createHttpsServer>;
  let port: number;
  let wss: WebSocketServer;

  beforeAll(async () => {
    https = createHttpsServer(ca.server, (req, res) => {
      if (req.url?.endsWith('/schedule') === true) {
        res.end('{"meetings":[]}');
        return;
      }
      if (req.url === '/big') {
        res.end('x'.repeat(5000));
        return;
      }
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => res.end(JSON.stringify({ method: req.method, url: req.url, body })));
    });
    wss = new WebSocketServer({ server: https });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', () => resolve()));
    port = (https.address() as AddressInfo).port;
  });
  afterAll(async () => {
    wss?.close();
    https?.closeAllConnections();
    await new Promise<void>((resolve) => https?.close(() => resolve()));
  });

  const network = (o: { pin?: string | null; caFile?: string } = {}) => ({
    proxy: proxyUrl(),
    tlsPin: o.pin ?? null,
    caFile: o.caFile ?? ca.caFile,
  });

  it('apiRequest: the answer through the proxy, bounded; a bad certificate is the clear error', async () => {
    proxy.mode = 'ok';
    const before = proxy.connects.length;
    const a = await apiRequest(`https://relay.test:${port}/api/v1/x`, {
      method: 'PUT',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
      timeoutMs: 5000,
      maxBytes: 1000,
      network: network(),
    });
    expect(a).toMatchObject({ status: 200, ok: true });
    expect(JSON.parse(a.text)).toEqual({ method: 'PUT', url: '/api/v1/x', body: '{"a":1}' });
    expect(proxy.connects.slice(before)).toEqual([`relay.test:${port}`]);
    const big = await failure(
      apiRequest(`https://relay.test:${port}/big`, { timeoutMs: 5000, maxBytes: 1000, network: network() }),
    );
    expect(big).toMatchObject({ code: 'protocol.too_large' });
    const untrusted = await failure(
      apiRequest(`https://relay.test:${port}/x`, {
        timeoutMs: 5000,
        maxBytes: 1000,
        network: network({ caFile: NO_STORE }),
      }),
    );
    expect(untrusted.code).toBe('transport.tls_untrusted');
    expectNoSecret(untrusted);
  });

  it("the room's schedule and bookings use it: through the proxy, and a pin mismatch keeps its own words", async () => {
    proxy.mode = 'ok';
    const before = proxy.connects.length;
    const settings = { ...network(), tlsPin: ca.serverPin as string | null };
    const source = new RelayScheduleSource({
      signalUrl: `wss://relay.test:${port}/v1/signal`,
      room: 'r',
      token: () => 'rt_0123456789abcdef',
      network: () => settings,
    });
    expect(await source.list()).toEqual([]);
    expect(proxy.connects.slice(before)).toEqual([`relay.test:${port}`]);
    settings.tlsPin = ca.selfSignedPin;
    expect((await failure(source.list())).code).toBe('transport.tls_pin_mismatch');
    const booking = await failure(
      bookMeeting(
        { title: 't', start: '2026-01-01T10:00:00Z', end: '2026-01-01T11:00:00Z', encryption: 'e2ee' },
        {
          signalUrl: `wss://relay.test:${port}/v1/signal`,
          room: 'r',
          token: 'rt_0123456789abcdef',
          identity: ed25519Identity(),
          now: () => Date.UTC(2026, 0, 1),
          network: settings,
        },
      ),
    );
    expect(booking.code).toBe('transport.tls_pin_mismatch');
    expectNoSecret(booking);
  });

  it('ws: the signaling socket opens through the proxy; a pin mismatch closes it with that error, counted', async () => {
    proxy.mode = 'ok';
    const events: SignalingEvents['close'][] = [];
    const open = (tlsPin: string | null) => {
      const c = new SignalingClient({
        url: `wss://relay.test:${port}/v1/signal`,
        reconnect: false,
        wsOptions: { agent: meetingServiceAgent('wss:', { ...network(), tlsPin }) },
      });
      c.events.on('close', (e) => events.push(e));
      c.connect();
      return c;
    };
    const good = open(ca.serverPin);
    let opened = false;
    good.events.on('open', () => {
      opened = true;
    });
    await waitFor(() => opened, 'the socket to open');
    await good.close();
    const bad = open(ca.selfSignedPin);
    await waitFor(() => events.length === 2, 'the second socket to close');
    expect(events[1]?.error?.code).toBe('transport.tls_pin_mismatch');
    expect(bad.openFailures).toEqual({ 'transport.tls_pin_mismatch': 1 });
    await bad.close();
  });

  it('an agent for http: is plain, and its protocol is what node:http checks', () => {
    const a = meetingServiceAgent('ws:', { proxy: null, tlsPin: null });
    expect(a).toBeInstanceOf(TunnelAgent);
    expect((a as unknown as { protocol: string }).protocol).toBe('http:');
    expect(
      (meetingServiceAgent('https:', { proxy: null, tlsPin: null }) as unknown as { protocol: string })
        .protocol,
    ).toBe('https:');
  });
});
