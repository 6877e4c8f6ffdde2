/**
 * coturn for integration tests (docs/admin.md §TURN): `turnserver` with a generated minimal
 * configuration — the TURN REST API credentials (`use-auth-secret`, `static-auth-secret`), one
 * listening port for UDP and TCP, relay ports from a small range — on the given address, logging to
 * a file the test reads to see allocations. With `tls`, it also takes TURN over TLS on that port
 * (e.g. 443, the only port a strict firewall leaves open: docs/admin.md §Firewalls) with that
 * certificate; without, no TLS. With `site`, it runs inside that site of a test network
 * (test/helpers/netns.ts) through `ip netns exec`. `stop()` kills it by PID; without the binary the
 * fixture fails with a clear message, it never skips.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Site } from './netns.ts';
import { freePort } from './ports.ts';
import { stopChild } from './stop-child.ts';

export interface CoturnFixture {
  /** The address it listens on and relays from. */
  address: string;
  port: number;
  /** The TURN-over-TLS port, when started with `tls`. */
  tlsPort: number | null;
  /** The shared secret (`static-auth-secret`), for the relay's TURN settings. */
  secret: string;
  readonly pid: number;
  /** Its whole log so far. */
  log(): string;
  /**
   * TURN usernames of the allocations coturn granted (each `ALLOCATE processed, success`), and of
   * the requests it refused with a username (401 for a wrong or expired credential; the first,
   * nameless 401 of every allocation is not counted).
   */
  allocations(): { users: string[]; refused: string[] };
  /**
   * Bytes coturn relayed between each username's allocations and their peers (received + sent), from
   * the `peer usage` line it logs when an allocation ends.
   */
  relayedBytes(): Map<string, number>;
  stop(): Promise<void>;
}

let started = 0;

export interface CoturnOptions {
  /** The address it listens on and relays from (default 127.0.0.1, or the site's address). */
  address?: string;
  /** Run it inside this site of a test network. */
  site?: Site;
  /** Its UDP and TCP port (default: a free one, or 3478 in a site). */
  port?: number;
  /** Also take TURN over TLS on this port with this certificate and key (PEM files). */
  tls?: { port: number; certPath: string; keyPath: string };
}

export async function startCoturn(options: CoturnOptions = {}): Promise<CoturnFixture> {
  if (spawnSync('turnserver', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    throw new Error(
      'coturn is not installed: run `sudo bash scripts/setup-system.sh` (Debian package coturn, binary turnserver).',
    );
  }
  const site = options.site;
  const address = options.address ?? site?.address ?? '127.0.0.1';
  // A fresh site's namespace has every port free.
  const port = options.port ?? (site === undefined ? await freePort() : 3478);
  const tls = options.tls;
  const secret = randomBytes(24).toString('base64url');
  const folder = mkdtempSync(join(tmpdir(), 'roomd-coturn-'));
  const logFile = join(folder, 'turnserver.log');
  // Relay ports: a range of its own per process and fixture, away from the ephemeral ones.
  const minPort = 20_000 + (((process.pid % 100) * 4 + (started++ % 4)) % 400) * 50;
  const conf = [
    `listening-ip=${address}`,
    `relay-ip=${address}`,
    `listening-port=${port}`,
    `min-port=${minPort}`,
    `max-port=${minPort + 49}`,
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    'realm=roomd.test',
    'fingerprint',
    ...(tls === undefined
      ? ['no-tls']
      : [`tls-listening-port=${tls.port}`, `cert=${tls.certPath}`, `pkey=${tls.keyPath}`]),
    // DTLS (TURN over DTLS) is never used by the room.
    'no-dtls',
    'no-cli',
    'no-multicast-peers',
    // The relay and the test's media workers are on this machine.
    'allow-loopback-peers',
    `userdb=${join(folder, 'turndb')}`,
    `pidfile=${join(folder, 'turnserver.pid')}`,
    `log-file=${logFile}`,
    'simple-log',
    'verbose',
  ];
  const confFile = join(folder, 'turnserver.conf');
  writeFileSync(confFile, `${conf.join('\n')}\n`);
  const child: ChildProcess =
    site === undefined
      ? spawn('turnserver', ['-c', confFile], { stdio: 'ignore' })
      : site.spawn('turnserver', ['-c', confFile], { stdio: 'ignore' });
  const read = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    for (const p of tls === undefined ? [port] : [port, tls.port]) {
      await waitUntilListening(address, p, child, 10_000, site);
    }
  } catch (error) {
    const tail = read().split('\n').slice(-20).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}\n--- turnserver log ---\n${tail}`);
  }
  return {
    address,
    port,
    tlsPort: tls?.port ?? null,
    secret,
    get pid() {
      return child.pid ?? 0;
    },
    log: read,
    allocations() {
      const text = read();
      const users = [...text.matchAll(/user <([^>]*)>: incoming packet ALLOCATE processed, success/g)].map(
        (m) => m[1] ?? '',
      );
      const refused = [...text.matchAll(/user <([^>]+)>: incoming packet \w+ processed, error 401/g)].map(
        (m) => m[1] ?? '',
      );
      return { users, refused };
    },
    relayedBytes() {
      const bytes = new Map<string, number>();
      for (const m of read().matchAll(
        /peer usage: realm=<[^>]*>, username=<([^>]*)>, rp=\d+, rb=(\d+), sp=\d+, sb=(\d+)/g,
      )) {
        const user = m[1] ?? '';
        bytes.set(user, (bytes.get(user) ?? 0) + Number(m[2]) + Number(m[3]));
      }
      return bytes;
    },
    stop,
  };
}

/**
 * Waits until turnserver accepts TCP connections on a port (it listens for UDP and TCP at once); in
 * a site, until a socket listens there (`ss`: the test may have no route into the site).
 */
async function waitUntilListening(
  address: string,
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  site?: Site,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`turnserver exited with ${child.exitCode} before listening`);
    const ok = site === undefined ? await accepts(address, port) : await listensIn(site, address, port);
    if (ok) return;
    if (Date.now() > until)
      throw new Error(`turnserver did not listen on ${address}:${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function listensIn(site: Site, address: string, port: number): Promise<boolean> {
  const { stdout } = await site.exec('ss', ['-Htln', `src ${address}:${port}`]);
  return stdout.trim() !== '';
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = createConnection({ host: address, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
