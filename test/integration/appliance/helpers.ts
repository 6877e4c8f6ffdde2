/**
 * Helpers for the appliance tests: scratch roots for `systemd-analyze verify --root`,
 * `systemd-sysusers --root` and `dpkg --root`, and a checked command runner.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../../..');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `roomd-${prefix}-`));
}

/**
 * A root that `systemd-analyze verify --root` accepts: the host's own unit files (sysinit.target
 * and friends), and executables standing in for the packages the units run (nodejs, cage).
 */
export function verifyRoot(root: string, executables: string[]): void {
  mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync('/usr/lib/systemd/system', path.join(root, 'usr/lib/systemd/system'), { recursive: true });
  for (const exe of executables) {
    const p = path.join(root, exe);
    if (existsSync(p)) continue;
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, '#!/bin/sh\nexit 0\n');
    chmodSync(p, 0o755);
  }
}

/** An empty dpkg database and the host's users and groups, for `dpkg --root`. */
export function dpkgRoot(root: string): void {
  mkdirSync(path.join(root, 'var/lib/dpkg/info'), { recursive: true });
  mkdirSync(path.join(root, 'var/lib/dpkg/updates'), { recursive: true });
  writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(path.join(root, 'var/lib/dpkg/available'), '');
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  for (const f of ['passwd', 'group', 'shadow', 'gshadow']) {
    if (existsSync(`/etc/${f}`)) cpSync(`/etc/${f}`, path.join(root, 'etc', f));
  }
}

/** `systemd-analyze verify` of units inside a root; its findings (empty when clean). */
export function verifyUnits(root: string, units: string[]): RunResult {
  return run('systemd-analyze', ['verify', '--man=no', '--generators=no', `--root=${root}`, ...units]);
}

/** One user's line of a passwd file, split. */
export function passwdEntry(passwd: string, name: string): string[] | undefined {
  return passwd
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === name);
}
