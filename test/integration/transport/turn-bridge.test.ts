/**
 * The room's TURN bridge (src/transport/turn-bridge.ts, docs/admin.md §TURN): which ICE server URLs
 * it takes over, bytes piped both ways over TLS through the proxy to a TLS echo server (standing in
 * for coturn on 443), its bounds, its counters, and nothing left listening or open after close().
 */
import { connect as netConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/core/logger.ts';
import { loadTrust, parseProxyUrl, type ProxySpec } from '../../../src/transport/http-proxy.ts';
import { mediaPathOf } from '../../../src/transport/peer.ts';
import {
  BRIDGE_LIMITS,
  newBridgeCounters,
  parseTurnUrl,
  planBridges,
  TurnBridges,
} from '../../../src/transport/turn-bridge.ts';
import {
  type Listening,
  makeTestCa,
  startEcho,
  startProxy,
  type TestCa,
  type TestProxy,
  waitFor,
} from '../../helpers/proxy-fixtures.ts';

let ca: TestCa;
let proxy: TestProxy;
let echo: Listening;
let tlsEcho: Listening;

beforeAll(async () => {
  ca = makeTestCa();
  proxy = await startProxy({ user: 'room', password: 'bridge-secret' });
  echo = await startEcho();
  tlsEcho = await startEcho(ca.server);
});
afterAll(async () => {
  await Promise.all([proxy?.close(), echo?.close(), tlsEcho?.close()]);
  ca?.remove();
});

const creds = { username: '1700000000:p1', credential: 'c3VwZXI=' };
const viaProxy = (): ProxySpec => parseProxyUrl(`http://room:bridge-secret@127.0.0.1:${proxy.port}`);

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

async function roundTrip(s: Socket, text: string): Promise<string> {
  let got = '';
  const done = new Promise<void>((resolve) =>
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) resolve();
    }),
  );
  s.write(text);
  await done;
  return got;
}

const localPort = (url: string) => Number(/^turn:127\.0\.0\.1:(\d+)\?transport=tcp$/.exec(url)?.[1]);

describe('which ICE servers are bridged', () => {
  it('parses turn: and turns: URLs', () => {
    expect(parseTurnUrl('turns:turn.example:443?transport=tcp')).toEqual({
      scheme: 'turns',
      host: 'turn.example',
      port: 443,
      transport: 'tcp',
    });
    expect(parseTurnUrl('turn:[2001:db8::1]?transport=udp')).toEqual({
      scheme: 'turn',
      host: '2001:db8::1',
      port: 3478,
      transport: 'udp',
    });
    expect(parseTurnUrl('turns:t.example')).toMatchObject({ port: 5349, transport: null });
    for (const bad of [
      'stun:t.example:3478',
      'turn:t.example:99999',
      'turn:t.example:1?transport=sctp',
      'turn:a b',
    ])
      expect(parseTurnUrl(bad)).toBeNull();
  });

  it('turns: over TCP always; turn: over TCP only through a proxy; UDP never; one bridge per target', () => {
    const servers = [
      {
        urls: [
          'turn:turn.example:3478?transport=udp',
          'turn:turn.example:3478?transport=tcp',
          'turns:turn.example:443?transport=tcp',
          'turns:turn.example:443',
          'turns:turn.example:443?transport=udp',
          'stun:turn.example:3478',
        ],
        ...creds,
      },
    ];
    const direct = planBridges(servers, () => null);
    expect(direct.plans.map((p) => [p.path, p.target])).toEqual([
      ['turn-tls', { host: 'turn.example', port: 443 }],
    ]);
    expect([...direct.byUrl.keys()]).toEqual([
      'turns:turn.example:443?transport=tcp',
      'turns:turn.example:443',
    ]);
    const proxied = planBridges(servers, () => viaProxy());
    expect(proxied.plans.map((p) => p.path)).toEqual(['turn-tcp-proxy', 'turn-tls-proxy']);
    // At most BRIDGE_LIMITS.listeners, whatever the relay sends.
    const many = [
      { urls: Array.from({ length: 12 }, (_, i) => `turns:t${i}.example:443?transport=tcp`), ...creds },
    ];
    expect(planBridges(many, () => null).plans).toHaveLength(BRIDGE_LIMITS.listeners);
  });
});

