// Peer connections through a supervised media worker (docs/decisions/0013-media-worker.md), with the
// worker run in-process over the fake peer network: the proxies mirror state and backpressure, a
// worker death fails every connection it held (failed, channels closed, closed) and a new worker
// takes over with back-off, hung workers are killed, whatever a worker writes is counted and dropped
// and never throws here, and a worker is recycled after enough closed connections.
import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { type DataChannel, mediaChannelOptions, type PeerConnection } from '../../../src/transport/peer.ts';
import {
  WorkerPeerConnectionFactory,
  type WorkerPeerFactoryOptions,
} from '../../../src/transport/worker-peer.ts';
import { encodeFromWorker, WORKER_PROTOCOL_VERSION } from '../../../src/transport/worker-protocol.ts';
import { inProcessLauncher } from './in-process-worker.ts';

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await tick();
  if (!cond()) throw new Error(`never happened: ${what}`);
}

function setup(options: WorkerPeerFactoryOptions = {}) {
  const clock = new FakeClock();
  const { launcher, workers } = inProcessLauncher();
  const f = new WorkerPeerConnectionFactory({ clock, launcher, ...options });
  return { clock, workers, f };
}

async function connect(a: PeerConnection, b: PeerConnection): Promise<{ ch: DataChannel; rch: DataChannel }> {
  const ch = a.createDataChannel('media', mediaChannelOptions());
  let rch: DataChannel | undefined;
  b.onDataChannel((c) => {
    rch = c;
  });
  const answer = await b.acceptOffer(await a.createOffer());
  await a.acceptAnswer(answer);
  await until(() => ch.readyState === 'open' && rch?.readyState === 'open', 'channels open');
  return { ch, rch: rch! };
}

function frame(version: number, kind: number, rest: number[]): Uint8Array {
  const body = [version, kind, ...rest];
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length);
  out.set(body, 4);
  return out;
}

describe('WorkerPeerConnectionFactory: mirroring', () => {
  it('connects two connections through the worker; state, messages and bufferedAmount follow it', async () => {
    const { f, workers } = setup();
    const a = f.create();
    const b = f.create();
    expect(f.openCount).toBe(2);
    const { ch, rch } = await connect(a, b);
    expect(a.state).toBe('connected');
    expect(b.state).toBe('connected');
    const got: number[] = [];
    rch.onMessage((d) => got.push(d[0]!));
    for (let i = 0; i < 10; i++) ch.send(new Uint8Array(1000).fill(i));
    expect(ch.bufferedAmount).toBe(10_000); // in flight to the worker, known at once
    await until(() => got.length === 10, 'messages arrive');
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The worker polls wrtc's buffer on its own clock until it drains.
    const w = workers[0]!;
    await until(() => {
      w.clock.advance(20);
      return ch.bufferedAmount === 0;
    }, 'the worker reported them taken and sent');
    a.close();
    expect(a.state).toBe('closed');
    expect(ch.readyState).toBe('closed');
    expect(() => ch.send(new Uint8Array(1))).toThrowError(
      expect.objectContaining({ code: 'transport.closed' }),
    );
    await until(() => rch.readyState === 'closed', 'the far end hears the close');
    b.close();
    expect(f.openCount).toBe(0);
    await f.close();
  });

  it('refuses a message over 64 KiB without sending it', async () => {
    const { f } = setup();
    const { ch } = await connect(f.create(), f.create());
    expect(() => ch.send(new Uint8Array(64 * 1024 + 1))).toThrowError(
      expect.objectContaining({ code: 'transport.message_too_large' }),
    );
    expect(ch.bufferedAmount).toBe(0);
    await f.close();
  });

  it('an idle worker does not keep roomd running; one holding connections does', async () => {
    const { f, workers } = setup();
    await f.ready();
    expect(workers[0]!.referenced).toBe(false);
    const a = f.create();
    expect(workers[0]!.referenced).toBe(true);
    a.close();
    expect(workers[0]!.referenced).toBe(false);
    await f.close();
  });
});

