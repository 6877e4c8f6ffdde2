/**
 * A room behind a strict firewall (docs/admin.md §Firewalls): no UDP at all, TCP only to the
 * customer's HTTP proxy (tinyproxy, Basic authentication, CONNECT to 443 only). The meeting service
 * (`roomd relay serve` with TLS on 443, a test CA's certificate) and coturn (TURN over TLS on 443 and
 * plain TURN on 3478) are in `svc`; a far-end bot in `far` has an open network. The real room daemon
 * (`roomd run`) in `room`, set up with the service's wss:// URL, the proxy and the service's key pin
 * (meetingService.tlsPin), reaches the service through the proxy, goes secure with the bot (same
 * security code), sends and receives video through TURN over TLS through the proxy, and says so:
 * `turn-tls-proxy` in /api/v1/state and in roomd_media_path of /metrics.
 */
import type { ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SETTINGS_VERSION } from '../../../src/config/schema.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import { type CoturnFixture, startCoturn } from '../../helpers/coturn.ts';
import { createNetwork, type Network, type Site, waitUntil } from '../../helpers/netns.ts';
import { makeCa, spkiSha256, type TestCa } from '../../helpers/test-ca.ts';
import { startTinyproxy, type TinyproxyFixture } from '../../helpers/tinyproxy.ts';

const BIN = path.resolve(import.meta.dirname, '../../../bin/roomd.js');
const ADMIN_PASSWORD = 'correct horse battery staple';

let net: Network;
let svc: Site;
let room: Site;
let far: Site;
/** The meeting service's CA: the room trusts its key by the pin alone. */
let serviceCa: TestCa;
/** coturn's CA: in the room's system store, as a public CA would be. */
let turnCa: TestCa;
let turn: CoturnFixture;
let proxy: TinyproxyFixture;
let dir: string;
let turnAddress: string;
let relayToken: string;
let meetingId: string;
const children: { name: string; child: ChildProcess; output: () => string }[] = [];

/** Starts a process in a site, keeping its output for failure messages. */
function start(site: Site, name: string, args: string[], env: Record<string, string> = {}) {
  const child = site.spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const entry = { name, child, output: () => out };
  children.push(entry);
  return entry;
}

