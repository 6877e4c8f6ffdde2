/**
 * The guess limits of the admin API through app.inject() (docs/kiosk-and-admin-api.md §Lockout):
 * failures count per client with exponential backoff, a global budget pauses network sign-in
 * but never the device itself, a guess slot is taken before the slow hash, and a claim is
 * single-flight.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { claimAndSignIn, PASSWORD, setupCodeOf } from '../../support/admin-session.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

const hashChecks = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../../src/http/admin/secrets.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/http/admin/secrets.ts')>();
  return {
    ...real,
    verifyPassword: async (password: string, stored: string) => {
      hashChecks.count += 1;
      return real.verifyPassword(password, stored);
    },
  };
});

const ATTACKER = '203.0.113.66';
const OWNER_LAN = '192.168.1.20';
const DEVICE_ITSELF = '127.0.0.1';
const WRONG_CODE = '00000-00000';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** The per-minute rate limit is a separate guard; these tests look at the guess limits. */
const fixture = (clock: FakeClock, stateDir?: string) =>
  makeHttpFixture({
    clock,
    adminServer: { loginRateLimitPerMinute: 10_000, rateLimitPerMinute: 10_000 },
    ...(stateDir === undefined ? {} : { stateDir }),
  });

function claim(fx: HttpFixture, remoteAddress: string, setupCode: string, password = PASSWORD) {
  return fx.servers.admin.inject({
    method: 'POST',
    url: '/api/v1/claim',
    remoteAddress,
    payload: { setupCode, password },
  });
}

function login(fx: HttpFixture, remoteAddress: string, password: string) {
  return fx.servers.admin.inject({
    method: 'POST',
    url: '/api/v1/login',
    remoteAddress,
    payload: { password },
  });
}

async function kioskAdmin(fx: HttpFixture): Promise<RoomState['admin']> {
  return (await fx.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>().admin;
}

describe('per-client backoff', () => {
  test('100 wrong setup codes lock out the attacker’s address only; the owner claims from the LAN', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
    f = await fixture(clock);
    const code = await setupCodeOf(f);
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await claim(f, ATTACKER, WRONG_CODE)).statusCode);
    // Five guesses are checked, then the address waits; nothing else is even compared.
    expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
    expect(statuses.slice(5).every((s) => s === 423)).toBe(true);
    const refused = await claim(f, ATTACKER, code);
    expect(refused.statusCode).toBe(423);
    expect(refused.json().error.context).toMatchObject({ scope: 'client', retryAfterSeconds: 60 });
    expect(refused.headers['retry-after']).toBe('60');
    // The room screen shows no lock: only that address is waiting.
    expect(await kioskAdmin(f)).toEqual({ loginLocked: false, lockedUntil: null });

    // Backoff doubles per further failure: one more guess after a minute, then two minutes' wait.
    clock.advance(60_000);
    expect((await claim(f, ATTACKER, WRONG_CODE)).statusCode).toBe(403);
    expect((await claim(f, ATTACKER, WRONG_CODE)).statusCode).toBe(423);
    clock.advance(60_000);
    expect((await claim(f, ATTACKER, WRONG_CODE)).statusCode).toBe(423);
    clock.advance(60_000);
    expect((await claim(f, ATTACKER, WRONG_CODE)).statusCode).toBe(403);

    // Meanwhile the owner, from another address, claims at once.
    const owner = await claim(f, OWNER_LAN, code);
    expect(owner.statusCode).toBe(200);
  });

  test('the owner on the device itself claims while the attacker’s address is locked', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    for (let i = 0; i < 10; i++) await claim(f, ATTACKER, WRONG_CODE);
    expect((await claim(f, ATTACKER, await setupCodeOf(f))).statusCode).toBe(423);
    expect((await claim(f, DEVICE_ITSELF, await setupCodeOf(f))).statusCode).toBe(200);
  });

  test('after its backoff the attacker’s address may guess again, without blocking anyone else', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    await claimAndSignIn(f);
    for (let i = 0; i < 5; i++) expect((await login(f, ATTACKER, 'wrong password')).statusCode).toBe(401);
    expect((await login(f, ATTACKER, PASSWORD)).statusCode).toBe(423);
    expect((await login(f, OWNER_LAN, PASSWORD)).statusCode).toBe(200);
    clock.advance(60_000);
    expect((await login(f, ATTACKER, PASSWORD)).statusCode).toBe(200);
  });

  test('addresses of one IPv6 /64 share a count', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    await claimAndSignIn(f);
    for (let i = 1; i <= 5; i++) await login(f, `2001:db8:1:2::${i.toString(16)}`, 'wrong password');
    expect((await login(f, '2001:db8:1:2:ffff::1', PASSWORD)).statusCode).toBe(423);
    expect((await login(f, '2001:db8:1:3::1', PASSWORD)).statusCode).toBe(200);
  });
});

