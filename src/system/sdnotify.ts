/**
 * sd_notify(3) for Type=notify units: READY=1 once the daemon really serves, WATCHDOG=1 at half of
 * WATCHDOG_USEC, STOPPING=1 on shutdown, STATUS=… for `systemctl status`. A no-op without
 * NOTIFY_SOCKET.
 *
 * Node has no unix datagram sockets, so the datagrams are sent by a helper process:
 *  - preferred: one long-lived `socat -u STDIN UNIX-SENDTO:<socket>` child fed through a pipe.
 *    Because it lives as long as the daemon, systemd can always map its PID to our unit (a
 *    short-lived sender can exit before systemd looks it up, and the message is then dropped).
 *  - fallback: `systemd-notify VAR=VALUE…` per message.
 * Either way the sender is not the main PID, so the unit needs `NotifyAccess=all`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';

/** Sends one notification (newline-separated VAR=VALUE assignments). */
export interface NotifySender {
  send(message: string): void;
  close(): void;
}

export class SocatSender implements NotifySender {
  #child: ChildProcess | null;

  constructor(socketPath: string, log?: Logger) {
    const address = socketPath.startsWith('@')
      ? `ABSTRACT-SENDTO:${socketPath.slice(1)}`
      : `UNIX-SENDTO:${socketPath}`;
    this.#child = spawn('socat', ['-u', 'STDIN', address], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#child.on('error', (err) => log?.warn({ err }, 'sd_notify helper failed'));
    this.#child.stdin?.on('error', () => {});
    this.#child.on('exit', () => {
      this.#child = null;
    });
    this.#child.unref();
    (this.#child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  send(message: string): void {
    this.#child?.stdin?.write(message);
  }

  close(): void {
    this.#child?.stdin?.end();
    this.#child = null;
  }
}

export class SystemdNotifySender implements NotifySender {
  readonly #log: Logger | undefined;
  constructor(log?: Logger) {
    this.#log = log;
  }
  send(message: string): void {
    const args = message.split('\n').filter(Boolean);
    const child = spawn('systemd-notify', args, { stdio: 'ignore' });
    child.on('error', (err) => this.#log?.warn({ err }, 'systemd-notify failed'));
    child.unref();
  }
  close(): void {}
}

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  clock: Clock;
  log?: Logger;
  /** Injected in tests; by default chosen from what is installed. */
  sender?: NotifySender;
  pid?: number;
  /** Looks a command up on PATH; injected in tests. */
  hasCommand?: (cmd: string) => boolean;
}

export class SystemdNotifier {
  readonly enabled: boolean;
  readonly watchdogIntervalMs: number | null;
  readonly #sender: NotifySender | null;
  readonly #clock: Clock;
  #watchdog: TimerHandle | null = null;

  constructor(options: NotifierOptions) {
    const env = options.env ?? process.env;
    const socket = env['NOTIFY_SOCKET'];
    this.#clock = options.clock;
    this.enabled = socket !== undefined && socket !== '';
    this.watchdogIntervalMs = watchdogInterval(env, options.pid ?? process.pid);
    if (!this.enabled) {
      this.#sender = null;
      return;
    }
    const has = options.hasCommand ?? commandExists;
    this.#sender =
      options.sender ??
      (has('socat') ? new SocatSender(socket!, options.log) : new SystemdNotifySender(options.log));
  }

  /** The daemon is serving: tell systemd and start the watchdog pings. */
  ready(status?: string): void {
    this.#send(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`);
    if (this.enabled && this.watchdogIntervalMs !== null && this.#watchdog === null) {
      this.#watchdog = this.#clock.setInterval(() => this.#send('WATCHDOG=1'), this.watchdogIntervalMs);
    }
  }

  status(text: string): void {
    this.#send(`STATUS=${oneLine(text)}`);
  }

  stopping(): void {
    this.#stopWatchdog();
    this.#send('STOPPING=1');
  }

  close(): void {
    this.#stopWatchdog();
    this.#sender?.close();
  }

  #stopWatchdog(): void {
    if (this.#watchdog !== null) this.#clock.clear(this.#watchdog);
    this.#watchdog = null;
  }

  #send(message: string): void {
    if (this.#sender !== null) this.#sender.send(`${message}\n`);
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 200);
}

/** Half of WATCHDOG_USEC in ms, when the watchdog is meant for this process. */
export function watchdogInterval(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

function commandExists(cmd: string): boolean {
  return (process.env['PATH'] ?? '/usr/bin:/bin').split(':').some((dir) => {
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') return false;
      throw error;
    }
  });
}
