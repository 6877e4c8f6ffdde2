/**
 * TURN for the media connections (docs/protocol.md §ICE servers, docs/admin.md §TURN): the relay
 * hands each admitted participant time-limited credentials in the TURN REST API scheme that coturn
 * checks with `use-auth-secret` / `static-auth-secret`:
 *
 *   username   = "<expiry, unix seconds>:<participant id>"
 *   credential = base64(HMAC-SHA1(shared secret, username))
 *
 * coturn recomputes the credential from the username and the secret it shares with the relay, and
 * refuses a username whose expiry has passed. Pure functions: the time is passed in.
 */
import { createHmac } from 'node:crypto';
import { RoomdError } from '../core/errors.ts';
import { type IceServer, IceServerSchema, MAX_ICE_URLS } from '../protocol/schemas.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export interface TurnSettings {
  /** `turn:`/`turns:` (or `stun:`) URLs of one TURN server, e.g. `turns:turn.example.org:443?transport=tcp`. */
  urls: readonly string[];
  /** The secret shared with coturn (`static-auth-secret`). Never logged. */
  secret: string;
  /** How long credentials stay valid; default DEFAULT_TURN_TTL_SECONDS. */
  ttlSeconds?: number;
}

/**
 * A day: coturn checks the expiry on every authenticated request of an allocation (its refreshes
 * too), so credentials must outlive the longest meeting; a participant that joins again gets new ones.
 */
export const DEFAULT_TURN_TTL_SECONDS = 86_400;
const MAX_TTL_SECONDS = 7 * 86_400;
/** The username of the relay's own media connections. */
export const RELAY_TURN_USER = 'relay';

const checkServer = TypeCompiler.Compile(IceServerSchema);

/** The TURN REST API credential for `username` (base64 of HMAC-SHA1 keyed by the shared secret). */
export function turnCredential(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username, 'utf8').digest('base64');
}

/** The ICE server entry for `user`, valid until `nowMs` + the TTL. */
export function turnIceServer(settings: TurnSettings, user: string, nowMs: number): IceServer {
  const ttl = settings.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS;
  const username = `${Math.floor(nowMs / 1000) + ttl}:${user}`;
  return { urls: [...settings.urls], username, credential: turnCredential(settings.secret, username) };
}

/** Checks TURN settings once, at start-up (a bad URL or TTL is a configuration error, not a crash later). */
export function checkTurnSettings(settings: TurnSettings): void {
  const bad = (message: string) => new RoomdError('config.invalid', { message });
  if (settings.urls.length === 0 || settings.urls.length > MAX_ICE_URLS)
    throw bad(`TURN takes 1 to ${MAX_ICE_URLS} URLs.`);
  if (settings.secret.length === 0) throw bad('The TURN secret is empty.');
  const ttl = settings.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TTL_SECONDS)
    throw bad(`The TURN credential lifetime is 60 to ${MAX_TTL_SECONDS} seconds.`);
  // The longest participant id (u32) gives the longest username a client will be sent.
  const sample = turnIceServer(settings, '4294967295', 0);
  if (!checkServer.Check(sample))
    throw bad('A TURN URL is not a stun:, stuns:, turn: or turns: URL of at most 250 characters.');
}
