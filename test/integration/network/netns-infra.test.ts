/**
 * The network fixtures themselves (test/helpers/netns.ts, tinyproxy.ts): a room fenced to the proxy
 * alone (docs/admin.md §Firewalls) sends no UDP and opens no TCP connection but the proxy's; through
 * tinyproxy it reaches port 443 with the right password only, and port 443 only; a tbf uplink limit
 * slows a bulk transfer; a random drop loses datagrams; `close()` leaves nothing behind.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/meeting-harness.ts';
import { createNetwork, type Network, networkGone, type Site, waitUntil } from '../../helpers/netns.ts';
import { startTinyproxy, type TinyproxyFixture } from '../../helpers/tinyproxy.ts';

const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const nodeArgs = (...args: string[]) => ['--import', 'tsx', PROBE, ...args];

/** Runs a probe in a site and returns the JSON line it printed. */
async function probe<T>(site: Site, ...args: string[]): Promise<T> {
  const { stdout } = await site.exec(process.execPath, nodeArgs(...args), { timeoutMs: 30_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
}

/** Starts a long-running probe in a site and waits for its {"ready":true} line. */
async function startProbe(site: Site, ...args: string[]): Promise<ChildProcess> {
  const child = site.spawn(process.execPath, nodeArgs(...args), {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`probe ${args[0]} exited: ${err}`);
      return out.includes('"ready":true');
    },
    `probe ${args[0]} ready in ${site.name}`,
    15_000,
  );
  return child;
}

let net: Network;
let proxy: TinyproxyFixture;
let svc: Site;
let room: Site;
let far: Site;

/** The UDP datagrams the svc probe counted, by tag (asked over the management link). */
async function udpCounts(): Promise<Record<string, number>> {
  const res = await fetch(`http://${svc.address}:8080/udp`);
  return (await res.json()) as Record<string, number>;
}

beforeAll(async () => {
  net = await createNetwork({ sites: ['svc', 'room', 'far', 'proxy'], mgmt: true });
  svc = net.site('svc');
  room = net.site('room');
  far = net.site('far');
  await startProbe(svc, 'serve');
  proxy = await startTinyproxy(net.site('proxy'), { user: 'roomd', password: 'correct-horse', port: 3128 });
  await room.blockAllBut({ tcp: [{ host: proxy.address, port: proxy.port }] });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await net?.close();
});

describe('a room fenced to the proxy', () => {
  it('sends no UDP: datagrams to svc never arrive, while the same from an open site do', async () => {
    const fromRoom = await probe<{ sent: number; errors: number }>(
      room,
      'udp',
      svc.address,
      '5000',
      '20',
      'room',
    );
    // The firewall drops them on the way out: the sender is told (EPERM), nothing leaves.
    expect(fromRoom.sent + fromRoom.errors).toBe(20);
    await probe(far, 'udp', svc.address, '5000', '5', 'far-marker');
    await waitUntil(async () => ((await udpCounts())['far-marker'] ?? 0) >= 1, 'the open site’s datagrams');
    expect((await udpCounts())['room'] ?? 0).toBe(0);
  });

  it('opens no TCP connection to svc:443 directly', async () => {
    const r = await probe<{ ok: boolean; code?: string }>(room, 'tcp', svc.address, '443', '3000');
    expect(r.ok).toBe(false);
    expect(['EPERM', 'ETIMEDOUT', 'ECONNREFUSED']).toContain(r.code);
    // The same connection from an open site works: it is the firewall, not the server.
    expect(await probe(far, 'tcp', svc.address, '443', '3000')).toEqual({ ok: true });
  });

  it('reaches svc:443 through tinyproxy with the right password, and is refused with a wrong one or none', async () => {
    const target = `${svc.address}:443`;
    const before = proxy.connects().length;
    expect(
      await probe(room, 'connect', proxy.address, `${proxy.port}`, target, 'roomd:correct-horse'),
    ).toEqual({
      status: 200,
      echoed: true,
    });
    // tinyproxy 1.11 answers a wrong password with 401 (not 407), and no credentials with 407.
    expect(await probe(room, 'connect', proxy.address, `${proxy.port}`, target, 'roomd:wrong')).toEqual({
      status: 401,
      echoed: false,
    });
    expect(await probe(room, 'connect', proxy.address, `${proxy.port}`, target, '-')).toEqual({
      status: 407,
      echoed: false,
    });
    await waitFor(() => proxy.connects().length - before >= 3, 'tinyproxy logging the three CONNECTs');
    expect(proxy.connects().slice(before)).toEqual([target, target, target]);
    expect(proxy.established()).toContain(svc.address);
  });

  it('is refused a CONNECT to any port but 443', async () => {
    const r = await probe<{ status: number; echoed: boolean }>(
      room,
      'connect',
      proxy.address,
      `${proxy.port}`,
      `${svc.address}:9000`,
      'roomd:correct-horse',
    );
    expect(r).toEqual({ status: 403, echoed: false });
  });

  it('accepts connections from the test, and from no other site', async () => {
    await startProbe(room, 'listen', '7000');
    const socket = createConnection({ host: room.address, port: 7000 });
    await once(socket, 'connect');
    socket.destroy();
    const r = await probe<{ ok: boolean; code?: string }>(far, 'tcp', room.address, '7000', '1500');
    expect(r).toEqual({ ok: false, code: 'ETIMEDOUT' });
  });
});

describe('thin and lossy uplinks', () => {
  it('a tbf limit slows a bulk transfer, and clearing it restores the speed', async () => {
    const bytes = `${2 * 1024 * 1024}`;
    type Bulk = { bytes: number; ms: number; kbit: number };
    const open = await probe<Bulk>(far, 'bulk', svc.address, '9000', bytes);
    expect(open.bytes).toBe(2 * 1024 * 1024);
    await far.limitUplink({ rateKbit: 16_000 });
    const limited = await probe<Bulk>(far, 'bulk', svc.address, '9000', bytes);
    expect(limited.bytes).toBe(2 * 1024 * 1024);
    expect(limited.kbit / open.kbit).toBeLessThan(0.6);
    // The bucket's rate is the ceiling (its burst and TCP's warm-up aside).
    expect(limited.kbit / 16_000).toBeLessThan(1.3);
    await far.clearLimit();
    const again = await probe<Bulk>(far, 'bulk', svc.address, '9000', bytes);
    expect(limited.kbit / again.kbit).toBeLessThan(0.6);
  });

  it('a random drop loses some datagrams and not all', async () => {
    await far.dropRandom(50);
    await probe(far, 'udp', svc.address, '5000', '200', 'lossy');
    await far.clearDrop();
    await probe(far, 'udp', svc.address, '5000', '3', 'lossy-marker');
    await waitUntil(
      async () => ((await udpCounts())['lossy-marker'] ?? 0) >= 1,
      'the datagrams after the drop',
    );
    const got = (await udpCounts())['lossy'] ?? 0;
    // Binomial(200, 0.5): outside 40..160 has a chance far below 1e-15.
    expect(got).toBeGreaterThan(40);
    expect(got).toBeLessThan(160);
  });
});

it('close() kills what runs in the sites and leaves no namespace or link behind', async () => {
  const other = await createNetwork({ sites: ['a', 'b'], mgmt: true });
  const names = [other.core, other.site('a').namespace, other.site('b').namespace];
  const child = await startProbe(other.site('a'), 'listen', '7001');
  const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const ns of names) expect(listed).toContain(ns);
  await other.close();
  expect(child.exitCode !== null || child.signalCode !== null).toBe(true);
  const after = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const ns of names) expect(after).not.toContain(`${ns} `);
  expect(after.split('\n').map((l) => l.split(' ')[0])).not.toContain(other.core);
  expect(networkGone(other)).toBe(true);
  await other.close();
});
