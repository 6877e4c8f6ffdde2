/**
 * What the media worker costs per message (docs/decisions/0013-media-worker.md §Cost), measured in
 * the same run with wrtc in this process ("direct") and through the worker: one connection pair on
 * loopback sending 1200-byte media chunks.
 *
 * - Saturated: as fast as MediaChannel's backpressure lets it; chunks/s delivered.
 * - Paced: 2000 chunks/s (about 19 Mbit/s, several video streams) for a few seconds; CPU per
 *   delivered chunk — this process (roomd's) and, through the worker, the worker process (from
 *   /proc) — and the one-way latency of a chunk, p50 and p99.
 *
 * The direct figures are the baselines. docs/benchmarks.md "Media worker".
 */
import { readFileSync } from 'node:fs';
import { silentLogger } from '../src/core/logger.ts';
import { MediaChannel } from '../src/transport/media-channel.ts';
import { type DataChannel, mediaChannelOptions, type PeerConnectionFactory } from '../src/transport/peer.ts';
import { WorkerPeerConnectionFactory } from '../src/transport/worker-peer.ts';
import { WrtcPeerConnectionFactory } from '../src/transport/wrtc-peer.ts';
import { emit, percentile } from './_lib.ts';

const CHUNK_BYTES = 1200;
const SATURATE_MS = 3000;
const PACED_PER_10MS = 20; // 2000 chunks/s
const PACED_MS = 4000;

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** CPU milliseconds a process has used (user + system), from /proc; NaN where there is no /proc. */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return Number.NaN;
  }
}

async function pair(
  peers: PeerConnectionFactory,
): Promise<{ ch: DataChannel; rch: DataChannel; close(): void }> {
  const a = peers.create();
  const b = peers.create();
  a.onIceCandidate((c) => void b.addIceCandidate(c));
  b.onIceCandidate((c) => void a.addIceCandidate(c));
  const ch = a.createDataChannel('media', mediaChannelOptions());
  const remote = new Promise<DataChannel>((resolve) => b.onDataChannel(resolve));
  await a.acceptAnswer(await b.acceptOffer(await a.createOffer()));
  const rch = await remote;
  while (ch.readyState !== 'open' || rch.readyState !== 'open') await wait(5);
  return {
    ch,
    rch,
    close: () => {
      a.close();
      b.close();
    },
  };
}

async function saturate(peers: PeerConnectionFactory): Promise<number> {
  const { ch, rch, close } = await pair(peers);
  const media = new MediaChannel(ch);
  let received = 0;
  rch.onMessage(() => received++);
  const chunk = new Uint8Array(CHUNK_BYTES);
  const t0 = performance.now();
  let on = true;
  const step = () => {
    if (!on) return;
    for (let i = 0; i < 16 && media.fits(CHUNK_BYTES); i++) media.trySend(chunk);
    setImmediate(step);
  };
  step();
  await wait(SATURATE_MS);
  on = false;
  const perSecond = received / ((performance.now() - t0) / 1000);
  close();
  return perSecond;
}

interface Paced {
  received: number;
  ownUs: number;
  workerUs: number;
  latencies: number[];
}

async function paced(peers: PeerConnectionFactory, workerPid: number | undefined): Promise<Paced> {
  const { ch, rch, close } = await pair(peers);
  const media = new MediaChannel(ch);
  const latencies: number[] = [];
  rch.onMessage((d) => {
    latencies.push(performance.now() - new DataView(d.buffer, d.byteOffset, 8).getFloat64(0));
  });
  const chunk = new Uint8Array(CHUNK_BYTES);
  const view = new DataView(chunk.buffer);
  const cpu0 = process.cpuUsage();
  const w0 = workerPid === undefined ? 0 : procCpuMs(workerPid);
  const timer = setInterval(() => {
    for (let i = 0; i < PACED_PER_10MS; i++) {
      view.setFloat64(0, performance.now());
      media.trySend(chunk);
    }
  }, 10);
  await wait(PACED_MS);
  clearInterval(timer);
  await wait(200);
  const cpu = process.cpuUsage(cpu0);
  const workerMs = workerPid === undefined ? 0 : procCpuMs(workerPid) - w0;
  close();
  const n = Math.max(1, latencies.length);
  return {
    received: latencies.length,
    ownUs: (cpu.user + cpu.system) / n,
    workerUs: (workerMs * 1000) / n,
    latencies,
  };
}

async function main(): Promise<void> {
  const direct = new WrtcPeerConnectionFactory();
  const worker = new WorkerPeerConnectionFactory({ logger: silentLogger() });
  const pid = await worker.ready();

  const sd = await saturate(direct);
  const sw = await saturate(worker);
  const sat = { chunkBytes: CHUNK_BYTES, case: 'saturated' };
  emit({ name: 'media-worker-throughput', params: { ...sat, path: 'direct' }, value: sd, unit: 'chunks/s' });
  emit({
    name: 'media-worker-throughput',
    params: { ...sat, path: 'worker' },
    value: sw,
    unit: 'chunks/s',
    baseline: sd,
    ratio: sw / sd,
  });

  const pd = await paced(direct, undefined);
  const pw = await paced(worker, pid);
  const pace = { chunkBytes: CHUNK_BYTES, case: 'paced', rate: PACED_PER_10MS * 100 };
  const cpu = (path: string, processes: string, value: number, baseline?: number) =>
    emit({
      name: 'media-worker-cpu',
      params: { ...pace, path, processes },
      value,
      unit: 'µs CPU/chunk',
      ...(baseline === undefined ? {} : { baseline, ratio: value / baseline }),
    });
  cpu('direct', 'roomd', pd.ownUs);
  cpu('worker', 'roomd', pw.ownUs, pd.ownUs);
  cpu('worker', 'worker', pw.workerUs);
  cpu('worker', 'both', pw.ownUs + pw.workerUs, pd.ownUs);
  for (const p of [50, 99]) {
    const base = percentile(pd.latencies, p);
    const value = percentile(pw.latencies, p);
    emit({
      name: `media-worker-latency-p${p}`,
      params: { ...pace, path: 'direct' },
      value: base,
      unit: 'ms',
    });
    emit({
      name: `media-worker-latency-p${p}`,
      params: { ...pace, path: 'worker' },
      value,
      unit: 'ms',
      baseline: base,
      ratio: value / base,
    });
  }
  process.stderr.write(`paced: ${pd.received} chunks direct, ${pw.received} through the worker\n`);
  await worker.close();
  process.exit(0);
}

await main();
