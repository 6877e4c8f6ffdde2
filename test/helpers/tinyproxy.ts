/**
 * Debian's tinyproxy as the customer's HTTP proxy in a test network (test/helpers/netns.ts,
 * docs/admin.md §Firewalls): started in a site with a generated configuration — its listening
 * address and port, Basic authentication with one user, CONNECT allowed to port 443 only — logging
 * each request to a file the test reads, to prove the CONNECTs happened. `stop()` kills it by PID.
 *
 * What tinyproxy 1.11 answers: no credentials 407 (Proxy-Authenticate); wrong credentials 401
 * (not 407); CONNECT to a port other than 443 403; a target it cannot reach 500.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNetnsTools, type Site } from './netns.ts';
import { stopChild } from './stop-child.ts';

export interface TinyproxyFixture {
  address: string;
  port: number;
  user: string;
  password: string;
  /** `http://user:password@address:port`, as the room's meetingService.proxy setting. */
  url: string;
  readonly pid: number;
  /** Its whole log so far. */
  log(): string;
  /** The targets (`host:port`) of every CONNECT request it received, in order, allowed or not. */
  connects(): string[];
  /** The targets (`host:port`) it opened a connection to for a client (CONNECT or plain HTTP). */
  established(): string[];
  stop(): Promise<void>;
}

export async function startTinyproxy(
  site: Site,
  options: { user: string; password: string; port?: number; address?: string },
): Promise<TinyproxyFixture> {
  requireNetnsTools(['tinyproxy']);
  for (const v of [options.user, options.password]) {
    if (!/^[A-Za-z0-9._~-]{1,64}$/.test(v))
      throw new Error('tinyproxy user/password: 1-64 of [A-Za-z0-9._~-].');
  }
  const address = options.address ?? site.address;
  const port = options.port ?? 3128;
  const folder = mkdtempSync(join(tmpdir(), 'roomd-tinyproxy-'));
  // tinyproxy opens its log after dropping to `nobody`: the folder must be reachable and the file
  // writable by it.
  chmodSync(folder, 0o755);
  const logFile = join(folder, 'tinyproxy.log');
  writeFileSync(logFile, '');
  chmodSync(logFile, 0o666);
  const conf = [
    'User nobody',
    'Group nogroup',
    `Listen ${address}`,
    `Port ${port}`,
    'Timeout 120',
    `LogFile "${logFile}"`,
    'LogLevel Info',
    'MaxClients 50',
    `BasicAuth ${options.user} ${options.password}`,
    'ConnectPort 443',
    'DisableViaHeader Yes',
  ];
  const confFile = join(folder, 'tinyproxy.conf');
  writeFileSync(confFile, `${conf.join('\n')}\n`);
  // `-d`: in the foreground, so the process `ip netns exec` execs in place is tinyproxy itself.
  const child: ChildProcess = site.spawn('tinyproxy', ['-d', '-c', confFile], { stdio: 'ignore' });
  const read = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
  };
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    await waitListening(site, port, child, 10_000);
  } catch (error) {
    const tail = read().split('\n').slice(-20).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}\n--- tinyproxy log ---\n${tail}`);
  }
  return {
    address,
    port,
    user: options.user,
    password: options.password,
    url: `http://${options.user}:${options.password}@${address}:${port}`,
    get pid() {
      return child.pid ?? 0;
    },
    log: read,
    connects: () =>
      [...read().matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!),
    established: () =>
      [...read().matchAll(/Established connection to host "([^"]+)" using file descriptor/g)].map(
        (m) => m[1]!,
      ),
    stop,
  };
}

/** Waits until a TCP socket listens on `port` in the site (`ss`, from iproute2). */
async function waitListening(
  site: Site,
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`tinyproxy exited (${child.exitCode ?? child.signalCode}) before listening`);
    }
    const { stdout } = await site.exec('ss', ['-Htln', `sport = :${port}`]);
    if (stdout.trim() !== '') return;
    if (Date.now() > until) throw new Error(`tinyproxy did not listen on port ${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