describe('atomic check-and-count', () => {
  test('40 parallel wrong passwords: at most 5 are hash-checked; the owner’s right one resets nothing of theirs', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    await claimAndSignIn(f);
    hashChecks.count = 0;
    const fx = f;
    const batch = [
      ...Array.from({ length: 40 }, () => login(fx, ATTACKER, 'wrong password')),
      login(fx, OWNER_LAN, PASSWORD),
    ];
    const statuses = (await Promise.all(batch)).map((r) => r.statusCode);
    const attacker = statuses.slice(0, 40);
    expect(attacker.filter((s) => s === 401)).toHaveLength(5);
    expect(attacker.filter((s) => s === 423)).toHaveLength(35);
    expect(statuses[40]).toBe(200);
    expect(hashChecks.count).toBe(6);
    // The attacker's count stands: even the right password is not checked for that address now.
    expect((await login(f, ATTACKER, PASSWORD)).statusCode).toBe(423);
    expect(hashChecks.count).toBe(6);
  });

  test('a right password clears only its own client’s count', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    await claimAndSignIn(f);
    for (let i = 0; i < 4; i++) await login(f, ATTACKER, 'wrong password');
    for (let i = 0; i < 4; i++) await login(f, OWNER_LAN, 'typo password');
    expect((await login(f, OWNER_LAN, PASSWORD)).statusCode).toBe(200);
    // The owner starts over (five more tries), the attacker has one left.
    expect((await login(f, ATTACKER, 'wrong password')).statusCode).toBe(401);
    expect((await login(f, ATTACKER, 'wrong password')).statusCode).toBe(423);
    for (let i = 0; i < 4; i++) expect((await login(f, OWNER_LAN, 'typo password')).statusCode).toBe(401);
    expect((await login(f, OWNER_LAN, PASSWORD)).statusCode).toBe(200);
  });
});

describe('global budget', () => {
  const spread = (i: number) => `10.${Math.floor(i / 250)}.${i % 250}.${1 + (i % 7)}`;

  test('100 failures from 100 addresses pause network claims; the device itself still claims', async () => {
    const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
    f = await fixture(clock);
    for (let i = 0; i < 100; i++) expect((await claim(f, spread(i), WRONG_CODE)).statusCode).toBe(403);
    const code = await setupCodeOf(f);
    const lan = await claim(f, OWNER_LAN, code);
    expect(lan.statusCode).toBe(423);
    expect(lan.json().error.context.scope).toBe('global');
    expect(lan.json().error.message).toContain('room device itself');
    expect(await kioskAdmin(f)).toEqual({ loginLocked: true, lockedUntil: '2026-11-26T09:05:00.000Z' });
    expect((await f.servers.admin.inject({ method: 'GET', url: '/api/v1/claim' })).json().loginLocked).toBe(
      true,
    );

    // One failure leaks out every five minutes: one more network guess, then the pause again.
    clock.advance(5 * 60_000);
    expect((await kioskAdmin(f)).loginLocked).toBe(false);
    expect((await claim(f, spread(100), WRONG_CODE)).statusCode).toBe(403);
    expect((await claim(f, OWNER_LAN, code)).statusCode).toBe(423);

    expect((await claim(f, DEVICE_ITSELF, code)).statusCode).toBe(200);
  });

  test('failures on the device itself never count toward the global budget', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    await claimAndSignIn(f);
    for (let i = 0; i < 5; i++)
      expect((await login(f, DEVICE_ITSELF, 'wrong password')).statusCode).toBe(401);
    for (let i = 0; i < 95; i++) expect((await login(f, spread(i), 'wrong password')).statusCode).toBe(401);
    expect((await kioskAdmin(f)).loginLocked).toBe(false);
    expect((await login(f, OWNER_LAN, PASSWORD)).statusCode).toBe(200);
    for (let i = 95; i < 100; i++) await login(f, spread(i), 'wrong password');
    expect((await kioskAdmin(f)).loginLocked).toBe(true);
    expect((await login(f, OWNER_LAN, PASSWORD)).statusCode).toBe(423);
  });

  test('the global budget survives a restart', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    for (let i = 0; i < 100; i++) await claim(f, spread(i), WRONG_CODE);
    const { stateDir, room } = f;
    await f.servers.close();
    room.dispose();
    const again = await fixture(clock, stateDir);
    try {
      expect((await kioskAdmin(again)).loginLocked).toBe(true);
      expect((await claim(again, OWNER_LAN, await setupCodeOf(again))).statusCode).toBe(423);
      expect((await claim(again, DEVICE_ITSELF, await setupCodeOf(again))).statusCode).toBe(200);
    } finally {
      await again.close();
    }
  });
});

describe('single-flight claim', () => {
  test('4 concurrent claims with the right code: exactly one wins and its password is stored', async () => {
    const clock = new FakeClock();
    f = await fixture(clock);
    const code = await setupCodeOf(f);
    const passwords = [0, 1, 2, 3].map((i) => `claimant ${i} passphrase`);
    const fx = f;
    const results = await Promise.all(passwords.map((p, i) => claim(fx, `192.168.1.${30 + i}`, code, p)));
    const winners = results.flatMap((r, i) => (r.statusCode === 200 ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results.filter((x) => x.statusCode !== 200)) {
      expect(r.statusCode).toBe(409);
      expect(r.json().error.code).toBe('http.already_claimed');
    }
    const winner = winners[0]!;
    for (const [i, p] of passwords.entries()) {
      expect((await login(f, OWNER_LAN, p)).statusCode).toBe(i === winner ? 200 : 401);
    }
  });
});
