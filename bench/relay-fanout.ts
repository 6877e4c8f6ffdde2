/**
 * Benchmark `relay-fanout` (docs/benchmarks.md, docs/decisions/0018-media-planes.md): the same
 * workloads through each media plane in one run — the relay's own fan-out (`embedded`) and Janus
 * VideoRoom (`janus`, Janus in a network namespace of its own as the integration tests run it,
 * test/helpers/janus.ts; needs root). Workloads: 6 participants × 2.5 Mbit/s, 12 × 1.0, 20 × 0.5,
 * each sending 1200–60000-byte frames (chunked to <= 16 KiB) over real wrtc for `seconds`.
 *
 * Every participant first sends small warm-up frames until it has received one from every other
 * (both planes: the downlink is complete), then the window starts. Figures, one JSON line each
 * (bench/_lib.ts; the Janus line carries the embedded figure as `baseline` and `ratio` = janus / embedded):
 * - `delivered_fraction`: frames sent in the window that arrived whole at every other participant
 *   by 1 s after it, over frames sent × (N − 1); frames the sender's channel refused count as lost.
 * - `latency_p50` / `latency_p95`: sender → plane → receiver, per delivered frame (ms).
 * - `relay_cpu`: the relay (a child process) and its media worker process, % of one core (on the
 *   embedded plane they carry all media; on the janus plane, signaling only).
 * - `janus_cpu`: the Janus process, % of one core (janus plane only).
 * - `clients_cpu`: the benchmark process (all participants, their wrtc stacks), % of one core.
 * - `relay_rss` (relay + media worker), `janus_rss`: resident memory at the end of the window (MiB).
 *
 *   node --import tsx bench/relay-fanout.ts [--workloads 6x2.5,12x1,20x0.5] [--planes embedded,janus]
 *                                           [--seconds 10]
 */
