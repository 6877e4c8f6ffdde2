/**
 * Admin authentication (docs/kiosk-and-admin-api.md §Claiming and signing in): first-boot claim
 * with the one-time setup code shown on the room screen, admin password (scrypt), sessions with a
 * CSRF token each, scoped API tokens for scripts (§API tokens), and the guess limits of
 * guess-limiter.ts (§Lockout; the kiosk state shows when network sign-in is paused). Time comes
 * from an injected Clock; state persists in the state directory.
 */
import * as path from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { JsonFileStore } from '../../core/store.ts';
import {
  type AuthState,
  freshAuthState,
  readAuthState,
  type Scope,
  type SessionRecord,
  scopeAllows,
  type TokenRecord,
} from './auth-state.ts';
import {
  type Client,
  DEFAULT_GUESS_POLICY,
  type GuessPolicy,
  GuessLimiter,
  type Refusal,
  type Reservation,
} from './guess-limiter.ts';
import {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  newApiToken,
  newSetupCode,
  normaliseSetupCode,
  parseApiToken,
  randomToken,
  type ScryptCost,
  safeEqual,
  sha256Hex,
  verifyPassword,
} from './secrets.ts';

export const SESSION_TTL_MS = 12 * 3_600_000;
export const MIN_PASSWORD_LENGTH = 10;

export interface AdminAuthOptions {
  stateDir: string;
  clock: Clock;
  scryptCost?: ScryptCost;
  guessPolicy?: GuessPolicy;
  /** Read-only notice when the state file was damaged and the last good copy was used. */
  onProblem?: (error: RoomdError) => void;
}

export interface Principal {
  kind: 'session' | 'token';
  /** CSRF token of a cookie session; tokens need none. */
  csrfToken: string | null;
  tokenId: string | null;
  /** Sessions (the admin password) are `admin`; a token has the scope it was made with. */
  scope: Scope;
}

export interface LockoutNotice {
  locked: boolean;
  until: number | null;
}

export interface SessionGrant {
  sessionId: string;
  csrfToken: string;
  expiresAt: number;
}

export interface NewToken {
  id: string;
  name: string;
  scope: Scope;
  token: string;
  createdAt: number;
}

export class AdminAuth {
  readonly #store: JsonFileStore<AuthState>;
  readonly #clock: Clock;
  readonly #cost: ScryptCost;
  readonly #limiter: GuessLimiter;
  #state: AuthState;
  readonly #listeners = new Set<() => void>();
  #unlockTimer: TimerHandle | null = null;
  #wasLocked = false;
  #saving: Promise<void> = Promise.resolve();
  /** Set from the moment a claim's code checked out until it is stored or failed. */
  #claiming = false;
  /** Provisioning bundles and password changes run one at a time, in arrival order. */
  #exclusive: Promise<void> = Promise.resolve();

  private constructor(store: JsonFileStore<AuthState>, state: AuthState, options: AdminAuthOptions) {
    this.#store = store;
    this.#state = state;
    this.#clock = options.clock;
    this.#cost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
    this.#limiter = new GuessLimiter(options.guessPolicy ?? DEFAULT_GUESS_POLICY, state.guessBudget);
  }

