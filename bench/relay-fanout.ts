/**
 * Benchmark `relay-fanout` (docs/benchmarks.md): 6 participants each send 2.5 Mbit/s of
 * 1200–60000-byte frames (chunked to <= 16 KiB) through the relay over real wrtc on loopback for
 * 10 s. Prints JSON lines: delivered ratio (frames whole at every other participant / frames that
 * should arrive; goal >= 0.999), relay CPU % of one core (the relay runs in a child process), and
 * p50/p95 one-way frame latency sender -> relay -> receiver.
 *
 *   node --import tsx bench/relay-fanout.ts [--participants 6] [--mbit 2.5] [--seconds 10]
 */
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  chunkFrame,
  fromBase64Url,
  hostProofMessage,
  Reassembler,
  toBase64Url,
  tryDecodeMediaChunk,
} from '../src/protocol/index.ts';
import { createRelay } from '../src/relay/server.ts';
import { RelayClient } from '../src/transport/relay-client.ts';
import { WrtcPeerConnectionFactory } from '../src/transport/wrtc-peer.ts';

interface ChildReady {
  kind: 'ready';
  url: string;
  meetingId: string;
}
interface ChildCpu {
  kind: 'cpu';
  userUs: number;
  systemUs: number;
  wallMs: number;
  stats: unknown;
}

async function relayChild(hostKey: string): Promise<void> {
  // Every participant connects from this machine: loopback is exempt from the per-address caps
  // (docs/protocol.md §Limits), as a reverse proxy in front of the relay would be.
  const relay = createRelay({ limits: { uncappedAddresses: ['127.0.0.1', '::1'] } });
  await relay.start();
  const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'bench' });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  process.on('message', (msg: { kind: string }) => {
    if (msg.kind === 'cpu-start') {
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    } else if (msg.kind === 'cpu-end') {
      const d = process.cpuUsage(cpu0);
      const out: ChildCpu = {
        kind: 'cpu',
        userUs: d.user,
        systemUs: d.system,
        wallMs: performance.now() - t0,
        stats: relay.stats(),
      };
      process.send?.(out);
    } else if (msg.kind === 'stop') {
      void relay.stop().then(() => process.exit(0));
    }
  });
  const ready: ChildReady = { kind: 'ready', url: relay.address.signalUrl, meetingId: m.id };
  process.send?.(ready);
}

/** Small deterministic PRNG (mulberry32) so runs are comparable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { participants: { type: 'string' }, mbit: { type: 'string' }, seconds: { type: 'string' } },
  });
  const n = Number(values.participants ?? 6);
  const mbit = Number(values.mbit ?? 2.5);
  const seconds = Number(values.seconds ?? 10);
  const params = { participants: n, mbitPerSec: mbit, seconds, frameBytes: '1200-60000', chunkBytes: 16384 };

  const secret = ed25519.utils.randomSecretKey();
  const hostKey = toBase64Url(ed25519.getPublicKey(secret));
  const child = fork(new URL(import.meta.url).pathname, ['--relay-child', hostKey], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const fromChild = <T>(kind: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { kind: string }) => {
        if (m.kind !== kind) return;
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
    });
  const { url, meetingId } = await fromChild<ChildReady>('ready');

  const peers = new WrtcPeerConnectionFactory();
  const latencies: number[] = [];
  let received = 0;
  const clients: RelayClient[] = [];
  for (let i = 0; i < n; i++) {
    const reassembler = new Reassembler({ timeoutMs: 2000, maxPendingFrames: 256 });
    const client = new RelayClient({
      url,
      peers,
      reconnect: false,
      join: (hello) => ({
        meetingId,
        passcode: 'bench',
        displayName: `bench ${i}`,
        client: 'room',
        protocol: 1,
        deviceId: `bench-${i}`,
        ...(i === 0
          ? {
              identityKey: hostKey,
              hostProof: toBase64Url(
                ed25519.sign(hostProofMessage(fromBase64Url(hello.nonce), meetingId), secret),
              ),
            }
          : {}),
      }),
    });
    client.events.on('chunk', (bytes) => {
      const decoded = tryDecodeMediaChunk(bytes);
      if (!decoded.ok) return;
      const f = reassembler.push(decoded.chunk, performance.now());
      if (f === undefined) return;
      received++;
      const sentAt = new DataView(f.data.buffer, f.data.byteOffset).getFloat64(0);
      latencies.push(performance.timeOrigin + performance.now() - sentAt);
    });
    const open = new Promise<void>((resolve) => client.events.once('media-open', () => resolve()));
    client.start();
    await open;
    clients.push(client);
  }

  const bytesPerSec = (mbit * 1e6) / 8;
  let attempted = 0;
  let senderDrops = 0;
  child.send({ kind: 'cpu-start' });
  const clientCpu0 = process.cpuUsage();
  const clientT0 = performance.now();
  const frameNumbers = clients.map(() => 0);
  const endAt = performance.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (client, i) => {
      const rand = prng(1000 + i);
      let next = performance.now() + rand() * 100;
      while (next < endAt) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const size = 1200 + Math.floor(rand() * (60_000 - 1200 + 1));
        const frame = new Uint8Array(size);
        new DataView(frame.buffer).setFloat64(0, performance.timeOrigin + performance.now());
        attempted++;
        const meta = { kind: 'video' as const, streamId: 1, keyframe: false, frameNumber: frameNumbers[i]! };
        frameNumbers[i]!++;
        if (!client.sendChunks(chunkFrame(frame, meta))) senderDrops++;
        next += (size / bytesPerSec) * 1000;
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 1000));
  child.send({ kind: 'cpu-end' });
  const clientCpu = process.cpuUsage(clientCpu0);
  const clientWall = performance.now() - clientT0;
  const cpu = await fromChild<ChildCpu>('cpu');
  for (const c of clients) await c.close();
  child.send({ kind: 'stop' });
  await new Promise((r) => child.once('exit', r));

  const expected = attempted * (n - 1);
  latencies.sort((a, b) => a - b);
  const cpuPercent = ((cpu.userUs + cpu.systemUs) / 1000 / cpu.wallMs) * 100;
  const line = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({ name, params: { ...params, ...extra }, value: Number(value.toFixed(4)), unit }),
    );
  line('relay-fanout.delivered_ratio', expected === 0 ? 0 : received / expected, 'ratio', {
    goal: 0.999,
    framesSent: attempted,
    framesExpected: expected,
    framesReceived: received,
    senderDrops,
    relay: cpu.stats,
  });
  line('relay-fanout.relay_cpu', cpuPercent, '%', { of: 'one core' });
  line('relay-fanout.clients_cpu', ((clientCpu.user + clientCpu.system) / 1000 / clientWall) * 100, '%', {
    of: 'one core',
    note: 'all participants in the benchmark process',
  });
  line('relay-fanout.latency_p50', percentile(latencies, 50), 'ms', {
    path: 'sender->relay->receiver, loopback',
  });
  line('relay-fanout.latency_p95', percentile(latencies, 95), 'ms', {
    path: 'sender->relay->receiver, loopback',
  });
  process.exit(0);
}

if (process.argv[2] === '--relay-child') {
  await relayChild(process.argv[3] ?? '');
} else {
  await main();
}
