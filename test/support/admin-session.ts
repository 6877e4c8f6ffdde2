/**
 * Helpers for admin-context inject() tests: claim the device, sign in, and send requests as a
 * cookie session (with its CSRF token) or with an API token.
 */
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { RoomState } from '../../src/http/schemas/state.ts';
import type { HttpFixture } from './http-fixture.ts';

export const PASSWORD = 'correct horse battery staple';

export interface AdminSession {
  cookie: string;
  csrfToken: string;
  token: string;
  /** As the signed-in browser: cookie + CSRF header. */
  asSession(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** As a script: bearer token. */
  asToken(options: InjectOptions): Promise<LightMyRequestResponse>;
}

/** A request with `Authorization: Bearer <token>`. */
export function withToken(
  f: HttpFixture,
  token: string,
  options: InjectOptions,
): Promise<LightMyRequestResponse> {
  return f.servers.admin.inject({
    ...options,
    headers: { ...(options.headers ?? {}), authorization: `Bearer ${token}` },
  });
}

/** Make an API token with `scope` as the signed-in admin; returns the token text. */
export async function mintToken(
  session: AdminSession,
  scope: string,
  name = `${scope} token`,
): Promise<string> {
  const res = await session.asSession({ method: 'POST', url: '/api/v1/tokens', payload: { name, scope } });
  if (res.statusCode !== 201) throw new Error(`token not made: ${res.body}`);
  return res.json<{ token: string }>().token;
}

export function sessionCookieOf(res: LightMyRequestResponse): string {
  const c = res.cookies.find((x) => x.name === '__Host-roomd_session');
  if (c === undefined) throw new Error('no session cookie');
  return `${c.name}=${c.value}`;
}

export async function setupCodeOf(f: HttpFixture): Promise<string> {
  const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
  if (s.setup === null) throw new Error('already claimed');
  return s.setup.setupCode;
}

export async function claimAndSignIn(
  f: HttpFixture,
  extra: Record<string, unknown> = {},
): Promise<AdminSession> {
  const admin: FastifyInstance = f.servers.admin;
  const res = await admin.inject({
    method: 'POST',
    url: '/api/v1/claim',
    payload: { setupCode: await setupCodeOf(f), password: PASSWORD, tokenName: 'tests', ...extra },
  });
  if (res.statusCode !== 200) throw new Error(`claim failed: ${res.body}`);
  const body = res.json<{ csrfToken: string; token: string }>();
  const cookie = sessionCookieOf(res);
  return {
    cookie,
    csrfToken: body.csrfToken,
    token: body.token,
    asSession: (o) =>
      admin.inject({ ...o, headers: { ...(o.headers ?? {}), cookie, 'x-csrf-token': body.csrfToken } }),
    asToken: (o) =>
      admin.inject({ ...o, headers: { ...(o.headers ?? {}), authorization: `Bearer ${body.token}` } }),
  };
}
