/**
 * network-adapt (docs/benchmarks.md §network-adapt, docs/decisions/0021-rate-adaptation.md): the
 * room sends 720p30 VP8 (2.5 Mbit/s configured) and Opus to a far end through the relay while its
 * uplink changes. The room runs in its own network namespace, the relay and the far end in another
 * (test/helpers/netns.ts: a bridge in a namespace of its own; needs root, `ip`, `tc`, `nft`). The
 * room's uplink is shaped with `tc tbf` (this kernel has no netem) and, in the lossy phase, thinned
 * by nftables `numgen random` drops.
 *
 * Phases (BENCH_PHASE_SECONDS each, default 60; BENCH_PHASES picks some): `open` (no limit, the
 * reference), `1500k`, `600k`, `10m` (the limit lifted to 10 Mbit/s), `1500k-loss2` (1.5 Mbit/s and
 * 2 % of the room's packets dropped at random). Per phase, at the far end: video frames a second,
 * freezes (gaps over 500 ms; the longest after the first 5 s), audio frames lost, one-way latency
 * p50/p95 of video and audio (same machine, same clock); at the room: its encoder's bitrate (mean,
 * and each second in `params.series`), and for `10m` the seconds from the lift to an encoder second
 * of ≥ 2 Mbit/s. Goals: no freeze over 1 s after the first 5 s of a limit; audio loss < 1 %
 * (< 3 % with loss); latency p95 ≤ 400 ms at 600 kbit/s; ≥ 2 Mbit/s within 15 s of the lift.
 */
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { createNetwork, type Network, requireNetnsTools } from '../test/helpers/netns.ts';
import { cpuTimes, emit } from './_lib.ts';

const HERE = import.meta.dirname;
const PHASE_SECONDS = Number(process.env['BENCH_PHASE_SECONDS'] ?? 60);
const ALL = ['open', '1500k', '600k', '10m', '1500k-loss2'] as const;
type PhaseName = (typeof ALL)[number];
const PHASES = (process.env['BENCH_PHASES']?.split(',') ?? [...ALL]).filter((p): p is PhaseName =>
  (ALL as readonly string[]).includes(p),
);

interface Tick {
  at: number;
  encoderKbps: number;
  encoderFps: number;
  targetKbps: number | null;
  queueMs: number | null;
  deliveredKbps: number | null;
  output: string | null;
}

/** A child speaking JSON lines: each parsed line goes to `onLine`. */
function jsonChild(child: ChildProcess, label: string, onLine: (o: Record<string, unknown>) => void): void {
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    try {
      onLine(JSON.parse(line) as Record<string, unknown>);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      process.stderr.write(`${label}: ${line}\n`);
    }
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`${label}: ${d}`));
}

function waitFor<T>(get: () => T | undefined, what: string, ms: number): Promise<T> {
  const until = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = () => {
      const v = get();
      if (v !== undefined) resolve(v);
      else if (performance.now() > until) reject(new Error(`network-adapt: timed out waiting for ${what}`));
      else setTimeout(poll, 100);
    };
    poll();
  });
}

