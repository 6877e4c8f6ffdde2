/**
 * A private network of named sites for integration tests (docs/admin.md §Firewalls): a bridge in a
 * "core" network namespace of its own, one namespace per site joined to it by a veth pair, all on
 * one private /24 — so nothing is routed through the host's namespaces. With `mgmt`, one more veth
 * pair joins the test's own namespace to the bridge (the only change to the host: that link and its
 * address, no forwarding, no routes beyond the link's own /24), so the test reaches every site.
 *
 * A site can be fenced like a room behind a strict firewall (`blockAllBut`, nftables), given a thin
 * uplink (`limitUplink`, tc tbf) or a lossy one (`dropRandom`, nftables numgen); it can have a
 * second address (`addAddress`) and CAs of its own in its system store (`trustCa`). `close()` kills
 * what runs in the sites (by PID) and deletes every namespace and link it made, even after a
 * failure; an exit handler does the same if the test process ends without calling it, and a network
 * whose test process was killed outright is swept by the next one that draws its number.
 *
 * Needs root and `ip`, `nft` and `tc` (scripts/setup-system.sh); without them it fails with a clear
 * message, it never skips.
 */
import {
  type ChildProcess,
  execFile,
  execFileSync,
  type SpawnOptions,
  spawn,
  spawnSync,
} from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Networks are 10.253.N.0/24: the Janus fixture (test/helpers/janus.ts) takes its /24s from
 * 10.0.0.0–10.249.255.0, so the two never collide; N is claimed per network (below) so concurrent
 * test processes never share one.
 */
const SECOND_OCTET = 253;
/** The test's own address on the network (with `mgmt`). */
const MGMT_HOST = 254;

export interface TcpTarget {
  host: string;
  port: number;
}

export interface UplinkLimit {
  /** Token rate of the tbf qdisc, kbit/s. */
  rateKbit: number;
  /** Bucket size, bytes (default: 20 ms at the rate, at least 4000). */
  burstBytes?: number;
  /** Longest a packet may wait in the queue, ms (default 50). */
  latencyMs?: number;
}

export interface Site {
  readonly name: string;
  /** Its network namespace (for `ip netns exec`). */
  readonly namespace: string;
  /** Its interface inside its namespace (the veth end on the network). */
  readonly iface: string;
  /** Its IPv4 address on the network. */
  readonly address: string;
  /**
   * Gives the site one more address on the network (e.g. for a second server on the same port), and
   * returns it.
   */
  addAddress(): Promise<string>;
  /**
   * Adds CA certificates (PEM) to the system store as the site's processes see it: `ip netns exec`
   * binds `/etc/netns/<namespace>/ssl` over `/etc/ssl` for what it starts from now on, and that copy's
   * `certs/ca-certificates.crt` is the host's bundle plus these. The host's own store is untouched.
   */
  trustCa(pems: readonly string[]): void;
  /** Runs a command in the site to its end; rejects with its stderr when it fails. */
  exec(
    cmd: string,
    args: readonly string[],
    opts?: { timeoutMs?: number; input?: string },
  ): Promise<{ stdout: string; stderr: string }>;
  /**
   * Starts a command in the site (`ip netns exec` execs it in place: the child's PID is the
   * command's). `close()` kills it if it still runs.
   */
  spawn(cmd: string, args: readonly string[], opts?: SpawnOptions): ChildProcess;
  /**
   * A strict firewall: outgoing UDP is dropped, and outgoing TCP too except to the given host:port
   * pairs (loopback and replies to accepted connections pass); incoming, only replies and anything
   * from the test's own address (with `mgmt`) pass. Replaces an earlier call's rules.
   */
  blockAllBut(allow: { tcp: readonly TcpTarget[] }): Promise<void>;
  /** Packets the `blockAllBut` firewall dropped on the way out so far (0 without one). */
  droppedOut(): Promise<number>;
  /** Removes the firewall of `blockAllBut`. */
  unblock(): Promise<void>;
  /** A token bucket (tc tbf) on the site's uplink: what it sends goes at most at this rate. */
  limitUplink(limit: UplinkLimit): Promise<void>;
  clearLimit(): Promise<void>;
  /** Drops this percentage of every packet the site sends (nftables numgen), at random. */
  dropRandom(percent: number): Promise<void>;
  clearDrop(): Promise<void>;
}

