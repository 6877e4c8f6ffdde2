/**
 * Request and response schemas of the admin context (docs/kiosk-and-admin-api.md: claim, sign-in,
 * tokens, settings, provisioning, status, devices, logs, restart, scheduling).
 */
import { Type } from '@sinclair/typebox';
import { SCOPES, ScopeSchema } from '../admin/auth-state.ts';
import { DeviceInfo, Encryption } from './state.ts';

const strict = { additionalProperties: false } as const;
const HexKey = Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'Ed25519 public key, hex' });

export const ClaimBody = Type.Object(
  {
    setupCode: Type.String({ minLength: 1, maxLength: 32 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
    roomName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    organisationKey: Type.Optional(HexKey),
    tokenName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'also issue an API token (scope admin)' }),
    ),
  },
  strict,
);

export const LoginBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 256 }) }, strict);

export const SessionReply = Type.Object({
  csrfToken: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  token: Type.Optional(Type.String({ description: 'API token, shown once' })),
});

export const ClaimStatusReply = Type.Object({
  claimed: Type.Boolean(),
  deviceId: Type.String(),
  organisationKeyTrusted: Type.Boolean(),
  loginLocked: Type.Boolean(),
});

export const WhoAmIReply = Type.Object({
  kind: Type.Union([Type.Literal('session'), Type.Literal('token')]),
  csrfToken: Type.Union([Type.String(), Type.Null()]),
  scope: ScopeSchema,
});

export const PasswordReply = Type.Object({
  ok: Type.Literal(true),
  tokensRevoked: Type.Integer({
    minimum: 0,
    description: 'every API token is revoked and every session ended by a password change',
  }),
});

export const PasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 256 }),
    newPassword: Type.String({ minLength: 1, maxLength: 256 }),
  },
  strict,
);

export const TokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    scope: Type.Optional(
      Type.Union(
        SCOPES.map((x) => Type.Literal(x)),
        { description: 'metrics (the default), operator or admin' },
      ),
    ),
  },
  strict,
);
export const TokenInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scope: ScopeSchema,
  createdAt: Type.String(),
});
export const NewTokenReply = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scope: ScopeSchema,
  createdAt: Type.String(),
  token: Type.String({ description: 'shown once; only its hash is kept' }),
});
export const TokenParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) }, strict);

export const ProvisionReply = Type.Object({
  ok: Type.Literal(true),
  serial: Type.Integer(),
  organisationKey: Type.String(),
});

export const LogsQuery = Type.Object(
  { lines: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })) },
  strict,
);

export const ScheduleBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    start: Type.String({ format: 'date-time' }),
    end: Type.String({ format: 'date-time' }),
    encryption: Encryption,
    passcode: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  strict,
);
export const ScheduleReply = Type.Object({ meetingId: Type.String() });

export const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('failing')]),
  checks: Type.Array(
    Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) }),
  ),
});

export const DevicesReply = Type.Object({ devices: Type.Array(DeviceInfo) });
export const AnyObject = Type.Record(Type.String(), Type.Unknown());
export const Okay = Type.Object({ ok: Type.Literal(true) });
