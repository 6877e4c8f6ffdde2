/**
 * `roomd run` as a real process: starts with no hardware, notifies systemd only once serving,
 * stops cleanly on SIGTERM, and starts in safe mode on an unusable configuration.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNotifySocket } from '../../helpers/notify-socket.ts';
import { freePort } from '../../helpers/ports.ts';

const BIN = path.resolve(import.meta.dirname, '../../../bin/roomd.js');
let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-run-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await fsp.rm(dir, { recursive: true, force: true });
});

let kioskPort = 0;

async function start(env: Record<string, string>) {
  kioskPort = await freePort();
  const child = spawn(process.execPath, [BIN, 'run', '--state-dir', dir], {
    env: {
      ...process.env,
      ROOMD_ADMIN_ENABLED: 'false',
      ROOMD_KIOSK_PORT: String(kioskPort),
      // Nothing listens there: the room runs without a meeting service and says so.
      ROOMD_MEETING_SERVICE_URL: 'ws://127.0.0.1:9/v1/signal',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exit };
}

describe('roomd run', () => {
  it('notifies READY when serving, STOPPING on SIGTERM, and exits 0', async () => {
    const sock = await openNotifySocket();
    try {
      const d = await start({ NOTIFY_SOCKET: sock.path, JOURNAL_STREAM: '8:1234' });
      await sock.waitFor(/^READY=1$/);
      // READY means serving: the kiosk answers at once.
      const state = (await (await fetch(`http://127.0.0.1:${kioskPort}/api/v1/state`)).json()) as {
        room: { name: string };
        errors: { code: string }[];
      };
      expect(state.room.name).toBe('Meeting Room');
      expect(await sock.waitFor(/^STATUS=/)).toBe('STATUS=serving');
      // Under systemd (JOURNAL_STREAM set) every line carries its journald priority.
      for (let i = 0; i < 100 && !d.output().includes('roomd is running'); i++)
        await new Promise((r) => setTimeout(r, 50));
      const lines = d.output().trim().split('\n');
      expect(lines.some((l) => /^<6>\{.*"msg":"roomd is running"/.test(l))).toBe(true);
      d.child.kill('SIGTERM');
      expect(await d.exit).toBe(0);
      await sock.waitFor(/^STOPPING=1$/);
      const files = await fsp.readdir(dir);
      expect(files).toContain('identity.json');
    } finally {
      await sock.close();
    }
  });

  it('starts in safe mode on a broken configuration instead of crash-looping', async () => {
    await fsp.writeFile(path.join(dir, 'settings.json'), '{"schemaVersion": 2, "media": {"framerate": 999}}');
    const sock = await openNotifySocket();
    try {
      const d = await start({ NOTIFY_SOCKET: sock.path });
      await sock.waitFor(/^READY=1$/);
      const status = await sock.waitFor(/^STATUS=/);
      expect(status).toContain("'media.framerate' must be a whole number from 1 to 60");
      // The room screen shows the problem instead of a crash loop.
      const state = (await (await fetch(`http://127.0.0.1:${kioskPort}/api/v1/state`)).json()) as {
        errors: { message: string }[];
      };
      expect(state.errors[0]?.message).toContain('safe mode');
      expect(d.child.exitCode).toBeNull();
      d.child.kill('SIGINT');
      expect(await d.exit).toBe(0);
    } finally {
      await sock.close();
    }
  });
});
