/**
 * A fake NOTIFY_SOCKET for tests: a unix datagram socket received by a `socat` child, whose
 * stdout collects every notification systemd would have seen.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface NotifySocket {
  path: string;
  messages(): string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

export async function openNotifySocket(): Promise<NotifySocket> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomd-notify-'));
  const sock = path.join(dir, 'notify.sock');
  const child: ChildProcess = spawn('socat', ['-u', `UNIX-RECV:${sock}`, 'STDOUT'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString('utf8');
  });
  for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
  if (!fs.existsSync(sock)) throw new Error('socat did not create the notify socket');
  const messages = () => text.split('\n').filter(Boolean);
  return {
    path: sock,
    messages,
    async waitFor(pattern, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const hit = messages().find((m) => pattern.test(m));
        if (hit !== undefined) return hit;
        if (Date.now() > until)
          throw new Error(`no notification matching ${pattern}; got ${JSON.stringify(messages())}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
