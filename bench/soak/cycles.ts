/**
 * Join/leave soak (`npm run soak -- --cycles 500`; not part of `npm run bench` or `npm test`): the
 * demo room joins and leaves its booked meetings N times through the kiosk API — E2EE meetings, and
 * every third cycle the enhanced one — against the demo's embedded relay and synthetic far-end
 * people. The room daemon runs in its own process, as on an appliance (bench/soak/_cycles-room.ts),
 * the relay and the far-end people in another (bench/soak/_cycles-far-end.ts), so the daemon's
 * memory is its own. Each cycle is timed from the join request to the shield the meeting must show
 * (`e2ee` or `enhanced`, as the kiosk's live socket reports it), then left until the kiosk shows no
 * meeting.
 *
 * After each cycle: the resident memory of the daemon (read right after a full collection of its
 * heap, so that garbage not yet collected does not look like growth) and of its media worker
 * (docs/decisions/0013-media-worker.md), the daemon's heap and open file descriptors, and the
 * supervision counters of the room's and the relay's workers. One JSON line per cycle on stdout, then the
 * figures (bench/_lib.ts) and a short summary with the verdict on stderr. It passes with no failed
 * cycle, no daemon crash, a daemon RSS slope (least squares, after the warm-up) of at most 20 kB per
 * cycle and open file descriptors flat. docs/benchmarks.md "Soak".
 *
 * Options: --cycles N (default 500), --max-minutes M (stop after M minutes even if fewer cycles
 * ran; default: no limit), --warmup N (cycles left out of the slopes; default 50, or a tenth of a
 * shorter run).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { emit, percentile } from '../_lib.ts';

const { values: args } = parseArgs({
  options: {
    cycles: { type: 'string', default: '500' },
    'max-minutes': { type: 'string', default: '0' },
    warmup: { type: 'string' },
  },
});
const CYCLES = Number(args.cycles);
const MAX_MINUTES = Number(args['max-minutes']);
if (!Number.isInteger(CYCLES) || CYCLES < 1 || !Number.isFinite(MAX_MINUTES) || MAX_MINUTES < 0) {
  process.stderr.write('usage: npm run soak -- [--cycles N] [--max-minutes M] [--warmup N]\n');
  process.exit(2);
}
const WARMUP = args.warmup === undefined ? Math.min(50, Math.floor(CYCLES / 10)) : Number(args.warmup);
const ENHANCED_EVERY = 3;
const SECURE_TIMEOUT_MS = 30_000;
const LEAVE_TIMEOUT_MS = 15_000;
const GOAL_RSS_SLOPE_KB = 20;

interface WorkerProbe {
  pid: number | null;
  open: number;
  counters: { starts: number; restarts: number; deaths: number; recycles: number; hangs: number };
  /** How the last worker that died unasked ended. */
  lastDeath: { code: number | null; signal: string | null } | null;
}
interface Cycle {
  cycle: number;
  meeting: 'e2ee' | 'enhanced';
  ok: boolean;
  error?: string;
  secureMs: number | null;
  leaveMs: number | null;
  daemonRssKb: number | null;
  /** The daemon's V8 heap after a full collection. */
  heapUsedKb: number | null;
  workerRssKb: number | null;
  relayWorkerRssKb: number | null;
  farEndRssKb: number | null;
  fds: number | null;
  workerPid: number | null;
}

const root = path.resolve(import.meta.dirname, '../..');

// ---------------------------------------------------------------------------------------------
// The two child processes and what they report.

interface Child<R> {
  proc: ChildProcess;
  ready: R;
  /** How it ended, once it did. */
  died: string | null;
  probe(): Promise<Probe | null>;
}
type Probe = Record<string, WorkerProbe | number | null>;

