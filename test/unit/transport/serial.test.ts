import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { createMemoryPair, MemoryStreamHub } from '../../../src/transport/serial/memory.ts';
import {
  backoffDelay,
  type LinkStateChange,
  SupervisedStream,
} from '../../../src/transport/serial/supervisor.ts';
import { parseTcpPath, TcpByteStream } from '../../../src/transport/serial/tcp.ts';

const settle = async (rounds = 10) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('memory byte streams', () => {
  it('deliver bytes to the other end and report unplug on both', async () => {
    const [a, b] = createMemoryPair();
    const got: number[] = [];
    const closes: boolean[] = [];
    b.on('data', (d) => got.push(...d));
    a.on('close', (c) => closes.push(c.disconnected));
    b.on('close', (c) => closes.push(c.disconnected));
    await a.write(Uint8Array.of(1, 2, 3));
    await settle();
    expect(got).toEqual([1, 2, 3]);
    b.unplug();
    expect(closes).toEqual([true, true]);
    await expect(a.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'transport.closed' });
  });
});

describe('SupervisedStream', () => {
  it('reports each state and reopens with capped exponential backoff', async () => {
    const clock = new FakeClock();
    const hub = new MemoryStreamHub();
    const s = new SupervisedStream({
      path: 'memory:x',
      opener: hub.opener,
      clock,
      backoff: { initialMs: 100, maxMs: 400, factor: 2 },
    });
    const states: LinkStateChange[] = [];
    s.on('state', (c) => states.push(c));
    s.start();
    await settle();
    // Nothing plugged in yet: failed with growing delays.
    for (const ms of [100, 200, 400, 400]) {
      expect(states.at(-1)).toMatchObject({ state: 'failed', retryInMs: ms });
      clock.advance(ms);
      await settle();
    }
    let device: ReturnType<typeof createMemoryPair>[1] | null = null;
    hub.plug('memory:x', (d) => {
      device = d;
    });
    clock.advance(400);
    await settle();
    expect(s.state).toBe('open');
    expect(device).not.toBeNull();
    hub.unplug('memory:x');
    await settle();
    expect(s.state).toBe('disconnected');
    expect(s.counters).toMatchObject({ opens: 1, disconnects: 1, failedOpens: 5 });
    await expect(s.write(Uint8Array.of(1))).rejects.toMatchObject({ code: 'device.unavailable' });
    hub.plug('memory:x', () => {});
    clock.advance(0);
    await settle();
    expect(s.state).toBe('open');
    expect(states.map((c) => c.state).slice(-3)).toEqual(['disconnected', 'reopening', 'open']);
    await s.stop();
    expect(s.state).toBe('stopped');
    expect(clock.pending).toBe(0);
  });

  it('computes backoff delays', () => {
    const b = { initialMs: 100, maxMs: 1000, factor: 2 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, b))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('TCP byte stream', () => {
  it('parses tcp:// paths and rejects others', () => {
    expect(parseTcpPath('tcp://10.0.0.5:4001')).toEqual({ host: '10.0.0.5', port: 4001 });
    expect(parseTcpPath('tcp://[::1]:23')).toEqual({ host: '::1', port: 23 });
    expect(() => parseTcpPath('tcp://host')).toThrow(/tcp:\/\/host:port/);
    expect(() => parseTcpPath('tcp://host:70000')).toThrow();
  });

  it('exchanges bytes and reports a peer that goes away as disconnected', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((sock) => {
      sockets.push(sock);
      sock.on('data', (d) => sock.write(Buffer.from([...d].map((x) => x + 1))));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as net.AddressInfo).port;
    const s = await TcpByteStream.open(`tcp://127.0.0.1:${port}`);
    const got: number[] = [];
    s.on('data', (d) => got.push(...d));
    const closed = new Promise<boolean>((r) => s.on('close', (c) => r(c.disconnected)));
    await s.write(Uint8Array.of(1, 2));
    while (got.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(got).toEqual([2, 3]);
    for (const sock of sockets) sock.destroy();
    expect(await closed).toBe(true);
    await expect(TcpByteStream.open('tcp://127.0.0.1:1')).rejects.toMatchObject({
      code: 'transport.open_failed',
    });
  });
});
