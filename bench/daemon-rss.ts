/**
 * daemon-rss (docs/benchmarks.md §The benchmarks): resident memory of the `roomd run` process —
 * idle, and after BENCH_SECONDS (default 60) in an E2EE meeting sending 720p30 VP8 + Opus from the
 * synthetic camera and microphone and receiving a far-end participant. Its media worker (WebRTC, a
 * child process started with the first media connection: docs/decisions/0013-media-worker.md) is
 * reported on its own and summed with the daemon; ffmpeg children are reported separately. Goal:
 * ≤ 150 MB in a meeting. Measures what ships: the daemon built to dist/ (`npm run build`, done here
 * first), not the TypeScript sources run through tsx.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { toBase64Url } from '../src/protocol/codec.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startHarness } from '../test/helpers/meeting-harness.ts';
import { emit } from './_lib.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 60);
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** Resident MB of the daemon's children: its media worker (`roomd-media`) and the rest (ffmpeg). */
const childrenRssMb = (pid: number): { worker: number; workers: number; other: number } => {
  const sum = { worker: 0, workers: 0, other: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    let status: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      status = readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue; // gone in between
    }
    // pid (comm) state ppid …; comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    if (ppid !== pid) continue;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    if (comm === 'roomd-media') {
      sum.worker += rss;
      sum.workers++;
    } else sum.other += rss;
  }
  return sum;
};

/** The daemon, its media worker and their sum (the worker is 0 MB while none runs). */
function emitDaemon(params: Record<string, unknown>, pid: number): number {
  const daemon = rssMb(pid);
  const children = childrenRssMb(pid);
  emit({ name: 'daemon-rss', params, value: daemon, unit: 'MB' });
  emit({
    name: 'daemon-rss',
    params: { ...params, what: 'media worker', workers: children.workers },
    value: children.worker,
    unit: 'MB',
  });
  emit({
    name: 'daemon-rss',
    params: { ...params, what: 'daemon + media worker' },
    value: daemon + children.worker,
    unit: 'MB',
  });
  return children.other;
}

const root = path.resolve(import.meta.dirname, '..');
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
const h = await startHarness();
const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-rss-'));
const m = await h.relay.registry.create({
  title: 'RSS',
  hostIdentityKey: toBase64Url(h.host.publicKey),
  encryption: 'e2ee',
  room: 'Bench Room',
});
const far = h.participant(m.id, 'Far end', { identity: h.host });
await far.join();
const kioskPort = await freePort();
const daemon: ChildProcess = spawn(
  process.execPath,
  [path.join(root, 'dist/src/app/cli.js'), 'run', '--state-dir', stateDir],
  {
    env: {
      ...process.env,
      ROOMD_ADMIN_ENABLED: 'false',
      ROOMD_KIOSK_PORT: String(kioskPort),
      ROOMD_ROOM_NAME: 'Bench Room',
      ROOMD_MEETING_SERVICE_URL: h.relay.address.signalUrl,
      ROOMD_LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  },
);
const api = `http://127.0.0.1:${kioskPort}/api/v1`;
const state = async () =>
  (await (await fetch(`${api}/state`)).json()) as { meeting: { shield: string } | null };
try {
  for (let i = 0; ; i++) {
    try {
      await state();
      break;
    } catch {
      if (i > 300) throw new Error('the daemon did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await new Promise((r) => setTimeout(r, 5000));
  emitDaemon({ phase: 'idle', runtime: 'dist' }, daemon.pid!);
  const res = await fetch(`${api}/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meetingId: m.id }),
  });
  if (!res.ok) throw new Error(`join refused: ${await res.text()}`);
  let shield = '';
  for (let i = 0; i < 600 && shield !== 'e2ee'; i++) {
    shield = (await state()).meeting?.shield ?? '';
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const params = { phase: 'meeting', runtime: 'dist', seconds: SECONDS, video: '1280x720@30 vp8', shield };
  const others = emitDaemon(params, daemon.pid!);
  emit({ name: 'daemon-rss', params: { ...params, what: 'ffmpeg children' }, value: others, unit: 'MB' });
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await h.close();
  await fsp.rm(stateDir, { recursive: true, force: true });
}
process.exit(0);
