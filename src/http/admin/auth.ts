/**
 * Admin authentication (issue 7, admin context): first-boot claim with the one-time setup code
 * shown on the room screen, admin password (scrypt), sessions with a CSRF token each, API tokens
 * for scripts, and the login lockout (10 consecutive failures lock sign-in for 30 minutes; the
 * kiosk state says so). Time comes from an injected Clock; state persists in the state directory.
 */
import * as path from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { JsonFileStore } from '../../core/store.ts';
import { type AuthState, freshAuthState, parseAuthState, type TokenRecord } from './auth-state.ts';
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

export const MAX_FAILURES = 10;
export const LOCKOUT_MS = 30 * 60_000;
export const SESSION_TTL_MS = 12 * 3_600_000;
export const MIN_PASSWORD_LENGTH = 10;

export interface AdminAuthOptions {
  stateDir: string;
  clock: Clock;
  scryptCost?: ScryptCost;
  /** Read-only notice when the state file was damaged and the last good copy was used. */
  onProblem?: (error: RoomdError) => void;
}

export interface Principal {
  kind: 'session' | 'token';
  /** CSRF token of a cookie session; tokens need none. */
  csrfToken: string | null;
  tokenId: string | null;
}

export interface LockoutNotice {
  locked: boolean;
  until: number | null;
}

export class AdminAuth {
  readonly #store: JsonFileStore<AuthState>;
  readonly #clock: Clock;
  readonly #cost: ScryptCost;
  #state: AuthState;
  readonly #listeners = new Set<() => void>();
  #unlockTimer: TimerHandle | null = null;
  #saving: Promise<void> = Promise.resolve();

  private constructor(store: JsonFileStore<AuthState>, state: AuthState, options: AdminAuthOptions) {
    this.#store = store;
    this.#state = state;
    this.#clock = options.clock;
    this.#cost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
  }