export interface Network {
  /** The network's /24, e.g. `10.253.7.0/24`. */
  readonly subnet: string;
  /** The namespace holding the bridge. */
  readonly core: string;
  /** The test's own address on the network (with `mgmt`), else null. */
  readonly mgmtAddress: string | null;
  readonly sites: Readonly<Record<string, Site>>;
  /** The site of that name; throws for an unknown one. */
  site(name: string): Site;
  /** Kills what runs in the sites and deletes every namespace and link; idempotent. */
  close(): Promise<void>;
}

const SITE_NAME = /^[a-z][a-z0-9]{0,9}$/;

/** Fails with a clear message when not root or a tool is missing; never skips. */
export function requireNetnsTools(tools: readonly string[] = []): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The network tests need root: they create network namespaces, veth pairs and a bridge (ip netns), ' +
        'and nftables rules in them. Run them as root (CI does), e.g. `sudo npx vitest run test/integration/network`.',
    );
  }
  const packageOf: Record<string, string> = {
    ip: 'iproute2',
    tc: 'iproute2',
    nft: 'nftables',
    tinyproxy: 'tinyproxy',
    openssl: 'openssl',
    socat: 'socat',
    turnserver: 'coturn',
  };
  for (const tool of ['ip', 'nft', 'tc', ...tools]) {
    if (!onPath(tool)) {
      throw new Error(
        `\`${tool}\` is not installed: run \`sudo bash scripts/setup-system.sh\` (Debian package ${packageOf[tool] ?? tool}).`,
      );
    }
  }
}

/** Whether an executable of that name is on PATH (or in the sbin folders a root shell has). */
export function onPath(tool: string): boolean {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => dir !== '' && existsSync(join(dir, tool)));
}

function run(cmd: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input === undefined ? {} : { input }),
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** For cleanup of what may already be gone: failures are expected and carry no information. */
function attempt(cmd: string, args: readonly string[]): void {
  spawnSync(cmd, args, { stdio: 'ignore' });
}

