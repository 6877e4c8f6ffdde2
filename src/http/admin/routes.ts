/**
 * Authenticated admin routes: session, password, API tokens, settings through the settings
 * schema, signed provisioning bundles, status, health, devices, logs download, restart, and
 * scheduling a meeting for this room on the meeting service. Each route names the least token
 * scope it needs (docs/kiosk-and-admin-api.md §API tokens has the table).
 */
import type { FastifyInstance } from 'fastify';
import { RoomdError } from '../../core/errors.ts';
import { ErrorBody } from '../errors.ts';
import type { AdminBackend, MeetingToSchedule } from '../ports.ts';
import {
  AnyObject,
  DevicesReply,
  HealthReply,
  LogsQuery,
  NewTokenReply,
  Okay,
  PasswordBody,
  PasswordReply,
  ProvisionReply,
  ScheduleBody,
  ScheduleReply,
  TokenBody,
  TokenInfo,
  TokenParams,
  WhoAmIReply,
} from '../schemas/admin.ts';
import { Type } from '@sinclair/typebox';
import type { Scope } from './auth-state.ts';
import type { AdminAuth } from './auth.ts';
import { SignedBundle, verifyBundle } from './bundle.ts';
import { clearSessionCookie, guessClient, sessionIdOf } from './guard.ts';

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const security = [{ session: [], csrf: [] }, { token: [] }];
const iso = (ms: number) => new Date(ms).toISOString();

export async function adminRoutes(
  app: FastifyInstance,
  opts: { auth: AdminAuth; backend: AdminBackend; deviceId: string },
): Promise<void> {
  const { auth, backend } = opts;
  const s = (tags: string, scope: Scope, extra: Record<string, unknown>) => ({
    config: { scope },
    schema: { tags: [tags], security, description: `Token scope: ${scope} or above.`, ...extra },
  });

  app.get(
    '/api/v1/session',
    s('auth', 'metrics', { response: { 200: WhoAmIReply, ...errors } }),
    async (request) => ({
      kind: request.admin!.kind,
      csrfToken: request.admin!.csrfToken,
      scope: request.admin!.scope,
    }),
  );

  app.post(
    '/api/v1/logout',
    s('auth', 'metrics', { response: { 204: Type.Null(), ...errors } }),
    async (request, reply) => {
      const sid = sessionIdOf(request);
      if (sid !== undefined) await auth.logout(sid);
      clearSessionCookie(reply);
      return reply.status(204).send();
    },
  );

  app.post<{ Body: { currentPassword: string; newPassword: string } }>(
    '/api/v1/password',
    s('auth', 'admin', { body: PasswordBody, response: { 200: PasswordReply, ...errors } }),
    async (request, reply) => {
      const { tokensRevoked } = await auth.changePassword(
        request.body.currentPassword,
        request.body.newPassword,
        guessClient(request),
      );
      clearSessionCookie(reply);
      return { ok: true as const, tokensRevoked };
    },
  );

  app.get(
    '/api/v1/tokens',
    s('auth', 'admin', { response: { 200: Type.Array(TokenInfo), ...errors } }),
    async () => auth.listTokens().map((t) => ({ ...t, createdAt: iso(t.createdAt) })),
  );
  app.post<{ Body: { name: string; scope?: Scope } }>(
    '/api/v1/tokens',
    s('auth', 'admin', { body: TokenBody, response: { 201: NewTokenReply, ...errors } }),
    async (request, reply) => {
      const t = await auth.createToken(
        request.body.name,
        request.body.scope ?? 'metrics',
        request.admin!.scope,
      );
      return reply.status(201).send({ ...t, createdAt: iso(t.createdAt) });
    },
  );
  app.delete<{ Params: { id: string } }>(
    '/api/v1/tokens/:id',
    s('auth', 'admin', { params: TokenParams, response: { 204: Type.Null(), ...errors } }),
    async (request, reply) => {
      await auth.revokeToken(request.params.id);
      return reply.status(204).send();
    },
  );

  app.get('/api/v1/settings', s('settings', 'admin', { response: { 200: AnyObject, ...errors } }), async () =>
    backend.getSettings(),
  );
  app.get(
    '/api/v1/settings/schema',
    s('settings', 'admin', { response: { 200: AnyObject, ...errors } }),
    async () => backend.settingsSchema(),
  );
  app.patch<{ Body: unknown }>(
    '/api/v1/settings',
    s('settings', 'admin', { body: AnyObject, response: { 200: AnyObject, ...errors } }),
    async (request) => backend.setSettings(request.body),
  );

  app.post<{ Body: unknown }>(
    '/api/v1/provision',
    s('provisioning', 'admin', { body: SignedBundle, response: { 200: ProvisionReply, ...errors } }),
    async (request) =>
      // One bundle at a time: the stale-serial check below sees every earlier bundle's serial.
      auth.provisionExclusively(async () => {
        const verified = verifyBundle(request.body, {
          organisationKey: auth.organisationKey,
          lastSerial: auth.lastBundleSerial,
          deviceId: opts.deviceId,
        });
        const p = verified.payload;
        await backend.applyProvisioning({
          serial: p.serial,
          settings: p.settings,
          ...(p.roomName === undefined ? {} : { roomName: p.roomName }),
        });
        await auth.recordBundle(p.serial, verified.nextOrganisationKey);
        return { ok: true as const, serial: p.serial, organisationKey: verified.nextOrganisationKey };
      }),
  );

  app.get(
    '/api/v1/status',
    s('operations', 'operator', { response: { 200: AnyObject, ...errors } }),
    async () => ({
      ...(await backend.status()),
      deviceId: opts.deviceId,
      claimed: auth.claimed,
      loginLocked: auth.lockout().locked,
      lastBundleSerial: auth.lastBundleSerial,
    }),
  );
  app.get(
    '/api/v1/health',
    s('operations', 'operator', { response: { 200: HealthReply, ...errors } }),
    async () => backend.health(),
  );
  app.get(
    '/api/v1/devices',
    s('operations', 'operator', { response: { 200: DevicesReply, ...errors } }),
    async () => ({ devices: await backend.devices() }),
  );
  app.get<{ Querystring: { lines?: string } }>(
    '/api/v1/logs',
    s('operations', 'admin', { querystring: LogsQuery }),
    async (request, reply) => {
      const lines = Math.min(Number(request.query.lines ?? '2000'), 100_000);
      const body = await backend.logs({ lines });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="roomd-${opts.deviceId}-${stamp}.log"`)
        .send(body);
    },
  );
  app.post(
    '/api/v1/restart',
    s('operations', 'operator', { response: { 202: Okay, ...errors } }),
    async (_request, reply) => {
      await backend.restart();
      return reply.status(202).send({ ok: true as const });
    },
  );
  app.post<{ Body: MeetingToSchedule }>(
    '/api/v1/schedule',
    s('meetings', 'operator', { body: ScheduleBody, response: { 201: ScheduleReply, ...errors } }),
    async (request, reply) => {
      if (Date.parse(request.body.end) <= Date.parse(request.body.start)) {
        throw new RoomdError('http.bad_request', {
          message: 'The meeting must end after it starts.',
          context: { fields: [{ path: 'body.end', message: 'must be after start' }] },
        });
      }
      return reply.status(201).send(await backend.scheduleMeeting(request.body));
    },
  );
}
