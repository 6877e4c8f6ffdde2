/**
 * The admin context (issue 7): HTTPS on the LAN. Public part: `/health`, claim status, the
 * first-boot claim and sign-in (both rate limited and counted toward the lockout). Everything
 * else sits in a child context behind the guard (session + CSRF, or API token).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { RoomdError } from '../../core/errors.ts';
import { ErrorBody } from '../errors.ts';
import type { AdminBackend } from '../ports.ts';
import { ClaimBody, ClaimStatusReply, LoginBody, SessionReply } from '../schemas/admin.ts';
import type { AdminAuth } from './auth.ts';
import { makeGuard, setSessionCookie } from './guard.ts';
import { adminRoutes } from './routes.ts';

export interface AdminContextOptions {
  auth: AdminAuth;
  backend: AdminBackend;
  deviceId: string;
  /** Built kiosk-ui directory holding admin.html and assets/; the page is left out when missing. */
  uiDir: string;
  /** More routes behind the admin guard (e.g. the `/metrics` plugin, scraped with an API token). */
  authenticatedPlugins?: FastifyPluginAsync[];
  /** Sign-in and claim attempts per client per minute (the lockout counts failures on top). */
  loginRateLimit?: number;
}

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };

export async function adminContext(app: FastifyInstance, opts: AdminContextOptions): Promise<void> {
  const { auth, backend } = opts;
  await app.register(fastifyCookie);
  const loginLimit = { max: opts.loginRateLimit ?? 30, timeWindow: 60_000 };

  app.get(
    '/api/v1/claim',
    {
      schema: {
        tags: ['auth'],
        summary: 'Whether this device is claimed',
        response: { 200: ClaimStatusReply },
      },
    },
    async () => ({
      claimed: auth.claimed,
      deviceId: opts.deviceId,
      organisationKeyTrusted: auth.organisationKey !== null,
      loginLocked: auth.lockout().locked,
    }),
  );

  app.post<{
    Body: {
      setupCode: string;
      password: string;
      roomName?: string;
      organisationKey?: string;
      tokenName?: string;
    };
  }>(
    '/api/v1/claim',
    {
      config: { rateLimit: loginLimit },
      schema: {
        tags: ['auth'],
        summary: 'Claim the device with the setup code shown on its screen and set the admin password',
        body: ClaimBody,
        response: { 200: SessionReply, ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      await auth.claim({
        setupCode: b.setupCode,
        password: b.password,
        ...(b.organisationKey === undefined ? {} : { organisationKey: b.organisationKey }),
      });
      await backend.onClaimed(b.roomName === undefined ? {} : { roomName: b.roomName });
      const session = await auth.login(b.password);
      setSessionCookie(reply, session.sessionId, session.expiresAt);
      const token = b.tokenName === undefined ? undefined : (await auth.createToken(b.tokenName)).token;
      return {
        csrfToken: session.csrfToken,
        expiresAt: new Date(session.expiresAt).toISOString(),
        ...(token === undefined ? {} : { token }),
      };
    },
  );

  app.post<{ Body: { password: string } }>(
    '/api/v1/login',
    {
      config: { rateLimit: loginLimit },
      schema: { tags: ['auth'], body: LoginBody, response: { 200: SessionReply, ...errors } },
    },
    async (request, reply) => {
      const session = await auth.login(request.body.password);
      setSessionCookie(reply, session.sessionId, session.expiresAt);
      return { csrfToken: session.csrfToken, expiresAt: new Date(session.expiresAt).toISOString() };
    },
  );

  if (existsSync(path.join(opts.uiDir, 'admin.html'))) {
    await app.register(fastifyStatic, {
      root: path.join(opts.uiDir, 'assets'),
      prefix: '/assets/',
      index: false,
      dotfiles: 'deny',
    });
    app.get('/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('admin.html', opts.uiDir));
  } else {
    app.get('/', { schema: { hide: true } }, async () => {
      throw new RoomdError('http.ui_missing', {
        message: 'The admin page has not been built; use roomctl or /docs.',
      });
    });
  }

  await app.register(async (secured) => {
    secured.addHook('onRequest', makeGuard(auth));
    await adminRoutes(secured, { auth, backend, deviceId: opts.deviceId });
    for (const plugin of opts.authenticatedPlugins ?? []) await secured.register(plugin);
  });
}