/** Where `ip netns exec` finds the files it binds over /etc for a namespace. */
const ETC_NETNS = '/etc/netns';
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function removeEtcNetnsIfEmpty(): void {
  try {
    rmdirSync(ETC_NETNS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Still used by other namespaces, or not there.
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw error;
  }
}

const ownerFile = (n: number) => join(tmpdir(), `roomd-netns-${SECOND_OCTET}-${n}.pid`);
const coreName = (n: number) => `roomd-net${n}`;
const siteNamespace = (n: number, site: string) => `roomd-net${n}-${site}`;

function namespaces(): string[] {
  return run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills by PID every process in a namespace (they are this fixture's: nothing else runs there). */
function killNamespacePids(ns: string): number[] {
  const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  const pids = (r.stdout ?? '')
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
  return pids;
}

/** Deletes a network left by a test process that died without cleaning up (its owner is gone). */
function removeStale(n: number): boolean {
  let owner = Number.NaN;
  try {
    owner = Number(readFileSync(ownerFile(n), 'utf8').trim());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Without an owner file the network is being made right now by another process: leave it.
  if (!Number.isInteger(owner) || pidAlive(owner)) return false;
  const prefix = coreName(n);
  for (const ns of namespaces().filter((x) => x === prefix || x.startsWith(`${prefix}-`))) {
    killNamespacePids(ns);
    attempt('ip', ['netns', 'del', ns]);
    rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
  }
  rmSync(ownerFile(n), { force: true });
  return true;
}

/** Claims a free N: `ip netns add` of the core namespace fails when another network holds it. */
function claimNumber(): number {
  const used = run('ip', ['-o', '-4', 'addr', 'show']);
  for (let tries = 0; tries < 64; tries++) {
    const n = randomInt(1, 255);
    // Also keep clear of an address the host already has in that /24.
    if (used.includes(` 10.${SECOND_OCTET}.${n}.`)) continue;
    const r = spawnSync('ip', ['netns', 'add', coreName(n)], { encoding: 'utf8' });
    if (r.status === 0) {
      writeFileSync(ownerFile(n), `${process.pid}\n`);
      return n;
    }
    if (removeStale(n)) tries--;
  }
  throw new Error(`No free 10.${SECOND_OCTET}.N.0/24 for a test network after 64 tries.`);
}

export async function createNetwork(options: { sites: readonly string[]; mgmt?: boolean }): Promise<Network> {
  requireNetnsTools();
  for (const name of options.sites) {
    if (!SITE_NAME.test(name)) throw new Error(`Site name ${JSON.stringify(name)}: 1-10 of [a-z0-9].`);
  }
  if (new Set(options.sites).size !== options.sites.length) throw new Error('Site names must differ.');
  if (options.sites.length > 200) throw new Error('At most 200 sites.');

  const n = claimNumber();
  const net = `10.${SECOND_OCTET}.${n}`;
  const core = coreName(n);
  // Interface names are at most 15 characters; only the management one lives in the host's namespace.
  const mgmtIf = options.mgmt === true ? `rnm${n}x${randomBytes(3).toString('hex')}` : null;
  const made: string[] = [core];
  const children = new Set<ChildProcess>();
  let closed = false;
  let nextExtra = 201;

  const cleanup = (): void => {
    if (closed) return;
    closed = true;
    for (const c of children) {
      if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL');
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
      }
    }
    for (const ns of made) killNamespacePids(ns);
    // Sites first, the bridge's namespace last; deleting a namespace deletes the veth ends in it.
    for (const ns of [...made].reverse()) {
      attempt('ip', ['netns', 'del', ns]);
      rmSync(join(ETC_NETNS, ns), { recursive: true, force: true });
    }
    removeEtcNetnsIfEmpty();
    if (mgmtIf !== null) attempt('ip', ['link', 'del', mgmtIf]);
    rmSync(ownerFile(n), { force: true });
  };
  process.once('exit', cleanup);

  const sites: Record<string, Site> = {};
  try {
    run('ip', ['-n', core, 'link', 'set', 'lo', 'up']);
    run('ip', ['-n', core, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', core, 'link', 'set', 'br0', 'up']);
    options.sites.forEach((name, i) => {
      const ns = siteNamespace(n, name);
      run('ip', ['netns', 'add', ns]);
      made.push(ns);
      const address = `${net}.${i + 1}`;
      // Both ends are made where they belong: no name ever exists in the host's namespace.
      run('ip', [
        '-n',
        core,
        'link',
        'add',
        `v-${name}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      ]);
      run('ip', ['-n', core, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
      // IPv4 only: no link-local IPv6 addresses for ICE to try, no duplicate address detection delay.
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      sites[name] = makeSite(
        name,
        ns,
        address,
        mgmtIf === null ? null : `${net}.${MGMT_HOST}`,
        children,
        () => {
          // Extra addresses: .201 to .253, after the sites' own (.1 to .200).
          if (nextExtra > 253) throw new Error('addAddress: no address left in this network.');
          return `${net}.${nextExtra++}`;
        },
      );
    });
    if (mgmtIf !== null) {
      run('ip', ['link', 'add', mgmtIf, 'type', 'veth', 'peer', 'name', 'm0', 'netns', core]);
      run('ip', ['-n', core, 'link', 'set', 'm0', 'master', 'br0', 'up']);
      run('ip', ['addr', 'add', `${net}.${MGMT_HOST}/24`, 'dev', mgmtIf]);
      run('ip', ['link', 'set', mgmtIf, 'up']);
    }
  } catch (error) {
    cleanup();
    process.removeListener('exit', cleanup);
    throw error;
  }

  return {
    subnet: `${net}.0/24`,
    core,
    mgmtAddress: mgmtIf === null ? null : `${net}.${MGMT_HOST}`,
    sites,
    site(name) {
      const s = sites[name];
      if (s === undefined) throw new Error(`No site ${name} in this network.`);
      return s;
    },
    async close() {
      const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
      const exited = Promise.all(running.map((c) => new Promise((r) => c.once('exit', r))));
      cleanup();
      process.removeListener('exit', cleanup);
      await exited;
    },
  };
}

function makeSite(
  name: string,
  ns: string,
  address: string,
  mgmtAddress: string | null,
  children: Set<ChildProcess>,
  nextAddress: () => string,
): Site {
  const inNs = (cmd: string, args: readonly string[]) => ['netns', 'exec', ns, cmd, ...args];
  const nft = (script: string) => run('ip', inNs('nft', ['-f', '-']), script);
  let blocked = false;
  let limited = false;
  let dropping = false;
  return {
    name,
    namespace: ns,
    iface: 'eth0',
    address,
    trustCa(pems) {
      const ssl = join(ETC_NETNS, ns, 'ssl');
      mkdirSync(join(ssl, 'certs'), { recursive: true });
      if (existsSync('/etc/ssl/openssl.cnf')) copyFileSync('/etc/ssl/openssl.cnf', join(ssl, 'openssl.cnf'));
      const bundle = existsSync(SYSTEM_BUNDLE) ? readFileSync(SYSTEM_BUNDLE, 'utf8') : '';
      writeFileSync(join(ssl, 'certs', 'ca-certificates.crt'), [bundle, ...pems].join('\n'));
    },
    async addAddress() {
      const extra = nextAddress();
      run('ip', ['-n', ns, 'addr', 'add', `${extra}/24`, 'dev', 'eth0']);
      return extra;
    },
    exec(cmd, args, opts = {}) {
      return new Promise((resolve, reject) => {
        const child = execFile(
          'ip',
          inNs(cmd, args),
          { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 },
          (error, stdout, stderr) => {
            if (error === null) resolve({ stdout, stderr });
            else reject(new Error(`${cmd} ${args.join(' ')} in ${name}: ${stderr.trim() || error.message}`));
          },
        );
        if (opts.input !== undefined) child.stdin?.end(opts.input);
      });
    },
    spawn(cmd, args, opts = {}) {
      const child = spawn('ip', inNs(cmd, args), opts);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async blockAllBut(allow) {
      const accepts = allow.tcp.map((t) => `ip daddr ${ipv4(t.host)} tcp dport ${port(t.port)} accept`);
      nft(
        [
          ...(blocked ? ['delete table inet roomd_block'] : []),
          'table inet roomd_block {',
          '  chain output {',
          '    type filter hook output priority 0; policy accept;',
          '    oif "lo" accept',
          '    ct state established,related accept',
          ...accepts.map((a) => `    ${a}`),
          '    meta l4proto { tcp, udp } counter drop',
          '  }',
          '  chain input {',
          '    type filter hook input priority 0; policy drop;',
          '    iif "lo" accept',
          '    ct state established,related accept',
          ...(mgmtAddress === null ? [] : [`    ip saddr ${mgmtAddress} accept`]),
          '  }',
          '}',
          '',
        ].join('\n'),
      );
      blocked = true;
    },
    async droppedOut() {
      if (!blocked) return 0;
      const table = run('ip', inNs('nft', ['list', 'table', 'inet', 'roomd_block']));
      return Number(/counter packets (\d+) bytes \d+ drop/.exec(table)?.[1] ?? 0);
    },
    async unblock() {
      if (blocked) nft('delete table inet roomd_block\n');
      blocked = false;
    },
    async limitUplink(limit) {
      const rate = Math.round(limit.rateKbit);
      if (!(rate > 0)) throw new Error('limitUplink: rateKbit must be positive.');
      const burst = Math.round(limit.burstBytes ?? Math.max(4000, (rate * 1000) / 8 / 50));
      const latency = Math.round(limit.latencyMs ?? 50);
      run(
        'ip',
        inNs('tc', ['qdisc', 'replace', 'dev', 'eth0', 'root', 'tbf']).concat([
          'rate',
          `${rate}kbit`,
          'burst',
          `${burst}`,
          'latency',
          `${latency}ms`,
        ]),
      );
      limited = true;
    },
    async clearLimit() {
      if (limited) run('ip', inNs('tc', ['qdisc', 'del', 'dev', 'eth0', 'root']));
      limited = false;
    },
    async dropRandom(percent) {
      if (!(percent >= 0 && percent <= 100)) throw new Error('dropRandom: percent must be 0 to 100.');
      nft(
        [
          ...(dropping ? ['delete table inet roomd_loss'] : []),
          'table inet roomd_loss {',
          '  chain output {',
          '    type filter hook output priority -10; policy accept;',
          `    oif != "lo" numgen random mod 100 < ${Math.round(percent)} drop`,
          '  }',
          '}',
          '',
        ].join('\n'),
      );
      dropping = true;
    },
    async clearDrop() {
      if (dropping) nft('delete table inet roomd_loss\n');
      dropping = false;
    },
  };
}

/** Only dotted IPv4 addresses go into a ruleset (the networks are IPv4). */
function ipv4(host: string): string {
  if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(host)) {
    throw new Error(`blockAllBut: ${JSON.stringify(host)} is not an IPv4 address.`);
  }
  return host;
}

function port(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65_535) throw new Error(`blockAllBut: bad port ${p}.`);
  return p;
}

/** True when no namespace or host link of the network numbered by `subnet` is left. */
export function networkGone(net: Network): boolean {
  const n = Number(net.subnet.split('.')[2]);
  const prefix = coreName(n);
  const nsLeft = namespaces().some((x) => x === prefix || x.startsWith(`${prefix}-`));
  const linkLeft = run('ip', ['-o', 'link', 'show']).includes(`rnm${n}x`);
  return !nsLeft && !linkLeft && !existsSync(ownerFile(n));
}

/** Polls an async condition until it holds; fails with `what` after the timeout. */
export async function waitUntil(
  fn: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
