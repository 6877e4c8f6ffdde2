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

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'run', '--state-dir', dir], {
    env: { ...process.env, ROOMD_ADMIN_ENABLED: 'false', ...env },
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
      const d = start({ NOTIFY_SOCKET: sock.path, JOURNAL_STREAM: '8:1234' });
      await sock.waitFor(/^READY=1$/);
      expect(await sock.waitFor(/^STATUS=/)).toBe('STATUS=serving');
      // Under systemd (JOURNAL_STREAM set) every line carries its journald priority.
      for (let i = 0; i < 100 && !d.output().includes('roomd is running'); i++) await new Promise((r) => setTimeout(r, 50));
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
      const d = start({ NOTIFY_SOCKET: sock.path });
      await sock.waitFor(/^READY=1$/);
      const status = await sock.waitFor(/^STATUS=/);
      expect(status).toContain("'media.framerate' must be a whole number from 1 to 60");
      expect(d.child.exitCode).toBeNull();
      d.child.kill('SIGINT');
      expect(await d.exit).toBe(0);
    } finally {
      await sock.close();
    }
  });
});