function start<R>(
  script: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  nodeFlags: string[] = [],
): Promise<Child<R>> {
  const proc = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', path.join(root, script), ...argv], {
    cwd: root,
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiters: ((p: Probe) => void)[] = [];
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    const child: Child<R> = {
      proc,
      ready: undefined as R,
      died: null,
      probe() {
        if (child.died !== null) return Promise.resolve(null);
        return new Promise((done) => {
          const t = setTimeout(() => done(null), 10_000);
          waiters.push((p) => {
            clearTimeout(t);
            done(p);
          });
          proc.stdin!.write('probe\n');
        });
      },
    };
    lines.on('line', (line) => {
      if (line.startsWith('{"ready"')) {
        child.ready = (JSON.parse(line) as { ready: R }).ready;
        resolve(child);
      } else if (line.startsWith('{"probe"')) waiters.shift()?.((JSON.parse(line) as { probe: Probe }).probe);
    });
    proc.once('exit', (code, signal) => {
      child.died = signal ?? `exit ${code}`;
      reject(new Error(`${script} exited (${child.died})`));
    });
  });
}

const farEnd = await start<{
  pid: number;
  stateDir: string;
  signalUrl: string;
  meetings: Record<'e2ee' | 'enhanced', { id: string; passcode: string | null }>;
}>('bench/soak/_cycles-far-end.ts', [], process.env);
const token = readFileSync(path.join(farEnd.ready.stateDir, 'room-token'), 'utf8').trim();
const room = await start<{ pid: number; kiosk: string }>(
  'bench/soak/_cycles-room.ts',
  [farEnd.ready.stateDir],
  {
    ...process.env,
    ROOMD_MEETING_SERVICE_URL: farEnd.ready.signalUrl,
    ROOMD_MEETING_SERVICE_TOKEN: token,
  },
  // A full collection before each probe answers: memory read after it is what the daemon holds.
  ['--expose-gc'],
);
const ready = { pid: room.ready.pid, kiosk: room.ready.kiosk, meetings: farEnd.ready.meetings };

function rssKb(pid: number | null): number | null {
  if (pid === null) return null;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null; // the process is gone
  }
  // A process on its way out (a retired worker) has no VmRSS line any more.
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return Number.isFinite(kb) ? kb : null;
}

