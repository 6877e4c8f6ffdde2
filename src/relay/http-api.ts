/**
 * The relay's management API (docs/protocol.md §Management API; decision 0010): meetings (list,
 * create/schedule, show, delete), account settings ("allow end-to-end encryption", default
 * encryption), rooms and their credentials, and live stats. Every /api route needs a credential:
 * the admin token for everything, or a room token for that one room's schedule and identity. Lists
 * never carry passcodes; only the room a meeting is booked for reads them, from its own schedule.
 * Bodies are validated by the registry; errors are `{code, message}` with the code's HTTP status.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RoomdError } from '../core/errors.ts';
import type { RelayCore } from './core.ts';
import { type MeetingRecord, roomScheduleEntry } from './registry.ts';

/** A fresh admin token: 32 random bytes, base64url. */
export function generateAdminToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `host` only listens on this machine (the management API is then local-only). */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Shortest admin token the relay takes. */
export const MIN_ADMIN_TOKEN_CHARS = 16;

/**
 * Checks a given admin token, and refuses to serve the management API beyond loopback with a token
 * nobody was given (one `createRelay` made up in memory): docs/protocol.md §Management API.
 */
export function checkAdminToken(host: string | undefined, given: string | undefined): void {
  if (
    given !== undefined &&
    (given.length < MIN_ADMIN_TOKEN_CHARS || given.length > 512 || /\s/.test(given))
  ) {
    throw new RoomdError('config.invalid', {
      message: `The relay admin token must be ${MIN_ADMIN_TOKEN_CHARS} to 512 characters without spaces.`,
    });
  }
  if (given !== undefined || isLoopbackHost(host)) return;
  throw new RoomdError('config.invalid', {
    message: `The relay would listen on ${host}, beyond this machine, without an admin token: give it one (roomd relay serve --state-dir DIR makes one; or --admin-token-file FILE).`,
  });
}

function bearer(header: string | undefined): string | undefined {
  if (header === undefined || !header.startsWith('Bearer ')) return undefined;
  const token = header.slice(7).trim();
  return token === '' || token.length > 512 ? undefined : token;
}

/** Constant-time in both values (compares their hashes). */
function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** A meeting as lists and `show` give it: whether a passcode is set, never the passcode. */
export type PublicMeeting = Omit<MeetingRecord, 'passcode'> & { hasPasscode: boolean };
export function publicMeeting(m: MeetingRecord): PublicMeeting {
  const { passcode, ...rest } = m;
  return { ...rest, hasPasscode: passcode !== null };
}

type Caller = { kind: 'admin' } | { kind: 'room'; room: string };

/** Routes a room token may use, for its own room only. */
const ROOM_ROUTES = new Set([
  '/api/v1/rooms/:room/schedule',
  '/api/v1/rooms/:room/identity',
  '/api/v1/rooms/:room/meetings',
]);

export function registerHttpApi(app: FastifyInstance, core: RelayCore, adminToken: string): void {
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

  const callerOf = (request: FastifyRequest): Caller | undefined => {
    const token = bearer(request.headers.authorization);
    if (token === undefined) return undefined;
    if (sameSecret(adminToken, token)) return { kind: 'admin' };
    const room = core.registry.roomForToken(token);
    return room === undefined ? undefined : { kind: 'room', room };
  };

  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const caller = callerOf(request);
    if (caller === undefined) {
      throw new RoomdError('http.unauthorized', {
        message: "The relay's management API needs a token: Authorization: Bearer TOKEN.",
      });
    }
    if (caller.kind === 'admin') return;
    const route = request.routeOptions.url ?? '';
    const params = request.params as { room?: string } | undefined;
    if (!ROOM_ROUTES.has(route) || params?.room !== caller.room) {
      throw new RoomdError('http.forbidden', {
        message: 'A room token only reads and books the schedule of its own room.',
      });
    }
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/api/v1/meetings', async () => ({ meetings: core.registry.list().map(publicMeeting) }));

  // The creator gets the record once with its passcode; lists and show never carry it again.
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
      ...publicMeeting(meeting),
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
    const meeting = core.registry.get(request.params.id);
    if (meeting === undefined) throw new RoomdError('relay.meeting_not_found');
    await core.registry.delete(meeting.id);
    core.endMeeting(meeting.id);
    core.lockout.forgetMeeting(meeting.id);
    core.log.info({ meeting: meeting.id }, 'meeting deleted');
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
    const account = await core.registry.updateAccount(request.params.id, patch);
    core.log.info({ account: account.id, ...patch }, 'account changed');
    return account;
  });

  app.get('/api/v1/rooms', async () => ({ rooms: core.registry.rooms() }));

  app.post<{ Params: { room: string } }>('/api/v1/rooms/:room/tokens', async (request, reply) => {
    const created = await core.registry.createRoomToken(request.params.room, request.body ?? {});
    core.log.info({ room: created.room, tokenId: created.id }, 'room token created');
    return reply.status(201).send(created);
  });

  app.delete<{ Params: { room: string } }>('/api/v1/rooms/:room/tokens', async (request, reply) => {
    await core.registry.revokeRoomTokens(request.params.room);
    core.log.info({ room: request.params.room }, 'room tokens revoked');
    return reply.status(204).send();
  });

  app.put<{ Params: { room: string } }>('/api/v1/rooms/:room/identity', async (request) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const keys = Object.keys(body);
    if (keys.length !== 1 || keys[0] !== 'identityKey') {
      throw new RoomdError('core.invalid_argument', { message: 'The body is {"identityKey": KEY}.' });
    }
    return core.registry.setRoomIdentity(request.params.room, body['identityKey']);
  });

  // The room's own bookings, with the passcodes it needs to join them.
  // Each carries the host-signed policy it was booked with, if any, as it was given.
  app.get<{ Params: { room: string } }>('/api/v1/rooms/:room/schedule', async (request) => {
    const meetings = core.registry.roomSchedule(request.params.room).map(roomScheduleEntry);
    return {
      meetings: core.hooks.schedule ? core.hooks.schedule(meetings, request.params.room) : meetings,
    };
  });

  // A room books a meeting for itself (roomctl schedule): always booked to that room, hosted by the
  // identity key it registered when it has one. The creator gets the passcode once, as above.
  app.post<{ Params: { room: string } }>('/api/v1/rooms/:room/meetings', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body) || body['room'] !== undefined) {
      throw new RoomdError('core.invalid_argument', {
        message: 'A room books meetings for itself: leave "room" out of the body.',
      });
    }
    const registered = core.registry.roomIdentity(request.params.room);
    if (registered !== undefined && body['hostIdentityKey'] !== registered) {
      throw new RoomdError('http.forbidden', {
        message: "A room's bookings are hosted by the identity key it registered.",
      });
    }
    const meeting = await core.registry.create({ ...body, room: request.params.room });
    core.log.info(
      { meeting: meeting.id, encryption: meeting.encryption, room: request.params.room },
      'meeting booked by a room',
    );
    return reply.status(201).send(meeting);
  });

  app.get('/api/v1/stats', async () => core.stats());
}
