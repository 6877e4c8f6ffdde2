/**
 * Authentication and CSRF for the admin context (issue 7). A request is an admin if it carries a
 * session cookie (browser) or `Authorization: Bearer rmd_…` (scripts, roomctl). Cookie sessions
 * must send their CSRF token in `x-csrf-token` on every state-changing request (synchronizer
 * token); the cookie itself is HttpOnly, Secure, SameSite=Strict and `__Host-` prefixed.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RoomdError } from '../../core/errors.ts';
import type { AdminAuth, Principal } from './auth.ts';
import { safeEqual } from './secrets.ts';

export const SESSION_COOKIE = '__Host-roomd_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    admin?: Principal;
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
    request.admin = principal;
  };
}
