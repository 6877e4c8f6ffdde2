/**
 * Hostile soak (`npm run soak:hostile -- --minutes 30`; not part of `npm run bench` or `npm test`):
 * two demo appliances side by side, each in an E2EE meeting with its simulated far-end people. One
 * of them is hammered by a bounded hostile neighbour on every surface it exposes — the relay's
 * signalling socket, its media channel (as a member of the other meeting), its management API, the
 * kiosk API and live socket, the admin API, and garbage from its serial devices — while the other
 * runs the same meeting in peace. Every few seconds both rooms' shields and resident memory are read.
 *
 * It passes when the attacked appliance is alive at the end, its shield was `e2ee` at every sample,
 * the attacker's meeting changes never reached the room's schedule, and its RSS over the second
 * half of the attack is within 10 % of the quiet appliance's. Figures are JSON lines (bench/_lib.ts);
 * the verdict and per-surface counts go to stderr. docs/benchmarks.md "Hostile soak".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { RelayClient } from '../../src/transport/relay-client.ts';
import { WrtcPeerConnectionFactory } from '../../src/transport/wrtc-peer.ts';
import { emit, percentile } from '../_lib.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'warmup-seconds': { type: 'string', default: '60' },
    rate: { type: 'string', default: '40' },
  },
});
const MINUTES = Number(args.minutes);
const WARMUP_S = Number(args['warmup-seconds']);
/** Hostile actions started per second (each is bounded: a few messages or one request). */
const RATE = Number(args.rate);
/** Sockets the attacker holds open at once (idle, half-open), at most. */
const MAX_HELD = 24;
const SAMPLE_MS = 5000;

interface Ready {
  pid: number;
  kiosk: string;
  admin: string;
  signalUrl: string;
  relayHttp: string;
  e2eeMeeting: string;
  enhancedMeeting: { id: string; passcode: string | null };
  roomDeviceId: string;
}

const root = path.resolve(import.meta.dirname, '../..');

function startChild(hostileDevices: boolean): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'bench/soak/_demo-child.ts'),
      ...(hostileDevices ? ['--hostile-devices'] : []),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!line.startsWith('{"ready"')) return;
      resolve({ child, ready: (JSON.parse(line) as { ready: Ready }).ready });
    });
    child.once('exit', (code) => reject(new Error(`a demo child exited early (${code})`)));
  });
}

const rssMb = (pid: number): number | null => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return null; // the process is gone
  }
};

async function shieldOf(kiosk: string): Promise<string> {
  try {
    const s = (await (
      await fetch(`${kiosk}/api/v1/state`, { signal: AbortSignal.timeout(4000) })
    ).json()) as {
      meeting?: { shield?: string } | null;
    };
    return s.meeting?.shield ?? 'none';
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  }
}

async function scheduleTitles(kiosk: string): Promise<string[]> {
  const s = (await (await fetch(`${kiosk}/api/v1/state`)).json()) as { schedule?: { title: string }[] };
  return (s.schedule ?? []).map((m) => m.title);
}

// ---------------------------------------------------------------------------------------------
// The attacker. Every action is small and bounded; outcomes are counted per surface.

const counts: Record<string, { sent: number; refused: number; other: number }> = {};
function count(surface: string, outcome: 'sent' | 'refused' | 'other'): void {
  counts[surface] ??= { sent: 0, refused: 0, other: 0 };
  counts[surface][outcome]++;
}

function deepJson(depth: number): string {
  return `{"v":${'['.repeat(depth)}${']'.repeat(depth)},"type":"ping","id":1}`;
}

const held = new Set<WebSocket>();

function wsAction(url: string, run: (ws: WebSocket) => void, hold = false, autoPong = true): void {
  if (hold && held.size >= MAX_HELD) return;
  const ws = new WebSocket(url, { autoPong });
  ws.on('error', () => {});
  ws.on('unexpected-response', () => count('relay-signal', 'refused'));
  ws.once('open', () => {
    count('relay-signal', 'sent');
    run(ws);
    if (hold) held.add(ws);
    else setTimeout(() => ws.terminate(), 500).unref();
  });
  ws.once('close', () => {
    held.delete(ws);
    if (hold) count('relay-signal-held-closed-by-relay', 'refused');
  });
}

