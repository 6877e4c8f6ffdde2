/**
 * The HTTP servers of roomd (docs/kiosk-and-admin-api.md §Two servers, two contexts): the kiosk
 * (plain HTTP on 127.0.0.1:8080 by default) and the admin API (HTTPS with the device certificate,
 * on the LAN). Two fastify instances because they listen differently; each has the shared root
 * plugins and exactly one encapsulated context. `createHttpServers` builds both (ready for
 * `inject()`); the returned Module listens and closes.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Clock } from '../core/clock.ts';
import type { Module } from '../core/lifecycle.ts';
import type { Logger } from '../core/logger.ts';
import { AdminAuth } from './admin/auth.ts';
import {
  type CertificateMaker,
  type DeviceCertificate,
  ensureDeviceCertificate,
} from './admin/certificate.ts';
import { consoleRoutes, type DeviceTests } from './admin/console.ts';
import { type AuthenticatedPlugin, adminContext } from './admin/plugin.ts';
import type { ScryptCost } from './admin/secrets.ts';
import { registerCommon, serverOptions } from './common.ts';
import { kioskContext } from './kiosk/plugin.ts';
import { KioskStateHub } from './kiosk/state-hub.ts';
import type { RoomCommands } from '../protocol/room-commands.ts';
import type { AdminBackend, RoomStateSource, VideoFeedSource } from './ports.ts';

export interface HttpOptions {
  stateDir: string;
  deviceId: string;
  clock: Clock;
  log: Logger;
  source: RoomStateSource;
  commands: RoomCommands;
  admin: AdminBackend;
  video?: VideoFeedSource;
  /** The admin console's device tests (docs/kiosk-and-admin-api.md §Admin console). */
  deviceTests?: DeviceTests;
  kiosk?: {
    host?: string;
    port?: number;
    allowRemote?: boolean;
    uiDir?: string;
    rateLimitPerMinute?: number;
  };
  adminServer?: {
    /** settings `admin.enabled`: false keeps the admin API off the network (roomctl then cannot reach it). */
    enabled?: boolean;
    host?: string;
    port?: number;
    /** Extra subjectAltNames for the certificate (LAN addresses, host name). */
    altNames?: string[];
    /** The command the setup screen's claim line starts with (default `roomctl`). */
    roomctlCommand?: string;
    rateLimitPerMinute?: number;
    loginRateLimitPerMinute?: number;
    /**
     * Registered behind the admin guard, e.g. `{ scope: 'metrics', plugin }` for the metrics
     * plugin from ./metrics.ts; a bare plugin's routes need the `admin` scope.
     */
    authenticatedPlugins?: AuthenticatedPlugin[];
  };
  /** Tests: cheaper scrypt, pre-made certificate. */
  scryptCost?: ScryptCost;
  certificate?: DeviceCertificate;
  certificateMaker?: CertificateMaker;
}

export interface HttpServers {
  kiosk: FastifyInstance;
  admin: FastifyInstance;
  auth: AdminAuth;
  hub: KioskStateHub;
  certificate: DeviceCertificate;
  /** Listens on start, closes both on stop. */
  module: Module;
  /** Where they listen, after start (useful with port 0). */
  urls(): { kiosk: string; admin: string };
  close(): Promise<void>;
}

export const DEFAULT_KIOSK_PORT = 8080;
export const DEFAULT_ADMIN_PORT = 8443;
/** kiosk-ui/dist beside src/ in a checkout, or beside dist/ when running the built JavaScript. */
export const DEFAULT_UI_DIR =
  [
    path.resolve(import.meta.dirname, '../../kiosk-ui/dist'),
    path.resolve(import.meta.dirname, '../../../kiosk-ui/dist'),
  ].find((dir) => existsSync(path.join(dir, 'index.html'))) ??
  path.resolve(import.meta.dirname, '../../kiosk-ui/dist');

/** Our Logger is pino underneath, which fastify takes as is; anything else gets the two fields it needs. */
function fastifyLogger(log: Logger): unknown {
  if ('level' in log && typeof (log as { silent?: unknown }).silent === 'function') return log;
  return Object.assign(Object.create(log) as Logger, { level: 'info', silent: () => {} });
}

/** No line per request (the kiosk polls); refusals and failures are logged by the error handler. */
const quietRequests = () => new LogController({ disableRequestLogging: true });

