/**
 * On-disk shape of the admin auth state (issue 7, admin context): claim, password hash (scrypt),
 * sessions and API tokens (hashed at rest), organisation key, login lockout. One JSON document in
 * the state directory, written atomically through JsonFileStore (mode 0600).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const SessionRecord = Type.Object({
  /** sha256 of the session id, hex */
  idHash: Type.String(),
  csrfToken: Type.String(),
  createdAt: Type.Number(),
  expiresAt: Type.Number(),
});
export type SessionRecord = Static<typeof SessionRecord>;

export const TokenRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** sha256 of the secret part, hex */
  hash: Type.String(),
  createdAt: Type.Number(),
});
export type TokenRecord = Static<typeof TokenRecord>;

export const AuthState = Type.Object({
  version: Type.Literal(1),
  claimed: Type.Boolean(),
  setupCode: Type.Union([Type.String(), Type.Null()]),
  passwordHash: Type.Union([Type.String(), Type.Null()]),
  sessions: Type.Array(SessionRecord),
  tokens: Type.Array(TokenRecord),
  organisationKey: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  lastBundleSerial: Type.Integer({ minimum: 0 }),
  failures: Type.Integer({ minimum: 0 }),
  lockedUntil: Type.Union([Type.Number(), Type.Null()]),
});
export type AuthState = Static<typeof AuthState>;

export function parseAuthState(raw: unknown): AuthState {
  if (!Value.Check(AuthState, raw)) {
    const first = Value.Errors(AuthState, raw).First();
    throw new Error(first === undefined ? 'invalid auth state' : `${first.path || '/'}: ${first.message}`);
  }
  return raw;
}

export function freshAuthState(setupCode: string): AuthState {
  return {
    version: 1,
    claimed: false,
    setupCode,
    passwordHash: null,
    sessions: [],
    tokens: [],
    organisationKey: null,
    lastBundleSerial: 0,
    failures: 0,
    lockedUntil: null,
  };
}
