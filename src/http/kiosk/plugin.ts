/**
 * The kiosk context: the room screen's page and API on 127.0.0.1 (docs/kiosk-and-admin-api.md
 * §Two servers, two contexts). Serves the built kiosk-ui, `GET /api/v1/state`, the live WebSocket
 * and the touch commands. Refuses clients that are not on this machine and Host headers that are
 * not ours (DNS rebinding) unless `allowRemote` is set, and always refuses a request whose
 * `Origin` is not exactly the kiosk's own (a page elsewhere, a sandboxed or file page, a wrong scheme).
 */
import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RoomdError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { ErrorBody } from '../errors.ts';
import type { PtzCommand, RoomCommands } from '../../protocol/room-commands.ts';
import type { VideoFeedSource } from '../ports.ts';
import {
  CameraBody,
  ChatBody,
  EmptyBody,
  JoinBody,
  MuteBody,
  OkReply,
  PtzBody,
  ReactBody,
  ShareBody,
  VolumeBody,
} from '../schemas/kiosk.ts';
import { RoomState } from '../schemas/state.ts';
import { LiveHub } from './live.ts';
import type { KioskStateHub } from './state-hub.ts';

export interface KioskContextOptions {
  hub: KioskStateHub;
  commands: RoomCommands;
  video: VideoFeedSource | null;
  /** Directory of the built kiosk-ui (index.html + assets/). */
  uiDir: string;
  /** Answer clients that are not on this machine (e.g. a touch panel elsewhere on the LAN). */
  allowRemote: boolean;
  log: Logger;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const LOCAL_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

function splitHost(hostHeader: string): { hostname: string; port: number | null } | null {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(hostHeader);
  if (m === null) return null;
  return { hostname: (m[1] ?? '').toLowerCase(), port: m[2] === undefined ? null : Number(m[2]) };
}

/** The peer is this machine and the Host header names this machine on the port we listen on. */
export function assertLocalClient(request: FastifyRequest): void {
  const remote = request.socket.remoteAddress ?? '';
  if (!LOOPBACK.has(remote)) throw new RoomdError('http.loopback_only', { context: { remote } });
  const host = request.headers.host ?? '';
  const parts = splitHost(host);
  if (parts === null || !LOCAL_HOSTNAMES.has(parts.hostname))
    throw new RoomdError('http.loopback_only', { context: { host } });
  const listening = request.socket.localPort;
  if (typeof listening === 'number' && (parts.port ?? 80) !== listening)
    throw new RoomdError('http.loopback_only', { context: { host } });
}

/**
 * A request that carries an `Origin` must come from the kiosk's own origin: exactly
 * `http://<the Host it was sent to>`. `Origin: null` (sandboxed frames, file: pages, some
 * redirects) is foreign, as are another scheme or port. Requests without `Origin` are not from a
 * page of another site (browsers send it on every cross-origin request and on every WebSocket).
 */
export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const own = `http://${(request.headers.host ?? '').toLowerCase()}`;
  if (origin.toLowerCase() !== own)
    throw new RoomdError('http.forbidden', {
      message: 'Requests from other sites are refused.',
      context: { origin: origin.slice(0, 100) },
    });
}

const ok = { ok: true as const };
const commandReplies = { 200: OkReply, '4xx': ErrorBody, '5xx': ErrorBody };

export async function kioskContext(app: FastifyInstance, opts: KioskContextOptions): Promise<void> {
  const live = new LiveHub(opts.hub, opts.video);
  app.addHook('onClose', async () => live.close());
  // The websocket plugin first: its hooks must see a refused upgrade too, to close that socket.
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
  app.addHook('onRequest', async (request) => {
    if (!opts.allowRemote) assertLocalClient(request);
    assertSameOrigin(request);
  });

  app.get('/api/v1/state', { schema: { tags: ['kiosk'], response: { 200: RoomState } } }, async () =>
    opts.hub.getState(),
  );
  app.get('/api/v1/live', { websocket: true }, (socket) => live.add(socket));

  const c = opts.commands;
  const post = <B>(url: string, body: unknown, run: (b: B) => Promise<void>) =>
    app.post(url, { schema: { tags: ['kiosk'], body, response: commandReplies } }, async (request) => {
      await run(request.body as B);
      return ok;
    });
  post<JoinBody>('/api/v1/join', JoinBody, (b) => {
    const meetingId = b.meetingId.replace(/[\s-]/g, '');
    return b.passcode === undefined ? c.join(meetingId) : c.join(meetingId, b.passcode);
  });
  post<Record<string, never>>('/api/v1/leave', EmptyBody, () => c.leave());
  post<{ muted: boolean }>('/api/v1/mute', MuteBody, (b) => c.setMute(b.muted));
  post<{ enabled: boolean }>('/api/v1/camera', CameraBody, (b) => c.setCamera(b.enabled));
  post<{ level: number }>('/api/v1/volume', VolumeBody, (b) => c.setVolume(b.level));
  post<PtzCommand>('/api/v1/ptz', PtzBody, (b) => c.ptz(b));
  post<ReactBody>('/api/v1/react', ReactBody, (b) => c.react(b.reaction));
  post<ChatBody>('/api/v1/chat', ChatBody, (b) =>
    b.to === undefined ? c.chat(b.text) : c.chat(b.text, b.to),
  );
  post<ShareBody>('/api/v1/share', ShareBody, (b) => c.share(b.on));
  post<Record<string, never>>('/api/v1/security-code/ack', EmptyBody, () => c.acknowledgeSecurityCode());

  if (existsSync(`${opts.uiDir}/index.html`)) {
    await app.register(fastifyStatic, {
      root: opts.uiDir,
      prefix: '/',
      index: ['index.html'],
      wildcard: true,
      dotfiles: 'deny',
      setHeaders(res, file) {
        res.header(
          'cache-control',
          file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
  } else {
    opts.log.warn({ uiDir: opts.uiDir }, 'kiosk UI not built; the room screen shows a notice');
    app.get('/', async () => {
      throw new RoomdError('http.ui_missing', {
        message: 'The room screen has not been built yet (npm run build:kiosk).',
      });
    });
  }
}
