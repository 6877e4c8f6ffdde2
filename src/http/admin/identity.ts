/**
 * Admin routes for the room's organization identity (docs/admin.md §Organization identities, §Key
 * pins): what identity key and certificate the room has, the identity-key pins it keeps, and
 * forgetting one pin so a person who really got a new key is accepted again. Every route needs the
 * `admin` scope. The certificate and the trust anchors themselves are settings
 * (`identity.certificate`, `identity.trustAnchors`): PATCH /api/v1/settings or a provisioning bundle.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { RoomdError } from '../../core/errors.ts';
import { ErrorBody } from '../errors.ts';

const strict = { additionalProperties: false } as const;
const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const security = [{ session: [], csrf: [] }, { token: [] }];

const Name = Type.String({ minLength: 1, maxLength: 128 });

export const CertificateStatus = Type.Union([
  Type.Object({ status: Type.Literal('none') }),
  Type.Object({
    status: Type.Literal('verified'),
    org: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    notAfter: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    status: Type.Literal('unverified'),
    reason: Type.String({ description: 'why, in plain words (e.g. "certificate expired")' }),
  }),
]);

export const IdentityReply = Type.Object({
  deviceId: Type.String(),
  identityKey: Type.String({ description: "this room's Ed25519 identity key (IVK), base64url" }),
  fingerprint: Type.String({ description: 'short fingerprint of the identity key' }),
  certificate: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  certificateStatus: CertificateStatus,
  trustAnchors: Type.Array(
    Type.Object({ org: Type.String(), publicKey: Type.String(), fingerprint: Type.String() }),
  ),
  unverifiedParticipants: Type.String(),
  pins: Type.Integer({ minimum: 0 }),
  problems: Type.Array(Type.String()),
});
export type IdentityReply = Static<typeof IdentityReply>;

export const PinInfo = Type.Object({
  org: Type.String(),
  name: Type.String(),
  fingerprint: Type.String({ description: 'short fingerprint of the pinned identity key' }),
  key: Type.String({ description: 'the pinned identity key, base64url' }),
  firstSeen: Type.String({ format: 'date-time' }),
});
export type PinInfo = Static<typeof PinInfo>;

export const PinsReply = Type.Object({
  pins: Type.Array(PinInfo),
  problem: Type.Union([Type.String(), Type.Null()], { description: 'set when the pins file was damaged' }),
});

export const ForgetBody = Type.Object({ org: Name, name: Name }, strict);
export const ForgetReply = Type.Object({
  forgotten: Type.Object({ org: Type.String(), name: Type.String() }),
});

/** What these routes need from the room. */
export interface IdentityAdmin {
  show(): Promise<IdentityReply>;
  pins(): Promise<{ pins: PinInfo[]; problem: string | null }>;
  /** False when nothing was pinned for that (organization, name). */
  forget(org: string, name: string): Promise<boolean>;
}

export function identityRoutes(backend: IdentityAdmin): FastifyPluginAsync {
  const s = (extra: Record<string, unknown>) => ({
    config: { scope: 'admin' as const },
    schema: { tags: ['identity'], security, description: 'Token scope: admin.', ...extra },
  });
  return async (app) => {
    app.get('/api/v1/identity', s({ response: { 200: IdentityReply, ...errors } }), async () =>
      backend.show(),
    );
    app.get('/api/v1/identity/pins', s({ response: { 200: PinsReply, ...errors } }), async () =>
      backend.pins(),
    );
    app.post<{ Body: { org: string; name: string } }>(
      '/api/v1/identity/pins/forget',
      s({ body: ForgetBody, response: { 200: ForgetReply, ...errors } }),
      async (request) => {
        const { org, name } = request.body;
        if (!(await backend.forget(org, name)))
          throw new RoomdError('core.not_found', {
            message: `No identity key is pinned for "${name}" of "${org}".`,
            context: { org, name },
          });
        return { forgotten: { org, name } };
      },
    );
  };
}
