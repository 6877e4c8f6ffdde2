/**
 * On-disk shape of the admin auth state (docs/kiosk-and-admin-api.md §Claiming and signing in):
 * claim, password hash (scrypt), sessions and API tokens (hashed at rest, each token with its
 * scope), organisation key, last bundle serial and the global guess budget. One JSON document in
 * the state directory, written atomically through JsonFileStore (mode 0600).
 *
 * Versions: 1 had unscoped tokens and a global failure counter; 2 scopes every token and keeps
 * the global guess budget instead (§Lockout). A version-1 file is migrated on read (§API tokens).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const SCOPES = ['metrics', 'operator', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];
export const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));

/** metrics < operator < admin: a scope allows everything a lower one does. */
export function scopeAllows(held: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(held) >= SCOPES.indexOf(needed);
}

/** The scope version-1 tokens get: they carried no scope; the least one is the safe reading. */
export const LEGACY_TOKEN_SCOPE: Scope = 'metrics';

export const SessionRecord = Type.Object({
  /** sha256 of the session id, hex */
  idHash: Type.String(),
  csrfToken: Type.String(),
  createdAt: Type.Number(),
  expiresAt: Type.Number(),
});
export type SessionRecord = Static<typeof SessionRecord>;

const TokenV1 = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** sha256 of the secret part, hex */
  hash: Type.String(),
  createdAt: Type.Number(),
});

export const TokenRecord = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** sha256 of the secret part, hex */
  hash: Type.String(),
  createdAt: Type.Number(),
  scope: ScopeSchema,
});
export type TokenRecord = Static<typeof TokenRecord>;

const AuthStateV1 = Type.Object({
  version: Type.Literal(1),
  claimed: Type.Boolean(),
  setupCode: Type.Union([Type.String(), Type.Null()]),
  passwordHash: Type.Union([Type.String(), Type.Null()]),
  sessions: Type.Array(SessionRecord),
  tokens: Type.Array(TokenV1),
  organisationKey: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  lastBundleSerial: Type.Integer({ minimum: 0 }),
  failures: Type.Integer({ minimum: 0 }),
  lockedUntil: Type.Union([Type.Number(), Type.Null()]),
});
type AuthStateV1 = Static<typeof AuthStateV1>;

export const AuthState = Type.Object({
  version: Type.Literal(2),
  claimed: Type.Boolean(),
  setupCode: Type.Union([Type.String(), Type.Null()]),
  passwordHash: Type.Union([Type.String(), Type.Null()]),
  sessions: Type.Array(SessionRecord),
  tokens: Type.Array(TokenRecord),
  organisationKey: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  lastBundleSerial: Type.Integer({ minimum: 0 }),
  /** Global guess budget of network clients: the bucket's level at `at` (guess-limiter.ts). */
  guessBudget: Type.Object({ level: Type.Number({ minimum: 0 }), at: Type.Number() }),
});
export type AuthState = Static<typeof AuthState>;

function invalid(schema: typeof AuthState | typeof AuthStateV1, raw: unknown): Error {
  const first = Value.Errors(schema, raw).First();
  return new Error(first === undefined ? 'invalid auth state' : `${first.path || '/'}: ${first.message}`);
}

function migrateV1(v1: AuthStateV1): AuthState {
  return {
    version: 2,
    claimed: v1.claimed,
    setupCode: v1.setupCode,
    passwordHash: v1.passwordHash,
    sessions: v1.sessions,
    tokens: v1.tokens.map((t) => ({ ...t, scope: LEGACY_TOKEN_SCOPE })),
    organisationKey: v1.organisationKey,
    lastBundleSerial: v1.lastBundleSerial,
    // The old counter was not per client; the new budget starts empty.
    guessBudget: { level: 0, at: 0 },
  };
}

/** Validate a stored document, migrating version 1. Throws on anything else (the store's contract). */
export function readAuthState(raw: unknown): { state: AuthState; migrated: boolean } {
  const version =
    raw !== null && typeof raw === 'object' ? (raw as { version?: unknown }).version : undefined;
  if (version === 1) {
    if (!Value.Check(AuthStateV1, raw)) throw invalid(AuthStateV1, raw);
    return { state: migrateV1(raw), migrated: true };
  }
  if (!Value.Check(AuthState, raw)) throw invalid(AuthState, raw);
  return { state: raw, migrated: false };
}

export function parseAuthState(raw: unknown): AuthState {
  return readAuthState(raw).state;
}

export function freshAuthState(setupCode: string): AuthState {
  return {
    version: 2,
    claimed: false,
    setupCode,
    passwordHash: null,
    sessions: [],
    tokens: [],
    organisationKey: null,
    lastBundleSerial: 0,
    guessBudget: { level: 0, at: 0 },
  };
}
