// Hostile clients against a real relay over loopback WebSockets (docs/protocol.md "# Wire protocol"
// §Transport, §Limits, §Validation): the 10 KB nested message that used to kill the process, binary
// frames, a flood, idle and half-open sockets and too many sockets from one address. Media runs on
// the in-memory peer network; the limits are small so each test opens few sockets.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FakeClock } from '../../../src/core/clock.ts';
import { encodeClientMessage } from '../../../src/protocol/index.ts';
import { UNJOINED_EVICTED_CLOSE } from '../../../src/relay/core.ts';
import type { RelayOptions } from '../../../src/relay/server.ts';
import { ADDRESS_CAP_CLOSE, createRelay, type Relay } from '../../../src/relay/server.ts';
import { JOIN_TIMEOUT_CLOSE } from '../../../src/relay/session.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { hostKey, until } from './helpers.ts';

interface Received {
  type: string;
  code?: string;
  id?: number;
  status?: string;
}

/** A raw WebSocket client that records what the relay sends and how the socket closed. */
class RawClient {
  readonly inbox: Received[] = [];
  readonly pings: number[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(
    url: string,
    readonly ws = new WebSocket(url, { autoPong: true }),
  ) {
    ws.on('message', (data) => this.inbox.push(JSON.parse(data.toString()) as Received));
    ws.on('ping', () => this.pings.push(Date.now()));
    ws.on('error', () => {});
    this.opened = new Promise((resolve) => ws.once('open', () => resolve()));
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  static async connect(url: string, options: { autoPong?: boolean } = {}): Promise<RawClient> {
    const c = new RawClient(url, new WebSocket(url, { autoPong: options.autoPong ?? true }));
    await c.opened;
    await until(() => c.inbox.some((m) => m.type === 'hello'));
    return c;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(text: string | Uint8Array, binary = false): void {
    this.ws.send(text, { binary });
  }

  errors(code?: string): Received[] {
    return this.inbox.filter((m) => m.type === 'error' && (code === undefined || m.code === code));
  }

  /** Sends a ping and resolves once its pong is back (every earlier message has been handled). */
  async roundTrip(id: number): Promise<void> {
    this.send(encodeClientMessage({ type: 'ping', id }));
    await until(() => this.inbox.some((m) => m.type === 'pong' && m.id === id));
  }
}

const relays: Relay[] = [];
const clients: RawClient[] = [];

async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const relay = createRelay({ peers: new FakePeerNetwork(), ...options });
  await relay.start();
  relays.push(relay);
  return relay;
}

async function connect(relay: Relay, options: { autoPong?: boolean } = {}): Promise<RawClient> {
  const c = await RawClient.connect(relay.address.signalUrl, options);
  clients.push(c);
  return c;
}

function join(meetingId: string, over: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1,
    type: 'join',
    meetingId,
    passcode: 'pass',
    displayName: 'Someone',
    client: 'room',
    protocol: 1,
    deviceId: `dev-${Math.random().toString(36).slice(2)}`,
    ...over,
  });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const r of relays.splice(0)) await r.stop();
});