  static async open(options: AdminAuthOptions): Promise<AdminAuth> {
    let migrated = false;
    const store = new JsonFileStore(path.join(options.stateDir, 'admin-auth.json'), (raw) => {
      const read = readAuthState(raw);
      migrated ||= read.migrated;
      return read.state;
    });
    const read = await store.read();
    if (read.problem !== undefined) options.onProblem?.(read.problem);
    if (read.value === undefined && read.problem !== undefined && read.source === 'none') {
      // Never silently unclaim a device whose auth file is damaged: refuse to start instead.
      throw read.problem;
    }
    const auth = new AdminAuth(store, read.value ?? freshAuthState(newSetupCode()), options);
    if (read.value === undefined || read.source !== 'current' || migrated) await auth.#save();
    auth.#wasLocked = auth.lockout().locked;
    auth.#armUnlockTimer();
    return auth;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    if (this.#unlockTimer !== null) this.#clock.clear(this.#unlockTimer);
    this.#unlockTimer = null;
    this.#listeners.clear();
  }

  get claimed(): boolean {
    return this.#state.claimed;
  }

  /** The code the room screen shows until the device is claimed. */
  get setupCode(): string | null {
    return this.#state.claimed ? null : this.#state.setupCode;
  }

  get organisationKey(): string | null {
    return this.#state.organisationKey;
  }

  get lastBundleSerial(): number {
    return this.#state.lastBundleSerial;
  }

  /** Whether sign-in and claim over the network are paused (the global budget is spent). */
  lockout(): LockoutNotice {
    return this.#limiter.globalLock(this.#clock.now());
  }

  /**
   * Claim the device: set the password, open a session and, with `tokenName`, make an `admin`
   * token, all in one write. Single-flight: once a claim's code checked out, every other claim
   * gets http.already_claimed, and the stored password is that claim's.
   */
  async claim(
    input: { setupCode: string; password: string; organisationKey?: string; tokenName?: string },
    client: Client,
  ): Promise<{ session: SessionGrant; token: NewToken | null }> {
    if (this.#state.claimed || this.#claiming) throw new RoomdError('http.already_claimed');
    const slot = this.#reserve(client);
    const expected = this.#state.setupCode ?? '';
    if (!safeEqual(normaliseSetupCode(input.setupCode), normaliseSetupCode(expected))) {
      await this.#failed(slot);
      throw new RoomdError('http.bad_setup_code');
    }
    try {
      checkPasswordStrength(input.password);
    } catch (error) {
      this.#limiter.release(slot);
      throw error;
    }
    // No await between the code check and this line: concurrent claims see it.
    this.#claiming = true;
    this.#limiter.succeed(slot);
    const before = this.#state;
    try {
      const passwordHash = await hashPassword(input.password, this.#cost);
      const { grant, record } = this.#newSession();
      const token = input.tokenName === undefined ? null : this.#newToken(input.tokenName, 'admin');
      this.#state = {
        ...this.#state,
        claimed: true,
        setupCode: null,
        passwordHash,
        organisationKey: input.organisationKey?.toLowerCase() ?? null,
        sessions: [record],
        tokens: token === null ? this.#state.tokens : [...this.#state.tokens, token.record],
      };
      await this.#save();
      this.#emit();
      return { session: grant, token: token?.made ?? null };
    } catch (error) {
      this.#state = before;
      throw error;
    } finally {
      this.#claiming = false;
    }
  }

  /** Check the password; on success open a session. Returns the session id (cookie) and CSRF token. */
  async login(password: string, client: Client): Promise<SessionGrant> {
    const stored = this.#state.passwordHash;
    if (!this.#state.claimed || stored === null) throw new RoomdError('http.not_claimed');
    const slot = this.#reserve(client);
    if (!(await this.#verify(slot, password, stored))) throw new RoomdError('http.bad_credentials');
    const { grant, record } = this.#newSession();
    const now = this.#clock.now();
    this.#state = {
      ...this.#state,
      sessions: [...this.#state.sessions.filter((s) => s.expiresAt > now), record],
    };
    await this.#save();
    return grant;
  }

  async logout(sessionId: string): Promise<void> {
    const idHash = sha256Hex(sessionId);
    this.#state = { ...this.#state, sessions: this.#state.sessions.filter((s) => s.idHash !== idHash) };
    await this.#save();
  }

  /**
   * A new password ends every session and revokes every API token: whoever knew or was given the
   * old credentials is out. Returns how many tokens were revoked.
   */
  async changePassword(current: string, next: string, client: Client): Promise<{ tokensRevoked: number }> {
    if (this.#state.passwordHash === null) throw new RoomdError('http.not_claimed');
    const slot = this.#reserve(client);
    return this.#runExclusive(async () => {
      const stored = this.#state.passwordHash ?? '';
      if (!(await this.#verify(slot, current, stored))) throw new RoomdError('http.bad_credentials');
      checkPasswordStrength(next);
      const passwordHash = await hashPassword(next, this.#cost);
      const tokensRevoked = this.#state.tokens.length;
      this.#state = { ...this.#state, passwordHash, sessions: [], tokens: [] };
      await this.#save();
      return { tokensRevoked };
    });
  }

  authenticateSession(sessionId: string): Principal | null {
    const idHash = sha256Hex(sessionId);
    const session = this.#state.sessions.find((s) => safeEqual(s.idHash, idHash));
    if (session === undefined || session.expiresAt <= this.#clock.now()) return null;
    return { kind: 'session', csrfToken: session.csrfToken, tokenId: null, scope: 'admin' };
  }

  authenticateToken(token: string): Principal | null {
    const parsed = parseApiToken(token);
    if (parsed === null) return null;
    const record = this.#state.tokens.find((t) => t.id === parsed.id);
    if (record === undefined || !safeEqual(record.hash, sha256Hex(parsed.secret))) return null;
    return { kind: 'token', csrfToken: null, tokenId: record.id, scope: record.scope };
  }

  /**
   * Make an API token. `grantor` is the scope of whoever asks: a token never gets a scope above
   * it (docs/kiosk-and-admin-api.md §API tokens).
   */
  async createToken(name: string, scope: Scope = 'metrics', grantor: Scope = 'admin'): Promise<NewToken> {
    if (!scopeAllows(grantor, scope)) {
      throw new RoomdError('http.forbidden', {
        message: `A ${grantor} credential cannot make a token with the ${scope} scope.`,
        context: { scope: grantor, requested: scope },
      });
    }
    const { record, made } = this.#newToken(name, scope);
    this.#state = { ...this.#state, tokens: [...this.#state.tokens, record] };
    await this.#save();
    return made;
  }

  listTokens(): { id: string; name: string; scope: Scope; createdAt: number }[] {
    return this.#state.tokens.map(({ id, name, scope, createdAt }) => ({ id, name, scope, createdAt }));
  }

  async revokeToken(id: string): Promise<void> {
    if (!this.#state.tokens.some((t) => t.id === id)) {
      throw new RoomdError('core.not_found', {
        message: 'There is no API token with that id.',
        context: { id },
      });
    }
    this.#state = { ...this.#state, tokens: this.#state.tokens.filter((t) => t.id !== id) };
    await this.#save();
  }

  /**
   * Run one provisioning bundle's check-apply-record alone: the next bundle's stale-serial check
   * sees this one's recorded serial (docs/kiosk-and-admin-api.md §Provisioning bundles).
   */
  provisionExclusively<T>(run: () => Promise<T>): Promise<T> {
    return this.#runExclusive(run);
  }

  /** Record an applied bundle; its serial must be above the last one (call inside provisionExclusively). */
  async recordBundle(serial: number, organisationKey: string): Promise<void> {
    if (serial <= this.#state.lastBundleSerial) {
      throw new RoomdError('http.stale_bundle', {
        context: { serial, lastSerial: this.#state.lastBundleSerial },
      });
    }
    this.#state = {
      ...this.#state,
      lastBundleSerial: serial,
      organisationKey: organisationKey.toLowerCase(),
    };
    await this.#save();
  }

  #runExclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#exclusive.then(run);
    this.#exclusive = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  #newSession(): { grant: SessionGrant; record: SessionRecord } {
    const sessionId = randomToken();
    const csrfToken = randomToken();
    const now = this.#clock.now();
    const expiresAt = now + SESSION_TTL_MS;
    return {
      grant: { sessionId, csrfToken, expiresAt },
      record: { idHash: sha256Hex(sessionId), csrfToken, createdAt: now, expiresAt },
    };
  }

  #newToken(name: string, scope: Scope): { record: TokenRecord; made: NewToken } {
    const { id, secret, token } = newApiToken();
    const createdAt = this.#clock.now();
    return {
      record: { id, name, hash: sha256Hex(secret), createdAt, scope },
      made: { id, name, scope, token, createdAt },
    };
  }

  /** A slot for one guess, or http.locked saying until when. */
  #reserve(client: Client): Reservation {
    const now = this.#clock.now();
    const r = this.#limiter.reserve(client, now);
    if (r.kind === 'refusal') throw lockedError(r, now);
    return r;
  }

  /** Compare a password under a reserved slot, settling the slot with the verdict. */
  async #verify(slot: Reservation, password: string, stored: string): Promise<boolean> {
    let ok: boolean;
    try {
      ok = await verifyPassword(password, stored);
    } catch (error) {
      this.#limiter.release(slot);
      throw error;
    }
    if (ok) this.#limiter.succeed(slot);
    else await this.#failed(slot);
    return ok;
  }

  async #failed(slot: Reservation): Promise<void> {
    const now = this.#clock.now();
    this.#limiter.fail(slot, now);
    if (slot.client.local) return;
    this.#state = { ...this.#state, guessBudget: this.#limiter.budget(now) };
    const locked = this.lockout().locked;
    if (locked !== this.#wasLocked) {
      this.#wasLocked = locked;
      this.#armUnlockTimer();
      this.#emit();
    }
    await this.#save();
  }

  #armUnlockTimer(): void {
    if (this.#unlockTimer !== null) this.#clock.clear(this.#unlockTimer);
    this.#unlockTimer = null;
    const notice = this.lockout();
    if (!notice.locked || notice.until === null) return;
    this.#unlockTimer = this.#clock.setTimeout(
      () => {
        this.#unlockTimer = null;
        this.#wasLocked = this.lockout().locked;
        if (this.#wasLocked) this.#armUnlockTimer();
        else this.#emit();
      },
      Math.max(0, notice.until - this.#clock.now()),
    );
  }

  #emit(): void {
    for (const l of this.#listeners) l();
  }

  /** Writes are queued so two quick changes never race on the file; each writes the latest state. */
  async #save(): Promise<void> {
    const run = this.#saving.then(() => this.#store.write(this.#state));
    this.#saving = run.catch(() => {});
    await run;
  }
}

function lockedError(refusal: Refusal, now: number): RoomdError {
  const seconds = Math.max(1, Math.ceil((refusal.until - now) / 1000));
  const minutes = Math.ceil(seconds / 60);
  const wait =
    seconds < 120
      ? `${seconds} second${seconds === 1 ? '' : 's'}`
      : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const message =
    refusal.scope === 'client'
      ? `Too many failed attempts from this address; try again in ${wait}.`
      : `Admin sign-in over the network is paused after many failed attempts; try again in ${wait}, or claim and sign in on the room device itself.`;
  return new RoomdError('http.locked', {
    message,
    context: {
      lockedUntil: new Date(refusal.until).toISOString(),
      retryAfterSeconds: seconds,
      scope: refusal.scope,
    },
  });
}

export function checkPasswordStrength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new RoomdError('http.bad_request', {
      message: `The admin password must be at least ${MIN_PASSWORD_LENGTH} characters long.`,
      context: {
        fields: [{ path: 'password', message: `must be at least ${MIN_PASSWORD_LENGTH} characters` }],
      },
    });
  }
}