requireNetnsTools();
let net: Network | undefined;
let far: ChildProcess | undefined;
let room: ChildProcess | undefined;
try {
  net = await createNetwork({ sites: ['svc', 'room'] });
  const svc = net.site('svc');
  const roomSite = net.site('room');
  const tsx = ['--import', 'tsx'];
  far = svc.spawn(
    process.execPath,
    [...tsx, path.join(HERE, 'network-adapt', 'far.ts'), '--host', svc.address],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let ready: { signalUrl: string; meetingId: string } | undefined;
  const summaries: Record<string, unknown>[] = [];
  far.once('exit', (code) => {
    if (ready === undefined)
      process.stderr.write(`network-adapt: the far side exited (${code}) before it was ready\n`);
  });
  jsonChild(far, 'far', (o) => {
    if (o['ready'] !== undefined) ready = o['ready'] as typeof ready;
    else if (o['phase'] !== undefined) summaries.push(o);
  });
  const r = await waitFor(() => ready, 'the relay and far end', 60_000);
  room = roomSite.spawn(
    process.execPath,
    [...tsx, path.join(HERE, 'network-adapt', 'room.ts'), '--signal', r.signalUrl, '--meeting', r.meetingId],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let secure = false;
  const ticks: Tick[] = [];
  jsonChild(room, 'room', (o) => {
    if (o['secure'] === true) secure = true;
    else if (o['tick'] !== undefined) ticks.push(o['tick'] as Tick);
  });
  await waitFor(() => (secure ? true : undefined), 'the meeting to be secure', 60_000);
  // The encoder's first seconds (its first keyframes, the far end's first frames) are no phase.
  await new Promise((res) => setTimeout(res, 3000));

  const setLink = async (p: PhaseName) => {
    await roomSite.clearDrop();
    if (p === 'open') await roomSite.clearLimit();
    else if (p === '10m') await roomSite.limitUplink({ rateKbit: 10_000 });
    else await roomSite.limitUplink({ rateKbit: p === '600k' ? 600 : 1500 });
    if (p === '1500k-loss2') await roomSite.dropRandom(2);
  };
  const bounds: { name: PhaseName; from: number; to: number; cpu: number }[] = [];
  for (const p of PHASES) {
    const cpu0 = cpuTimes();
    await setLink(p);
    const from = Date.now();
    far.stdin!.write(`phase ${p}\n`);
    await new Promise((res) => setTimeout(res, PHASE_SECONDS * 1000));
    const cpu1 = cpuTimes();
    bounds.push({ name: p, from, to: Date.now(), cpu: (cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total) });
  }
  far.stdin!.write('end\n');
  await waitFor(
    () => (summaries.length === PHASES.length ? true : undefined),
    'the far end summaries',
    30_000,
  );

  for (const b of bounds) {
    const s = summaries.find((x) => x['phase'] === b.name)!;
    const mine = ticks.filter((t) => t.at >= b.from && t.at < b.to);
    if (process.env['BENCH_DEBUG'] === '1')
      for (const t of mine) process.stderr.write(`tick +${t.at - b.from} ${JSON.stringify(t)}\n`);
    // One encoder figure a second: every other tick (ticks are 500 ms apart, each the last second).
    const series = mine.filter((_, i) => i % 2 === 1).map((t) => Math.round(t.encoderKbps));
    const params = {
      phase: b.name,
      seconds: PHASE_SECONDS,
      machineBusy: Math.round(b.cpu * 100) / 100,
      outputs: [...new Set(mine.map((t) => t.output))],
    };
    const fig = (name: string, value: unknown, unit: string, extra: Record<string, unknown> = {}) => {
      if (typeof value === 'number' && Number.isFinite(value))
        emit({ name, params: { ...params, ...extra }, value, unit });
    };
    fig('network-adapt-far-video-fps', s['videoFps'], 'fps');
    fig('network-adapt-far-video-freezes', s['freezes'], 'count', { freezeSeconds: s['freezeSeconds'] });
    fig('network-adapt-far-video-longest-freeze-ending-after-5s', s['settledLongestFreezeMs'], 'ms');
    fig('network-adapt-far-video-longest-freeze-starting-after-5s', s['lateLongestFreezeMs'], 'ms');
    fig('network-adapt-far-audio-lost', s['audioLostPercent'], '%', { audioFrames: s['audioFrames'] });
    fig('network-adapt-far-audio-lost-after-5s', s['settledAudioLostPercent'], '%');
    fig('network-adapt-far-video-latency-p50', s['videoLatencyP50'], 'ms');
    fig('network-adapt-far-video-latency-p95', s['videoLatencyP95'], 'ms');
    fig('network-adapt-far-video-latency-p95-after-5s', s['settledVideoLatencyP95'], 'ms');
    fig('network-adapt-far-audio-latency-p95', s['audioLatencyP95'], 'ms');
    fig('network-adapt-far-audio-latency-p95-after-5s', s['settledAudioLatencyP95'], 'ms');
    fig('network-adapt-far-keyframes', s['keyframes'], 'count');
    const mean = mine.length === 0 ? Number.NaN : mine.reduce((n, t) => n + t.encoderKbps, 0) / mine.length;
    fig('network-adapt-room-encoder-kbps', mean, 'kbit/s', { series });
    if (b.name === '10m') {
      // Never reached within the phase: the phase's length, marked so.
      const first = mine.find((t) => t.encoderKbps >= 2000);
      fig(
        'network-adapt-room-seconds-to-2mbit-after-lift',
        first === undefined ? PHASE_SECONDS : (first.at - b.from) / 1000,
        's',
        { reached: first !== undefined },
      );
    }
  }
} finally {
  room?.kill('SIGTERM');
  far?.kill('SIGTERM');
  await net?.close();
}
process.exit(0);
