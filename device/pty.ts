/**
 * A virtual serial cable for emulators (docs/hardware.md §Emulators): socat creates two connected ptys and
 * links them at stable paths, the way udev links `/dev/serial/by-id/…`. The daemon opens `hostPath`,
 * the emulator opens `devicePath`. Stopping socat removes both links and the daemon's port sees
 * a disconnect — an unplug; a new pair at the same paths is a replug.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface PtyPair {
  readonly hostPath: string;
  readonly devicePath: string;
  readonly pid: number;
  /** Stop socat (links removed) and wait for it to exit. */
  close(): Promise<void>;
}

export async function createPtyPair(
  hostPath: string,
  devicePath: string,
  timeoutMs = 5000,
): Promise<PtyPair> {
  const child: ChildProcess = spawn(
    'socat',
    [`pty,raw,echo=0,link=${hostPath}`, `pty,raw,echo=0,link=${devicePath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 4000) stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  while (!(existsSync(hostPath) && existsSync(devicePath))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create ${hostPath}: ${stderr.trim() || 'timed out'}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    hostPath,
    devicePath,
    pid: child.pid ?? -1,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