function relaySignalAttack(r: Ready, n: number): void {
  const url = r.signalUrl;
  const kind = n % 8;
  if (kind === 0) wsAction(url, (ws) => ws.send(deepJson(5000)));
  else if (kind === 1) wsAction(url, (ws) => ws.send(randomBytes(512).toString('latin1')));
  else if (kind === 2) wsAction(url, (ws) => ws.send(randomBytes(256), { binary: true }));
  else if (kind === 3)
    wsAction(url, (ws) => ws.send(`{"v":1,"type":"ping","id":1,"x":"${'a'.repeat(300_000)}"}`));
  else if (kind === 4)
    wsAction(url, (ws) => {
      for (let i = 0; i < 500; i++) ws.send(`{"v":1,"type":"ping","id":${i}}`);
    });
  else if (kind === 5)
    wsAction(url, (ws) =>
      ws.send(
        JSON.stringify({
          v: 1,
          type: 'join',
          meetingId: r.e2eeMeeting,
          passcode: String(100000 + (n % 900000)),
          displayName: 'Guess',
          client: 'desktop',
          protocol: 1,
          deviceId: r.roomDeviceId,
        }),
      ),
    );
  else if (kind === 6) wsAction(url, () => {}, true);
  else wsAction(url, () => {}, true, false);
}

async function relayApiAttack(r: Ready, n: number): Promise<void> {
  const base = `${r.relayHttp}/api/v1`;
  const attempts: [string, string, unknown][] = [
    ['GET', '/meetings', undefined],
    [
      'POST',
      '/meetings',
      {
        title: 'IT NOTICE: call 555-0100',
        room: r.roomDeviceId,
        hostIdentityKey: randomBytes(32).toString('base64url'),
        encryption: 'enhanced',
      },
    ],
    ['DELETE', `/meetings/${r.e2eeMeeting}`, undefined],
    ['PATCH', '/accounts/default', { allowE2ee: false }],
    ['POST', '/meetings', JSON.parse(`{"a":${'['.repeat(2000)}${']'.repeat(2000)}}`)],
  ];
  const [method, p, body] = attempts[n % attempts.length]!;
  try {
    const res = await fetch(`${base}${p}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(4000),
    });
    count('relay-api', res.status === 401 || res.status === 403 ? 'refused' : 'other');
    await res.arrayBuffer();
  } catch {
    count('relay-api', 'other');
  }
}

async function kioskAttack(r: Ready, n: number): Promise<void> {
  const kind = n % 4;
  if (kind === 0) {
    const ws = new WebSocket(`${r.kiosk.replace(/^http/, 'ws')}/api/v1/live`, { origin: 'null' });
    ws.on('error', () => {});
    ws.on('unexpected-response', () => count('kiosk-live-null-origin', 'refused'));
    ws.once('open', () => {
      count('kiosk-live-null-origin', 'other');
      ws.terminate();
    });
    return;
  }
  const bodies = ['{"meetingId":', deepJson(3000), JSON.stringify({ meetingId: 'x'.repeat(10_000) }), '[]'];
  try {
    const res = await fetch(`${r.kiosk}/api/v1/${kind === 1 ? 'join' : kind === 2 ? 'ptz' : 'volume'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: kind === 1 ? 'null' : 'https://evil.example' },
      body: bodies[n % bodies.length] ?? '[]',
      signal: AbortSignal.timeout(4000),
    });
    count('kiosk-api', res.status >= 400 ? 'refused' : 'other');
    await res.arrayBuffer();
  } catch {
    count('kiosk-api', 'other');
  }
}