/** A JSON request over HTTPS, trusting `ca` (or, for the room's self-signed admin API, anything). */
function https(
  url: string,
  o: { method?: string; body?: unknown; token?: string; ca?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = httpsRequest(
      url,
      {
        method: o.method ?? 'GET',
        ...(o.ca === undefined ? { rejectUnauthorized: false } : { ca: o.ca }),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(o.token === undefined ? {} : { authorization: `Bearer ${o.token}` }),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.end(body);
  });
}

interface RoomStateView {
  setup: { setupCode: string } | null;
  meeting: {
    status?: string;
    shield: string;
    securityCode: string | null;
    mediaPath?: string | null;
  } | null;
  errors: { code: string; message: string }[];
}

const kiosk = () => `http://${room.address}:8080`;

async function roomState(): Promise<RoomStateView> {
  const res = await fetch(`${kiosk()}/api/v1/state`);
  return (await res.json()) as RoomStateView;
}

/** The room's state if the kiosk answers, else null (it is still starting). */
async function roomStateOrNull(): Promise<RoomStateView | null> {
  try {
    return await roomState();
  } catch (error) {
    if ((error as Error).name === 'TypeError') return null;
    throw error;
  }
}

const digits = (code: string | null | undefined) => (code ?? '').replace(/\D/g, '');

function failureContext(): string {
  return children.map((c) => `--- ${c.name} ---\n${c.output().split('\n').slice(-25).join('\n')}`).join('\n');
}

beforeAll(async () => {
  net = await createNetwork({ sites: ['svc', 'room', 'far', 'proxy'], mgmt: true });
  svc = net.site('svc');
  room = net.site('room');
  far = net.site('far');
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-only443-'));
  // The relay and coturn both take 443: coturn gets an address of its own in svc.
  turnAddress = await svc.addAddress();
  serviceCa = makeCa();
  turnCa = makeCa();
  const cert = serviceCa.issue({ ip: [svc.address] });
  const turnCert = turnCa.issue({ ip: [turnAddress] });
  room.trustCa([turnCa.certPem]);
  far.trustCa([serviceCa.certPem, turnCa.certPem]);
  turn = await startCoturn({
    site: svc,
    address: turnAddress,
    port: 3478,
    tls: { port: 443, certPath: turnCert.certPath, keyPath: turnCert.keyPath },
  });
  proxy = await startTinyproxy(net.site('proxy'), { user: 'roomd', password: 'proxy-pass', port: 3128 });

  const secretFile = path.join(dir, 'turn-secret');
  await fsp.writeFile(secretFile, `${turn.secret}\n`, { mode: 0o600 });
  const relayState = path.join(dir, 'relay');
  const relay = start(svc, 'relay', [
    BIN,
    'relay',
    'serve',
    '--host',
    svc.address,
    '--port',
    '443',
    '--cert',
    cert.certPath,
    '--key',
    cert.keyPath,
    '--state-dir',
    relayState,
    '--turn-secret-file',
    secretFile,
    '--turn-url',
    `turns:${turnAddress}:443?transport=tcp`,
    '--turn-url',
    `turn:${turnAddress}:3478?transport=udp`,
  ]);
  await waitUntil(
    () => {
      if (relay.child.exitCode !== null) throw new Error(`relay exited:\n${relay.output()}`);
      return relay.output().includes('"event":"listening"');
    },
    'the relay listening on 443',
    20_000,
  );
  // The room: UDP dropped, TCP only to the proxy.
  await room.blockAllBut({ tcp: [{ host: proxy.address, port: proxy.port }] });
  const roomState = path.join(dir, 'room');
  await fsp.mkdir(roomState, { recursive: true, mode: 0o700 });
  await fsp.writeFile(
    path.join(roomState, 'settings.json'),
    JSON.stringify({
      schemaVersion: SETTINGS_VERSION,
      // The test reaches the room screen's API over the network's management link.
      kiosk: { host: '0.0.0.0', port: 8080, allowRemote: true },
      admin: { host: '0.0.0.0', port: 8443 },
      meetingService: {
        url: `wss://${svc.address}:443/v1/signal`,
        // The user in the address, the password in its own write-only setting.
        proxy: `http://roomd@${proxy.address}:${proxy.port}`,
        proxyPassword: 'proxy-pass',
        tlsPin: spkiSha256(cert.certPem),
      },
      media: { width: 320, height: 180, framerate: 15, videoBitrateKbps: 300 },
      // Nobody here is certified by an organization: the shield is green once keys are exchanged.
      encryption: { unverifiedParticipants: 'allow' },
    }),
  );
  const daemon = start(room, 'room', [BIN, 'run', '--state-dir', roomState]);
  await waitUntil(
    async () => {
      if (daemon.child.exitCode !== null) throw new Error(`the room daemon exited:\n${daemon.output()}`);
      return (await roomStateOrNull()) !== null;
    },
    'the room screen API',
    30_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${failureContext()}`);
  });
  const identity = JSON.parse(await fsp.readFile(path.join(roomState, 'identity.json'), 'utf8')) as {
    publicKey: string;
  };
  relayToken = (await fsp.readFile(path.join(relayState, 'admin-token'), 'utf8')).trim();
  const created = await https(`https://${svc.address}/api/v1/meetings`, {
    method: 'POST',
    token: relayToken,
    ca: serviceCa.certPem,
    body: {
      // The room hosts it: its device identity key.
      hostIdentityKey: toBase64Url(Buffer.from(identity.publicKey, 'base64')),
      title: 'Only 443',
      encryption: 'e2ee',
    },
  });
  if (created.status !== 201) throw new Error(`meeting not created: ${created.status} ${created.text}`);
  meetingId = (JSON.parse(created.text) as { id: string }).id;
}, 120_000);

