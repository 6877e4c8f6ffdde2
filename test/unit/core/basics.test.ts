import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import {
  ERROR_CODES,
  humanMessage,
  isRoomdError,
  RoomdError,
  toRoomdError,
} from '../../../src/core/errors.ts';
import { EventBus } from '../../../src/core/events.ts';
import { journalPriority, memoryLogger, withJournalPrefix } from '../../../src/core/logger.ts';

describe('RoomdError', () => {
  it('carries a stable code, its layer, an HTTP status and a human sentence', () => {
    const e = new RoomdError('relay.bad_passcode', { context: { meetingId: '123' } });
    expect(e.code).toBe('relay.bad_passcode');
    expect(e.layer).toBe('relay');
    expect(e.httpStatus).toBe(403);
    expect(e.message).toBe('The passcode is wrong.');
    expect(e.toJSON()).toEqual({
      code: 'relay.bad_passcode',
      message: 'The passcode is wrong.',
      context: { meetingId: '123' },
    });
    expect(isRoomdError(e)).toBe(true);
  });

  it('hides internals of foreign errors behind a generic sentence', () => {
    expect(humanMessage(new Error('ENOENT /secret/path'))).toBe(ERROR_CODES['core.internal'].message);
    const wrapped = toRoomdError(new Error('x'), 'core.store_io');
    expect(wrapped.code).toBe('core.store_io');
    expect(toRoomdError(wrapped)).toBe(wrapped);
  });

  it('every code is layer.reason with a sentence ending in a full stop', () => {
    for (const [code, def] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[a-z0-9]+\.[a-z0-9_]+$/);
      expect(def.message).toMatch(/[.?!]$/);
      expect(def.http).toBeGreaterThanOrEqual(400);
    }
  });
});

describe('EventBus', () => {
  it('delivers typed payloads, isolates throwing listeners and unsubscribes', async () => {
    const errors: unknown[] = [];
    const bus = new EventBus<{ mute: { muted: boolean }; tick: number }>((_, e) => errors.push(e));
    const seen: boolean[] = [];
    const off = bus.on('mute', (p) => seen.push(p.muted));
    bus.on('mute', () => {
      throw new Error('listener bug');
    });
    bus.emit('mute', { muted: true });
    off();
    bus.emit('mute', { muted: false });
    expect(seen).toEqual([true]);
    expect(errors).toHaveLength(2);
    const next = bus.next('tick', (n) => n > 2);
    bus.emit('tick', 1);
    bus.emit('tick', 3);
    await expect(next).resolves.toBe(3);
    expect(bus.listenerCount('tick')).toBe(0);
  });
});

describe('FakeClock', () => {
  it('fires timeouts and intervals in due order only when advanced', () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`t50@${clock.monotonic()}`), 50);
    const h = clock.setInterval(() => fired.push(`i30@${clock.monotonic()}`), 30);
    clock.advance(29);
    expect(fired).toEqual([]);
    clock.advance(71);
    expect(fired).toEqual(['i30@30', 't50@50', 'i30@60', 'i30@90']);
    clock.clear(h);
    clock.advance(100);
    expect(fired).toHaveLength(4);
    expect(clock.now()).toBe(1200);
  });
});

describe('logger', () => {
  it('maps pino levels to journald priorities', () => {
    expect([10, 20, 30, 40, 50, 60].map(journalPriority)).toEqual([7, 7, 6, 4, 3, 2]);
    expect(withJournalPrefix('{"level":50,"msg":"x"}\n')).toBe('<3>{"level":50,"msg":"x"}\n');
  });

  it('redacts secrets by key name and keeps the component', () => {
    const { logger, lines, text } = memoryLogger();
    logger.child({ component: 'admin' }).info({ passcode: '123456', user: { password: 'hunter2' } }, 'login');
    expect(lines[0]!['component']).toBe('admin');
    expect(text()).not.toContain('123456');
    expect(text()).not.toContain('hunter2');
  });
});
