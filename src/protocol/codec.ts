/**
 * Signaling codec (docs/protocol.md "# Wire protocol" §Validation): bytes -> validated message or a
 * typed error, message -> JSON text. The order of checks is fixed so the error a peer gets is the
 * most useful one: size, nesting depth, JSON, object with `v`, version, known `type`, then the full schema.
 * A message that fails any step is rejected whole; nothing of it is applied. Decoding is total: size
 * and nesting depth are bounded before parsing and every failure is a typed result, never a throw
 * (docs/protocol.md §Limits).
 */
import type { TSchema } from '@sinclair/typebox';
import { decodeBase64Url, encodeBase64Url, utf8Decode, utf8Length } from '../core/encoding.ts';
import { RoomdError } from '../core/errors.ts';
import { MAX_JSON_DEPTH, MAX_SIGNAL_BYTES, WIRE_VERSION } from './limits.ts';
import {
  type ClientMessage,
  ClientMessages,
  type ServerMessage,
  ServerMessages,
  type WithoutV,
} from './schemas.ts';
import { compileCheck, type SchemaCheck } from './schema-check.ts';

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; error: RoomdError; ref?: string };

function compileAll<S extends Record<string, TSchema>>(schemas: S): Map<string, SchemaCheck> {
  const out = new Map<string, SchemaCheck>();
  for (const [type, schema] of Object.entries(schemas)) out.set(type, compileCheck(schema));
  return out;
}

const clientChecks = compileAll(ClientMessages);
const serverChecks = compileAll(ServerMessages);

function byteLength(data: string | Uint8Array): number {
  return typeof data === 'string' ? utf8Length(data) : data.byteLength;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Whether the text holds at most `max` opening brackets in all (so it cannot nest deeper). */
function fewOpenings(text: string, max: number): boolean {
  let n = 0;
  for (const open of ['[', '{']) {
    for (let i = text.indexOf(open); i >= 0; i = text.indexOf(open, i + 1)) if (++n > max) return false;
  }
  return true;
}

/**
 * Whether the JSON text nests arrays and objects deeper than `max`, by one linear scan that skips
 * strings. It runs before JSON.parse, so a deep message never becomes a deep value (walking one —
 * JSON.stringify, schema errors — overflows the stack). Invalid JSON is left to the parser. Most
 * messages have few brackets at all and are let through by a quick count first.
 */
export function jsonDeeperThan(text: string, max: number): boolean {
  if (fewOpenings(text, max)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** A short, bounded description of a received value for an error sentence (never the value itself). */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value.length > 16 ? `${value.slice(0, 16)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null)
    return String(value).slice(0, 24);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function decode<T>(
  data: string | Uint8Array,
  checks: Map<string, SchemaCheck>,
  side: string,
): DecodeResult<T> {
  const size = byteLength(data);
  if (size > MAX_SIGNAL_BYTES) {
    return {
      ok: false,
      error: new RoomdError('protocol.too_large', {
        message: `A ${side} message of ${size} bytes is over the ${MAX_SIGNAL_BYTES}-byte limit.`,
        context: { size, limit: MAX_SIGNAL_BYTES },
      }),
    };
  }
  const text = typeof data === 'string' ? data : utf8Decode(data);
  if (jsonDeeperThan(text, MAX_JSON_DEPTH)) {
    return {
      ok: false,
      error: new RoomdError('protocol.malformed', {
        message: `A ${side} message nests deeper than ${MAX_JSON_DEPTH} levels.`,
        context: { limit: MAX_JSON_DEPTH },
      }),
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return {
      ok: false,
      error: new RoomdError('protocol.malformed', { message: 'A message was not valid JSON.' }),
    };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      error: new RoomdError('protocol.malformed', { message: 'A message was not a JSON object.' }),
    };
  }
  const obj = raw as Record<string, unknown>;
  const type = obj['type'];
  const ref = typeof type === 'string' ? type.slice(0, 64) : undefined;
  const withRef = (error: RoomdError): DecodeResult<T> =>
    ref === undefined ? { ok: false, error } : { ok: false, error, ref };
  if (obj['v'] !== WIRE_VERSION) {
    return withRef(
      new RoomdError('protocol.unsupported_version', {
        message: `Wire protocol version ${describe(obj['v'])} is not spoken here; this end speaks ${WIRE_VERSION}.`,
        context: { supported: WIRE_VERSION },
      }),
    );
  }
  const check = ref === undefined ? undefined : checks.get(ref);
  if (check === undefined) {
    return withRef(
      new RoomdError('protocol.malformed', { message: `Unknown ${side} message type ${describe(type)}.` }),
    );
  }
  if (!check.Check(raw)) {
    const first = check.Errors(raw).First();
    const where =
      first === undefined ? '' : ` at ${clip(first.path || '/', 80)}: ${clip(first.message, 120)}`;
    return withRef(
      new RoomdError('protocol.malformed', { message: `A "${ref}" message is malformed${where}.` }),
    );
  }
  return { ok: true, message: raw as T };
}

/** Relay side: validate what a client sent. */
export function decodeClientMessage(data: string | Uint8Array): DecodeResult<ClientMessage> {
  return decode<ClientMessage>(data, clientChecks, 'client');
}

/** Client side: validate what the relay sent. */
export function decodeServerMessage(data: string | Uint8Array): DecodeResult<ServerMessage> {
  return decode<ServerMessage>(data, serverChecks, 'relay');
}

function encode(message: { type: string }, checks: Map<string, SchemaCheck>): string {
  const full = { v: WIRE_VERSION, ...message };
  const check = checks.get(message.type);
  if (check === undefined || !check.Check(full)) {
    const first = check?.Errors(full).First();
    throw new RoomdError('protocol.malformed', {
      message: `Refusing to send a malformed "${message.type}" message${first === undefined ? '' : ` (${first.path}: ${first.message})`}.`,
    });
  }
  const text = JSON.stringify(full);
  if (utf8Length(text) > MAX_SIGNAL_BYTES) {
    throw new RoomdError('protocol.too_large', {
      message: `A "${message.type}" message is over the signaling size limit.`,
    });
  }
  return text;
}

/** Client side: build and validate a message for the relay (adds `v`). */
export function encodeClientMessage(message: WithoutV<ClientMessage>): string {
  return encode(message, clientChecks);
}

/** Relay side: build and validate a message for a client (adds `v`). */
export function encodeServerMessage(message: WithoutV<ServerMessage>): string {
  return encode(message, serverChecks);
}

/** An `error` message body for a RoomdError (relay -> client). */
export function errorMessage(error: RoomdError, ref?: string): WithoutV<ServerMessage> {
  const body = { type: 'error' as const, code: error.code, message: error.message.slice(0, 500) };
  return ref === undefined ? body : { ...body, ref };
}

export function toBase64Url(bytes: Uint8Array): string {
  return encodeBase64Url(bytes);
}

/**
 * The bytes of a base64url field whose pattern the message's schema already checked; a text that is
 * still not base64url gives no bytes (empty), which no key or signature check passes.
 */
export function fromBase64Url(text: string): Uint8Array {
  return decodeBase64Url(text, { canonical: false }) ?? new Uint8Array(0);
}
