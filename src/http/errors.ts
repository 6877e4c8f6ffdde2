/**
 * The one error handler of both HTTP contexts (docs/kiosk-and-admin-api.md
 * §Two servers, two contexts): it maps internal errors to HTTP and hides 5xx details. RoomdError →
 * its status and human sentence; schema failures → 400 with one message per field; rate limits →
 * 429; anything else → 500 with the generic sentence, logged with its stack but never sent.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ERROR_CODES, type ErrorCode, RoomdError } from '../core/errors.ts';

export const FieldError = Type.Object({ path: Type.String(), message: Type.String() });
export type FieldError = { path: string; message: string };

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    fields: Type.Optional(Type.Array(FieldError)),
    context: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});

export interface ErrorPayload {
  error: { code: string; message: string; fields?: FieldError[]; context?: Record<string, unknown> };
}

interface AjvError {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Turn ajv errors into "where: what" pairs a person can act on. */
export function fieldErrors(validation: AjvError[], where: string): FieldError[] {
  return validation.map((v) => {
    const base = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    let field = base;
    let message = v.message ?? 'is not valid';
    if (v.keyword === 'required' && typeof v.params?.['missingProperty'] === 'string') {
      field = base === '' ? v.params['missingProperty'] : `${base}.${v.params['missingProperty']}`;
      message = 'is required';
    } else if (v.keyword === 'discriminator' && typeof v.params?.['tag'] === 'string') {
      field = base === '' ? v.params['tag'] : `${base}.${v.params['tag']}`;
      message = 'is missing or not one of the allowed values';
    } else if (v.keyword === 'additionalProperties' && typeof v.params?.['additionalProperty'] === 'string') {
      field = base === '' ? v.params['additionalProperty'] : `${base}.${v.params['additionalProperty']}`;
      message = 'is not a known field';
    }
    return { path: field === '' ? where : `${where}.${field}`, message };
  });
}

export function errorPayload(
  code: ErrorCode,
  message?: string,
  extra: Partial<ErrorPayload['error']> = {},
): ErrorPayload {
  return { error: { code, message: message ?? ERROR_CODES[code].message, ...extra } };
}

export function httpErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { status, payload } = mapError(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: payload.error.code, status }, 'request refused');
  if ((status === 429 || status === 423) && !reply.hasHeader('retry-after')) {
    const wait = payload.error.context?.['retryAfterSeconds'];
    reply.header('retry-after', typeof wait === 'number' && wait > 0 ? String(Math.ceil(wait)) : '60');
  }
  void reply.status(status).type('application/json; charset=utf-8').send(payload);
}

export function mapError(error: unknown): { status: number; payload: ErrorPayload } {
  if (error instanceof RoomdError) {
    const status = error.httpStatus;
    // 5xx: the code and its fixed sentence only; the specific message and context may hold internals.
    if (status >= 500) return { status, payload: errorPayload(error.code) };
    const ctx = { ...error.context };
    // Field errors may name the place `path` (HTTP schemas) or `field` (the settings validator).
    const fields = Array.isArray(ctx['fields'])
      ? (ctx['fields'] as { path?: unknown; field?: unknown; message?: unknown }[]).map((x) => ({
          path: String(x.path ?? x.field ?? ''),
          message: String(x.message ?? 'is not valid'),
        }))
      : undefined;
    delete ctx['fields'];
    const extra: Partial<ErrorPayload['error']> = {};
    if (fields !== undefined) extra.fields = fields;
    if (Object.keys(ctx).length > 0) extra.context = ctx;
    return { status, payload: errorPayload(error.code, error.message, extra) };
  }
  const fe = error as Partial<FastifyError> & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const fields = fieldErrors(fe.validation, fe.validationContext ?? 'body');
    const summary = fields.map((f) => `${f.path} ${f.message}`).join('; ');
    return {
      status: 400,
      payload: errorPayload('http.bad_request', `The request is not valid: ${summary}.`, { fields }),
    };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429) return { status, payload: errorPayload('http.rate_limited') };
  if (status === 404) return { status, payload: errorPayload('core.not_found') };
  if (status >= 400 && status < 500) {
    // Fastify's own 4xx (bad JSON, wrong content type, body too large): safe, short, no internals.
    const detail = typeof fe.message === 'string' && fe.message.length < 200 ? `: ${fe.message}` : '';
    const message = status === 413 ? 'The request body is too large.' : `The request is not valid${detail}.`;
    return { status, payload: errorPayload('http.bad_request', message) };
  }
  return { status: 500, payload: errorPayload('core.internal') };
}
