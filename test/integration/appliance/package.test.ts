/**
 * The roomd .deb and scripts/install.sh (docs/admin.md §Install): the package builds, holds the built
 * daemon with only its production dependencies, the kiosk, units and rules; installs into a
 * scratch root (dpkg --root, maintainer scripts chrootless with DPKG_ROOT) with users, state
 * directory and enabled units that pass `systemd-analyze verify`; installs again harmlessly;
 * uninstall keeps /var/lib/roomd and purge deletes it. The installed tree runs on its own.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dpkgRoot, passwdEntry, REPO, run, scratchDir, verifyRoot, verifyUnits } from './helpers.ts';

const version = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string })
  .version;
const arch = run('dpkg', ['--print-architecture']).stdout.trim();
const dirs: string[] = [];
let deb = '';
let root = '';

beforeAll(() => {
  const out = scratchDir('deb-out');
  root = scratchDir('deb-root');
  dirs.push(out, root);
  const r = run('bash', ['scripts/package-deb.sh', '--out', out, '--no-typecheck']);
  expect(r.status, r.stderr).toBe(0);
  deb = r.stdout.trim().split('\n').at(-1) ?? '';
}, 240_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function install(...args: string[]) {
  return run('bash', ['scripts/install.sh', '--root', root, ...args]);
}
const inRoot = (p: string) => path.join(root, p);
/** Runs the installed roomd with a NOTIFY_SOCKET that a socat receiver reads, as systemd would. */
async function startInstalledDaemon() {
  const sock = path.join(root, 'notify.sock');
  rmSync(sock, { force: true });
  const [kioskPort, adminPort] = await freePorts(2);
  const receiver = spawn('socat', ['-u', `UNIX-RECV:${sock}`, 'STDOUT'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let notes = '';
  receiver.stdout.on('data', (b: Buffer) => {
    notes += b.toString();
  });
  await waitFor(() => present('notify.sock'), 5_000);
  const daemon = spawn(
    process.execPath,
    [inRoot('opt/roomd/bin/roomd.js'), 'run', '--state-dir', path.join(root, 'run-state')],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        NOTIFY_SOCKET: sock,
        WATCHDOG_USEC: '1000000',
        ROOMD_KIOSK_PORT: String(kioskPort),
        ROOMD_ADMIN_PORT: String(adminPort),
        ROOMD_ADMIN_HOST: '127.0.0.1',
      },
    },
  );
  let stderr = '';
  daemon.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = new Promise<number | null>((resolve) => daemon.on('exit', (code) => resolve(code)));
  return {
    process: daemon,
    kioskPort,
    exited,
    notes: () => notes,
    stderr: () => stderr,
    close() {
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
      receiver.kill('SIGTERM');
    },
  };
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => {
      const srv = createServer();
      return new Promise<ReturnType<typeof createServer>>((resolve) =>
        srv.listen(0, '127.0.0.1', () => resolve(srv)),
      );
    }),
  );
  const ports = servers.map((srv) => (srv.address() as { port: number }).port);
  await Promise.all(servers.map((srv) => new Promise((resolve) => srv.close(resolve))));
  return ports;
}

async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
}

/** Whether a path exists in the root, without following symlinks (they point into the root). */
const present = (p: string) => {
  try {
    lstatSync(inRoot(p));
    return true;
  } catch {
    return false;
  }
};

