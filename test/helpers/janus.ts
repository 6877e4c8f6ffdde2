/**
 * Janus for integration tests (docs/decisions/0018-media-planes.md): Janus
 * never gathers ICE candidates on loopback, so each test process gets a network namespace of its
 * own joined to the host by a veth pair on a private /24, runs `janus -F <generated folder>` inside
 * it with ICE enforced to its veth end and the WebSocket API on its veth address, and removes all of
 * it in `stop()` (kill by PID, delete the namespace, which deletes the veth pair). The relay and the
 * participants' media workers stay in the host namespace and reach Janus over the veth.
 *
 * Needs root (`ip netns`); without it the fixture fails with a clear message, it never skips.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { janusConfigFiles } from '../../src/relay/janus/config.ts';

export interface JanusFixture {
  /** ws:// URL of Janus's WebSocket API, reachable from the host namespace. */
  url: string;
  /** The host's address on the veth pair. */
  hostAddress: string;
  /** Janus's address on the veth pair. */
  janusAddress: string;
  /** The running Janus's process id. */
  readonly pid: number;
  /** The last lines of Janus's log (for failure messages). */
  logTail(lines?: number): string;
  /** Kills Janus (SIGKILL, as a crash) and starts a fresh one in the same namespace. */
  restart(): Promise<void>;
  /** Kills Janus (SIGKILL, as a crash) and leaves it down; `stop()` still cleans up. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

let started = 0;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function tryIp(...args: string[]): void {
  try {
    ip(...args);
  } catch {
    // Cleanup of something that may not exist: nothing to do.
  }
}

export async function startJanus(options: { debugLevel?: number } = {}): Promise<JanusFixture> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'The Janus tests need root: they create a network namespace and a veth pair (ip netns). ' +
        'Run them as root (CI does), e.g. `sudo npx vitest run test/integration/janus/...`.',
    );
  }
  // `janus --version` exits 1 after printing; only a missing binary matters here.
  if (spawnSync('janus', ['--version'], { stdio: 'ignore' }).error !== undefined) {
    throw new Error(
      'Janus is not installed: run `sudo bash scripts/setup-system.sh` (Debian package janus).',
    );
  }
  // A /24 and names unique to this process and fixture.
  const n = ((process.pid % 8000) * 8 + (started++ % 8)) % 65_536;
  const net = `10.${n >> 8}.${n & 255}`;
  const ns = `roomd-janus-${n}`;
  const hostIf = `rjh${n}`;
  const nsIf = `rjn${n}`;
  const hostAddress = `${net}.1`;
  const janusAddress = `${net}.2`;
  // Left over by a process with the same number that died without cleaning up.
  tryIp('netns', 'del', ns);
  tryIp('link', 'del', hostIf);
  const folder = mkdtempSync(join(tmpdir(), 'roomd-janus-'));
  const logFile = join(folder, 'janus.log');
  let child: ChildProcess | undefined;
  const cleanup = (): void => {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    tryIp('netns', 'del', ns);
    tryIp('link', 'del', hostIf);
  };
  // Last resort when the test process exits without afterAll having run.
  process.once('exit', cleanup);
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    ip('link', 'set', nsIf, 'netns', ns);
    ip('addr', 'add', `${hostAddress}/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${janusAddress}/24`, 'dev', nsIf);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    const files = janusConfigFiles({
      folder,
      wsAddress: janusAddress,
      iceInterface: nsIf,
      mediaAddress: janusAddress,
      debugLevel: options.debugLevel ?? 2,
    });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(folder, name), text);
    const url = `ws://${janusAddress}:8188`;
    const launch = async (): Promise<void> => {
      // `ip netns exec` execs janus in place: the PID is Janus's.
      // Its working directory is its own folder: a core dump lands there and goes with it.
      const c = spawn('ip', ['netns', 'exec', ns, 'janus', '-F', folder, '-N', '-L', logFile], {
        stdio: 'ignore',
        cwd: folder,
      });
      child = c;
      await waitUntilServing(url, c, 15_000);
    };
    const kill = async (signal: NodeJS.Signals): Promise<void> => {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill(signal);
      const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    };
    await launch();
    const logTail = (lines = 40): string => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    };
    return {
      url,
      hostAddress,
      janusAddress,
      get pid() {
        return child?.pid ?? 0;
      },
      logTail,
      async restart() {
        await kill('SIGKILL');
        await launch();
      },
      async crash() {
        await kill('SIGKILL');
      },
      async stop() {
        await kill('SIGTERM');
        cleanup();
        process.removeListener('exit', cleanup);
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    cleanup();
    process.removeListener('exit', cleanup);
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

/** Resolves once Janus answers `info` on its WebSocket API. */
async function waitUntilServing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`Janus exited at start (${child.exitCode ?? child.signalCode}).`);
    if (await answersInfo(url)) return;
    if (Date.now() > until) throw new Error(`Janus did not start serving ${url} in ${timeoutMs} ms.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function answersInfo(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'janus-protocol');
    const done = (ok: boolean) => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      resolve(ok);
    };
    ws.on('open', () => ws.send(JSON.stringify({ janus: 'info', transaction: 'ready' })));
    ws.on('message', () => done(true));
    ws.on('error', () => done(false));
    ws.on('close', () => done(false));
  });
}
