/**
 * The relay's small management API (issue 4 "a small HTTP API and CLI to manage them"): meetings
 * (list, create/schedule, show, delete), account settings ("allow end-to-end encryption", default
 * encryption) and live stats. Bodies are validated by the registry; errors are `{code, message}`
 * with the code's HTTP status. With an admin token set, every /api route needs it as a bearer token.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { RoomdError } from '../core/errors.ts';
import type { RelayCore } from './core.ts';

function tokenMatches(expected: string, header: string | undefined): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice(7) : '';
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerHttpApi(app: FastifyInstance, core: RelayCore, adminToken: string | undefined): void {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof RoomdError) {
      void reply.status(error.httpStatus).send({ code: error.code, message: error.message });
      return;
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status < 500) {
      void reply.status(status).send({ code: 'http.bad_request', message: (error as Error).message });
      return;
    }
    core.log.error({ err: (error as Error).message }, 'relay API request failed');
    void reply.status(500).send({ code: 'core.internal', message: 'Something went wrong inside the relay.' });
  });

  app.addHook('onRequest', async (request) => {
    if (adminToken === undefined || !request.url.startsWith('/api/')) return;
    if (!tokenMatches(adminToken, request.headers.authorization)) throw new RoomdError('http.unauthorized');
  });

  app.get('/healthz', async () => ({ ok: true, ...core.stats() }));

  app.get('/api/v1/meetings', async () => ({ meetings: core.registry.list() }));

  app.post('/api/v1/meetings', async (request, reply) => {
    const meeting = await core.registry.create(request.body ?? {});
    core.log.info({ meeting: meeting.id, encryption: meeting.encryption }, 'meeting created');
    return reply.status(201).send(meeting);
  });

  app.get<{ Params: { id: string } }>('/api/v1/meetings/:id', async (request) => {
    const meeting = core.registry.get(request.params.id);
    if (meeting === undefined) throw new RoomdError('relay.meeting_not_found');
    const live = core.liveFor(meeting.id);
    return {
      ...meeting,
      live:
        live === undefined
          ? null
          : {
              instanceId: live.instanceId,
              participants: live.participants.size,
              waiting: core.waiting.get(meeting.id)?.size ?? 0,
              leader: live.leader.participantId,
            },
    };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/meetings/:id', async (request, reply) => {
    await core.registry.delete(request.params.id);
    core.endMeeting(request.params.id);
    core.log.info({ meeting: request.params.id }, 'meeting deleted');
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/api/v1/accounts/:id', async (request) =>
    core.registry.account(request.params.id),
  );

  app.patch<{ Params: { id: string } }>('/api/v1/accounts/:id', async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const patch: { allowE2ee?: boolean; defaultEncryption?: 'e2ee' | 'enhanced' } = {};
    for (const key of Object.keys(body)) {
      if (key !== 'allowE2ee' && key !== 'defaultEncryption') {
        throw new RoomdError('core.invalid_argument', { message: `Unknown account setting "${key}".` });
      }
    }
    if (body['allowE2ee'] !== undefined) {
      if (typeof body['allowE2ee'] !== 'boolean')
        throw new RoomdError('core.invalid_argument', { message: 'allowE2ee must be true or false.' });
      patch.allowE2ee = body['allowE2ee'];
    }
    if (body['defaultEncryption'] !== undefined) {
      if (body['defaultEncryption'] !== 'e2ee' && body['defaultEncryption'] !== 'enhanced') {
        throw new RoomdError('core.invalid_argument', {
          message: 'defaultEncryption must be "e2ee" or "enhanced".',
        });
      }
      patch.defaultEncryption = body['defaultEncryption'];
    }
    return core.registry.updateAccount(request.params.id, patch);
  });

  app.get('/api/v1/stats', async () => core.stats());
}
