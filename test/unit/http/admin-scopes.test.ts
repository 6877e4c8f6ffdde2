/**
 * Scoped API tokens through app.inject() (docs/kiosk-and-admin-api.md §API tokens): every route
 * needs a scope, a token never mints above its own, extra plugins declare theirs, and version-1
 * auth state (unscoped tokens) is migrated.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { hashPassword, sha256Hex } from '../../../src/http/admin/secrets.ts';
import {
  type AdminSession,
  claimAndSignIn,
  mintToken,
  PASSWORD,
  withToken,
} from '../../support/admin-session.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const metricsPlugin = {
  scope: 'metrics' as const,
  plugin: async (app: import('fastify').FastifyInstance) => {
    app.get('/metrics', async () => 'roomd_up 1\n');
  },
};

const schedule = {
  title: 'Design review',
  start: '2026-11-26T14:00:00Z',
  end: '2026-11-26T15:00:00Z',
  encryption: 'e2ee',
};

/** Each route of the admin context with a request that passes validation. */
const ROUTES: {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  payload?: object;
  scope: string;
}[] = [
  { method: 'GET', url: '/api/v1/session', scope: 'metrics' },
  { method: 'GET', url: '/metrics', scope: 'metrics' },
  { method: 'GET', url: '/api/v1/status', scope: 'operator' },
  { method: 'GET', url: '/api/v1/health', scope: 'operator' },
  { method: 'GET', url: '/api/v1/devices', scope: 'operator' },
  { method: 'POST', url: '/api/v1/schedule', payload: schedule, scope: 'operator' },
  { method: 'POST', url: '/api/v1/restart', scope: 'operator' },
  { method: 'GET', url: '/api/v1/tokens', scope: 'admin' },
  { method: 'POST', url: '/api/v1/tokens', payload: { name: 'x', scope: 'metrics' }, scope: 'admin' },
  { method: 'DELETE', url: '/api/v1/tokens/0123456789ab', scope: 'admin' },
  { method: 'GET', url: '/api/v1/settings', scope: 'admin' },
  { method: 'GET', url: '/api/v1/settings/schema', scope: 'admin' },
  { method: 'PATCH', url: '/api/v1/settings', payload: { kiosk: { allowRemote: true } }, scope: 'admin' },
  { method: 'GET', url: '/api/v1/logs', scope: 'admin' },
  { method: 'POST', url: '/api/v1/provision', payload: { format: 'roomd-bundle-v1' }, scope: 'admin' },
  {
    method: 'POST',
    url: '/api/v1/password',
    payload: { currentPassword: 'not the password', newPassword: 'whatever long enough' },
    scope: 'admin',
  },
];
const RANK: Record<string, number> = { metrics: 0, operator: 1, admin: 2 };

async function setup(): Promise<{ s: AdminSession; tokens: Record<string, string> }> {
  f = await makeHttpFixture({ adminServer: { authenticatedPlugins: [metricsPlugin] } });
  const s = await claimAndSignIn(f);
  return {
    s,
    tokens: {
      metrics: await mintToken(s, 'metrics'),
      operator: await mintToken(s, 'operator'),
      admin: await mintToken(s, 'admin'),
    },
  };
}