afterAll(async () => {
  for (const { child } of children) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
  }
  await proxy?.stop();
  await turn?.stop();
  await net?.close();
  serviceCa?.close();
  turnCa?.close();
  if (dir !== undefined) await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

it('a room with only the proxy open goes secure with a far end and exchanges video through TURN over TLS through the proxy', async () => {
  // The far end: a bot on an open network, trusting both CAs (its system store).
  const bot = start(far, 'bot', [
    BIN,
    'bot',
    '--relay',
    `wss://${svc.address}:443/v1/signal`,
    '--meeting',
    meetingId,
    // Real VP8 and Opus, as the room sends: every frame the bot decrypts counts.
    '--media',
    'ffmpeg',
    '--name',
    'Far end',
    '--report',
    '1',
  ]);
  // Claim the room for an admin token: /metrics is on its admin API.
  const setup = await https(`https://${room.address}:8443/api/v1/claim`, {
    method: 'POST',
    body: { setupCode: (await claimCode()) ?? '', password: ADMIN_PASSWORD, tokenName: 'network test' },
  });
  expect(setup.status, setup.text).toBe(200);
  const adminToken = (JSON.parse(setup.text) as { token: string }).token;
  const metrics = async (): Promise<string> => {
    const res = await https(`https://${room.address}:8443/metrics`, { token: adminToken });
    if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${res.text}`);
    return res.text;
  };
  const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? 0);
  const roomVideoIn = async () =>
    metric(await metrics(), /^roomd_media_frames_received_total\{kind="video"\} (\d+)$/m);

  const join = await fetch(`${kiosk()}/api/v1/join`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meetingId }),
  });
  expect(join.status, await join.text()).toBeLessThan(300);

  type BotLine = {
    event: string;
    status?: string;
    shield?: string;
    securityCode?: string | null;
    participantId?: string;
    received?: Record<string, { ok: number; bad: number }>;
  };
  const botLines = (): BotLine[] =>
    bot
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as BotLine);
  const lastReport = () =>
    botLines()
      .filter((l) => l.event === 'report')
      .at(-1);

  // Both secure, with the same security code.
  try {
    await waitUntil(
      async () => {
        const s = await roomState();
        const b = lastReport();
        return (
          s.meeting?.shield === 'e2ee' &&
          b?.shield === 'e2ee' &&
          digits(s.meeting.securityCode) !== '' &&
          digits(s.meeting.securityCode) === digits(b.securityCode)
        );
      },
      'the room and the far end secure with the same security code',
      60_000,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\n${JSON.stringify((await roomState()).meeting)}\n${failureContext()}`,
    );
  }

  // Video both ways: the room receives the bot's frames whole, the bot decrypts the room's.
  const botVideoFromRoom = () => {
    const b = lastReport();
    return Object.entries(b?.received ?? {})
      .filter(([key]) => key.endsWith('/video'))
      .reduce((n, [, c]) => n + c.ok, 0);
  };
  try {
    await waitUntil(
      async () => (await roomVideoIn()) > 30 && botVideoFromRoom() > 30,
      'video frames decrypted both ways',
      60_000,
    );
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nroom video in ${await roomVideoIn()}; bot ${JSON.stringify(lastReport())}\n${failureContext()}`,
    );
  }
  // And keeps flowing (not a first burst that stalls).
  const [roomBefore, botBefore] = [await roomVideoIn(), botVideoFromRoom()];
  await waitUntil(
    async () => (await roomVideoIn()) > roomBefore + 30 && botVideoFromRoom() > botBefore + 30,
    'video still flowing both ways',
    30_000,
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}: room video in ${await roomVideoIn()}, bot ${JSON.stringify(lastReport())}`,
    );
  });
  expect(Object.values(lastReport()?.received ?? {}).reduce((n, c) => n + c.bad, 0)).toBe(0);

  // The room says how its media goes, on its screen API and in its metrics.
  const state = await roomState();
  expect(state.meeting?.mediaPath).toBe('turn-tls-proxy');
  const text = await metrics();
  expect(text).toMatch(/^roomd_media_path\{path="turn-tls-proxy"\} 1$/m);
  expect(text).not.toMatch(/^roomd_media_path\{path="(?!turn-tls-proxy)[^"]*"\} 1$/m);

  // The proxy carried it: CONNECTs to the service and to coturn's TLS port, both on 443.
  expect(proxy.connects()).toContain(`${svc.address}:443`);
  expect(proxy.connects()).toContain(`${turnAddress}:443`);
  expect(proxy.established()).toEqual(expect.arrayContaining([svc.address, turnAddress]));
  // And coturn gave the room an allocation over it.
  expect(turn.allocations().users.length).toBeGreaterThan(0);
  // The room did try other ways out (UDP to the TURN server, at least), and the firewall dropped them.
  expect(await room.droppedOut()).toBeGreaterThan(0);
}, 180_000);

/** The room's one-time setup code, from its screen's state (null once claimed). */
async function claimCode(): Promise<string | null> {
  return (await roomState()).setup?.setupCode ?? null;
}
