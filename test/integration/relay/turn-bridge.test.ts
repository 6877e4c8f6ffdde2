/**
 * TURN over TLS through the room's own bridge (src/transport/turn-bridge.ts, docs/admin.md §TURN):
 * coturn takes TURN over TLS with a certificate from a test CA that only the participants' system
 * store holds (libwebrtc would not trust it), the relay hands out only `turns:` — and media flows
 * between two participants limited to relay candidates, each saying `turn-tls`; through an HTTP
 * proxy (coturn on this machine's non-loopback address, which a proxy applies to) they say
 * `turn-tls-proxy`, and the proxy saw the CONNECTs. Every bridge is gone once they leave.
 */
import { networkInterfaces } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import type { NetworkSettings } from '../../../src/transport/http-proxy.ts';
import type { PeerConnectionFactory } from '../../../src/transport/peer.ts';
import { type CoturnFixture, startCoturn } from '../../helpers/coturn.ts';
import {
  allSecure,
  framesFlow,
  type Harness,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';
import { freePort } from '../../helpers/ports.ts';
import { makeTestCa, startProxy, type TestCa, type TestProxy } from '../../helpers/proxy-fixtures.ts';

/** An IPv4 address of this machine that is not loopback (proxies never apply to loopback). */
const lanAddress =
  Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address ?? null;

let ca: TestCa;
let proxy: TestProxy;
let turn: CoturnFixture;
let h: Harness | undefined;

beforeAll(async () => {
  if (lanAddress === null) throw new Error('this test needs a non-loopback IPv4 address on the machine');
  ca = makeTestCa([lanAddress]);
  proxy = await startProxy({ user: 'room', password: 'turn-proxy-secret' });
  turn = await startCoturn({
    address: lanAddress,
    tls: { port: await freePort(), certPath: ca.serverFiles.cert, keyPath: ca.serverFiles.key },
  });
});
afterAll(async () => {
  await turn?.stop();
  await proxy?.close();
  ca?.remove();
  await stopSharedJanus();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function relayOnly(f: PeerConnectionFactory): PeerConnectionFactory {
  return {
    create: (options = {}) => f.create({ ...options, iceTransportPolicy: 'relay' }),
    get openCount() {
      return f.openCount;
    },
  };
}

async function twoThroughTurns(network: NetworkSettings): Promise<HeadlessParticipant[]> {
  h = await startHarness({
    relay: { turn: { urls: [`turns:${turn.address}:${turn.tlsPort}?transport=tcp`], secret: turn.secret } },
  });
  const id = await h.meeting();
  const peers = relayOnly(h.peers);
  const people = [
    h.participant(id, 'Host', { identity: h.host, client: 'room', peers, network }),
    h.participant(id, 'Far end', { peers, network }),
  ];
  await Promise.all(people.map((p) => p.join()));
  await waitFor(() => allSecure(people), 'both participants secure', 30_000);
  return people;
}

describe('TURN over TLS through the bridge', () => {
  it('direct: media flows, the path is turn-tls, and the bridges close with the meeting', async () => {
    const network = { proxy: null, tlsPin: null, caFile: ca.caFile, env: {} };
    const people = await twoThroughTurns(network);
    await framesFlow(people, 5);
    for (const p of people) {
      expect(await p.session.relay.mediaPath()).toBe('turn-tls');
      const c = p.session.relay.bridgeCounters;
      expect(c.connections).toBeGreaterThan(0);
      expect(c.bytesUp).toBeGreaterThan(5_000);
      expect(c.bytesDown).toBeGreaterThan(5_000);
      expect(c.failures).toEqual({});
    }
    await Promise.all(people.map((p) => p.leave()));
    for (const p of people) expect(p.session.relay.bridgesOpen).toEqual({ listeners: 0, sockets: 0 });
  });

  it('through the HTTP proxy: media flows, the path is turn-tls-proxy, the proxy saw CONNECT to coturn', async () => {
    const before = proxy.connects.length;
    const network = {
      proxy: `http://room:turn-proxy-secret@127.0.0.1:${proxy.port}`,
      tlsPin: null,
      caFile: ca.caFile,
      env: {},
    };
    const people = await twoThroughTurns(network);
    await framesFlow(people, 5);
    for (const p of people) expect(await p.session.relay.mediaPath()).toBe('turn-tls-proxy');
    expect(proxy.connects.slice(before)).toContain(`${turn.address}:${turn.tlsPort}`);
  });

  it('a TURN certificate the store does not trust: no media, the failure counted, nothing crashes', async () => {
    const network = { proxy: null, tlsPin: null, caFile: '/nonexistent/ca.crt', env: {} };
    const people = await twoThroughTurns(network);
    await waitFor(
      () =>
        people.every((p) => (p.session.relay.bridgeCounters.failures['transport.tls_untrusted'] ?? 0) > 0),
      'both bridges refusing the certificate',
      20_000,
    );
    expect(await people[0]!.session.relay.mediaPath()).toBeNull();
  });
});
