#!/usr/bin/env node
// Runs before `npm start` and `npm test`: makes a fresh clone ready without a person doing anything.
//  1. Node version check.
//  2. npm packages (npm ci) when node_modules is missing or older than package-lock.json.
//  3. Debian packages through scripts/setup-system.sh (installs as root, else prints the command).
//  4. The kiosk UI build when it is missing or older than its sources.
//  5. The web client build (web/dist, served by the relay at /join/<id>) when it is missing or older
//     than its sources: web/ and the shared modules under src/ it bundles.
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

// Newest modification time of the files under `dir`, build output and packages left out.
const newest = (dir) => {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'dist' || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};

/** Builds with `config` when `built` is missing or older than anything under `sources`. */
function buildIfStale(what, config, built, sources) {
  if (existsSync(built) && Math.max(...sources.map(newest)) <= statSync(built).mtimeMs) return;
  say(`building ${what}…`);
  run(process.execPath, [
    join(root, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    config,
    '--logLevel',
    'warn',
  ]);
}

// 4. Kiosk UI
const kiosk = join(root, 'kiosk-ui');
const config = ['vite.config.ts', 'vite.config.js', 'vite.config.mjs']
  .map((f) => join(kiosk, f))
  .find(existsSync);
if (config !== undefined) {
  buildIfStale('the kiosk UI', config, join(kiosk, 'dist', 'index.html'), [kiosk]);
}

// 5. Web client: web/ and src/ (it bundles src/core, src/protocol, src/e2ee, src/meeting, src/media;
// all of src/ is simpler and at worst builds once too often).
const web = join(root, 'web');
const webConfig = join(web, 'vite.config.ts');
if (existsSync(webConfig)) {
  buildIfStale('the web client', webConfig, join(web, 'dist', 'index.html'), [web, join(root, 'src')]);
}

if (purpose === 'start') say('ready.');