describe('relay against hostile clients', () => {
  it('survives the 5,000-deep nested message: that client gets a typed error, others keep joining', async () => {
    const relay = await startRelay();
    const m = await relay.registry.create({
      hostIdentityKey: hostKey,
      passcode: 'pass',
      encryption: 'enhanced',
      joinBeforeHost: true,
    });
    const attacker = await connect(relay);
    const attack = `{"v":${'['.repeat(5000)}${']'.repeat(5000)},"type":"ping","id":1}`;
    expect(attack.length).toBeLessThan(10_100);
    attacker.send(attack);
    await until(() => attacker.errors().length === 1);
    expect(attacker.errors()[0]).toMatchObject({ code: 'protocol.malformed' });
    // the same in other fields and as deep objects
    attacker.send(`{"v":1,"type":"e2ee","to":"all","payload":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`);
    attacker.send(`{"v":1,"type":"ping","id":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    await attacker.roundTrip(2);
    expect(attacker.errors('protocol.malformed')).toHaveLength(3);

    const second = await connect(relay);
    second.send(join(m.id));
    await until(() => second.inbox.some((msg) => msg.type === 'admission'));
    expect(second.inbox.find((msg) => msg.type === 'admission')?.status).toBe('admitted');
    await second.roundTrip(3);
    expect(relay.stats().signaling).toMatchObject({ messagesRejected: 3, guardTrips: 0 });
  });

  it('refuses binary signaling frames with a typed error and counts them', async () => {
    const relay = await startRelay();
    const c = await connect(relay);
    c.send(new TextEncoder().encode(encodeClientMessage({ type: 'ping', id: 1 })), true);
    await until(() => c.errors().length === 1);
    expect(c.errors()[0]).toMatchObject({ code: 'protocol.malformed' });
    expect(c.inbox.some((msg) => msg.type === 'pong')).toBe(false);
    await c.roundTrip(2);
    expect(relay.stats().signaling).toMatchObject({ binaryFrames: 1, messagesRejected: 1 });
  });

  it('sends the rate-limit notice exactly once for a sustained flood', async () => {
    // The relay's clock is a fake one, so tokens come back exactly when the test says.
    const clock = new FakeClock();
    const relay = await startRelay({ clock, limits: { burst: 100, perSecond: 1000 } });
    const c = await connect(relay);
    const pongs = () => c.inbox.filter((m) => m.type === 'pong').length;
    const dropped = () => relay.stats().signaling.rateLimitedMessages;
    let id = 0;
    const flood = (n: number) => {
      for (let i = 0; i < n; i++) c.send(encodeClientMessage({ type: 'ping', id: id++ }));
    };
    flood(150);
    await until(() => pongs() === 100 && dropped() === 50);
    // The flood goes on while 20 tokens trickle back between bursts: still the same episode.
    for (let round = 1; round <= 4; round++) {
      clock.advance(20);
      flood(30);
      await until(() => pongs() === 100 + 20 * round && dropped() === 50 + 10 * round);
    }
    clock.advance(20);
    await c.roundTrip(1_000_000);
    expect(c.errors('relay.rate_limited')).toHaveLength(1);
    expect(relay.stats().signaling.rateLimitEpisodes).toBe(1);
  });

  it('closes a socket that never joins', async () => {
    const relay = await startRelay({ limits: { joinTimeoutMs: 200 } });
    const idle = await connect(relay);
    expect(await idle.closed).toEqual({ code: JOIN_TIMEOUT_CLOSE, reason: 'no join in time' });
    expect(relay.stats().signaling.joinTimeouts).toBe(1);
    expect(relay.stats().connections).toBe(0);
  });

  it('refuses the socket over the per-address cap at once; over the unjoined cap the oldest unjoined goes', async () => {
    const relay = await startRelay({ limits: { maxConnectionsPerAddress: 3, maxUnjoinedPerAddress: 2 } });
    const m = await relay.registry.create({
      hostIdentityKey: hostKey,
      passcode: 'pass',
      encryption: 'enhanced',
    });
    const squatter = await connect(relay);
    await connect(relay);
    // Both unjoined slots are held: the newcomer still gets in, the oldest squatter is closed.
    const room = await connect(relay);
    expect(await squatter.closed).toEqual({
      code: UNJOINED_EVICTED_CLOSE,
      reason: 'replaced by a newer connection from this address',
    });
    room.send(join(m.id));
    await until(() => room.inbox.some((msg) => msg.type === 'admission'));
    await connect(relay); // three open now: one joined, two not
    const fourth = new RawClient(relay.address.signalUrl);
    clients.push(fourth);
    expect(await fourth.closed).toEqual({
      code: ADDRESS_CAP_CLOSE,
      reason: 'too many connections from this address',
    });
    expect(fourth.inbox).toHaveLength(0);
    expect(relay.stats().signaling.addressRefusals).toBe(1);
    expect(relay.stats().signaling.unjoinedEvicted).toBe(1);
    expect(relay.stats().connections).toBe(3);
  });

  it('closes a half-open socket that stops answering pings, and keeps a waiting one that answers', async () => {
    // Ping rounds run when the test moves the relay's fake clock.
    const clock = new FakeClock();
    const relay = await startRelay({ clock, limits: { pingIntervalMs: 100 } });
    const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'pass' });
    const waiting = await connect(relay);
    waiting.send(join(m.id));
    await until(() => waiting.inbox.some((msg) => msg.type === 'admission'));
    expect(waiting.inbox.find((msg) => msg.type === 'admission')?.status).toBe('waiting');
    const silent = await connect(relay, { autoPong: false });
    silent.send(join(m.id));
    await until(() => silent.inbox.some((msg) => msg.type === 'admission'));
    let rounds = 0;
    for (; rounds < 4; rounds++) {
      clock.advance(100);
      await until(() => waiting.pings.length === rounds + 1 || !waiting.open);
      // the pong went out before this ping, so once it is answered the relay has seen the pong
      await waiting.roundTrip(rounds);
    }
    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // cut off without a close frame
    expect(relay.stats().signaling.pongTimeouts).toBe(1);
    expect(waiting.open).toBe(true);
    expect(relay.stats()).toMatchObject({ waiting: 1, connections: 1 });
  });
});
