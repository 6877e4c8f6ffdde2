/**
 * The admin API's guess limits as a pure object (src/http/admin/guess-limiter.ts,
 * docs/kiosk-and-admin-api.md §Lockout): reservations bound parallel guesses, backoff grows per
 * failure, the global bucket fills and leaks, local clients stay outside it, and remote
 * addresses map to counting keys.
 */
import { describe, expect, test } from 'vitest';
import {
  type Client,
  clientOf,
  DEFAULT_GUESS_POLICY,
  GuessLimiter,
  type Reservation,
} from '../../../src/http/admin/guess-limiter.ts';

const A: Client = { key: '203.0.113.66', local: false };
const B: Client = { key: '192.168.1.20', local: false };
const LOCAL: Client = { key: 'local', local: true };
const T0 = 1_000_000;

function take(l: GuessLimiter, c: Client, now = T0): Reservation {
  const r = l.reserve(c, now);
  if (r.kind !== 'reservation') throw new Error(`refused until ${r.until}`);
  return r;
}

describe('GuessLimiter', () => {
  test('parallel reservations of one client stop at the free failures', () => {
    const l = new GuessLimiter();
    const slots = [];
    for (let i = 0; i < 40; i++) slots.push(l.reserve(A, T0));
    expect(slots.filter((s) => s.kind === 'reservation')).toHaveLength(DEFAULT_GUESS_POLICY.perClientFree);
    expect(slots[5]).toMatchObject({ kind: 'refusal', scope: 'client' });
    // Another client is not affected.
    expect(l.reserve(B, T0).kind).toBe('reservation');
  });

  test('backoff doubles per failure past the free ones, up to an hour', () => {
    const l = new GuessLimiter();
    let now = T0;
    for (let i = 0; i < 5; i++) l.fail(take(l, A, now), now);
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = l.reserve(A, now);
      expect(r.kind).toBe('refusal');
      if (r.kind !== 'refusal') return;
      waits.push((r.until - now) / 60_000);
      now = r.until;
      l.fail(take(l, A, now), now);
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  test('a success clears its own client only; pending guesses stay counted', () => {
    const l = new GuessLimiter();
    for (let i = 0; i < 4; i++) l.fail(take(l, A), T0);
    const pending = [take(l, B), take(l, B), take(l, B)];
    const right = take(l, B);
    l.succeed(right);
    // B still has three guesses in flight: two more may start, not five.
    expect(l.reserve(B, T0).kind).toBe('reservation');
    expect(l.reserve(B, T0).kind).toBe('reservation');
    expect(l.reserve(B, T0).kind).toBe('refusal');
    for (const p of pending) l.fail(p, T0);
    expect(l.reserve(A, T0).kind).toBe('reservation');
    expect(l.reserve(A, T0).kind).toBe('refusal');
  });

  test('a released slot is not counted; settling twice counts once', () => {
    const l = new GuessLimiter();
    const r = take(l, A);
    l.release(r);
    l.fail(r, T0);
    expect(l.trackedClients).toBe(0);
    for (let i = 0; i < 5; i++) expect(l.reserve(A, T0).kind).toBe('reservation');
  });

  test('the global bucket fills from network clients, leaks, and never holds local ones', () => {
    const l = new GuessLimiter();
    for (let i = 0; i < 99; i++) {
      const c = { key: `10.0.0.${i}`, local: false };
      l.fail(take(l, c), T0);
    }
    expect(l.globalLock(T0).locked).toBe(false);
    for (let i = 0; i < 20; i++) l.fail(take(l, LOCAL, T0 + i * 3_600_000), T0);
    expect(l.globalLock(T0).locked).toBe(false);
    l.fail(take(l, B), T0);
    expect(l.globalLock(T0)).toEqual({ locked: true, until: T0 + 5 * 60_000 });
    expect(l.reserve({ key: '10.9.9.9', local: false }, T0)).toMatchObject({
      kind: 'refusal',
      scope: 'global',
    });
    expect(l.reserve(LOCAL, T0 + 30 * 24 * 3_600_000).kind).toBe('reservation');
    expect(l.globalLock(T0 + 5 * 60_000).locked).toBe(false);
    expect(l.budget(T0 + 50 * 60_000).level).toBeCloseTo(90);
  });

  test('the bucket stays full while it leaks: failures spread over real time still pause the network', () => {
    const l = new GuessLimiter();
    // A second between failures: the bucket leaks a little all the while, never a whole failure.
    let now = T0;
    for (let i = 0; i < 100; i++, now += 1000)
      l.fail(take(l, { key: `10.0.1.${i}`, local: false }, now), now);
    expect(l.globalLock(now).locked).toBe(true);
    expect(l.reserve({ key: '10.9.9.9', local: false }, now)).toMatchObject({
      kind: 'refusal',
      scope: 'global',
    });
    // One failure of room comes back within one drain period, when the lock says it does.
    const free = l.globalLock(now).until!;
    expect(free - now).toBeGreaterThan(0);
    expect(free - now).toBeLessThanOrEqual(DEFAULT_GUESS_POLICY.globalDrainMs);
    expect(l.globalLock(free - 1000).locked).toBe(true);
    expect(l.globalLock(free + 1).locked).toBe(false);
    expect(l.reserve({ key: '10.9.9.9', local: false }, free + 1).kind).toBe('reservation');
  });

  test('in-flight network guesses count against the global bucket', () => {
    const l = new GuessLimiter({ ...DEFAULT_GUESS_POLICY, globalCapacity: 3 });
    take(l, { key: '10.0.0.1', local: false });
    take(l, { key: '10.0.0.2', local: false });
    take(l, { key: '10.0.0.3', local: false });
    expect(l.reserve({ key: '10.0.0.4', local: false }, T0).kind).toBe('refusal');
    expect(l.reserve(LOCAL, T0).kind).toBe('reservation');
  });

  test('a stored budget is restored, clamped to the capacity', () => {
    const l = new GuessLimiter(DEFAULT_GUESS_POLICY, { level: 1e9, at: T0 });
    expect(l.globalLock(T0).locked).toBe(true);
    expect(l.budget(T0).level).toBe(100);
  });

  test('a client is forgotten a day after its last failure; the table is bounded', () => {
    const l = new GuessLimiter({ ...DEFAULT_GUESS_POLICY, maxClients: 3 });
    for (let i = 0; i < 4; i++) l.fail(take(l, A), T0);
    const later = T0 + 24 * 3_600_000;
    for (let i = 0; i < 5; i++) expect(l.reserve(A, later).kind).toBe('reservation');
    const m = new GuessLimiter({ ...DEFAULT_GUESS_POLICY, maxClients: 3 });
    for (let i = 0; i < 10; i++) m.fail(take(m, { key: `10.1.0.${i}`, local: false }), T0);
    expect(m.trackedClients).toBe(3);
  });
});

describe('clientOf', () => {
  test.each([
    ['127.0.0.1', 'local', true],
    ['127.8.9.10', 'local', true],
    ['::1', 'local', true],
    ['::ffff:127.0.0.1', 'local', true],
    ['0:0:0:0:0:0:0:1', 'local', true],
    ['192.168.1.20', '192.168.1.20', false],
    ['::ffff:192.168.1.20', '192.168.1.20', false],
    ['2001:db8:1:2::7', '2001:db8:1:2::/64', false],
    ['2001:DB8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64', false],
    ['fe80::1%eth0', 'fe80:0:0:0::/64', false],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64', false],
    ['', 'unknown', false],
    [undefined, 'unknown', false],
    ['not-an-address', 'not-an-address', false],
    ['1::2::3', '1::2::3', false],
  ])('%s → %s', (address, key, local) => {
    expect(clientOf(address)).toEqual({ key, local });
  });
});
