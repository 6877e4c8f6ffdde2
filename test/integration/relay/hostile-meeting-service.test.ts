// A hostile meeting service (a plain WebSocket server) against the client side (docs/protocol.md
// "# Wire protocol" §Validation): the nested message that used to kill the room daemon, binary
// frames and garbage are dropped and counted, an unexpected error closes only that connection (the
// client reconnects), the room's meeting session keeps working, and /metrics shows the counts.
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { RoomMetricsSource } from '../../../src/app/room/metrics.ts';
import { FakeClock, SystemClock } from '../../../src/core/clock.ts';
import { memoryLogger, silentLogger } from '../../../src/core/logger.ts';
import { RoomMetrics } from '../../../src/http/metrics.ts';
import type { Room } from '../../../src/meeting/room.ts';
import { MeetingSession } from '../../../src/meeting/session.ts';
import { encodeServerMessage, toBase64Url } from '../../../src/protocol/index.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { RelayClient } from '../../../src/transport/relay-client.ts';
import { SignalingClient } from '../../../src/transport/signaling-client.ts';
import { until } from './helpers.ts';

const NESTED = `{"v":${'['.repeat(5000)}${']'.repeat(5000)},"type":"hello"}`;
const GARBAGE = [
  NESTED,
  `{"v":1,"type":"roster","version":1,"participants":${'[{"a":'.repeat(5000)}1${'}]'.repeat(5000)}}`,
  '{"v":1,"type":"pong","id":', // not JSON
  JSON.stringify({ v: 1, type: 'admission', status: 'admitted', extra: 'x'.repeat(100_000) }),
];
const hello = () =>
  encodeServerMessage({
    type: 'hello',
    versions: { min: 1, max: 1 },
    nonce: toBase64Url(new Uint8Array(32)),
    relay: 'hostile',
  });

const servers: WebSocketServer[] = [];
const closers: (() => Promise<void>)[] = [];