  static async open(options: AdminAuthOptions): Promise<AdminAuth> {
    const store = new JsonFileStore(path.join(options.stateDir, 'admin-auth.json'), parseAuthState);
    const read = await store.read();
    if (read.problem !== undefined) options.onProblem?.(read.problem);
    if (read.value === undefined && read.problem !== undefined && read.source === 'none') {
      // Never silently unclaim a device whose auth file is damaged: refuse to start instead.
      throw read.problem;
    }
    const auth = new AdminAuth(store, read.value ?? freshAuthState(newSetupCode()), options);
    if (read.value === undefined || read.source !== 'current') await auth.#save();
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

  lockout(): LockoutNotice {
    const until = this.#state.lockedUntil;
    if (until !== null && this.#clock.now() < until) return { locked: true, until };
    return { locked: false, until: null };
  }

  async claim(input: { setupCode: string; password: string; organisationKey?: string }): Promise<void> {
    this.#assertNotLocked();
    if (this.#state.claimed) throw new RoomdError('http.already_claimed');
    const expected = this.#state.setupCode ?? '';
    if (!safeEqual(normaliseSetupCode(input.setupCode), normaliseSetupCode(expected))) {
      await this.#fail();
      throw new RoomdError('http.bad_setup_code');
    }
    checkPasswordStrength(input.password);
    this.#state = {
      ...this.#state,
      claimed: true,
      setupCode: null,
      passwordHash: await hashPassword(input.password, this.#cost),
      organisationKey: input.organisationKey?.toLowerCase() ?? null,
      failures: 0,
      lockedUntil: null,
    };
    await this.#save();
    this.#emit();
  }

  /** Check the password; on success open a session. Returns the session id (cookie) and CSRF token. */
  async login(password: string): Promise<{ sessionId: string; csrfToken: string; expiresAt: number }> {
    this.#assertNotLocked();
    if (!this.#state.claimed || this.#state.passwordHash === null) throw new RoomdError('http.not_claimed');
    if (!(await verifyPassword(password, this.#state.passwordHash))) {
      await this.#fail();
      throw new RoomdError('http.bad_credentials');
    }
    const sessionId = randomToken();
    const csrfToken = randomToken();
    const now = this.#clock.now();
    const expiresAt = now + SESSION_TTL_MS;
    const sessions = this.#state.sessions.filter((s) => s.expiresAt > now);
    sessions.push({ idHash: sha256Hex(sessionId), csrfToken, createdAt: now, expiresAt });
    const wasLocked = this.#state.failures > 0;
    this.#state = { ...this.#state, sessions, failures: 0, lockedUntil: null };
    await this.#save();
    if (wasLocked) this.#emit();
    return { sessionId, csrfToken, expiresAt };
  }

  async logout(sessionId: string): Promise<void> {
    const idHash = sha256Hex(sessionId);
    this.#state = { ...this.#state, sessions: this.#state.sessions.filter((s) => s.idHash !== idHash) };
    await this.#save();
  }

  async changePassword(current: string, next: string): Promise<void> {
    this.#assertNotLocked();
    if (this.#state.passwordHash === null) throw new RoomdError('http.not_claimed');
    if (!(await verifyPassword(current, this.#state.passwordHash))) {
      await this.#fail();
      throw new RoomdError('http.bad_credentials');
    }
    checkPasswordStrength(next);
    // A new password ends every session: whoever knew the old one is signed out.
    this.#state = { ...this.#state, passwordHash: await hashPassword(next, this.#cost), sessions: [] };
    await this.#save();
  }

  authenticateSession(sessionId: string): Principal | null {
    const idHash = sha256Hex(sessionId);
    const session = this.#state.sessions.find((s) => safeEqual(s.idHash, idHash));
    if (session === undefined || session.expiresAt <= this.#clock.now()) return null;
    return { kind: 'session', csrfToken: session.csrfToken, tokenId: null };
  }

  authenticateToken(token: string): Principal | null {
    const parsed = parseApiToken(token);
    if (parsed === null) return null;
    const record = this.#state.tokens.find((t) => t.id === parsed.id);
    if (record === undefined || !safeEqual(record.hash, sha256Hex(parsed.secret))) return null;
    return { kind: 'token', csrfToken: null, tokenId: record.id };
  }

  async createToken(name: string): Promise<{ id: string; name: string; token: string; createdAt: number }> {
    const { id, secret, token } = newApiToken();
    const record: TokenRecord = { id, name, hash: sha256Hex(secret), createdAt: this.#clock.now() };
    this.#state = { ...this.#state, tokens: [...this.#state.tokens, record] };
    await this.#save();
    return { id, name, token, createdAt: record.createdAt };
  }

  listTokens(): { id: string; name: string; createdAt: number }[] {
    return this.#state.tokens.map(({ id, name, createdAt }) => ({ id, name, createdAt }));
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

  async recordBundle(serial: number, organisationKey: string): Promise<void> {
    this.#state = {
      ...this.#state,
      lastBundleSerial: serial,
      organisationKey: organisationKey.toLowerCase(),
    };
    await this.#save();
  }

  #assertNotLocked(): void {
    const notice = this.lockout();
    if (notice.locked) {
      const minutes = Math.ceil(((notice.until ?? 0) - this.#clock.now()) / 60_000);
      throw new RoomdError('http.locked', {
        message: `Admin sign-in is locked after too many failed attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        context: { lockedUntil: new Date(notice.until ?? 0).toISOString() },
      });
    }
  }

  async #fail(): Promise<void> {
    const failures = this.#state.failures + 1;
    if (failures >= MAX_FAILURES) {
      this.#state = { ...this.#state, failures: 0, lockedUntil: this.#clock.now() + LOCKOUT_MS };
      await this.#save();
      this.#armUnlockTimer();
      this.#emit();
      return;
    }
    this.#state = { ...this.#state, failures };
    await this.#save();
  }

  #armUnlockTimer(): void {
    if (this.#unlockTimer !== null) this.#clock.clear(this.#unlockTimer);
    this.#unlockTimer = null;
    const notice = this.lockout();
    if (!notice.locked || notice.until === null) return;
    this.#unlockTimer = this.#clock.setTimeout(() => {
      this.#unlockTimer = null;
      this.#emit();
    }, notice.until - this.#clock.now());
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