describe('the .deb', () => {
  it('is named roomd_<version>_<arch>.deb and describes itself', () => {
    expect(path.basename(deb)).toBe(`roomd_${version}_${arch}.deb`);
    const field = (f: string) => run('dpkg-deb', ['-f', deb, f]).stdout.trim();
    expect(field('Package')).toBe('roomd');
    expect(field('Version')).toBe(version);
    expect(field('Architecture')).toBe(arch);
    expect(field('Depends')).toMatch(/nodejs \(>= 20\.19\)/);
    const info = run('dpkg-deb', ['-I', deb]).stdout;
    for (const script of ['postinst', 'prerm', 'postrm'])
      expect(info).toMatch(new RegExp(`\\*\\s+${script}\\s`));
    // Conffiles: an admin's edits survive upgrades.
    const conffiles = run('dpkg-deb', ['-I', deb, 'conffiles']).stdout.split('\n').filter(Boolean).sort();
    expect(conffiles).toEqual([
      '/etc/default/roomd',
      '/etc/default/roomd-kiosk',
      '/etc/pam.d/roomd-kiosk',
      '/etc/udev/rules.d/98-roomd-local.rules',
    ]);
  });

  it('holds the built daemon, production dependencies, the kiosk, units and rules, owned by root', () => {
    const r = run('dpkg-deb', ['--contents', deb]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    const paths = new Set(lines.map((l) => l.split(/\s+/)[5]?.replace(/^\./, '') ?? ''));
    const entry = readFileSync(path.join(REPO, 'bin/roomd.js'), 'utf8').match(/dist\/[\w/.-]+\.js/)?.[0];
    expect(entry).toBeDefined();
    for (const p of [
      '/opt/roomd/bin/roomd.js',
      `/opt/roomd/${entry}`,
      '/opt/roomd/package.json',
      '/opt/roomd/kiosk-ui/dist/index.html',
      '/opt/roomd/web/dist/index.html',
      '/opt/roomd/scripts/web-bundle-hash.mjs',
      '/opt/roomd/docs/admin.md',
      '/opt/roomd/node_modules/fastify/package.json',
      '/opt/roomd/node_modules/@roamhq/wrtc/package.json',
      '/opt/roomd/node_modules/prom-client/package.json',
      '/lib/systemd/system/roomd.service',
      '/lib/systemd/system/roomd-kiosk.service',
      '/lib/udev/rules.d/99-roomd.rules',
      '/usr/lib/sysusers.d/roomd.conf',
      '/usr/lib/tmpfiles.d/roomd.conf',
      '/etc/default/roomd',
      '/etc/pam.d/roomd-kiosk',
      '/etc/udev/rules.d/98-roomd-local.rules',
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    expect(lines.find((l) => l.includes(' ./usr/bin/roomd '))).toMatch(/-> \/opt\/roomd\/bin\/roomd\.js$/);
    // No sources, tests or development tools.
    for (const prefix of [
      '/opt/roomd/src/',
      '/opt/roomd/test/',
      '/opt/roomd/node_modules/typescript/',
      '/opt/roomd/node_modules/vitest/',
      '/opt/roomd/node_modules/@biomejs/',
      '/opt/roomd/node_modules/vite/',
    ]) {
      expect(
        [...paths].some((p) => p.startsWith(prefix)),
        prefix,
      ).toBe(false);
    }
    expect(lines.every((l) => l.split(/\s+/)[1] === 'root/root')).toBe(true);
  });
});

describe('installing into a scratch root', () => {
  it('lays out the files, creates users and state directories, enables units that verify', () => {
    dpkgRoot(root);
    const r = install('--deb', deb);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    for (const p of [
      'opt/roomd/bin/roomd.js',
      'opt/roomd/kiosk-ui/dist/index.html',
      'lib/systemd/system/roomd.service',
      'lib/udev/rules.d/99-roomd.rules',
    ]) {
      expect(existsSync(inRoot(p)), p).toBe(true);
    }
    const passwd = readFileSync(inRoot('etc/passwd'), 'utf8');
    const roomd = passwdEntry(passwd, 'roomd');
    expect(roomd?.[5]).toBe('/var/lib/roomd');
    expect(passwdEntry(passwd, 'roomd-kiosk')).toBeDefined();
    const group = readFileSync(inRoot('etc/group'), 'utf8');
    for (const g of ['video', 'audio', 'dialout', 'plugdev'])
      expect(passwdEntry(group, g)?.[3]?.split(','), g).toContain('roomd');
    const state = lstatSync(inRoot('var/lib/roomd'));
    expect(state.uid).toBe(Number(roomd?.[2]));
    expect(state.mode & 0o777).toBe(0o750);
    for (const u of ['roomd.service', 'roomd-kiosk.service']) {
      expect(readlinkSync(inRoot(`etc/systemd/system/multi-user.target.wants/${u}`))).toBe(
        `/lib/systemd/system/${u}`,
      );
    }
    // The units as installed, with stand-ins for the packages they depend on (nodejs, cage).
    verifyRoot(root, ['/usr/bin/node', '/usr/bin/cage']);
    const v = verifyUnits(root, ['roomd.service', 'roomd-kiosk.service']);
    expect(v.stderr + v.stdout).toBe('');
    expect(v.status).toBe(0);
  });

  it('runs from /opt/roomd alone: no sources, no development dependencies', () => {
    const r = run(process.execPath, [inRoot('opt/roomd/bin/roomd.js'), '--help'], { cwd: root });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^\s+run\s/m);
  });

  it('the installed daemon says READY once its kiosk UI answers, pings the watchdog, says STOPPING on SIGTERM', async () => {
    const d = await startInstalledDaemon();
    try {
      await waitFor(() => d.notes().includes('READY=1') || d.process.exitCode !== null, 60_000);
      expect(d.notes(), d.stderr()).toContain('READY=1');
      // At READY the kiosk is served, from the package's /opt/roomd/kiosk-ui/dist.
      const res = await fetch(`http://127.0.0.1:${d.kioskPort}/`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(readFileSync(inRoot('opt/roomd/kiosk-ui/dist/index.html'), 'utf8'));
      // WATCHDOG_USEC=1 s: a ping every half second once ready.
      await waitFor(() => d.notes().split('WATCHDOG=1').length > 2, 10_000);
      expect(d.notes().split('WATCHDOG=1').length).toBeGreaterThan(2);
      d.process.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      await waitFor(() => d.notes().includes('STOPPING=1'), 10_000);
      expect(d.notes()).toContain('STOPPING=1');
    } finally {
      d.close();
    }
  }, 90_000);

  it('installing again is harmless and keeps the admin’s choices', () => {
    const passwd = readFileSync(inRoot('etc/passwd'), 'utf8');
    writeFileSync(inRoot('etc/default/roomd'), 'ROOMD_KIOSK_PORT=8081\n');
    rmSync(inRoot('etc/systemd/system/multi-user.target.wants/roomd-kiosk.service'));
    writeFileSync(inRoot('var/lib/roomd/settings.json'), '{"version":2}\n');
    const r = install('--deb', deb);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(readFileSync(inRoot('etc/passwd'), 'utf8')).toBe(passwd);
    expect(readFileSync(inRoot('etc/default/roomd'), 'utf8')).toBe('ROOMD_KIOSK_PORT=8081\n');
    expect(present('etc/systemd/system/multi-user.target.wants/roomd-kiosk.service')).toBe(false);
    expect(present('etc/systemd/system/multi-user.target.wants/roomd.service')).toBe(true);
    expect(readFileSync(inRoot('var/lib/roomd/settings.json'), 'utf8')).toBe('{"version":2}\n');
  });

  it('uninstall keeps /var/lib/roomd; purge deletes it', () => {
    let r = install('--uninstall');
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(existsSync(inRoot('opt/roomd/bin/roomd.js'))).toBe(false);
    expect(existsSync(inRoot('lib/systemd/system/roomd.service'))).toBe(false);
    expect(present('etc/systemd/system/multi-user.target.wants/roomd.service')).toBe(false);
    expect(readFileSync(inRoot('var/lib/roomd/settings.json'), 'utf8')).toBe('{"version":2}\n');
    expect(existsSync(inRoot('etc/default/roomd'))).toBe(true);

    r = install('--uninstall', '--purge');
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(existsSync(inRoot('var/lib/roomd'))).toBe(false);
    expect(existsSync(inRoot('etc/default/roomd'))).toBe(false);

    r = install('--uninstall');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/not installed/);
  });

  it('--dry-run shows the steps and changes nothing', () => {
    const fresh = path.join(root, 'never-made');
    const r = run('bash', ['scripts/install.sh', '--dry-run', '--root', fresh, '--deb', deb]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `+ dpkg --root=${fresh} --force-script-chrootless --force-depends --force-unsafe-io`,
    );
    expect(r.stdout).toContain(`--install ${deb}`);
    expect(existsSync(fresh)).toBe(false);

    const host = run('bash', ['scripts/install.sh', '--dry-run', '--deb', deb, '--skip-packages']);
    expect(host.status, host.stderr).toBe(0);
    expect(host.stdout).toContain(`+ dpkg --install ${deb}`);
  });

  it('refuses options it does not know, with a clear message', () => {
    mkdirSync(inRoot('tmp'), { recursive: true });
    const r = run('bash', ['scripts/install.sh', '--frobnicate']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown option '--frobnicate'/);
    const p = run('bash', ['scripts/install.sh', '--purge']);
    expect(p.status).toBe(1);
    expect(p.stderr).toMatch(/--purge goes with --uninstall/);
  });
});
