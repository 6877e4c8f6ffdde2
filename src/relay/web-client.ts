/**
 * The relay serves the web client (web/, docs/protocol.md §Web client): the built bundle's page at
 * `/join/<meeting id>` and its files at `/join/assets/<name>`, all read into memory at start (a few
 * hundred KiB) so no request ever touches the file system. Every answer carries a strict
 * Content-Security-Policy: scripts and styles only from this origin (and the page pins them with
 * Subresource Integrity), connections only back to this origin (the signaling WebSocket), no
 * frames, forms, plugins or code compiled at run time, and no third-party code at all.
 *
 * The relay also publishes the bundle hash of what it serves (docs/protocol.md §Web client, the
 * recipe; docs/decisions/0022-one-core-in-node-and-browser.md §The web trust problem): at
 * `/join/bundle.json` and in the page's `X-Roomd-Bundle` header, so people can compare it with a
 * build of their own (`node scripts/web-bundle-hash.mjs web/dist`) and watch it over time.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RoomdError } from '../core/errors.ts';

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

/** What a built bundle may hold; a directory beyond these is not a web client build. */
export const WEB_BUNDLE_LIMITS = { files: 1000, bytes: 64 * 1024 * 1024, depth: 8 } as const;

export interface WebBundleFile {
  /** Relative to the bundle directory, `/`-separated. */
  path: string;
  /** SHA-256 of the file's bytes, lowercase hex. */
  sha256: string;
}

/** What `/join/bundle.json` answers. */
export interface WebBundleManifest {
  bundleHash: string;
  files: WebBundleFile[];
}

export interface WebClientBundle {
  page: Buffer;
  assets: Map<string, { body: Buffer; type: string }>;
  manifest: WebBundleManifest;
}

const sha256 = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The bundle hash (docs/protocol.md §Web client): the files sorted by the UTF-8 bytes of their
 * paths, one line `<sha256 hex>  <path>\n` each (sha256sum's format), and SHA-256 of those lines.
 * scripts/web-bundle-hash.mjs computes the same without roomd's code.
 */
export function webBundleManifest(files: ReadonlyMap<string, Uint8Array>): WebBundleManifest {
  const list = [...files]
    .map(([file, body]) => ({ path: file, sha256: sha256(body) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return {
    bundleHash: sha256(list.map((f) => `${f.sha256}  ${f.path}\n`).join('')),
    files: list,
  };
}

/** Every regular file under `dir` (symbolic links and other entries are not part of a bundle). */
async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  let bytes = 0;
  const tooBig = (what: string): RoomdError =>
    new RoomdError('config.invalid', {
      message: `The web client directory ${dir} is not a web client build: ${what}.`,
      context: { dir },
    });
  const walk = async (rel: string, depth: number): Promise<void> => {
    if (depth > WEB_BUNDLE_LIMITS.depth) throw tooBig(`deeper than ${WEB_BUNDLE_LIMITS.depth} levels`);
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(name, depth + 1);
      if (!entry.isFile()) continue;
      if (files.size >= WEB_BUNDLE_LIMITS.files) throw tooBig(`more than ${WEB_BUNDLE_LIMITS.files} files`);
      // The size first: a stray huge file is refused by the limit, never read into memory.
      bytes += (await stat(path.join(dir, name))).size;
      if (bytes > WEB_BUNDLE_LIMITS.bytes) throw tooBig(`more than ${WEB_BUNDLE_LIMITS.bytes} bytes`);
      files.set(name, await readFile(path.join(dir, name)));
    }
  };
  await walk('', 0);
  return files;
}

/**
 * The bundle in `dir`, or null when it was not built. Every file of the directory is read once and
 * goes into the bundle hash; of those, the relay serves index.html and the scripts, styles and
 * images directly in assets/, so everything it serves is covered by the hash it publishes.
 */
export async function loadWebClient(dir: string): Promise<WebClientBundle | null> {
  if (!existsSync(path.join(dir, 'index.html'))) return null;
  const files = await readTree(dir);
  const page = files.get('index.html');
  if (page === undefined) return null;
  const assets = new Map<string, { body: Buffer; type: string }>();
  for (const [file, body] of files) {
    const name = file.startsWith('assets/') ? file.slice('assets/'.length) : '';
    const type = TYPES[path.extname(name)];
    if (type === undefined || !ASSET_NAME.test(name)) continue;
    assets.set(name, { body, type });
  }
  return { page, assets, manifest: webBundleManifest(files) };
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
    return reply
      .header('x-roomd-bundle', bundle.manifest.bundleHash)
      .type('text/html; charset=utf-8')
      .send(bundle.page);
  });
  // Unauthenticated and uncached: anyone may watch what this relay serves (docs/protocol.md §Web client).
  app.get('/join/bundle.json', (_request, reply) => {
    secure(reply).header('cache-control', 'no-store');
    if (bundle === null) {
      return reply.code(404).type('text/plain; charset=utf-8').send('The web client is not installed.');
    }
    return reply
      .header('x-roomd-bundle', bundle.manifest.bundleHash)
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(bundle.manifest));
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