function fds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The kiosk API: commands by POST (the kiosk's rate limit allows 20 requests a second), the
// meeting's state from the live socket, which sends it on connect and after every change.

interface KioskState {
  meeting: { status: string; shield: string } | null;
}

class LiveState {
  last: KioskState | null = null;
  #ws: WebSocket | null = null;
  #waiters = new Set<() => void>();
  /** Sockets that closed under us (each a failure of the cycle it happened in). */
  drops = 0;

  connect(): Promise<void> {
    const ws = new WebSocket(`${ready.kiosk.replace(/^http/, 'ws')}/api/v1/live`);
    this.#ws = ws;
    ws.on('message', (data, binary) => {
      if (binary) return; // the kiosk's video feed
      const m = JSON.parse(String(data)) as { type: string; state?: KioskState };
      if (m.type !== 'state' || m.state === undefined) return;
      this.last = m.state;
      for (const w of [...this.#waiters]) w();
    });
    ws.on('close', () => {
      if (this.#ws === ws) {
        this.#ws = null;
        this.drops++;
      }
    });
    ws.on('error', () => {});
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  }

  /** Ms until `ok` holds for the latest state, or an error naming the last state. */
  async until(ok: (s: KioskState) => boolean, timeoutMs: number, what: string): Promise<number> {
    if (this.#ws === null) await this.connect();
    const t0 = performance.now();
    if (this.last !== null && ok(this.last)) return 0;
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.last === null || !ok(this.last)) return;
        done();
        resolve(performance.now() - t0);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `${what} not reached in ${timeoutMs} ms (meeting: ${JSON.stringify(this.last?.meeting)})`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
    });
  }

  close(): void {
    const ws = this.#ws;
    this.#ws = null;
    ws?.close();
  }
}

async function command(what: 'join' | 'leave', body: unknown): Promise<void> {
  const res = await fetch(`${ready.kiosk}/api/v1/${what}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200)
    throw new Error(`${what} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}

const live = new LiveState();
await live.connect();

// ---------------------------------------------------------------------------------------------
// The cycles.

const started = Date.now();
const loadBefore = os.loadavg();
process.stderr.write(
  `[soak] room daemon ${ready.pid} and far end ${farEnd.ready.pid} ready; ${CYCLES} cycles ` +
    `(every ${ENHANCED_EVERY}rd enhanced), load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}\n`,
);
const cycles: Cycle[] = [];
let roomWorker: WorkerProbe | null = null;
let relayWorker: WorkerProbe | null = null;
for (let i = 1; i <= CYCLES; i++) {
  if (MAX_MINUTES > 0 && Date.now() - started > MAX_MINUTES * 60_000) break;
  if (room.died !== null || farEnd.died !== null) break;
  const kind = i % ENHANCED_EVERY === 0 ? 'enhanced' : 'e2ee';
  const m = ready.meetings[kind];
  const c: Cycle = {
    cycle: i,
    meeting: kind,
    ok: true,
    secureMs: null,
    leaveMs: null,
    daemonRssKb: null,
    heapUsedKb: null,
    workerRssKb: null,
    relayWorkerRssKb: null,
    farEndRssKb: null,
    fds: null,
    workerPid: null,
  };
  try {
    const t0 = performance.now();
    await command(
      'join',
      m.passcode === null ? { meetingId: m.id } : { meetingId: m.id, passcode: m.passcode },
    );
    const drops = live.drops;
    await live.until((s) => s.meeting?.shield === kind, SECURE_TIMEOUT_MS, `shield ${kind}`);
    if (live.drops > drops) throw new Error('the kiosk live socket closed');
    c.secureMs = performance.now() - t0;
  } catch (error) {
    c.ok = false;
    c.error = (error as Error).message;
  }
  try {
    const t0 = performance.now();
    await command('leave', {});
    await live.until((s) => s.meeting === null, LEAVE_TIMEOUT_MS, 'no meeting');
    c.leaveMs = performance.now() - t0;
  } catch (error) {
    c.ok = false;
    c.error = `${c.error === undefined ? '' : `${c.error}; `}leave: ${(error as Error).message}`;
  }
  const [r, f] = await Promise.all([room.probe(), farEnd.probe()]);
  const rw = r?.['room'] as WorkerProbe | null | undefined;
  const fw = f?.['relay'] as WorkerProbe | null | undefined;
  roomWorker = rw ?? roomWorker;
  relayWorker = fw ?? relayWorker;
  c.workerPid = rw?.pid ?? null;
  c.heapUsedKb = (r?.['heapUsedKb'] as number | null | undefined) ?? null;
  c.daemonRssKb = rssKb(ready.pid);
  c.fds = fds(ready.pid);
  c.workerRssKb = rssKb(c.workerPid);
  c.relayWorkerRssKb = rssKb(fw?.pid ?? null);
  c.farEndRssKb = rssKb(farEnd.ready.pid);
  cycles.push(c);
  process.stdout.write(
    `${JSON.stringify({ ...c, secureMs: round(c.secureMs), leaveMs: round(c.leaveMs) })}\n`,
  );
  if (!c.ok) process.stderr.write(`[soak] cycle ${i} (${kind}) failed: ${c.error}\n`);
  if (i % 50 === 0)
    process.stderr.write(
      `[soak] ${i} cycles, ${Math.round((Date.now() - started) / 1000)} s, daemon ${mb(c.daemonRssKb)} MB, ` +
        `worker ${mb(c.workerRssKb)} MB, ${c.fds} fds\n`,
    );
}
const minutes = (Date.now() - started) / 60_000;
const loadAfter = os.loadavg();
live.close();
const crashed = room.died;
const farEndDied = farEnd.died;
for (const ch of [room, farEnd]) {
  ch.proc.stdin!.end();
  ch.proc.kill('SIGTERM');
}

// ---------------------------------------------------------------------------------------------
// Figures and verdict.

function round(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}
function mb(kb: number | null): string {
  return kb === null ? '?' : (kb / 1024).toFixed(1);
}

/** Least-squares slope of y over x, for the points where y is known. */
function slope(points: [number, number | null][]): number {
  const known = points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]));
  if (known.length < 2) return Number.NaN;
  const mx = known.reduce((s, [x]) => s + x, 0) / known.length;
  const my = known.reduce((s, [, y]) => s + y, 0) / known.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of known) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const ran = cycles.length;