import { execFileSync, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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
import type { MediaPlaneChoice } from '../src/relay/media-plane.ts';
import { createRelay } from '../src/relay/server.ts';
import { RelayClient } from '../src/transport/relay-client.ts';
import { WorkerPeerConnectionFactory } from '../src/transport/worker-peer.ts';
import { WrtcPeerConnectionFactory } from '../src/transport/wrtc-peer.ts';
import { startJanus } from '../test/helpers/janus.ts';
import { emit, percentile } from './_lib.ts';

type Plane = 'embedded' | 'janus';

interface ChildReady {
  kind: 'ready';
  url: string;
  meetingId: string;
}
interface ChildCpu {
  kind: 'cpu';
  userUs: number;
  systemUs: number;
  /** CPU time of the relay's media worker process over the window (ms). */
  workerMs: number;
  wallMs: number;
  rssBytes: number;
  workerRssBytes: number;
  stats: unknown;
}

const WARMUP_STREAM = 2;
const MEASURED_STREAM = 1;

/**
 * The big meeting (docs/protocol.md §Big meetings): `participants` people, all sending audio
 * (20-ms frames; silent ones skip all but one every 400 ms, as DTX does), the first `videoSenders`
 * also sending video at 15 fps and taking turns to speak, `turnMs` each; last N = `lastN`. A full
 * layer is `fullMbit`, a small one `smallMbit`.
 */
const BIG = {
  participants: 50,
  videoSenders: 5,
  lastN: 4,
  loudest: 3,
  turnMs: 1000,
  fullMbit: 1.0,
  smallMbit: 0.1,
  videoFps: 15,
  speakingLevel: 20,
  // A quiet room, measured: not speech (127 would say the sender measures no level).
  quietLevel: 100,
  audioFrameMs: 20,
  dtxMs: 400,
} as const;

async function relayChild(hostKey: string, plane: Plane, janusUrl: string, big: boolean): Promise<void> {
  const mediaPlane: MediaPlaneChoice =
    plane === 'janus' ? { kind: 'janus', url: janusUrl } : { kind: 'embedded' };
  // Every participant connects from this machine: loopback is exempt from the per-address caps
  // (docs/protocol.md §Limits), as a reverse proxy in front of the relay would be.
  const relay = createRelay({
    limits: { uncappedAddresses: ['127.0.0.1', '::1'] },
    mediaPlane,
    ...(big ? { bigMeeting: { lastN: BIG.lastN, loudest: BIG.loudest } } : {}),
  });
  await relay.start();
  const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'bench' });
  // The relay's peer connections live in its media worker, a process of its own.
  // Started with the first peer connection: read its pid when the window opens.
  let workerPid: number | null = null;
  const workerMs = () => (workerPid === null ? 0 : procCpuMs(workerPid));
  let cpu0 = process.cpuUsage();
  let w0 = workerMs();
  let t0 = performance.now();
  process.on('message', (msg: { kind: string }) => {
    if (msg.kind === 'cpu-start') {
      workerPid = relay.stats().mediaWorker?.pid ?? null;
      cpu0 = process.cpuUsage();
      w0 = workerMs();
      t0 = performance.now();
    } else if (msg.kind === 'cpu-end') {
      const d = process.cpuUsage(cpu0);
      const out: ChildCpu = {
        kind: 'cpu',
        userUs: d.user,
        systemUs: d.system,
        workerMs: workerMs() - w0,
        wallMs: performance.now() - t0,
        rssBytes: process.memoryUsage().rss,
        workerRssBytes: workerPid === null ? 0 : procRssBytes(workerPid),
        stats: (({ media, mediaPlane, mediaConnectionsLost }) => ({
          media,
          mediaPlane,
          mediaConnectionsLost,
        }))(relay.stats()),
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

const progress = (line: string): void => {
  process.stderr.write(`[relay-fanout] ${line}\n`);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process's CPU time so far (ms), from /proc (Janus runs as a separate process). */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) (utime, stime), counted from field 3 after the command name.
  return ((Number(fields[11]) + Number(fields[12])) / CLK_TCK) * 1000;
}
/**
 * Time a process's threads spent runnable but waiting for a CPU so far (ms), summed over its threads
 * (/proc/PID/task/TID/schedstat, second field, ns): where the machine, not the code, is the limit.
 */
function procRunQueueWaitMs(pid: number): number {
  let ns = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return 0; // the process is gone
  }
  for (const tid of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch (error) {
      // A thread that ended between the listing and the read.
      if (
        (error as NodeJS.ErrnoException).code !== 'ENOENT' &&
        (error as NodeJS.ErrnoException).code !== 'ESRCH'
      )
        throw error;
    }
  }
  return ns / 1e6;
}

function procRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

interface Result {
  delivered: number;
  p50: number;
  p95: number;
  relayCpu: number;
  janusCpu: number;
  clientsCpu: number;
  relayRssMiB: number;
  janusRssMiB: number;
  detail: Record<string, unknown>;
}

/** What runOnce needs of Janus: its URL, and its process for CPU and memory. */
interface JanusTarget {
  url: string;
  pid: number;
}

/**
 * One workload on one plane, in a process of its own: wrtc can crash a process that has made and
 * closed many peer connections, and a crash must cost one figure, not the run and its Janus.
 */
function runIsolated(
  plane: Plane,
  n: number,
  mbit: number,
  seconds: number,
  janus?: JanusTarget,
  big = false,
): Promise<Result> {
  const child = fork(
    new URL(import.meta.url).pathname,
    ['--clients-child', JSON.stringify({ plane, n, mbit, seconds, janus: janus ?? null, big })],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    let result: Result | undefined;
    child.on('message', (m: { kind: string; result: Result }) => {
      if (m.kind === 'result') result = m.result;
    });
    child.once('exit', (code, signal) => {
      if (result !== undefined) resolve(result);
      else reject(new Error(`${plane} ${n}: the run's process exited (${signal ?? code}) without a result`));
    });
  });
}

async function clientsChild(spec: string): Promise<void> {
  const o = JSON.parse(spec) as {
    plane: Plane;
    n: number;
    mbit: number;
    seconds: number;
    janus: JanusTarget | null;
    big: boolean;
  };
  const result = o.big
    ? await runBig(o.plane, o.seconds, o.janus ?? undefined)
    : await runOnce(o.plane, o.n, o.mbit, o.seconds, o.janus ?? undefined);
  process.send?.({ kind: 'result', result }, () => process.exit(0));
}

/** A frame of the measured window as a receiver reassembled it. */
interface MeasuredFrame {
  kind: 'audio' | 'video' | 'screen' | 'data';
  sender: number;
  data: Uint8Array;
}

/** A meeting on its relay (a child process), with `n` joined participants who all hear each other. */
interface BenchMeeting {
  child: ReturnType<typeof fork>;
  fromChild: <T>(kind: string) => Promise<T>;
  clients: RelayClient[];
  /** CPU time of the participants' media worker processes so far (ms; 0 without workers). */
  workersCpuMs: () => number;
  /** Stops the participants' media worker processes. */
  close: () => Promise<void>;
  /** The participants' processes: this one and their media workers. */
  clientPids: () => number[];
}

/** Participants per media worker process in the big meeting. */
const CLIENTS_PER_WORKER = 10;

/**
 * Starts the relay child, joins `n` participants one by one and warms up: small frames until
 * everyone has heard everyone (both planes: the Janus downlinks are complete). Frames of the
 * window go to `onFrame(receiver index, frame)`.
 */
async function setUp(
  plane: Plane,
  n: number,
  janus: JanusTarget | undefined,
  big: boolean,
  onFrame: (receiver: number, f: MeasuredFrame) => void,
): Promise<BenchMeeting> {
  const secret = ed25519.utils.randomSecretKey();
  const hostKey = toBase64Url(ed25519.getPublicKey(secret));
  const child = fork(
    new URL(import.meta.url).pathname,
    ['--relay-child', hostKey, plane, janus?.url ?? '', big ? 'big' : ''],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const fromChild = <T>(kind: string) =>
    new Promise<T>((resolve) => {
      const on = (m: { kind: string }) => {
        if (m.kind !== kind) return;
        child.off('message', on);
        resolve(m as T);
      };
      child.on('message', on);
    });
  // Whatever ends this process (a failed warm-up, a crash), the relay child goes with it.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  child.once('exit', () => process.off('exit', orphaned));
  const { url, meetingId } = await fromChild<ChildReady>('ready');

  // The big meeting's 50 participants hold up to 100 peer connections and thousands of data
  // channels: more than one process of wrtc survives here, so they run in media workers
  // (docs/decisions/0013-media-worker.md), CLIENTS_PER_WORKER each; the smaller workloads keep
  // theirs in this process, as before.
  const direct = new WrtcPeerConnectionFactory();
  const workers: WorkerPeerConnectionFactory[] = [];
  const peersFor = (i: number) => {
    if (!big) return direct;
    const w = Math.floor(i / CLIENTS_PER_WORKER);
    workers[w] ??= new WorkerPeerConnectionFactory({ recycleAfter: 1_000_000 });
    return workers[w];
  };
  const clients: RelayClient[] = [];
  const heard: Set<number>[] = [];
  for (let i = 0; i < n; i++) {
    const reassembler = new Reassembler({ timeoutMs: 2000, maxPendingFrames: 256 });
    const seen = new Set<number>();
    heard.push(seen);
    const client = new RelayClient({
      url,
      peers: peersFor(i),
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
      if (f.streamId === WARMUP_STREAM) {
        seen.add(f.sender);
        return;
      }
      onFrame(i, f);
    });
    const open = new Promise<void>((resolve) => client.events.once('media-open', () => resolve()));
    client.start();
    await open;
    clients.push(client);
  }

  progress(`${plane} ${n}: ${n} joined`);
  const warmUntil = performance.now() + 120_000;
  let warmFrame = 0;
  while (!heard.every((s) => s.size >= n - 1)) {
    if (performance.now() > warmUntil) {
      const sizes = heard.map((s) => s.size).sort((a, b) => a - b);
      throw new Error(
        `${plane}: not everyone heard everyone within 120 s (heard others: min ${sizes[0]}, median ${sizes[sizes.length >> 1]}, of ${n - 1})`,
      );
    }
    for (const c of clients)
      c.sendChunks(
        chunkFrame(new Uint8Array(1200), {
          kind: 'video',
          streamId: WARMUP_STREAM,
          keyframe: false,
          frameNumber: warmFrame,
        }),
      );
    warmFrame++;
    // Fifty participants' warm-up at 10 Hz would be a load test of its own.
    await sleep(big ? 500 : 100);
  }
  progress(`${plane} ${n}: everyone hears everyone`);
  await sleep(500);
  return {
    child,
    fromChild,
    clients,
    workersCpuMs: () =>
      workers.reduce((sum, w) => {
        const pid = w.workerPid;
        return pid === undefined ? sum : sum + procCpuMs(pid);
      }, 0),
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
    clientPids: () => [
      process.pid,
      ...workers.flatMap((w) => (w.workerPid === undefined ? [] : [w.workerPid])),
    ],
  };
}

/** The processes' figures of one measured window (Result's CPU and memory fields, and detail). */
interface WindowFigures {
  cpu: Pick<Result, 'relayCpu' | 'janusCpu' | 'clientsCpu' | 'relayRssMiB' | 'janusRssMiB'>;
  /** The relay child's own counters at the window's end (`relay.stats()` excerpt). */
  relayStats: unknown;
  detail: Record<string, unknown>;
}

/**
 * Opens the measured window: CPU, run-queue wait and the relay child's counters from now. `close()`
 * (once the senders are done and the last frames had their second) ends it, stops the relay child
 * and the participants' workers, and returns the figures.
 */
function openWindow(meeting: BenchMeeting, janus: JanusTarget | undefined) {
  const { child, fromChild } = meeting;
  child.send({ kind: 'cpu-start' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const janus0 = janus === undefined ? 0 : procCpuMs(janus.pid);
  const workers0 = meeting.workersCpuMs();
  // Run-queue wait over the window, per group of processes (ms).
  const groups = {
    clients: () => meeting.clientPids(),
    relayMain: () => (child.pid === undefined ? [] : [child.pid]),
    janus: () => (janus === undefined ? [] : [janus.pid]),
  };
  type Group = keyof typeof groups;
  const waited = () =>
    Object.fromEntries(
      Object.entries(groups).map(([k, pids]) => [
        k,
        pids().reduce((s, pid) => s + procRunQueueWaitMs(pid), 0),
      ]),
    ) as Record<Group, number>;
  const wait0 = waited();
  return {
    t0,
    async close(): Promise<WindowFigures> {
      child.send({ kind: 'cpu-end' });
      const clientCpu = process.cpuUsage(cpu0);
      const wall = performance.now() - t0;
      const janusCpuMs = janus === undefined ? Number.NaN : procCpuMs(janus.pid) - janus0;
      const janusRss = janus === undefined ? Number.NaN : procRssBytes(janus.pid);
      const workersCpuMs = meeting.workersCpuMs() - workers0;
      const wait1 = waited();
      const perSec = (k: Group) => Number((((wait1[k] - wait0[k]) / wall) * 1000).toFixed(1));
      const cpu = await fromChild<ChildCpu>('cpu');
      // The clients' connections are not closed one by one: their process exits once it sent the result.
      child.send({ kind: 'stop' });
      await new Promise((r) => child.once('exit', r));
      await meeting.close();
      const mib = (b: number) => b / (1024 * 1024);
      return {
        cpu: {
          relayCpu: (((cpu.userUs + cpu.systemUs) / 1000 + cpu.workerMs) / cpu.wallMs) * 100,
          janusCpu: (janusCpuMs / wall) * 100,
          clientsCpu: (((clientCpu.user + clientCpu.system) / 1000 + workersCpuMs) / wall) * 100,
          relayRssMiB: mib(cpu.rssBytes + cpu.workerRssBytes),
          janusRssMiB: mib(janusRss),
        },
        relayStats: cpu.stats,
        detail: {
          relayMainCpuPct: Number((((cpu.userUs + cpu.systemUs) / 1000 / cpu.wallMs) * 100).toFixed(1)),
          relayWorkerCpuPct: Number(((cpu.workerMs / cpu.wallMs) * 100).toFixed(1)),
          clientsWorkersCpuPct: Number(((workersCpuMs / wall) * 100).toFixed(1)),
          // Summed over each group's threads: ms spent runnable but waiting for a CPU, per second.
          runQueueWaitMsPerSec: {
            clients: perSec('clients'),
            relayMain: perSec('relayMain'),
            janus: perSec('janus'),
          },
          relayStats: cpu.stats,
        },
      };
    },
  };
}

async function runOnce(
  plane: Plane,
  n: number,
  mbit: number,
  seconds: number,
  janus?: JanusTarget,
): Promise<Result> {
  const latencies: number[] = [];
  let received = 0;
  let measuring = false;
  const meeting = await setUp(plane, n, janus, false, (_i, f) => {
    if (!measuring) return;
    const sentAt = new DataView(f.data.buffer, f.data.byteOffset).getFloat64(0);
    received++;
    latencies.push(performance.timeOrigin + performance.now() - sentAt);
  });
  const { clients } = meeting;

  const bytesPerSec = (mbit * 1e6) / 8;
  let attempted = 0;
  let senderDrops = 0;
  measuring = true;
  const window = openWindow(meeting, janus);
  const frameNumbers = clients.map(() => 0);
  const endAt = performance.now() + seconds * 1000;
  await Promise.all(
    clients.map(async (client, i) => {
      const rand = prng(1000 + i);
      let next = performance.now() + rand() * 100;
      while (next < endAt) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        const size = 1200 + Math.floor(rand() * (60_000 - 1200 + 1));
        const frame = new Uint8Array(size);
        new DataView(frame.buffer).setFloat64(0, performance.timeOrigin + performance.now());
        attempted++;
        const meta = {
          kind: 'video' as const,
          streamId: MEASURED_STREAM,
          keyframe: false,
          frameNumber: frameNumbers[i]!,
        };
        frameNumbers[i]!++;
        if (!client.sendChunks(chunkFrame(frame, meta))) senderDrops++;
        next += (size / bytesPerSec) * 1000;
      }
    }),
  );
  await sleep(1000);
  measuring = false;
  progress(`${plane} ${n}: window done, closing`);
  const w = await window.close();
  const expected = attempted * (n - 1);
  return {
    delivered: expected === 0 ? 0 : received / expected,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    ...w.cpu,
    detail: {
      framesSent: attempted,
      framesExpected: expected,
      framesReceived: received,
      senderDrops,
      ...w.detail,
    },
  };
}

/**
 * The big meeting on one plane (BIG): delivered = frames that arrived whole at every other
 * participant by 1 s after the window, over what the plane was to deliver (every video frame; every
 * audio frame the relay did not leave out as not among the loudest); latency per kind; and the
 * time from a speaker's turn starting to its first full-layer video frame at each receiver.
 */
async function runBig(plane: Plane, seconds: number, janus?: JanusTarget): Promise<Result> {
  const n = BIG.participants;
  const audioLatencies: number[] = [];
  const videoLatencies: number[] = [];
  const toFull: number[] = [];
  let received = 0;
  let fullFrames = 0;
  let smallFrames = 0;
  let measuring = false;
  /** Per sender index, when its current turn began (performance.now()), and which receivers saw it full since. */
  const turnAt = new Map<number, number>();
  const sawFull = new Map<number, Set<number>>();
  const layer: ('full' | 'small')[] = [];
  const meeting = await setUp(plane, n, janus, true, (i, f) => {
    if (!measuring) return;
    const dv = new DataView(f.data.buffer, f.data.byteOffset);
    const lat = performance.timeOrigin + performance.now() - dv.getFloat64(0);
    received++;
    if (f.kind === 'audio') {
      audioLatencies.push(lat);
      return;
    }
    videoLatencies.push(lat);
    const full = dv.getUint8(8) === 1;
    if (full) fullFrames++;
    else smallFrames++;
    const sender = dv.getUint8(9);
    const began = turnAt.get(sender);
    const seen = sawFull.get(sender);
    // Only a full frame sent after the turn began: one still in flight from before does not count.
    const sentAt = dv.getFloat64(0) - performance.timeOrigin;
    if (full && began !== undefined && sentAt >= began && seen !== undefined && !seen.has(i)) {
      seen.add(i);
      toFull.push(performance.now() - began);
    }
  });
  const { clients } = meeting;
  clients.forEach((c, i) => {
    layer[i] = 'full';
    c.events.on('video-layer', (m) => {
      layer[i] = m.layer;
    });
  });
  const turnStarted = clients.map(() => false);
  let promotions = 0;
  let audioSent = 0;
  let videoSent = 0;
  let dtxSkipped = 0;
  let senderDrops = 0;
  measuring = true;
  const window = openWindow(meeting, janus);
  const clientT0 = window.t0;
  const endAt = clientT0 + seconds * 1000;
  const speaker = (t: number) => Math.floor((t - clientT0) / BIG.turnMs) % BIG.videoSenders;
  const audio = async (client: RelayClient, i: number) => {
    let frameNumber = 0;
    let lastSent = Number.NEGATIVE_INFINITY;
    let next = clientT0 + (i % BIG.audioFrameMs);
    while (next < endAt) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      const now = performance.now();
      next += BIG.audioFrameMs;
      const speaking = i < BIG.videoSenders && speaker(now) === i;
      if (speaking && !turnStarted[i]) {
        turnStarted[i] = true;
        // Measured only for a speaker who is small when its turn starts: a promotion.
        if (layer[i] === 'small') {
          turnAt.set(i, now);
          sawFull.set(i, new Set());
          promotions++;
        }
      } else if (!speaking && turnStarted[i]) {
        turnStarted[i] = false;
        turnAt.delete(i);
        sawFull.delete(i);
      }
      const level = speaking ? BIG.speakingLevel : BIG.quietLevel;
      if (!speaking && now - lastSent < BIG.dtxMs) {
        dtxSkipped++;
        continue;
      }
      const frame = new Uint8Array(120);
      new DataView(frame.buffer).setFloat64(0, performance.timeOrigin + now);
      const meta = { kind: 'audio' as const, streamId: 0, keyframe: true, frameNumber, audioLevel: level };
      frameNumber++;
      audioSent++;
      lastSent = now;
      if (!client.sendChunks(chunkFrame(frame, meta))) senderDrops++;
      client.audioLevelSent(level);
    }
  };
  const video = async (client: RelayClient, i: number) => {
    const rand = prng(1000 + i);
    let frameNumber = 0;
    let next = clientT0 + rand() * 66;
    while (next < endAt) {
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      next += 1000 / BIG.videoFps;
      const full = layer[i] === 'full';
      const mean = (((full ? BIG.fullMbit : BIG.smallMbit) * 1e6) / 8 / BIG.videoFps) | 0;
      const size = Math.max(64, Math.round(mean * (0.5 + rand())));
      const frame = new Uint8Array(size);
      const dv = new DataView(frame.buffer);
      dv.setFloat64(0, performance.timeOrigin + performance.now());
      dv.setUint8(8, full ? 1 : 0);
      dv.setUint8(9, i);
      const meta = { kind: 'video' as const, streamId: MEASURED_STREAM, keyframe: false, frameNumber };
      frameNumber++;
      videoSent++;
      if (!client.sendChunks(chunkFrame(frame, meta))) senderDrops++;
    }
  };
  // Receivers learn the senders' indexes from the payload; the sender ids the relay writes differ.
  await Promise.all([
    ...clients.map((c, i) => audio(c, i)),
    ...clients.slice(0, BIG.videoSenders).map((c, i) => video(c, i)),
  ]);
  await sleep(1000);
  measuring = false;
  const w = await window.close();
  const relayStats = w.relayStats as { media: { audioNotSelected: number } };
  // Audio frames are one chunk each: the chunks the relay left out are frames it was not to deliver.
  const notSelected = relayStats.media.audioNotSelected;
  const expected = (audioSent - notSelected + videoSent) * (n - 1);
  const all = [...audioLatencies, ...videoLatencies];
  return {
    delivered: expected === 0 ? 0 : received / expected,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    ...w.cpu,
    detail: {
      audioFramesSent: audioSent,
      audioFramesNotSelected: notSelected,
      audioFramesSkippedAsSilent: dtxSkipped,
      videoFramesSent: videoSent,
      framesExpected: expected,
      framesReceived: received,
      videoFramesReceivedFull: fullFrames,
      videoFramesReceivedSmall: smallFrames,
      senderDrops,
      audioLatencyP95: Number(percentile(audioLatencies, 95).toFixed(1)),
      videoLatencyP95: Number(percentile(videoLatencies, 95).toFixed(1)),
      speakerPromotions: promotions,
      speakerToFullSamples: toFull.length,
      speakerToFullP50: Number(percentile(toFull, 50).toFixed(1)),
      speakerToFullP95: Number(percentile(toFull, 95).toFixed(1)),
      ...w.detail,
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workloads: { type: 'string' },
      planes: { type: 'string' },
      seconds: { type: 'string' },
    },
  });
  const workloads = (values.workloads ?? '6x2.5,12x1,20x0.5,big').split(',').map((w) => {
    if (w === 'big') return { n: BIG.participants, mbit: BIG.fullMbit, big: true };
    const [n, mbit] = w.split('x').map(Number);
    if (!Number.isInteger(n) || n! < 2 || !(mbit! > 0))
      throw new Error(`bad workload "${w}" (NxMBIT or big)`);
    return { n: n!, mbit: mbit!, big: false };
  });
  const planes = (values.planes ?? 'embedded,janus').split(',') as Plane[];
  const seconds = Number(values.seconds ?? 10);
  const janus = planes.includes('janus') ? await startJanus() : undefined;
  let failures = 0;
  try {
    for (const { n, mbit, big } of workloads) {
      const base: Record<string, Result> = {};
      for (const plane of planes) {
        // A fresh Janus per workload: its CPU and memory are this workload's alone.
        if (plane === 'janus') await janus!.restart();
        let r: Result;
        try {
          r = await runIsolated(
            plane,
            n,
            mbit,
            seconds,
            plane === 'janus' ? { url: janus!.url, pid: janus!.pid } : undefined,
            big,
          );
        } catch (error) {
          // The other runs still report; the benchmark exits 1 at the end (bench/run.ts: failed).
          progress(`FAILED: ${(error as Error).message}`);
          failures++;
          continue;
        }
        base[plane] = r;
        const params = big
          ? {
              plane,
              participants: n,
              videoSenders: BIG.videoSenders,
              lastN: BIG.lastN,
              loudest: BIG.loudest,
              fullMbitPerSec: BIG.fullMbit,
              smallMbitPerSec: BIG.smallMbit,
              turnMs: BIG.turnMs,
              seconds,
            }
          : {
              plane,
              participants: n,
              mbitPerSec: mbit,
              seconds,
              frameBytes: '1200-60000',
              chunkBytes: 16384,
            };
        const prefix = big ? 'relay-fanout.big_meeting' : 'relay-fanout';
        const embedded = plane === 'janus' ? base.embedded : undefined;
        const figure = (name: string, value: number, unit: string, key?: keyof Result, extra = {}) => {
          const b = embedded !== undefined && key !== undefined ? (embedded[key] as number) : undefined;
          emit({
            name: `${prefix}.${name}`,
            params: { ...params, ...extra },
            value,
            unit,
            ...(b === undefined || !Number.isFinite(b)
              ? {}
              : {
                  baseline: Number(b.toFixed(4)),
                  ...(b === 0 || !Number.isFinite(value) ? {} : { ratio: Number((value / b).toFixed(3)) }),
                }),
          });
        };
        figure('delivered_fraction', r.delivered, 'fraction', 'delivered', {
          goal: 0.999,
          window: big
            ? `frames sent in ${seconds} s that the plane was to deliver (all video; audio the relay selected), arrived whole at every other participant by 1 s after`
            : `frames sent in ${seconds} s, arrived whole at every other participant by 1 s after`,
          ...r.detail,
        });
        if (big) {
          const d = r.detail as { speakerToFullP50: number; speakerToFullP95: number };
          const path =
            "a small sender's turn to speak starts -> its first full-layer video frame at each receiver";
          figure('speaker_to_full_p50', d.speakerToFullP50, 'ms', undefined, { path });
          figure('speaker_to_full_p95', d.speakerToFullP95, 'ms', undefined, { path });
        }
        figure('latency_p50', r.p50, 'ms', 'p50', { path: 'sender->plane->receiver' });
        figure('latency_p95', r.p95, 'ms', 'p95', { path: 'sender->plane->receiver' });
        figure('relay_cpu', r.relayCpu, '% of one core', 'relayCpu', {
          process: 'relay (child process) + its media worker process',
        });
        if (plane === 'janus')
          figure('janus_cpu', r.janusCpu, '% of one core', undefined, { process: 'janus' });
        figure('clients_cpu', r.clientsCpu, '% of one core', 'clientsCpu', {
          process: big
            ? 'benchmark (all participants) + their media worker processes'
            : 'benchmark (all participants)',
        });
        figure('relay_rss', r.relayRssMiB, 'MiB', 'relayRssMiB', {
          process: 'relay (child process) + its media worker process',
        });
        if (plane === 'janus') figure('janus_rss', r.janusRssMiB, 'MiB', undefined, { process: 'janus' });
      }
    }
  } finally {
    await janus?.stop();
  }
  process.exit(failures === 0 ? 0 : 1);
}

if (process.argv[2] === '--clients-child') {
  await clientsChild(process.argv[3] ?? '{}');
} else if (process.argv[2] === '--relay-child') {
  await relayChild(
    process.argv[3] ?? '',
    (process.argv[4] ?? 'embedded') as Plane,
    process.argv[5] ?? '',
    process.argv[6] === 'big',
  );
} else {
  await main();
}
