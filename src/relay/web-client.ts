/**
 * The relay serves the web client (web/, docs/protocol.md §Web client): the built bundle's page at
 * `/join/<meeting id>` and its files at `/join/assets/<name>`, all read into memory at start (a few
 * hundred KiB) so no request ever touches the file system. Every answer carries a strict
 * Content-Security-Policy: scripts and styles only from this origin (and the page pins them with
 * Subresource Integrity), connections only back to this origin (the signaling WebSocket), no
 * frames, forms, plugins or code compiled at run time, and no third-party code at all.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The built web client beside src/ in a checkout, or beside dist/ when running the built JavaScript. */
export const DEFAULT_WEB_CLIENT_DIR =
  [
    path.resolve(import.meta.dirname, '../../web/dist'),
    path.resolve(import.meta.dirname, '../../../web/dist'),
  ].find((dir) => existsSync(path.join(dir, 'index.html'))) ??
  path.resolve(import.meta.dirname, '../../web/dist');

export const WEB_CLIENT_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Meeting ids as people type them: digits, dashes allowed (they compare without dashes). */
const MEETING_PATH = /^[0-9][0-9-]{0,31}$/;
const ASSET_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export interface WebClientBundle {
  page: Buffer;
  assets: Map<string, { body: Buffer; type: string }>;
}

/** The bundle in `dir` (index.html + assets/), or null when it was not built. */
export async function loadWebClient(dir: string): Promise<WebClientBundle | null> {
  if (!existsSync(path.join(dir, 'index.html'))) return null;
  const page = await readFile(path.join(dir, 'index.html'));
  const assets = new Map<string, { body: Buffer; type: string }>();
  const assetDir = path.join(dir, 'assets');
  const names = existsSync(assetDir) ? await readdir(assetDir) : [];
  for (const name of names) {
    const type = TYPES[path.extname(name)];
    if (type === undefined || !ASSET_NAME.test(name)) continue;
    assets.set(name, { body: await readFile(path.join(assetDir, name)), type });
  }
  return { page, assets };
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', WEB_CLIENT_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin')
    .header('x-frame-options', 'DENY');
}

export function registerWebClient(app: FastifyInstance, bundle: WebClientBundle | null): void {
  app.get<{ Params: { meetingId: string } }>('/join/:meetingId', (request, reply) => {
    secure(reply).header('cache-control', 'no-store');
    if (bundle === null) {
      return reply
        .code(404)
        .type('text/plain; charset=utf-8')
        .send('The web client is not installed on this meeting service.');
    }
    if (!MEETING_PATH.test(request.params.meetingId)) {
      return reply.code(404).type('text/plain; charset=utf-8').send('No such meeting address.');
    }
    return reply.type('text/html; charset=utf-8').send(bundle.page);
  });
  app.get<{ Params: { name: string } }>('/join/assets/:name', (request, reply) => {
    const asset = bundle?.assets.get(request.params.name);
    secure(reply);
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found.');
    // Names carry a content hash: a name never changes meaning.
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .type(asset.type)
      .send(asset.body);
  });
  // Browsers ask for it on every page: an empty answer, not a 404 in the visitor's console.
  app.get('/favicon.ico', (_request, reply) =>
    secure(reply).header('cache-control', 'public, max-age=86400').code(204).send(),
  );
}