function adminAttack(r: Ready, n: number): Promise<void> {
  const u = new URL(r.admin);
  const requests: [string, string, string | undefined, Record<string, string>][] = [
    [
      'POST',
      '/api/v1/login',
      JSON.stringify({ password: `guess-${n}-${randomBytes(4).toString('hex')}` }),
      {},
    ],
    ['POST', '/api/v1/claim', JSON.stringify({ setupCode: '0000-0000', password: 'x'.repeat(12) }), {}],
    [
      'GET',
      '/api/v1/settings',
      undefined,
      { authorization: `Bearer rmd_${randomBytes(16).toString('hex')}` },
    ],
    ['POST', '/api/v1/provision', deepJson(3000), {}],
    ['PATCH', '/api/v1/settings', '{"kiosk":{"allowRemote":true}}', {}],
  ];
  const [method, p, body, headers] = requests[n % requests.length]!;
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: u.hostname,
        port: u.port,
        path: p,
        method,
        rejectUnauthorized: false,
        timeout: 4000,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      },
      (res) => {
        count('admin-api', (res.statusCode ?? 0) >= 400 ? 'refused' : 'other');
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', () => {
      count('admin-api', 'other');
      resolve();
    });
    req.on('timeout', () => req.destroy());
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A member of the other (enhanced) meeting on the same relay, sending garbage on every channel it has. */
async function startHostileMember(r: Ready): Promise<{ tick(n: number): void; close(): Promise<void> }> {
  const peers = new WrtcPeerConnectionFactory();
  const client = new RelayClient({
    url: r.signalUrl,
    peers,
    reconnect: true,
    join: () => ({
      meetingId: r.enhancedMeeting.id,
      ...(r.enhancedMeeting.passcode === null ? {} : { passcode: r.enhancedMeeting.passcode }),
      displayName: 'Hostile member',
      client: 'web',
      protocol: 0,
      deviceId: `hostile-${randomBytes(4).toString('hex')}`,
    }),
  });
  client.start();
  return {
    tick(n: number) {
      try {
        if (n % 3 === 0) {
          const chunk = randomBytes(16 + (n % 1200));
          if (n % 2 === 0) chunk.writeUInt16BE(0xffff, 8); // an absurd chunk count in a header-looking spot
          if (client.sendChunks([new Uint8Array(chunk)])) count('relay-media', 'sent');
        } else if (n % 3 === 1) {
          client.sendE2ee('all', randomBytes(300).toString('base64url'));
          count('relay-e2ee-envelope', 'sent');
        } else {
          client.requestKeyframe(String(1 + (n % 50)), n % 8);
          count('relay-keyframe-request', 'sent');
        }
      } catch {
        count('relay-media', 'other'); // not admitted yet, or reconnecting
      }
    },
    close: () => client.close(),
  };
}

// ---------------------------------------------------------------------------------------------

const started = Date.now();
const [attacked, quiet] = [await startChild(true), await startChild(false)];
const children = [attacked.child, quiet.child];
let attackedDied: string | null = null;
attacked.child.once('exit', (code, signal) => {
  attackedDied = `exit ${code ?? signal}`;
});
const stopAll = () => {
  for (const c of children)
    try {
      process.kill(-c.pid!, 'SIGTERM');
    } catch {
      /* already gone */
    }
};
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});

async function untilGreen(kiosk: string): Promise<void> {
  const until = Date.now() + 180_000;
  while ((await shieldOf(kiosk)) !== 'e2ee') {
    if (Date.now() > until) throw new Error(`${kiosk} never showed the e2ee shield`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
await Promise.all([untilGreen(attacked.ready.kiosk), untilGreen(quiet.ready.kiosk)]);
process.stderr.write(
  `[soak] both rooms green after ${Math.round((Date.now() - started) / 1000)} s; warm-up ${WARMUP_S} s\n`,
);

interface Sample {
  t: number;
  attack: boolean;
  shieldA: string;
  shieldQ: string;
  rssA: number | null;
  rssQ: number | null;
}
const samples: Sample[] = [];
let attacking = false;
const sampler = setInterval(() => {
  void Promise.all([shieldOf(attacked.ready.kiosk), shieldOf(quiet.ready.kiosk)]).then(([a, q]) =>
    samples.push({
      t: Date.now(),
      attack: attacking,
      shieldA: a,
      shieldQ: q,
      rssA: rssMb(attacked.ready.pid),
      rssQ: rssMb(quiet.ready.pid),
    }),
  );
}, SAMPLE_MS);

await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
const member = await startHostileMember(attacked.ready);
// The quiet appliance gets the same extra member in its other meeting, sending nothing: the RSS
// comparison then weighs the attack, not one more participant's peer connection.
const bystander = await startHostileMember(quiet.ready);
attacking = true;
const attackStart = Date.now();
process.stderr.write(`[soak] attacking for ${MINUTES} min at ${RATE} actions/s\n`);
let n = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    if (Date.now() - attackStart >= MINUTES * 60_000 || attackedDied !== null) {
      clearInterval(timer);
      resolve();
      return;
    }
    for (let i = 0; i < Math.max(1, Math.round(RATE / 10)); i++) {
      n++;
      const r = attacked.ready;
      switch (n % 5) {
        case 0:
          relaySignalAttack(r, Math.floor(n / 5));
          break;
        case 1:
          void relayApiAttack(r, Math.floor(n / 5));
          break;
        case 2:
          void kioskAttack(r, Math.floor(n / 5));
          break;
        case 3:
          void adminAttack(r, Math.floor(n / 5));
          break;
        default:
          member.tick(Math.floor(n / 5));
      }
    }
  }, 100);
});
attacking = false;
for (const ws of held) ws.terminate();
await member.close();
await bystander.close();
await new Promise((r) => setTimeout(r, SAMPLE_MS + 500));
clearInterval(sampler);