const failures = cycles.filter((c) => !c.ok);
const settled = cycles.slice(WARMUP);
const secure = (cs: Cycle[]) => cs.map((c) => c.secureMs).filter((x): x is number => x !== null);
const firstSecure = secure(cycles.slice(0, 50));
const lastSecure = secure(cycles.slice(-50));
const rssSlope = slope(settled.map((c) => [c.cycle, c.daemonRssKb]));
const rssSlopeAll = slope(cycles.map((c) => [c.cycle, c.daemonRssKb]));
const workerSlope = slope(settled.map((c) => [c.cycle, c.workerRssKb]));
const relayWorkerSlope = slope(settled.map((c) => [c.cycle, c.relayWorkerRssKb]));
const fdSlope = slope(settled.map((c) => [c.cycle, c.fds]));
const heapSlope = slope(settled.map((c) => [c.cycle, c.heapUsedKb]));
const farEndSlope = slope(settled.map((c) => [c.cycle, c.farEndRssKb]));
const maxOf = (xs: (number | null)[]) => Math.max(...xs.filter((x): x is number => x !== null));
// Flat: the last 50 cycles never hold more descriptors than the 50 after the warm-up did.
const fdsEarly = maxOf(settled.slice(0, 50).map((c) => c.fds));
const fdsLate = maxOf(settled.slice(-50).map((c) => c.fds));
const roomCounters = roomWorker?.counters;
const relayCounters = relayWorker?.counters;
const workerPids = new Set(cycles.map((c) => c.workerPid).filter((p) => p !== null));

const params = {
  cycles: ran,
  asked: CYCLES,
  minutes: Math.round(minutes * 10) / 10,
  warmup: WARMUP,
  load: [loadBefore[0], loadAfter[0]].map((l) => Math.round(l! * 10) / 10),
};
emit({ name: 'soak-cycles-failed', params, value: failures.length, unit: 'cycles' });
emit({ name: 'soak-daemon-crashes', params, value: crashed === null ? 0 : 1, unit: 'crashes' });
for (const [what, xs] of [
  ['first-50', firstSecure],
  ['last-50', lastSecure],
] as const) {
  emit({
    name: 'soak-time-to-secure-p50',
    params: { ...params, what },
    value: percentile(xs, 50),
    unit: 'ms',
  });
  emit({
    name: 'soak-time-to-secure-p95',
    params: { ...params, what },
    value: percentile(xs, 95),
    unit: 'ms',
  });
}
emit({ name: 'soak-daemon-rss-slope', params, value: rssSlope, unit: 'kB/cycle' });
emit({
  name: 'soak-daemon-rss-slope',
  params: { ...params, what: 'all cycles' },
  value: rssSlopeAll,
  unit: 'kB/cycle',
});
emit({ name: 'soak-daemon-heap-slope', params, value: heapSlope, unit: 'kB/cycle' });
emit({ name: 'soak-worker-rss-slope', params, value: workerSlope, unit: 'kB/cycle' });
emit({ name: 'soak-relay-worker-rss-slope', params, value: relayWorkerSlope, unit: 'kB/cycle' });
emit({ name: 'soak-fds-slope', params, value: fdSlope, unit: 'fds/cycle' });
for (const [name, c] of [
  ['soak-room-worker', roomCounters],
  ['soak-relay-worker', relayCounters],
] as const) {
  if (c === undefined) continue;
  for (const k of ['deaths', 'restarts', 'recycles', 'hangs'] as const)
    emit({ name: `${name}-${k}`, params, value: c[k], unit: k });
}