describe('WorkerPeerConnectionFactory: a worker death', () => {
  it('fails every connection (failed, channels closed, closed), rejects waiting requests, restarts', async () => {
    const { f, workers } = setup();
    const a = f.create();
    const b = f.create();
    const { ch } = await connect(a, b);
    const order: string[] = [];
    a.onStateChange((s) => order.push(`pc:${s}`));
    ch.onClose(() => order.push('channel:closed'));
    const w = workers[0]!;
    w.silent = true; // the next request is never answered
    const c = f.create();
    const offer = c.createOffer();
    w.kill('SIGSEGV');
    await expect(offer).rejects.toMatchObject({ code: 'transport.worker_failed' });
    expect(order).toEqual(['pc:failed', 'channel:closed', 'pc:closed']);
    expect([a.state, b.state, c.state]).toEqual(['closed', 'closed', 'closed']);
    expect(f.openCount).toBe(0);
    expect(f.counters).toMatchObject({ deaths: 1, starts: 2, restarts: 1 }); // the first restart is immediate
    const again = await connect(f.create(), f.create());
    expect(again.ch.readyState).toBe('open');
    await f.close();
  });

  it('a connection opened from a `failed` listener goes to the next worker', async () => {
    const { f, workers } = setup();
    const a = f.create();
    await f.ready();
    let replacement: PeerConnection | undefined;
    a.onStateChange((s) => {
      if (s === 'failed') replacement = f.create();
    });
    workers[0]!.kill('SIGSEGV');
    await until(() => replacement !== undefined, 'replacement made');
    await expect(replacement!.createOffer()).resolves.toMatchObject({ type: 'offer' });
    expect(workers).toHaveLength(2);
    await f.close();
  });

  it('restarts back off after repeated deaths, and a worker that ran long resets the back-off', async () => {
    const { f, workers, clock } = setup({
      backoff: { initialMs: 1000, maxMs: 4000, random: () => 1 },
      stableMs: 60_000,
    });
    await f.ready();
    workers[0]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 1, 'death 1');
    expect(workers).toHaveLength(2);
    await f.ready();
    workers[1]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 2, 'death 2');
    clock.advance(999);
    expect(workers).toHaveLength(2);
    clock.advance(1);
    expect(workers).toHaveLength(3);
    await f.ready();
    workers[2]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 3, 'death 3');
    clock.advance(1999);
    expect(workers).toHaveLength(3);
    clock.advance(1);
    expect(workers).toHaveLength(4);
    await f.ready();
    clock.advance(60_000); // a stable run
    workers[3]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 4, 'death 4');
    expect(workers).toHaveLength(5);
    expect(f.counters.restarts).toBe(4);
    await f.close();
  });

  it('a connection asked for during the back-off starts the worker at once', async () => {
    const { f, workers } = setup({ backoff: { initialMs: 10_000, maxMs: 10_000, random: () => 1 } });
    await f.ready();
    workers[0]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 1, 'death 1');
    await f.ready();
    workers[1]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 2, 'death 2');
    expect(workers).toHaveLength(2); // waiting out the back-off: nobody needs a worker
    const { ch } = await connect(f.create(), f.create());
    expect(ch.readyState).toBe('open');
    expect(workers).toHaveLength(3);
    expect(f.counters.restarts).toBe(2);
    await f.close();
  });

  it('kills a worker that stops answering health pings, and one that never says it is ready', async () => {
    const { f, workers, clock } = setup({ pingIntervalMs: 100, pingTimeoutMs: 300, readyTimeoutMs: 1000 });
    const a = f.create();
    await f.ready();
    workers[0]!.silent = true;
    for (let t = 0; t < 5; t++) clock.advance(100);
    expect(workers[0]!.killedWith).toBe('SIGKILL');
    await until(() => a.state === 'closed', 'connection failed');
    expect(f.counters).toMatchObject({ hangs: 1, deaths: 1 });
    // The replacement never speaks.
    workers[1]!.muted = true;
    clock.advance(999);
    expect(workers[1]!.killedWith).toBeNull();
    clock.advance(1);
    expect(workers[1]!.killedWith).toBe('SIGKILL');
    await until(() => f.counters.deaths === 2, 'second death');
    expect(f.counters.hangs).toBe(2);
    await f.close();
  });
});

