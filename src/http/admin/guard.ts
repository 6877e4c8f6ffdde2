/**
 * Authentication, CSRF and scopes for the admin context (docs/kiosk-and-admin-api.md §Claiming
 * and signing in, §API tokens). A request is authenticated if it carries a session cookie
 * (browser) or `Authorization: Bearer rmd_…` (scripts, roomctl). Cookie sessions must send their
 * CSRF token in `x-csrf-token` on every state-changing request (synchronizer token); the cookie
 * itself is HttpOnly, Secure, SameSite=Strict and `__Host-` prefixed. Every route declares the
 * scope it needs in its config (`config.scope`); a route that declares none needs `admin`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RoomdError } from '../../core/errors.ts';
import { type Scope, scopeAllows } from './auth-state.ts';
import type { AdminAuth, Principal } from './auth.ts';
import { type Client, clientOf } from './guess-limiter.ts';
import { safeEqual } from './secrets.ts';

export const SESSION_COOKIE = '__Host-roomd_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    admin?: Principal;
  }
  interface FastifyContextConfig {
    /** The least API token scope a route of the admin context needs (default `admin`). */
    scope?: Scope;
  }
}

export function setSessionCookie(reply: FastifyReply, sessionId: string, expiresAt: number): void {
  reply.setCookie(SESSION_COOKIE, sessionId, {
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    path: '/',
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: 'strict', path: '/' });
}

export function sessionIdOf(request: FastifyRequest): string | undefined {
  return request.cookies[SESSION_COOKIE];
}

/**
 * Who is guessing, for the guess limits: the TCP peer (the admin API trusts no forwarding
 * header; it is never behind a proxy). Loopback is the device itself.
 */
export function guessClient(request: FastifyRequest): Client {
  return clientOf(request.socket.remoteAddress);
}

export function makeGuard(auth: AdminAuth) {
  return async function guard(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization;
    let principal: Principal | null = null;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      principal = m === null ? null : auth.authenticateToken(m[1]!);
      if (principal === null)
        throw new RoomdError('http.unauthorized', { message: 'The API token is not valid.' });
    } else {
      const sid = sessionIdOf(request);
      principal = sid === undefined ? null : auth.authenticateSession(sid);
      if (principal === null) throw new RoomdError('http.unauthorized');
      if (!SAFE_METHODS.has(request.method)) {
        const sent = request.headers[CSRF_HEADER];
        if (
          typeof sent !== 'string' ||
          principal.csrfToken === null ||
          !safeEqual(sent, principal.csrfToken)
        ) {
          throw new RoomdError('http.csrf');
        }
      }
    }
    const needed = request.routeOptions.config.scope ?? 'admin';
    if (!scopeAllows(principal.scope, needed)) {
      throw new RoomdError('http.forbidden', {
        message: `This API token has the ${principal.scope} scope; this needs ${needed}.`,
        context: { scope: principal.scope, needed },
      });
    }
    request.admin = principal;
  };
}