const alive = attackedDied === null && rssMb(attacked.ready.pid) !== null;
const titles = alive ? await scheduleTitles(attacked.ready.kiosk) : [];
const attackSamples = samples.filter((s) => s.attack);
const notGreenA = attackSamples.filter((s) => s.shieldA !== 'e2ee');
const notGreenQ = attackSamples.filter((s) => s.shieldQ !== 'e2ee');
const secondHalf = attackSamples.slice(Math.floor(attackSamples.length / 2));
const median = (xs: (number | null)[]) =>
  percentile(
    xs.filter((x): x is number => x !== null),
    50,
  );
const rssA = median(secondHalf.map((s) => s.rssA));
const rssQ = median(secondHalf.map((s) => s.rssQ));
const ratio = rssA / rssQ;
stopAll();

const params = { minutes: MINUTES, actionsPerSecond: RATE, load: (await import('node:os')).loadavg()[0] };
emit({ name: 'hostile-soak-actions', params, value: n, unit: 'actions' });
emit({
  name: 'hostile-soak-attacked-samples-not-e2ee',
  params: { ...params, samples: attackSamples.length },
  value: notGreenA.length,
  unit: 'samples',
});
emit({
  name: 'hostile-soak-quiet-samples-not-e2ee',
  params: { ...params, samples: attackSamples.length },
  value: notGreenQ.length,
  unit: 'samples',
});
emit({ name: 'hostile-soak-attacked-rss-median-second-half', params, value: rssA, unit: 'MB' });
emit({ name: 'hostile-soak-quiet-rss-median-second-half', params, value: rssQ, unit: 'MB' });
emit({
  name: 'hostile-soak-rss-attacked-over-quiet',
  params,
  value: ratio,
  unit: 'ratio',
  baseline: rssQ,
  ratio,
});
process.stderr.write(`[soak] per surface: ${JSON.stringify(counts)}\n`);
if (notGreenA.length > 0)
  process.stderr.write(`[soak] attacked room not green at: ${JSON.stringify(notGreenA.slice(0, 5))}\n`);
if (notGreenQ.length > 0)
  process.stderr.write(`[soak] quiet room not green at: ${JSON.stringify(notGreenQ.slice(0, 5))}\n`);
const injected = titles.filter((t) => t.startsWith('IT NOTICE'));
const problems = [
  ...(alive ? [] : [`the attacked appliance died (${attackedDied ?? 'gone'})`]),
  ...(notGreenA.length > 0
    ? [`the attacked room was not e2ee at ${notGreenA.length} of ${attackSamples.length} samples`]
    : []),
  ...(injected.length > 0 ? ['an attacker-made meeting reached the room schedule'] : []),
  ...((counts['kiosk-live-null-origin']?.other ?? 0) > 0
    ? ['a null-origin page opened the kiosk live socket']
    : []),
  ...(ratio > 1.1
    ? [`attacked RSS ${rssA.toFixed(1)} MB is more than 10 % over the quiet ${rssQ.toFixed(1)} MB`]
    : []),
];
process.stderr.write(problems.length === 0 ? '[soak] PASS\n' : `[soak] FAIL: ${problems.join('; ')}\n`);
process.exit(problems.length === 0 ? 0 : 1);
