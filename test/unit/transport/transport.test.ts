// Transport: media channel rules (64 KiB guard, backpressure), fake peers, backoff and the
// signaling client's reconnect on an injectable clock (docs/protocol.md §Media chunks,
// §Session flow).
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { FakeClock } from '../../../src/core/clock.ts';
import { encodeServerMessage } from '../../../src/protocol/index.ts';
import { backoffDelay } from '../../../src/transport/backoff.ts';
import { type FakeDataChannel, FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { MediaChannel } from '../../../src/transport/media-channel.ts';
import { mediaChannelOptions } from '../../../src/transport/peer.ts';
import { SignalingClient } from '../../../src/transport/signaling-client.ts';

async function pair() {
  const net = new FakePeerNetwork();
  const a = net.create();
  const b = net.create();
  const ch = a.createDataChannel('media', mediaChannelOptions()) as FakeDataChannel;
  let remote: FakeDataChannel | undefined;
  b.onDataChannel((c) => {
    remote = c as FakeDataChannel;
  });
  const answer = await b.acceptOffer(await a.createOffer());
  await a.acceptAnswer(answer);
  for (let i = 0; i < 3; i++) await tick();
  return { net, a, b, ch, remote: remote! };
}

describe('MediaChannel', () => {
  it('never sends a message over 64 KiB', async () => {
    const { net, a, ch } = await pair();
    const m = new MediaChannel(ch);
    expect(() => m.trySend(new Uint8Array(64 * 1024 + 1))).toThrowError(
      expect.objectContaining({ code: 'transport.message_too_large' }),
    );
    expect(ch.sent).toHaveLength(0);
    expect(m.trySend(new Uint8Array(64 * 1024))).toBe(true);
    a.close();
    expect(net.openCount).toBe(1);
  });

  it('drops and counts when the buffer is over the mark, and sends frames all-or-nothing', async () => {
    const { a, b, ch, remote } = await pair();
    const got: Uint8Array[] = [];
    remote.onMessage((d) => got.push(d));
    ch.pause();
    const m = new MediaChannel(ch, { highWaterMark: 40_000 });
    expect(m.trySend(new Uint8Array(16_000))).toBe(true);
    expect(m.trySend(new Uint8Array(16_000))).toBe(true);
    expect(m.trySend(new Uint8Array(16_000))).toBe(false);
    expect(m.trySendAll([new Uint8Array(4000), new Uint8Array(4000)])).toBe(true);
    expect(m.trySendAll([new Uint8Array(4000), new Uint8Array(4000)])).toBe(false);
    expect(m.stats).toEqual({ sent: 4, bytesSent: 40_000, dropped: 3, bytesDropped: 24_000 });
    ch.resume();
    await tick();
    await tick();
    expect(got).toHaveLength(4);
    expect(m.bufferedAmount).toBe(0);
    a.close();
    b.close();
  });

  it('closing a peer closes its channels and the far end', async () => {
    const { net, a, b, ch, remote } = await pair();
    a.close();
    expect(ch.readyState).toBe('closed');
    expect(remote.readyState).toBe('closed');
    expect(b.state).toBe('disconnected');
    b.close();
    expect(net.openCount).toBe(0);
  });
});

describe('backoff', () => {
  it('grows exponentially to the cap with equal jitter', () => {
    const lo = { random: () => 0 };
    const hi = { random: () => 1 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, hi))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(1, lo)).toBe(125);
    expect(backoffDelay(30, hi)).toBe(10_000);
  });
});

describe('SignalingClient', () => {
  const servers: WebSocketServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      for (const c of s.clients) c.terminate();
      await new Promise((r) => s.close(r));
    }
  });

  it('validates what it receives, reconnects with backoff on the injected clock, and stops on close', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.send('{"v":1,"type":"pong"}');
      ws.send(encodeServerMessage({ type: 'pong', id: connections }));
    });
    const clock = new FakeClock();
    const client = new SignalingClient({
      url: `ws://127.0.0.1:${port}`,
      clock,
      backoff: { random: () => 1 },
    });
    const messages: unknown[] = [];
    const errors: string[] = [];
    const delays: number[] = [];
    client.events.on('message', (m) => messages.push(m));
    client.events.on('protocol-error', (e) => errors.push(e.code));
    client.events.on('reconnecting', (r) => delays.push(r.delayMs));
    client.connect();
    await client.events.next('message');
    expect(errors).toEqual(['protocol.malformed']);
    expect(messages).toEqual([{ v: 1, type: 'pong', id: 1 }]);
    expect(() => client.send({ type: 'ping', id: -1 })).toThrowError(
      expect.objectContaining({ code: 'protocol.malformed' }),
    );
    for (const c of wss.clients) c.terminate();
    await client.events.next('reconnecting');
    expect(delays).toEqual([250]);
    clock.advance(249);
    expect(connections).toBe(1);
    clock.advance(1);
    await client.events.next('message');
    expect(connections).toBe(2);
    await client.close();
    expect(client.connected).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('refuses to send while not connected', () => {
    const client = new SignalingClient({ url: 'ws://127.0.0.1:9', reconnect: false });
    expect(() => client.send({ type: 'leave' })).toThrowError(
      expect.objectContaining({ code: 'transport.closed' }),
    );
  });
});
