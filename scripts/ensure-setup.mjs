#!/usr/bin/env node
// Runs before `npm start` and `npm test`: makes a fresh clone ready without a person doing anything.
//  1. Node version check.
//  2. npm packages (npm ci) when node_modules is missing or older than package-lock.json.
//  3. Debian packages through scripts/setup-system.sh (installs as root, else prints the command).
//  4. The kiosk UI build when it is missing or older than its sources.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const purpose = process.argv[2] ?? 'start';
const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    say(`'${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal}).`);
    process.exit(r.status ?? 1);
  }
}

// 1. Node
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  say(`roomd needs Node.js 20.19 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

// 2. npm packages
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (
  !existsSync(installed) ||
  (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs + 1000)
) {
  say('installing npm packages (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

// 3. Debian packages
const sys = spawnSync('bash', [join(root, 'scripts/setup-system.sh'), '--quiet'], {
  cwd: root,
  stdio: 'inherit',
});
if (sys.status !== 0) process.exit(sys.status ?? 1);

// 4. Kiosk UI
const kiosk = join(root, 'kiosk-ui');
const config = ['vite.config.ts', 'vite.config.js', 'vite.config.mjs']
  .map((f) => join(kiosk, f))
  .find(existsSync);
if (config !== undefined) {
  const newest = (dir) => {
    let t = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === 'dist' || e.name === 'node_modules') continue;
      const p = join(dir, e.name);
      t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  const built = join(kiosk, 'dist', 'index.html');
  if (!existsSync(built) || newest(kiosk) > statSync(built).mtimeMs) {
    say('building the kiosk UI…');
    run(process.execPath, [
      join(root, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      config,
      '--logLevel',
      'warn',
    ]);
  }
}

if (purpose === 'start') say('ready.');