describe('WorkerPeerConnectionFactory: what a worker writes', () => {
  it('counts and drops malformed and stale frames; connections carry on', async () => {
    const { f, workers } = setup();
    const a = f.create();
    const b = f.create();
    const { ch, rch } = await connect(a, b);
    const w = workers[0]!;
    const garbage = [
      frame(9, 64, [0x7b, 0x7d]), // another protocol version
      frame(WORKER_PROTOCOL_VERSION, 200, []), // unknown kind
      frame(WORKER_PROTOCOL_VERSION, 66, [...Buffer.from('{"pc":1,')]), // not JSON
      frame(WORKER_PROTOCOL_VERSION, 5, [0, 0, 0, 1]), // one of roomd's kinds
      encodeFromWorker({ type: 'ready', pid: 1 }), // said twice
      encodeFromWorker({ type: 'buffered', ch: 1, taken: 1e9, buffered: 0 }), // more than was sent
    ];
    const stale = [
      encodeFromWorker({ type: 'message', ch: 999, data: new Uint8Array(3) }),
      encodeFromWorker({ type: 'reply', req: 999, ok: true }),
      encodeFromWorker({ type: 'pc-state', pc: 999, state: 'failed' }),
      encodeFromWorker({ type: 'datachannel', pc: 999, ch: -50, label: 'x' }),
      encodeFromWorker({ type: 'channel-open', ch: 777 }),
    ];
    for (const g of [...garbage, ...stale]) w.inject(g);
    await until(() => f.counters.invalidMessages + f.counters.staleMessages >= 11, 'all counted');
    expect(f.counters).toMatchObject({ invalidMessages: 6, staleMessages: 5, deaths: 0 });
    const got: number[] = [];
    rch.onMessage((d) => got.push(d[0]!));
    ch.send(new Uint8Array([42]));
    await until(() => got.length === 1, 'still flowing');
    expect(a.state).toBe('connected');
    await f.close();
  });

  it('a broken stream (an impossible length) kills the worker; its connections fail', async () => {
    const { f, workers } = setup();
    const a = f.create();
    await f.ready();
    workers[0]!.inject(new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    await until(() => a.state === 'closed', 'connection failed');
    expect(workers[0]!.killedWith).toBe('SIGKILL');
    expect(f.counters.deaths).toBe(1);
    await f.close();
  });

  it('no byte sequence from the worker throws in roomd', async () => {
    const { f, workers, clock } = setup();
    await f.ready();
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        fc
          .tuple(fc.integer({ min: 64, max: 73 }), fc.uint8Array({ maxLength: 40 }))
          .map(([k, rest]) => frame(WORKER_PROTOCOL_VERSION, k, [...rest])),
      ),
      { numRuns: 400, seed: 7 },
    );
    for (const bytes of samples) {
      const w = workers.at(-1)!;
      if (!w.alive) {
        clock.advance(20_000); // past any back-off
        await f.ready();
        continue;
      }
      w.inject(bytes);
      await tick();
      await tick();
    }
    // Still serving after all of it.
    clock.advance(20_000);
    const { ch } = await connect(f.create(), f.create());
    expect(ch.readyState).toBe('open');
    expect(f.counters.invalidMessages).toBeGreaterThan(0);
    await f.close();
  });

  it('a listener that throws closes only its own connection (last-resort guard)', async () => {
    const { f } = setup();
    const a = f.create();
    const b = f.create();
    a.onStateChange((s) => {
      if (s === 'connected') throw new Error('listener bug');
    });
    const c = f.create();
    const d = f.create();
    const p1 = connect(a, b).catch(() => null);
    await connect(c, d);
    await p1;
    await until(() => a.state === 'closed', 'the throwing one closed');
    expect(c.state).toBe('connected');
    expect(f.counters.guardTrips).toBe(1);
    await f.close();
  });
});

describe('WorkerPeerConnectionFactory: recycling and shutdown', () => {
  it('recycles the worker after N closed connections, once it holds none', async () => {
    const { f, workers } = setup({ recycleAfter: 3 });
    f.create().close();
    f.create().close();
    const held = f.create();
    f.create().close();
    await tick();
    expect(workers).toHaveLength(1); // three closed, but one still open
    held.close();
    expect(f.counters.recycles).toBe(1);
    expect(workers).toHaveLength(2); // the next one is started at once
    await until(() => !workers[0]!.alive, 'the old one exits');
    expect(workers[0]!.killedWith).toBeNull(); // it was asked, not killed
    expect(f.counters).toMatchObject({ deaths: 0, restarts: 0 });
    const { ch } = await connect(f.create(), f.create());
    expect(ch.readyState).toBe('open');
    await f.close();
  });

  it('close() closes every connection and waits for the worker to exit', async () => {
    const { f, workers } = setup();
    const a = f.create();
    await f.ready();
    await f.close();
    expect(a.state).toBe('closed');
    expect(f.openCount).toBe(0);
    expect(workers[0]!.alive).toBe(false);
    expect(() => f.create()).toThrowError(expect.objectContaining({ code: 'transport.closed' }));
  });
});
