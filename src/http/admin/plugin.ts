/**
 * The admin context: HTTPS on the LAN. Public part: `/health`, claim status, the first-boot claim
 * and sign-in (both rate limited and under the guess limits, docs/kiosk-and-admin-api.md
 * §Lockout). Everything else sits in a child context behind the guard (session + CSRF, or API
 * token with a scope, §API tokens).
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
import type { Scope } from './auth-state.ts';
import type { AdminAuth } from './auth.ts';
import { guessClient, makeGuard, setSessionCookie } from './guard.ts';
import { adminRoutes } from './routes.ts';

/** A plugin for behind the guard; its routes need `scope` unless a route declares its own. */
export interface ScopedPlugin {
  scope: Scope;
  plugin: FastifyPluginAsync;
}
/** A bare plugin's routes need `admin` unless they declare a scope (`config.scope`). */
export type AuthenticatedPlugin = FastifyPluginAsync | ScopedPlugin;

export interface AdminContextOptions {
  auth: AdminAuth;
  backend: AdminBackend;
  deviceId: string;
  /** Built kiosk-ui directory holding admin.html and assets/; the page is left out when missing. */
  uiDir: string;
  /** More routes behind the admin guard (e.g. the `/metrics` plugin, scope `metrics`). */
  authenticatedPlugins?: AuthenticatedPlugin[];
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
      const { session, token } = await auth.claim(
        {
          setupCode: b.setupCode,
          password: b.password,
          ...(b.organisationKey === undefined ? {} : { organisationKey: b.organisationKey }),
          ...(b.tokenName === undefined ? {} : { tokenName: b.tokenName }),
        },
        guessClient(request),
      );
      await backend.onClaimed(b.roomName === undefined ? {} : { roomName: b.roomName });
      setSessionCookie(reply, session.sessionId, session.expiresAt);
      return {
        csrfToken: session.csrfToken,
        expiresAt: new Date(session.expiresAt).toISOString(),
        ...(token === null ? {} : { token: token.token }),
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
      const session = await auth.login(request.body.password, guessClient(request));
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
    for (const entry of opts.authenticatedPlugins ?? []) {
      const { plugin, scope }: ScopedPlugin =
        typeof entry === 'function' ? { plugin: entry, scope: 'admin' } : entry;
      await secured.register(async (child) => {
        child.addHook('onRoute', (route) => {
          route.config = { ...route.config, scope: route.config?.scope ?? scope };
        });
        await child.register(plugin);
      });
    }
  });
}
