/**
 * Admin context authentication through app.inject(): claim with the one-time setup code,
 * sessions with HttpOnly/Secure/SameSite cookies and CSRF tokens, API tokens hashed at rest,
 * every protected route requires auth, a password change revokes every credential. The guess
 * limits are in admin-lockout.test.ts, token scopes in admin-scopes.test.ts.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import {
  claimAndSignIn,
  mintToken,
  PASSWORD,
  sessionCookieOf,
  setupCodeOf,
  withToken,
} from '../../support/admin-session.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const PROTECTED: [string, string][] = [
  ['GET', '/api/v1/session'],
  ['POST', '/api/v1/logout'],
  ['POST', '/api/v1/password'],
  ['GET', '/api/v1/tokens'],
  ['POST', '/api/v1/tokens'],
  ['DELETE', '/api/v1/tokens/0123456789ab'],
  ['GET', '/api/v1/settings'],
  ['PATCH', '/api/v1/settings'],
  ['GET', '/api/v1/settings/schema'],
  ['POST', '/api/v1/provision'],
  ['GET', '/api/v1/status'],
  ['GET', '/api/v1/health'],
  ['GET', '/api/v1/devices'],
  ['GET', '/api/v1/logs'],
  ['POST', '/api/v1/restart'],
  ['POST', '/api/v1/schedule'],
];

describe('claim', () => {
  test('claims with the setup code, signs in, and the kiosk turns provisioned', async () => {
    f = await makeHttpFixture();
    const code = await setupCodeOf(f);
    const res = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/claim',
      payload: { setupCode: code.replace('-', ' '), password: PASSWORD, roomName: 'Harbour' },
    });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === '__Host-roomd_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.secure).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    expect(cookie.path).toBe('/');
    expect(res.json().csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(f.backend.calls).toContainEqual({ name: 'onClaimed', args: [{ roomName: 'Harbour' }] });
    const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    expect(s.room).toEqual({ name: 'Harbour', provisioned: true });
    expect(s.setup).toBeNull();
    const again = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/claim',
      payload: { setupCode: code, password: PASSWORD },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('http.already_claimed');
  });

  test('a wrong setup code, a short password and bad bodies are refused', async () => {
    f = await makeHttpFixture();
    const wrong = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/claim',
      payload: { setupCode: '00000-00000', password: PASSWORD },
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('http.bad_setup_code');
    const short = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/claim',
      payload: { setupCode: await setupCodeOf(f), password: 'short' },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.fields).toEqual([
      { path: 'password', message: 'must be at least 10 characters' },
    ]);
    const bad = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/claim',
      payload: { setupCode: 123, organisationKey: 'nothex' },
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.fields.map((x: { path: string }) => x.path);
    expect(paths).toEqual(
      expect.arrayContaining(['body.setupCode', 'body.password', 'body.organisationKey']),
    );
    expect((await f.servers.admin.inject({ method: 'GET', url: '/api/v1/claim' })).json().claimed).toBe(
      false,
    );
  });

  test('the claim survives a restart; the auth file is 0600 and holds no plain secrets', async () => {
    f = await makeHttpFixture();
    const session = await claimAndSignIn(f);
    const dir = f.stateDir;
    const raw = await fsp.readFile(path.join(dir, 'admin-auth.json'), 'utf8');
    expect(raw).not.toContain(PASSWORD);
    expect(raw).not.toContain(session.token.split('_').slice(2).join('_'));
    expect(raw).not.toContain(session.cookie.split('=')[1]);
    expect((await fsp.stat(path.join(dir, 'admin-auth.json'))).mode & 0o777).toBe(0o600);
    const room = f.room;
    await f.servers.close();
    const f2 = await makeHttpFixture({ stateDir: dir, room });
    try {
      const claim = await f2.servers.admin.inject({ method: 'GET', url: '/api/v1/claim' });
      expect(claim.json().claimed).toBe(true);
      const status = await f2.servers.admin.inject({
        method: 'GET',
        url: '/api/v1/status',
        headers: { authorization: `Bearer ${session.token}` },
      });
      expect(status.statusCode).toBe(200);
    } finally {
      await f2.close();
    }
  });
});

describe('authentication required', () => {
  let shared: HttpFixture;
  beforeAll(async () => {
    shared = await makeHttpFixture();
    await claimAndSignIn(shared);
  });
  afterAll(async () => {
    await shared.close();
  });

  test.each(PROTECTED)('%s %s without credentials is 401', async (method, url) => {
    const res = await shared.servers.admin.inject({
      method: method as 'GET',
      url,
      ...(method === 'GET' ? {} : { payload: {} }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('http.unauthorized');
  });

  test('a wrong token or a forged cookie is refused', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const forged = `rmd_${s.token.split('_')[1]}_${'A'.repeat(43)}`;
    for (const headers of [
      { authorization: `Bearer ${forged}` },
      { authorization: 'Bearer nonsense' },
      { authorization: 'Basic YWRtaW46YWRtaW4=' },
      { cookie: '__Host-roomd_session=forged' },
    ]) {
      const res = await f.servers.admin.inject({ method: 'GET', url: '/api/v1/status', headers });
      expect(res.statusCode).toBe(401);
    }
  });
});

describe('CSRF', () => {
  test('a cookie session must send its CSRF token on state-changing requests', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const noHeader = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/restart',
      headers: { cookie: s.cookie },
    });
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.json().error.code).toBe('http.csrf');
    const wrong = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/restart',
      headers: { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrong.statusCode).toBe(403);
    expect(f.backend.calls.some((c) => c.name === 'restart')).toBe(false);
    const ok = await s.asSession({ method: 'POST', url: '/api/v1/restart' });
    expect(ok.statusCode).toBe(202);
    const read = await f.servers.admin.inject({
      method: 'GET',
      url: '/api/v1/status',
      headers: { cookie: s.cookie },
    });
    expect(read.statusCode).toBe(200);
  });

  test('API tokens need no CSRF token (no ambient credential)', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    expect((await s.asToken({ method: 'POST', url: '/api/v1/restart' })).statusCode).toBe(202);
  });
});

describe('sessions and tokens', () => {
  test('login, whoami, logout', async () => {
    f = await makeHttpFixture();
    await claimAndSignIn(f);
    const login = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { password: PASSWORD },
    });
    expect(login.statusCode).toBe(200);
    const cookie = sessionCookieOf(login);
    const csrf = login.json().csrfToken as string;
    const me = await f.servers.admin.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(me.json()).toEqual({ kind: 'session', csrfToken: csrf, scope: 'admin' });
    const out = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/logout',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(out.statusCode).toBe(204);
    expect(
      (await f.servers.admin.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } }))
        .statusCode,
    ).toBe(401);
  });

  test('create, list and revoke API tokens', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const made = await s.asSession({
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'monitoring', scope: 'operator' },
    });
    expect(made.statusCode).toBe(201);
    const { id, token, scope } = made.json<{ id: string; token: string; scope: string }>();
    expect(scope).toBe('operator');
    const list = await s.asToken({ method: 'GET', url: '/api/v1/tokens' });
    expect(list.json().map((t: { name: string; scope: string }) => [t.name, t.scope])).toEqual([
      ['tests', 'admin'],
      ['monitoring', 'operator'],
    ]);
    expect(list.body).not.toContain(token);
    const use = await f.servers.admin.inject({
      method: 'GET',
      url: '/api/v1/status',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(use.statusCode).toBe(200);
    expect((await s.asSession({ method: 'DELETE', url: `/api/v1/tokens/${id}` })).statusCode).toBe(204);
    const revoked = await f.servers.admin.inject({
      method: 'GET',
      url: '/api/v1/status',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revoked.statusCode).toBe(401);
    expect((await s.asSession({ method: 'DELETE', url: `/api/v1/tokens/${id}` })).statusCode).toBe(404);
    expect(
      (await s.asSession({ method: 'POST', url: '/api/v1/tokens', payload: { name: '' } })).statusCode,
    ).toBe(400);
  });

  test('changing the password ends all sessions and revokes every API token', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const tokens = [
      s.token,
      await mintToken(s, 'admin'),
      await mintToken(s, 'operator'),
      await mintToken(s, 'metrics'),
    ];
    const change = await s.asSession({
      method: 'POST',
      url: '/api/v1/password',
      payload: { currentPassword: PASSWORD, newPassword: 'another long passphrase' },
    });
    expect(change.statusCode).toBe(200);
    expect(change.json()).toEqual({ ok: true, tokensRevoked: 4 });
    expect((await s.asSession({ method: 'GET', url: '/api/v1/status' })).statusCode).toBe(401);
    for (const token of tokens) {
      const old = await withToken(f, token, { method: 'GET', url: '/api/v1/session' });
      expect(old.statusCode).toBe(401);
    }
    const old = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { password: PASSWORD },
    });
    expect(old.statusCode).toBe(401);
    const fresh = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { password: 'another long passphrase' },
    });
    expect(fresh.statusCode).toBe(200);
    const cookie = sessionCookieOf(fresh);
    const list = await f.servers.admin.inject({ method: 'GET', url: '/api/v1/tokens', headers: { cookie } });
    expect(list.json()).toEqual([]);
  });

  test('a token with the admin scope may change the password, and is revoked by it too', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const change = await s.asToken({
      method: 'POST',
      url: '/api/v1/password',
      payload: { currentPassword: PASSWORD, newPassword: 'another long passphrase' },
    });
    expect(change.statusCode).toBe(200);
    expect((await s.asToken({ method: 'GET', url: '/api/v1/session' })).statusCode).toBe(401);
  });
});
