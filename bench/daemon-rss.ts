/**
 * daemon-rss (issue 5): resident memory of the `roomd run` process — idle, and after
 * BENCH_SECONDS (default 60) in an E2EE meeting sending 720p30 VP8 + Opus from the synthetic camera
 * and microphone and receiving a far-end participant. ffmpeg children are separate processes and
 * are reported separately. Goal: ≤ 150 MB in a meeting. Measures what ships: the daemon built to
 * dist/ (`npm run build`, done here first), not the TypeScript sources run through tsx.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
const childrenRssMb = (pid: number) => {
  const out = execFileSync('ps', ['-o', 'rss=', '--ppid', String(pid)], { encoding: 'utf8' }).trim();
  return out === '' ? 0 : out.split('\n').reduce((s, l) => s + Number(l) / 1024, 0);
};

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
  emit({
    name: 'daemon-rss',
    params: { phase: 'idle', runtime: 'dist' },
    value: rssMb(daemon.pid!),
    unit: 'MB',
  });
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
  emit({ name: 'daemon-rss', params, value: rssMb(daemon.pid!), unit: 'MB' });
  emit({
    name: 'daemon-rss',
    params: { ...params, what: 'ffmpeg children' },
    value: childrenRssMb(daemon.pid!),
    unit: 'MB',
  });
} finally {
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await h.close();
  await fsp.rm(stateDir, { recursive: true, force: true });
}
process.exit(0);
