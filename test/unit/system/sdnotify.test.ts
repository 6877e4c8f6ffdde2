import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { type NotifySender, SystemdNotifier, watchdogInterval } from '../../../src/system/sdnotify.ts';
import { openNotifySocket } from '../../helpers/notify-socket.ts';

class FakeSender implements NotifySender {
  sent: string[] = [];
  closed = false;
  send(message: string): void {
    this.sent.push(message);
  }
  close(): void {
    this.closed = true;
  }
}

describe('sd_notify', () => {
  it('is a no-op without NOTIFY_SOCKET', () => {
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '1000000' }, clock: new FakeClock() });
    expect(n.enabled).toBe(false);
    n.ready();
    n.stopping();
    n.close();
  });

  it('sends READY, then WATCHDOG at half of WATCHDOG_USEC, then STOPPING', () => {
    const clock = new FakeClock();
    const sender = new FakeSender();
    const n = new SystemdNotifier({
      env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '10000000', WATCHDOG_PID: '4242' },
      pid: 4242,
      clock,
      sender,
    });
    expect(n.watchdogIntervalMs).toBe(5000);
    clock.advance(20_000);
    expect(sender.sent).toEqual([]);
    n.ready('serving');
    expect(sender.sent).toEqual(['READY=1\nSTATUS=serving\n']);
    clock.advance(4999);
    expect(sender.sent).toHaveLength(1);
    clock.advance(1);
    clock.advance(5000);
    expect(sender.sent.slice(1)).toEqual(['WATCHDOG=1\n', 'WATCHDOG=1\n']);
    n.stopping();
    clock.advance(60_000);
    expect(sender.sent.at(-1)).toBe('STOPPING=1\n');
    expect(sender.sent.filter((m) => m === 'WATCHDOG=1\n')).toHaveLength(2);
    n.close();
    expect(sender.closed).toBe(true);
  });

  it('ignores a watchdog meant for another process and malformed values', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '1' }, 2)).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: 'abc' }, 2)).toBeNull();
    expect(watchdogInterval({ WATCHDOG_USEC: '2000000' }, 2)).toBe(1000);
  });

  it('keeps status text on one line', () => {
    const sender = new FakeSender();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/x' }, clock: new FakeClock(), sender });
    n.status('safe mode:\nbad\r\nconfig');
    expect(sender.sent).toEqual(['STATUS=safe mode: bad config\n']);
  });

  it('delivers datagrams to a real unix socket through the socat helper', async () => {
    const sock = await openNotifySocket();
    try {
      const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: sock.path }, clock: new FakeClock() });
      n.ready();
      await sock.waitFor(/^READY=1$/);
      n.stopping();
      await sock.waitFor(/^STOPPING=1$/);
      n.close();
    } finally {
      await sock.close();
    }
  });
});
