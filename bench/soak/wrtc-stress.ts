/**
 * wrtc close-order stress (`node --import tsx bench/soak/wrtc-stress.ts`; not part of `npm run bench`
 * or `npm test`): connection pairs on loopback, each sending media-sized messages as fast as
 * MediaChannel lets it while it is closed in one of six orders (local close while sending, the far
 * end closing first, either channel closing first, a close before the channel opens, both at once).
 * That is the load under which @roamhq/wrtc crashes its process (docs/decisions/0013-media-worker.md).
 *
 * Each seed runs in its own child process standing in for roomd — the process whose survival is the
 * point — through the media worker factory; `--direct` runs the same seeds on wrtc in that process,
 * for comparison. A child that dies of a signal is a "parent crash". Figures are JSON lines
 * (bench/_lib.ts); progress and the verdict go to stderr. docs/benchmarks.md "Media worker".
 *
 *   --pairs N       pairs per seed (default 300)
 *   --seeds N       seeds 1..N (default 5)
 *   --parallel N    pairs in flight at once (default 4)
 *   --direct        also run every seed on wrtc directly (the baseline)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { silentLogger } from '../../src/core/logger.ts';
import { MediaChannel } from '../../src/transport/media-channel.ts';
import {
  type DataChannel,
  mediaChannelOptions,
  type PeerConnection,
  type PeerConnectionFactory,
} from '../../src/transport/peer.ts';
import { WorkerPeerConnectionFactory } from '../../src/transport/worker-peer.ts';
import { WrtcPeerConnectionFactory } from '../../src/transport/wrtc-peer.ts';
import { emit } from '../_lib.ts';

const { values: args } = parseArgs({
  options: {
    pairs: { type: 'string', default: '300' },
    seeds: { type: 'string', default: '5' },
    parallel: { type: 'string', default: '4' },
    direct: { type: 'boolean', default: false },
    // Internal: run one seed in this process and print its summary as one JSON line.
    child: { type: 'string' },
    factory: { type: 'string', default: 'worker' },
  },
});

const ORDERS = [
  'local-close-while-sending',
  'remote-close-first',
  'local-channel-close-first',
  'remote-channel-close-first',
  'close-before-open',
  'both-at-once',
] as const;
type Order = (typeof ORDERS)[number];

interface SeedSummary {
  seed: number;
  factory: string;
  pairs: number;
  opened: number;
  /** Pairs whose set-up failed because the worker died under them (they would reconnect). */
  lostToWorker: number;
  /** Pairs whose set-up failed otherwise (wrtc refused a description). */
  setupFailed: number;
  sent: number;
  received: number;
  starts: number;
  restarts: number;
  recycles: number;
  deaths: number;
  invalidMessages: number;
  /** How the last worker death ended (a signal for a native crash). */
  lastDeath: string;
  openAtEnd: number;
  rssMb: number;
  /** The largest resident size a worker reported (recycling bounds it). */
  workerRssMaxMb: number;
  seconds: number;
}

/** mulberry32: a small seeded generator, so a seed replays the same orders and timings. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function opened(ch: DataChannel): Promise<boolean> {
  if (ch.readyState === 'open') return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 10_000);
    ch.onOpen(() => {
      clearTimeout(t);
      resolve(true);
    });
    ch.onClose(() => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

/** Sends 1 KiB messages every turn of the event loop until stopped or the channel closes. */
function pump(ch: DataChannel, counts: { sent: number }): () => void {
  const media = new MediaChannel(ch);
  const msg = new Uint8Array(1024);
  let on = true;
  const step = () => {
    if (!on || ch.readyState === 'closed') return;
    for (let i = 0; i < 8; i++) if (media.trySend(msg)) counts.sent++;
    setImmediate(step);
  };
  step();
  return () => {
    on = false;
  };
}

async function onePair(
  peers: PeerConnectionFactory,
  order: Order,
  random: () => number,
  counts: { sent: number; received: number; opened: number; lost: number; setupFailed: number },
): Promise<void> {
  const a = peers.create();
  const b = peers.create();
  const pcs: PeerConnection[] = [a, b];
  try {
    a.onIceCandidate((c) => void b.addIceCandidate(c).catch(() => {}));
    b.onIceCandidate((c) => void a.addIceCandidate(c).catch(() => {}));
    const ch = a.createDataChannel('media', mediaChannelOptions());
    let rch: DataChannel | undefined;
    const remote = new Promise<DataChannel>((resolve) =>
      b.onDataChannel((c) => {
        rch = c;
        c.onMessage(() => counts.received++);
        resolve(c);
      }),
    );
    const offer = await a.createOffer();
    if (order === 'close-before-open') {
      const answer = b.acceptOffer(offer);
      await wait(random() * 5);
      a.close();
      b.close();
      await answer.catch(() => {});
      return;
    }
    await a.acceptAnswer(await b.acceptOffer(offer));
    const [ok] = await Promise.all([opened(ch), remote.then(opened)]);
    if (!ok || rch === undefined) return;
    counts.opened++;
    const stopA = pump(ch, counts);
    const stopB = pump(rch, counts);
    await wait(random() * 30);
    switch (order) {
      case 'local-close-while-sending':
        a.close();
        break;
      case 'remote-close-first':
        b.close();
        break;
      case 'local-channel-close-first':
        ch.close();
        break;
      case 'remote-channel-close-first':
        rch.close();
        break;
      case 'both-at-once':
        a.close();
        b.close();
        break;
    }
    // Let the sends race the close for a moment before everything goes.
    await wait(random() * 10);
    stopA();
    stopB();
  } catch (error) {
    // A set-up that failed — the worker died under it, or wrtc refused a description mid-close —
    // is what roomd would retry; counted, not fatal.
    if ((error as { code?: string }).code === 'transport.worker_failed') counts.lost++;
    else {
      counts.setupFailed++;
      if (counts.setupFailed === 1) process.stderr.write(`set-up failed: ${(error as Error).message}\n`);
    }
  } finally {
    for (const pc of pcs) pc.close();
  }
}

