/**
 * The kiosk browser's command line from roomd-kiosk.service (docs/admin.md §roomd-kiosk.service), run for
 * real in headless Chromium: the kiosk page loads straight from loopback, and everything else Chromium
 * tries to fetch goes to the unit's proxy — here a logging stand-in, on the box a port where nothing
 * listens — so nothing reaches the internet.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, scratchDir } from './helpers.ts';

/** The arguments the unit gives Chromium, continuation lines joined, the URL variable dropped. */
function unitChromiumArgs(): string[] {
  const unit = readFileSync(path.join(REPO, 'systemd/roomd-kiosk.service'), 'utf8').replace(/\\\n\s*/g, ' ');
  const exec = unit.split('\n').find((l) => l.startsWith('ExecStart=')) ?? '';
  const afterBrowser = exec.split(/\/usr\/bin\/chromium\s+/)[1] ?? '';
  return afterBrowser.split(/\s+/).filter((a) => a !== '' && !/^\$\{ROOMD_KIOSK_URL\}$/.test(a));
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

const dirs: string[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('roomd-kiosk.service Chromium flags', () => {
  it('the kiosk page loads from loopback; nothing else leaves except towards the dead-end proxy', async () => {
    const args = unitChromiumArgs();
    expect(args).toContain('--kiosk');
    const proxyArg = args.find((a) => a.startsWith('--proxy-server='));
    expect(proxyArg).toBe('--proxy-server=http://127.0.0.1:9');

    const served: string[] = [];
    const kiosk = createServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end("document.getElementById('state').textContent = 'kiosk-script-ran';");
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>roomd</title><p id="state">static</p><script src="/app.js"></script>');
    });
    const proxied: string[] = [];
    const proxy = createServer((req, res) => {
      proxied.push(`GET ${req.url}`);
      res.writeHead(502);
      res.end();
    });
    proxy.on('connect', (req, socket) => {
      proxied.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    servers.push(kiosk, proxy);
    const [kioskPort, proxyPort] = await Promise.all([listen(kiosk), listen(proxy)]);

    const profile = scratchDir('kiosk-profile');
    dirs.push(profile);
    const browserArgs = [
      // What differs from the room screen: no display, running as root, a throw-away profile,
      // and the proxy is one that logs instead of one that is not there.
      '--headless',
      '--no-sandbox',
      ...args
        .filter(
          (a) => a !== '--kiosk' && !a.startsWith('--ozone-platform=') && !a.startsWith('--user-data-dir='),
        )
        .map((a) => (a === proxyArg ? `--proxy-server=http://127.0.0.1:${proxyPort}` : a)),
      `--user-data-dir=${profile}`,
      '--virtual-time-budget=3000',
      '--dump-dom',
      `http://127.0.0.1:${kioskPort}/`,
    ];
    const browser = spawn('chromium', browserArgs, { stdio: ['ignore', 'pipe', 'ignore'] });
    let dom = '';
    browser.stdout.on('data', (d: Buffer) => {
      dom += d.toString();
    });
    const timer = setTimeout(() => browser.kill('SIGKILL'), 45_000);
    const code = await new Promise<number | null>((resolve) => browser.on('exit', (c) => resolve(c)));
    clearTimeout(timer);

    expect(code).toBe(0);
    expect(dom).toContain('kiosk-script-ran');
    expect(served).toEqual(expect.arrayContaining(['/', '/app.js']));
    // Loopback went direct; anything that went to the proxy was for some other host.
    const loopbackViaProxy = proxied.filter((p) => /127\.0\.0\.1|localhost|\[::1\]/.test(p));
    expect(loopbackViaProxy).toEqual([]);
  }, 60_000);
});