describe('the bridge', () => {
  it('pipes turns: over TLS through the proxy to the TURN server, both ways, counted; the path says so', async () => {
    const counters = newBridgeCounters();
    const servers = [
      {
        urls: ['turn:turn.test:3478?transport=udp', `turns:turn.test:${tlsEcho.port}?transport=tcp`],
        ...creds,
      },
    ];
    const b = await TurnBridges.open(servers, {
      proxy: () => viaProxy(),
      trust: loadTrust({ caFile: ca.caFile }),
      counters,
      timeoutMs: 5000,
    });
    const { iceServers, bridges } = b.peerOptions();
    expect(iceServers).toHaveLength(1);
    const [udp, local] = iceServers[0]!.urls as string[];
    expect(udp).toBe('turn:turn.test:3478?transport=udp');
    expect(local).toMatch(/^turn:127\.0\.0\.1:\d+\?transport=tcp$/);
    expect(iceServers[0]).toMatchObject(creds);
    expect(bridges).toEqual([{ url: local, path: 'turn-tls-proxy' }]);
    // What the media path reports for a relay candidate from that server.
    expect(
      mediaPathOf({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp', url: local }, bridges),
    ).toBe('turn-tls-proxy');
    expect(
      mediaPathOf(
        { candidateType: 'relay', protocol: 'udp', relayProtocol: 'tcp', url: 'turn:x:1' },
        bridges,
      ),
    ).toBe('turn-tcp');

    const s = await connectTo(localPort(local!));
    const payload = 'allocate-request'.repeat(100);
    expect(await roundTrip(s, payload)).toBe(payload);
    expect(proxy.connects.at(-1)).toBe(`turn.test:${tlsEcho.port}`);
    expect(counters).toMatchObject({ connections: 1, refused: 0, failures: {} });
    expect(counters.bytesUp).toBe(payload.length);
    await waitFor(() => counters.bytesDown === payload.length, 'the bytes back to be counted');
    expect(tlsEcho.open).toBe(1);

    b.close();
    await waitFor(() => s.destroyed || s.readableEnded, 'the bridged connection to close');
    await waitFor(() => tlsEcho.open === 0, 'the TURN side to be closed');
    expect(b.listening).toBe(0);
    expect(b.openSockets).toBe(0);
    // Nothing listens there any more.
    await expect(connectTo(localPort(local!))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    b.close();
  });

  it('plain TCP through the proxy for turn: over TCP when a proxy applies', async () => {
    const b = await TurnBridges.open([{ urls: [`turn:turn.test:${echo.port}?transport=tcp`], ...creds }], {
      proxy: () => viaProxy(),
      trust: loadTrust({ caFile: ca.caFile }),
    });
    const { iceServers, bridges } = b.peerOptions();
    expect(bridges[0]?.path).toBe('turn-tcp-proxy');
    const s = await connectTo(localPort((iceServers[0]!.urls as string[])[0]!));
    expect(await roundTrip(s, 'stun binding')).toBe('stun binding');
    b.close();
    await waitFor(() => echo.open === 0, 'the TURN side to be closed');
  });

  it('an untrusted TURN certificate: the connection is closed and the failure counted by code', async () => {
    const counters = newBridgeCounters();
    const b = await TurnBridges.open(
      [{ urls: [`turns:127.0.0.1:${tlsEcho.port}?transport=tcp`], ...creds }],
      {
        proxy: () => null,
        trust: loadTrust({ caFile: '/nonexistent/ca.crt' }),
        counters,
        timeoutMs: 5000,
      },
    );
    const s = await connectTo(localPort((b.peerOptions().iceServers[0]!.urls as string[])[0]!));
    s.on('error', () => {});
    await waitFor(() => s.destroyed || s.readableEnded, 'the bridged connection to be closed');
    expect(counters.failures).toEqual({ 'transport.tls_untrusted': 1 });
    await waitFor(() => b.openSockets === 0, 'nothing left open');
    b.close();
  });

  it('a proxy that refuses our credentials: counted, and the password is in no log line', async () => {
    const counters = newBridgeCounters();
    const { logger, text } = memoryLogger();
    const b = await TurnBridges.open(
      [{ urls: [`turns:turn.test:${tlsEcho.port}?transport=tcp`], ...creds }],
      {
        proxy: () => parseProxyUrl(`http://room:wrong-secret@127.0.0.1:${proxy.port}`),
        trust: loadTrust({ caFile: ca.caFile }),
        counters,
        logger,
        timeoutMs: 5000,
      },
    );
    for (let i = 0; i < 2; i++) {
      const s = await connectTo(localPort((b.peerOptions().iceServers[0]!.urls as string[])[0]!));
      s.on('error', () => {});
      await waitFor(() => s.destroyed || s.readableEnded, 'the bridged connection to be closed');
    }
    await waitFor(() => counters.failures['transport.proxy_auth'] === 2, 'both failures counted');
    // Logged once per admission, with the redacted proxy.
    expect(text().match(/refused our credentials/g)).toHaveLength(1);
    expect(text()).toContain(`http://***@127.0.0.1:${proxy.port}`);
    expect(text()).not.toContain('wrong-secret');
    expect(text()).not.toContain(Buffer.from('room:wrong-secret').toString('base64'));
    b.close();
  });

  it(`accepts ${BRIDGE_LIMITS.connectionsPerListener} connections per listener and refuses more; close() ends them all`, async () => {
    const counters = newBridgeCounters();
    const b = await TurnBridges.open(
      [{ urls: [`turns:127.0.0.1:${tlsEcho.port}?transport=tcp`], ...creds }],
      {
        proxy: () => null,
        trust: loadTrust({ caFile: ca.caFile }),
        counters,
        timeoutMs: 5000,
      },
    );
    const port = localPort((b.peerOptions().iceServers[0]!.urls as string[])[0]!);
    const clients: Socket[] = [];
    for (let i = 0; i < BRIDGE_LIMITS.connectionsPerListener + 2; i++) {
      const c = await connectTo(port);
      c.on('error', () => {});
      clients.push(c);
    }
    await waitFor(() => counters.refused === 2, 'two connections refused');
    expect(counters.connections).toBe(BRIDGE_LIMITS.connectionsPerListener);
    await waitFor(() => tlsEcho.open === BRIDGE_LIMITS.connectionsPerListener, 'every accepted one piped');
    b.close();
    await waitFor(() => tlsEcho.open === 0 && b.openSockets === 0, 'every connection closed');
    await waitFor(() => clients.every((c) => c.destroyed || c.readableEnded), 'every client closed');
    for (const c of clients) c.destroy();
  });

  it('clients that connect and close at once cannot start more upstream attempts than the limit', async () => {
    const counters = newBridgeCounters();
    proxy.mode = 'silent'; // it never answers a CONNECT: every attempt stays pending
    const before = proxy.connects.length;
    const b = await TurnBridges.open(
      [{ urls: [`turns:turn.test:${tlsEcho.port}?transport=tcp`], ...creds }],
      {
        proxy: () => viaProxy(),
        trust: loadTrust({ caFile: ca.caFile }),
        counters,
        timeoutMs: 5000,
      },
    );
    const port = localPort((b.peerOptions().iceServers[0]!.urls as string[])[0]!);
    for (let i = 0; i < 3 * BRIDGE_LIMITS.connectionsPerListener; i++) {
      const c = await connectTo(port);
      c.on('error', () => {});
      c.destroy();
    }
    await waitFor(
      () => counters.connections + counters.refused === 3 * BRIDGE_LIMITS.connectionsPerListener,
      'every client accepted or refused',
    );
    await waitFor(
      () => proxy.connects.length - before === BRIDGE_LIMITS.connectionsPerListener,
      'the attempts under way',
    );
    expect(counters.connections).toBe(BRIDGE_LIMITS.connectionsPerListener);
    b.close();
    proxy.mode = 'ok';
  });

  it('closed before it finished listening: nothing is left listening', async () => {
    const b = await TurnBridges.open([{ urls: ['turns:turn.test:443?transport=tcp'], ...creds }], {
      proxy: () => null,
      trust: loadTrust({ caFile: ca.caFile }),
    });
    expect(b.listening).toBe(1);
    b.close();
    expect(b.listening).toBe(0);
  });
});
