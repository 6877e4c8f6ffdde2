/**
 * What both HTTP contexts share (docs/kiosk-and-admin-api.md §Two servers, two contexts): the error
 * handler, security headers with a strict CSP, rate limits and `/health`. Registered at each
 * server's root so the kiosk and admin contexts below it stay siblings that never share hooks.
 */
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { RoomdError } from '../core/errors.ts';
import { errorPayload, httpErrorHandler } from './errors.ts';

/** Strict: no inline script or style anywhere; the kiosk's video arrives over its own socket. */
export const CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  mediaSrc: ["'self'", 'blob:'],
  workerSrc: ["'self'", 'blob:'],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Ajv: reject unknown fields instead of dropping them, report every problem, never coerce bodies. */
export const serverOptions: FastifyServerOptions = {
  ajv: {
    customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true, discriminator: true },
  },
  bodyLimit: 1024 * 1024,
  connectionTimeout: 30_000,
  requestTimeout: 60_000,
  return503OnClosing: true,
  /** On stop, do not wait for kiosk sockets or idle keep-alive connections. */
  forceCloseConnections: true,
};

export async function registerCommon(
  app: FastifyInstance,
  opts: { https: boolean; rateLimitPerMinute: number },
): Promise<void> {
  app.setErrorHandler(httpErrorHandler);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: opts.https ? { ...CSP_DIRECTIVES, upgradeInsecureRequests: [] } : CSP_DIRECTIVES,
    },
    hsts: opts.https ? { maxAge: 31_536_000 } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimitPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) =>
      new RoomdError('http.rate_limited', { context: { retryAfterSeconds: Math.ceil(context.ttl / 1000) } }),
  });
  app.setNotFoundHandler({ preHandler: app.rateLimit() }, async (_request, reply) =>
    reply.status(404).send(errorPayload('core.not_found')),
  );
  app.get('/health', { schema: { hide: true } }, async () => ({ status: 'ok' }));
}