async function runSeed(seed: number, factory: string, pairs: number, parallel: number): Promise<SeedSummary> {
  const started = performance.now();
  const worker =
    factory === 'worker' ? new WorkerPeerConnectionFactory({ logger: silentLogger() }) : undefined;
  const peers: PeerConnectionFactory = worker ?? new WrtcPeerConnectionFactory();
  const random = rng(seed);
  const counts = { sent: 0, received: 0, opened: 0, lost: 0, setupFailed: 0 };
  let workerRssMax = 0;
  const sampler = setInterval(() => {
    workerRssMax = Math.max(workerRssMax, worker?.health.rssBytes ?? 0);
  }, 500);
  for (let i = 0; i < pairs; i += parallel) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(pairs, i + parallel); j++) {
      const order = ORDERS[Math.floor(random() * ORDERS.length)]!;
      batch.push(onePair(peers, order, random, counts));
    }
    await Promise.all(batch);
  }
  await wait(200);
  clearInterval(sampler);
  const c = worker?.counters;
  const summary: SeedSummary = {
    seed,
    factory,
    pairs,
    opened: counts.opened,
    lostToWorker: counts.lost,
    setupFailed: counts.setupFailed,
    sent: counts.sent,
    received: counts.received,
    starts: c?.starts ?? 0,
    restarts: c?.restarts ?? 0,
    recycles: c?.recycles ?? 0,
    deaths: c?.deaths ?? 0,
    invalidMessages: c?.invalidMessages ?? 0,
    lastDeath:
      worker?.lastDeath === null || worker === undefined
        ? '-'
        : (worker.lastDeath.signal ?? `exit ${worker.lastDeath.code}`),
    openAtEnd: peers.openCount,
    rssMb: process.memoryUsage.rss() / 1e6,
    workerRssMaxMb: workerRssMax / 1e6,
    seconds: (performance.now() - started) / 1000,
  };
  await worker?.close();
  return summary;
}

/** Runs one seed in a child process; resolves with its summary, or how it died. */
function seedInChild(
  seed: number,
  factory: string,
  pairs: number,
  parallel: number,
): Promise<{ summary?: SeedSummary; signal: string | null; code: number | null }> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      self,
      '--child',
      String(seed),
      '--factory',
      factory,
      '--pairs',
      String(pairs),
      '--parallel',
      String(parallel),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
  });
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      const line = out.trim().split('\n').at(-1);
      let summary: SeedSummary | undefined;
      if (code === 0 && line !== undefined && line.startsWith('{')) summary = JSON.parse(line) as SeedSummary;
      resolve({ ...(summary === undefined ? {} : { summary }), signal, code });
    });
  });
}

async function main(): Promise<void> {
  const pairs = Number(args.pairs);
  const parallel = Number(args.parallel);
  if (args.child !== undefined) {
    const summary = await runSeed(Number(args.child), args.factory ?? 'worker', pairs, parallel);
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    process.exit(0);
  }
  const seeds = Number(args.seeds);
  const factories = args.direct ? ['worker', 'direct'] : ['worker'];
  for (const factory of factories) {
    let crashes = 0;
    let restarts = 0;
    let deaths = 0;
    let recycles = 0;
    let lost = 0;
    let opened = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = await seedInChild(seed, factory, pairs, parallel);
      if (r.summary === undefined) {
        crashes++;
        process.stderr.write(
          `${factory} seed ${seed}: the roomd stand-in DIED (signal ${r.signal ?? '-'}, code ${r.code ?? '-'})\n`,
        );
        continue;
      }
      const s = r.summary;
      restarts += s.restarts;
      deaths += s.deaths;
      recycles += s.recycles;
      lost += s.lostToWorker;
      opened += s.opened;
      process.stderr.write(
        `${factory} seed ${seed}: ${s.opened}/${s.pairs} pairs opened, ${s.sent} sent, ${s.received} received, ` +
          `worker deaths ${s.deaths}, restarts ${s.restarts}, recycles ${s.recycles}, pairs lost to a worker ` +
          `death ${s.lostToWorker}, other set-up failures ${s.setupFailed}, last death ${s.lastDeath}, invalid frames ${s.invalidMessages}, open at end ${s.openAtEnd}, ` +
          `rss ${s.rssMb.toFixed(0)} MB, worker rss max ${s.workerRssMaxMb.toFixed(0)} MB, ${s.seconds.toFixed(1)} s\n`,
      );
    }
    const params = { pairs, seeds, parallel, factory };
    emit({ name: 'wrtc-stress-parent-crashes', params, value: crashes, unit: 'crashes' });
    if (factory === 'worker') {
      emit({ name: 'wrtc-stress-worker-deaths', params, value: deaths, unit: 'deaths' });
      emit({ name: 'wrtc-stress-worker-restarts', params, value: restarts, unit: 'restarts' });
      emit({ name: 'wrtc-stress-worker-recycles', params, value: recycles, unit: 'recycles' });
      emit({ name: 'wrtc-stress-pairs-lost', params, value: lost, unit: 'pairs' });
      emit({ name: 'wrtc-stress-pairs-opened', params, value: opened, unit: 'pairs' });
    }
    process.stderr.write(`${factory}: ${crashes} of ${seeds} seeds crashed the roomd stand-in\n`);
  }
}

await main();