describe('every route needs its scope', () => {
  test.each(['metrics', 'operator', 'admin'])(
    'a %s token reaches exactly the routes of its scope and below',
    async (held) => {
      const { tokens } = await setup();
      for (const route of ROUTES) {
        const res = await withToken(f!, tokens[held]!, {
          method: route.method,
          url: route.url,
          ...(route.payload === undefined ? {} : { payload: route.payload }),
        });
        if (RANK[held]! >= RANK[route.scope]!) {
          // Let through the guard: the route itself answers (a 4xx here is about the request).
          const code = res.statusCode < 300 ? null : res.json().error.code;
          expect(code, `${route.method} ${route.url}`).not.toBe('http.forbidden');
          expect(code, `${route.method} ${route.url}`).not.toBe('http.unauthorized');
        } else {
          expect(res.statusCode, `${route.method} ${route.url}`).toBe(403);
          expect(res.json().error).toMatchObject({ code: 'http.forbidden', context: { scope: held } });
        }
      }
    },
  );

  test('a metrics token cannot mint tokens, change settings or read logs', async () => {
    const { tokens } = await setup();
    const mint = await withToken(f!, tokens.metrics!, {
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'escalate', scope: 'metrics' },
    });
    expect(mint.statusCode).toBe(403);
    expect(mint.json().error.message).toContain('metrics scope');
    const patch = await withToken(f!, tokens.metrics!, {
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { room: { name: 'Owned' } },
    });
    expect(patch.statusCode).toBe(403);
    const logs = await withToken(f!, tokens.metrics!, { method: 'GET', url: '/api/v1/logs' });
    expect(logs.statusCode).toBe(403);
    expect(f!.backend.calls.some((c) => c.name === 'setSettings')).toBe(false);
    expect(f!.servers.auth.listTokens()).toHaveLength(4);
  });

  test('an operator token cannot mint tokens or turn on kiosk.allowRemote', async () => {
    const { tokens } = await setup();
    for (const scope of ['metrics', 'operator', 'admin']) {
      const mint = await withToken(f!, tokens.operator!, {
        method: 'POST',
        url: '/api/v1/tokens',
        payload: { name: 'escalate', scope },
      });
      expect(mint.statusCode).toBe(403);
    }
    const remote = await withToken(f!, tokens.operator!, {
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { kiosk: { allowRemote: true } },
    });
    expect(remote.statusCode).toBe(403);
    expect(f!.backend.calls.some((c) => c.name === 'setSettings')).toBe(false);
    expect(f!.servers.auth.listTokens()).toHaveLength(4);
    const ok = await withToken(f!, tokens.operator!, { method: 'GET', url: '/api/v1/status' });
    expect(ok.statusCode).toBe(200);
  });

  test('only admin mints; a token never gets a scope above its maker’s', async () => {
    const { tokens } = await setup();
    const made = await withToken(f!, tokens.admin!, {
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'by admin token', scope: 'admin' },
    });
    expect(made.statusCode).toBe(201);
    expect(made.json().scope).toBe('admin');
    await expect(f!.servers.auth.createToken('up', 'admin', 'operator')).rejects.toMatchObject({
      code: 'http.forbidden',
    });
    await expect(f!.servers.auth.createToken('up', 'operator', 'metrics')).rejects.toMatchObject({
      code: 'http.forbidden',
    });
  });

  test('a token made without a scope gets metrics; the claim token is admin', async () => {
    const { s } = await setup();
    const made = await s.asSession({ method: 'POST', url: '/api/v1/tokens', payload: { name: 'scrape' } });
    expect(made.json().scope).toBe('metrics');
    const me = await s.asToken({ method: 'GET', url: '/api/v1/session' });
    expect(me.json()).toEqual({ kind: 'token', csrfToken: null, scope: 'admin' });
    const bad = await s.asSession({
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'x', scope: 'root' },
    });
    expect(bad.statusCode).toBe(400);
  });

  test('a plugin given without a scope needs admin; with one, that scope', async () => {
    f = await makeHttpFixture({
      adminServer: {
        authenticatedPlugins: [
          metricsPlugin,
          async (app) => {
            app.get('/api/v1/extra', async () => ({ ok: true }));
          },
        ],
      },
    });
    const s = await claimAndSignIn(f);
    const metrics = await mintToken(s, 'metrics');
    const operator = await mintToken(s, 'operator');
    expect((await withToken(f, metrics, { method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    expect((await withToken(f, operator, { method: 'GET', url: '/api/v1/extra' })).statusCode).toBe(403);
    expect((await s.asToken({ method: 'GET', url: '/api/v1/extra' })).statusCode).toBe(200);
  });
});

describe('version-1 auth state', () => {
  test('is migrated: unscoped tokens become metrics tokens, the claim and password stay', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-auth-v1-'));
    const secret = 'S'.repeat(43);
    const v1 = {
      version: 1,
      claimed: true,
      setupCode: null,
      passwordHash: await hashPassword(PASSWORD, { N: 1024, r: 8, p: 1 }),
      sessions: [],
      tokens: [{ id: '0123456789ab', name: 'roomctl@laptop', hash: sha256Hex(secret), createdAt: 1 }],
      organisationKey: null,
      lastBundleSerial: 3,
      failures: 4,
      lockedUntil: null,
    };
    await fsp.writeFile(path.join(dir, 'admin-auth.json'), JSON.stringify(v1), { mode: 0o600 });
    f = await makeHttpFixture({
      stateDir: dir,
      adminServer: { authenticatedPlugins: [metricsPlugin] },
    });
    try {
      const token = `rmd_0123456789ab_${secret}`;
      expect((await withToken(f, token, { method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      expect((await withToken(f, token, { method: 'GET', url: '/api/v1/status' })).statusCode).toBe(403);
      const login = await f.servers.admin.inject({
        method: 'POST',
        url: '/api/v1/login',
        payload: { password: PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      const stored = JSON.parse(await fsp.readFile(path.join(dir, 'admin-auth.json'), 'utf8'));
      expect(stored.version).toBe(2);
      expect(stored.tokens[0]).toMatchObject({ id: '0123456789ab', scope: 'metrics' });
      expect(stored.lastBundleSerial).toBe(3);
      expect(stored).not.toHaveProperty('failures');
    } finally {
      await f.close();
      f = undefined;
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