async function fakeService(onConnection: (ws: WebSocket, n: number) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  let n = 0;
  wss.on('connection', (ws) => onConnection(ws, n++));
  return `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
}

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    await new Promise((r) => s.close(r));
  }
});

describe('SignalingClient against a hostile meeting service', () => {
  it('drops and counts nested, binary and malformed messages and keeps its connection', async () => {
    const { logger, text } = memoryLogger();
    const url = await fakeService((ws) => {
      for (const g of GARBAGE) ws.send(g);
      ws.send(new TextEncoder().encode(encodeServerMessage({ type: 'pong', id: 1 })), { binary: true });
      ws.send(encodeServerMessage({ type: 'pong', id: 2 }));
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; id: number };
        if (m.type === 'ping') ws.send(encodeServerMessage({ type: 'pong', id: m.id }));
      });
    });
    const client = new SignalingClient({ url, reconnect: false, logger });
    closers.push(() => client.close());
    const pongs: number[] = [];
    const errors: string[] = [];
    client.events.on('message', (m) => {
      if (m.type === 'pong') pongs.push(m.id);
    });
    client.events.on('protocol-error', (e) => errors.push(e.code));
    client.connect();
    await until(() => pongs.includes(2));
    expect(errors).toEqual(Array(5).fill('protocol.malformed'));
    expect(client.counters).toEqual({ messagesRejected: 5, binaryFrames: 1, guardTrips: 0 });
    client.send({ type: 'ping', id: 3 });
    await until(() => pongs.includes(3));
    expect(pongs).toEqual([2, 3]);
    expect(client.connected).toBe(true);
    // one line for the connection, none of the payload
    expect(text().match(/dropped an invalid message/g)).toHaveLength(1);
    expect(text()).not.toContain('xxxxxxxx');
  });

  it('counts a listener that throws, and closes and reconnects when its own receive guard trips', async () => {
    const url = await fakeService((ws, n) => {
      ws.send(encodeServerMessage({ type: 'pong', id: n * 10 + 1 }));
      ws.send(encodeServerMessage({ type: 'pong', id: n * 10 + 2 }));
    });
    const clock = new FakeClock();
    let tripOn: number | undefined = 1;
    const { logger, text } = memoryLogger();
    const client = new SignalingClient({
      url,
      clock,
      logger,
      backoff: { random: () => 1 },
      // a stand-in for an unexpected bug inside the receive path
      tap: (dir, data) => {
        if (dir === 'in' && tripOn !== undefined && data.includes(`"id":${tripOn}`))
          throw new TypeError('bug');
      },
    });
    closers.push(() => client.close());
    const pongs: number[] = [];
    const closes: number[] = [];
    client.events.on('message', (m) => {
      if (m.type === 'pong') pongs.push(m.id);
      if (m.type === 'pong' && m.id === 12) throw new RangeError('listener bug');
    });
    client.events.on('close', (c) => closes.push(c.code));
    client.connect();
    await client.events.next('reconnecting');
    expect(closes).toEqual([1011]);
    expect(client.counters.guardTrips).toBe(1);
    tripOn = undefined;
    clock.advance(250);
    await until(() => pongs.includes(12));
    expect(client.counters.guardTrips).toBe(2);
    expect(client.connected).toBe(true);
    expect(text().match(/guard caught an unexpected error/g)).toHaveLength(1);
    expect(text().match(/a signaling listener failed/g)).toHaveLength(1);
  });
});

describe('RelayClient against a hostile meeting service', () => {
  it('counts what it refused and a listener that threw, and keeps delivering', async () => {
    const url = await fakeService((ws) => {
      ws.send(hello());
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; id?: number };
        if (m.type === 'join') {
          ws.send(NESTED);
          ws.send(
            encodeServerMessage({
              type: 'admission',
              status: 'refused',
              reason: 'bad_passcode',
              message: 'The passcode is wrong.',
            }),
          );
        }
        if (m.type === 'ping') ws.send(encodeServerMessage({ type: 'pong', id: m.id ?? 0 }));
      });
    });
    const client = new RelayClient({
      url,
      peers: new FakePeerNetwork(),
      reconnect: false,
      join: () => ({
        meetingId: '123-456-789',
        passcode: 'nope',
        displayName: 'Room',
        client: 'room',
        protocol: 1,
        deviceId: 'room-1',
      }),
    });
    closers.push(() => client.close());
    client.events.on('admission', () => {
      throw new TypeError('consumer bug');
    });
    const refused = client.events.next('admission');
    client.start();
    await refused;
    client.ping(9);
    const pong = await client.events.next('pong');
    expect(pong.id).toBe(9);
    expect(client.counters).toEqual({
      messagesRejected: 1,
      binaryFrames: 0,
      guardTrips: 1,
    });
  });
});

describe("the room's meeting session against a hostile meeting service", () => {
  it('survives the nested message, counts it, keeps working, and /metrics shows it', async () => {
    let joins = 0;
    const url = await fakeService((ws) => {
      ws.send(hello());
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as { type: string; meetingId: string };
        if (m.type !== 'join') return;
        joins++;
        for (const g of GARBAGE) ws.send(g);
        ws.send(new Uint8Array([1, 2, 3]), { binary: true });
        ws.send(
          encodeServerMessage({
            type: 'admission',
            status: 'waiting',
            reason: 'waiting_for_host',
            message: 'Waiting for the host.',
          }),
        );
        ws.send(
          encodeServerMessage({
            type: 'meeting-info',
            meetingId: m.meetingId,
            instanceId: 'instance-1',
            title: 'Hostile',
            encryption: 'e2ee',
            disabledFeatures: [],
            hostPresent: false,
          }),
        );
      });
    });
    const secretKey = ed25519.utils.randomSecretKey();
    const session = new MeetingSession({
      meetingId: '123-456-789',
      passcode: 'pass',
      relayUrl: url,
      displayName: 'Room',
      clientType: 'room',
      identity: { deviceId: 'room-1', publicKey: ed25519.getPublicKey(secretKey), secretKey },
      peers: new FakePeerNetwork(),
      clock: new SystemClock(),
      log: silentLogger(),
    });
    closers.push(async () => {
      await session.leave();
    });
    const joined = session.join();
    const snapshot = await joined;
    expect(snapshot.status).toBe('waiting-for-host');
    expect(joins).toBe(1);
    expect(session.relayCounters).toMatchObject({ messagesRejected: 5, binaryFrames: 1, guardTrips: 0 });

    const room = { link: null, session, meeting: () => null } as unknown as Room;
    const metrics = new RoomMetrics({ defaultMetrics: false });
    metrics.update(new RoomMetricsSource(room, () => []).snapshot());
    const exposition = await metrics.metrics();
    expect(exposition).toContain('roomd_relay_messages_rejected_total 5');
    expect(exposition).toContain('roomd_receive_guard_trips_total 0');
    expect(exposition).toContain('roomd_media_chunks_rejected_total 0');
  });
});
