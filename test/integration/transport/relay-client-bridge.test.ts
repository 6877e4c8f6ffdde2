/**
 * RelayClient and the TURN bridge (src/transport/relay-client.ts, turn-bridge.ts): the `turns:`
 * servers of an admission reach the media connection as loopback bridges (same credentials,
 * and the bridge table its media path reads), and every bridge is closed when the signaling
 * connection drops or the client closes. A relay that sends no TURN gets no bridges.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodeServerMessage } from '../../../src/protocol/index.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import type { PeerConnectionFactory, PeerConnectionOptions } from '../../../src/transport/peer.ts';
import { RelayClient } from '../../../src/transport/relay-client.ts';
import { waitFor } from '../../helpers/proxy-fixtures.ts';

const creds = { username: '1700000000:7', credential: 'c3VwZXI=' };
let close: (() => Promise<void>) | undefined;

afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A relay that says hello, then (optionally) ice-servers, then admits. */
async function fakeRelay(iceServers: { urls: string[]; username: string; credential: string }[] | null) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.send(
      encodeServerMessage({
        type: 'hello',
        versions: { min: 1, max: 1 },
        nonce: 'A'.repeat(43),
        relay: 'test',
      }),
    );
    if (iceServers !== null) ws.send(encodeServerMessage({ type: 'ice-servers', iceServers }));
    ws.send(
      encodeServerMessage({
        type: 'admission',
        status: 'admitted',
        participantId: '7',
        instanceId: 'instance-1',
        host: false,
      }),
    );
  });
  const port = (wss.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/v1/signal`,
    sockets,
    stop: () => new Promise<void>((r) => wss.close(() => r())),
  };
}

function recording(): { peers: PeerConnectionFactory; created: PeerConnectionOptions[] } {
  const net = new FakePeerNetwork();
  const created: PeerConnectionOptions[] = [];
  return {
    created,
    peers: {
      create: (options = {}) => {
        created.push(options);
        return net.create();
      },
      get openCount() {
        return net.openCount;
      },
    },
  };
}

function client(url: string, peers: PeerConnectionFactory): RelayClient {
  return new RelayClient({
    url,
    peers,
    reconnect: false,
    join: () => {
      throw new Error('this test does not join');
    },
    network: { proxy: null, tlsPin: null, env: {} },
  });
}

describe('RelayClient with TURN bridges', () => {
  it('hands the media connection a loopback bridge for turns:, and closes it with the socket', async () => {
    const relay = await fakeRelay([
      { urls: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:443?transport=tcp'], ...creds },
    ]);
    const { peers, created } = recording();
    const c = client(relay.url, peers);
    close = async () => {
      await c.close();
      await relay.stop();
    };
    c.start();
    await waitFor(() => created.length === 1, 'the media connection');
    const o = created[0]!;
    const urls = o.iceServers?.[0]?.urls as string[];
    expect(urls[0]).toBe('turn:turn.example:3478?transport=udp');
    expect(urls[1]).toMatch(/^turn:127\.0\.0\.1:\d+\?transport=tcp$/);
    expect(o.iceServers?.[0]).toMatchObject(creds);
    expect(o.bridges).toEqual([{ url: urls[1], path: 'turn-tls' }]);
    expect(c.bridgesOpen.listeners).toBe(1);
    // The relay drops us: the bridges go with the connection.
    const disconnected = new Promise((resolve) => c.events.on('disconnected', resolve));
    relay.sockets[0]?.close();
    await disconnected;
    expect(c.bridgesOpen).toEqual({ listeners: 0, sockets: 0 });
  });

  it('closing the client closes its bridges; a relay without TURN gets none', async () => {
    const relay = await fakeRelay([{ urls: ['turns:turn.example:443?transport=tcp'], ...creds }]);
    const { peers, created } = recording();
    const c = client(relay.url, peers);
    c.start();
    await waitFor(() => created.length === 1, 'the media connection');
    expect(c.bridgesOpen.listeners).toBe(1);
    await c.close();
    expect(c.bridgesOpen.listeners).toBe(0);
    await relay.stop();

    const plain = await fakeRelay(null);
    const second = recording();
    const d = client(plain.url, second.peers);
    close = async () => {
      await d.close();
      await plain.stop();
    };
    d.start();
    await waitFor(() => second.created.length === 1, 'the media connection');
    expect(second.created[0]).toEqual({ iceServers: [] });
    expect(d.bridgesOpen.listeners).toBe(0);
  });
});