const lastCycle = cycles.at(-1);
const firstSettled = settled[0];
const p = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(0)} / p95 ${percentile(xs, 95).toFixed(0)} ms`;
process.stderr.write(
  [
    `[soak] ${ran} of ${CYCLES} cycles in ${minutes.toFixed(1)} min (load ${params.load.join(' → ')}); ` +
      `${failures.length} failed; daemon ${crashed === null ? 'alive' : `died (${crashed})`}`,
    `[soak] time to secure: first 50 ${p(firstSecure)}, last 50 ${p(lastSecure)}`,
    `[soak] daemon RSS ${mb(firstSettled?.daemonRssKb ?? null)} → ${mb(lastCycle?.daemonRssKb ?? null)} MB, ` +
      `slope ${rssSlope.toFixed(1)} kB/cycle after ${WARMUP} warm-up cycles (${rssSlopeAll.toFixed(1)} over all); ` +
      `heap after GC ${mb(firstSettled?.heapUsedKb ?? null)} → ${mb(lastCycle?.heapUsedKb ?? null)} MB, slope ${heapSlope.toFixed(1)} kB/cycle`,
    `[soak] room worker RSS at most ${mb(maxOf(cycles.map((c) => c.workerRssKb)))} MB, slope ` +
      `${workerSlope.toFixed(1)} kB/cycle, ${workerPids.size} workers; relay worker ${mb(lastCycle?.relayWorkerRssKb ?? null)} MB, ` +
      `slope ${relayWorkerSlope.toFixed(1)} kB/cycle`,
    `[soak] fds ${firstSettled?.fds} → ${lastCycle?.fds} (max ${fdsEarly} after warm-up, ${fdsLate} in the last 50), slope ${fdSlope.toFixed(3)}/cycle`,
    `[soak] far end (relay and far-end people) ${mb(firstSettled?.farEndRssKb ?? null)} → ${mb(lastCycle?.farEndRssKb ?? null)} MB, ` +
      `slope ${farEndSlope.toFixed(1)} kB/cycle${farEndDied === null ? '' : `; it died (${farEndDied})`}`,
    `[soak] room worker: ${JSON.stringify(roomCounters ?? null)}, last death ${JSON.stringify(roomWorker?.lastDeath ?? null)}; ` +
      `relay worker: ${JSON.stringify(relayCounters ?? null)}, last death ${JSON.stringify(relayWorker?.lastDeath ?? null)}`,
    '',
  ].join('\n'),
);
if (ran < CYCLES && crashed === null)
  process.stderr.write(
    `[soak] stopped after ${MAX_MINUTES} min (--max-minutes): the verdict is on ${ran} cycles\n`,
  );
const problems = [
  ...(failures.length > 0 ? [`${failures.length} cycles failed`] : []),
  ...(crashed !== null ? [`the daemon died (${crashed})`] : []),
  ...(farEndDied !== null ? [`the far end died (${farEndDied})`] : []),
  ...(rssSlope > GOAL_RSS_SLOPE_KB ? [`daemon RSS grows ${rssSlope.toFixed(1)} kB/cycle`] : []),
  ...(fdsLate > fdsEarly ? [`open fds grew (${fdsEarly} → ${fdsLate})`] : []),
];
process.stderr.write(problems.length === 0 ? '[soak] PASS\n' : `[soak] FAIL: ${problems.join('; ')}\n`);
await Promise.all(
  [room, farEnd].map(
    (ch) =>
      new Promise<void>((resolve) => {
        if (ch.proc.exitCode !== null || ch.proc.signalCode !== null) resolve();
        else ch.proc.once('exit', () => resolve());
      }),
  ),
);
process.exit(problems.length === 0 ? 0 : 1);