export async function createHttpServers(opts: HttpOptions): Promise<HttpServers> {
  const certificate =
    opts.certificate ??
    (await ensureDeviceCertificate({
      stateDir: opts.stateDir,
      commonName: `roomd-${opts.deviceId}`,
      altNames: opts.adminServer?.altNames ?? [],
      now: opts.clock.now(),
      ...(opts.certificateMaker === undefined ? {} : { maker: opts.certificateMaker }),
    }));
  const auth = await AdminAuth.open({
    stateDir: opts.stateDir,
    clock: opts.clock,
    ...(opts.scryptCost === undefined ? {} : { scryptCost: opts.scryptCost }),
    onProblem: (e) => opts.log.warn({ code: e.code }, e.message),
  });
  const adminHost = opts.adminServer?.host ?? '0.0.0.0';
  const adminPort = opts.adminServer?.port ?? DEFAULT_ADMIN_PORT;
  const kioskHost = opts.kiosk?.host ?? '127.0.0.1';
  const kioskPort = opts.kiosk?.port ?? DEFAULT_KIOSK_PORT;
  let adminRef: FastifyInstance | null = null;
  const listeningAdminPort = () => {
    const a = adminRef?.server.address();
    return a !== null && a !== undefined && typeof a !== 'string' && a.port !== 0 ? a.port : adminPort;
  };
  const hub = new KioskStateHub(opts.source, auth, {
    certFingerprint: certificate.fingerprint,
    port: listeningAdminPort,
    host: adminHost,
    roomctl: opts.adminServer?.roomctlCommand ?? 'roomctl',
  });

  const kioskLog = opts.log.child({ component: 'http.kiosk' });
  const kiosk = Fastify({
    ...serverOptions,
    loggerInstance: fastifyLogger(kioskLog) as never,
    logController: quietRequests(),
  });
  await registerCommon(kiosk, { https: false, rateLimitPerMinute: opts.kiosk?.rateLimitPerMinute ?? 1200 });
  await kiosk.register(kioskContext, {
    hub,
    commands: opts.commands,
    video: opts.video ?? null,
    uiDir: opts.kiosk?.uiDir ?? DEFAULT_UI_DIR,
    allowRemote: opts.kiosk?.allowRemote ?? false,
    log: kioskLog,
  });

  const adminLog = opts.log.child({ component: 'http.admin' });
  // An HTTPS/1.1 server; fastify's types model it as a different instance type, routes are the same.
  const adminOptions = {
    ...serverOptions,
    https: { key: certificate.key, cert: certificate.cert, minVersion: 'TLSv1.2' },
    loggerInstance: fastifyLogger(adminLog),
    logController: quietRequests(),
  };
  const admin = Fastify(adminOptions as unknown as FastifyServerOptions);
  adminRef = admin;
  await registerCommon(admin, {
    https: true,
    rateLimitPerMinute: opts.adminServer?.rateLimitPerMinute ?? 300,
  });
  await admin.register(swagger, {
    openapi: {
      info: { title: 'roomd admin API', version: '1' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: '__Host-roomd_session' },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await admin.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  await admin.register(adminContext, {
    auth,
    uiDir: opts.kiosk?.uiDir ?? DEFAULT_UI_DIR,
    authenticatedPlugins: [
      consoleRoutes({
        backend: opts.admin,
        source: opts.source,
        commands: opts.commands,
        certificate: { fingerprint: certificate.fingerprint, validTo: certificate.validTo },
        deviceId: opts.deviceId,
        lastBundleSerial: () => auth.lastBundleSerial,
        ...(opts.deviceTests === undefined ? {} : { tests: opts.deviceTests }),
      }),
      ...(opts.adminServer?.authenticatedPlugins ?? []),
    ],
    backend: opts.admin,
    deviceId: opts.deviceId,
    ...(opts.adminServer?.loginRateLimitPerMinute === undefined
      ? {}
      : { loginRateLimit: opts.adminServer.loginRateLimitPerMinute }),
  });
  await Promise.all([kiosk.ready(), admin.ready()]);

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      await Promise.allSettled([kiosk.close(), admin.close()]);
      hub.close();
      auth.close();
    })();
    return closing;
  };
  const addressOf = (app: FastifyInstance, scheme: string) => {
    const a = app.server.address();
    if (a === null || typeof a === 'string') return '';
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${scheme}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${a.port}`;
  };
  return {
    kiosk,
    admin,
    auth,
    hub,
    certificate,
    urls: () => ({ kiosk: addressOf(kiosk, 'http'), admin: addressOf(admin, 'https') }),
    close,
    module: {
      name: 'http',
      async start() {
        await kiosk.listen({ host: kioskHost, port: kioskPort });
        if (opts.adminServer?.enabled !== false) await admin.listen({ host: adminHost, port: adminPort });
        opts.log.info(
          { kiosk: addressOf(kiosk, 'http'), admin: addressOf(admin, 'https') },
          'HTTP servers listening',
        );
      },
      stop: close,
    },
  };
}
