/**
 * The web client's bundle stays a browser program (docs/decisions/0022-one-core-in-node-and-browser.md):
 * built with its own Vite config, nothing in it comes from a Node built-in or a Node-only package,
 * every shared module with a browser twin is replaced by it, the code names no Node global and
 * compiles no code at run time (the page's CSP forbids it), and the page pins its script and style
 * with Subresource Integrity. A build of a shared module without the twins shows the check bites.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { build, type InlineConfig, type Rollup } from 'vite';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const WEB = path.join(ROOT, 'web');

const NODE_ONLY_PACKAGES =
  /node_modules\/(ws|pino[^/]*|fastify|@fastify\/[^/]+|@roamhq\/wrtc|serialport|@serialport\/[^/]+|usb|prom-client|tsx)\//;
const NODE_GLOBALS =
  /\b(Buffer|__dirname|__filename|setImmediate)\b|\bprocess\.(env|argv|platform|versions|nextTick|exit|cwd)\b|\brequire\(/;
const RUNTIME_CODE = /\bnew Function\b|\beval\(/;

function sri(content: string | Uint8Array): string {
  return `sha384-${createHash('sha384').update(content).digest('base64')}`;
}

async function bundle(config: InlineConfig): Promise<Rollup.RollupOutput> {
  const out = await build({ logLevel: 'silent', ...config, build: { ...config.build, write: false } });
  return (Array.isArray(out) ? out[0] : out) as Rollup.RollupOutput;
}

/** What in a browser bundle could only run in Node, in words. */
function nodeOnlyParts(out: Rollup.RollupOutput): string[] {
  const problems: string[] = [];
  for (const item of out.output) {
    if (item.type !== 'chunk') continue;
    for (const id of item.moduleIds) {
      const file = id.replace(/\\/g, '/');
      if (file.includes('__vite-browser-external') || file.startsWith('node:'))
        problems.push(`Node built-in: ${id}`);
      if (NODE_ONLY_PACKAGES.test(file)) problems.push(`Node-only package: ${path.relative(ROOT, id)}`);
      if (
        file.endsWith('.ts') &&
        !file.endsWith('.browser.ts') &&
        existsSync(`${file.slice(0, -3)}.browser.ts`)
      )
        problems.push(`module with a browser twin: ${path.relative(ROOT, id)}`);
    }
    for (const re of [NODE_GLOBALS, RUNTIME_CODE]) {
      const hit = re.exec(item.code);
      if (hit !== null)
        problems.push(
          `${item.fileName} uses ${hit[0]}: …${item.code.slice(Math.max(0, hit.index - 60), hit.index + 40)}…`,
        );
    }
  }
  return problems;
}

describe('the web bundle', () => {
  it('reaches no Node built-in, Node-only package or Node global, and uses every browser twin', async () => {
    const out = await bundle({ configFile: path.join(WEB, 'vite.config.ts') });
    const ids = out.output.flatMap((o) => (o.type === 'chunk' ? o.moduleIds : []));
    // It really holds the shared core: the meeting machine, the E2EE session and their twins.
    for (const shared of [
      'src/meeting/machine.ts',
      'src/e2ee/session.ts',
      'src/protocol/codec.ts',
      'src/e2ee/ed25519.browser.ts',
      'src/e2ee/sframe/aead.browser.ts',
      'src/protocol/schema-check.browser.ts',
    ]) {
      expect(ids).toContain(path.join(ROOT, shared));
    }
    expect(nodeOnlyParts(out)).toEqual([]);
  }, 60_000);

  it('pins its script and style with Subresource Integrity and has no inline script', async () => {
    const out = await bundle({ configFile: path.join(WEB, 'vite.config.ts') });
    const html = out.output.find((o) => o.fileName === 'index.html');
    if (html?.type !== 'asset') throw new Error('no index.html');
    const text = String(html.source);
    const pinned = [...text.matchAll(/(?:src|href)="\.\/([^"]+)" integrity="(sha384-[^"]+)"/g)];
    expect(pinned.map((m) => path.extname(m[1] ?? '')).sort()).toEqual(['.css', '.js']);
    for (const [, file, integrity] of pinned) {
      const item = out.output.find((o) => o.fileName === file);
      if (item === undefined) throw new Error(`${file} missing`);
      const content = item.type === 'chunk' ? item.code : item.source;
      expect(integrity).toBe(sri(content));
    }
    expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(text).not.toMatch(/<style|\sstyle=/);
  }, 60_000);

  it('is reproducible: two builds give the same bytes', async () => {
    const files = async () => {
      const out = await bundle({ configFile: path.join(WEB, 'vite.config.ts') });
      return Object.fromEntries(
        out.output.map((o) => [o.fileName, sri(o.type === 'chunk' ? o.code : o.source)]),
      );
    };
    const [a, b] = [await files(), await files()];
    expect(Object.keys(a).length).toBeGreaterThanOrEqual(3);
    expect(b).toEqual(a);
  }, 60_000);

  it('the check finds node:crypto when a shared module is bundled without its twin', async () => {
    const out = await bundle({
      configFile: false,
      root: ROOT,
      build: {
        lib: { entry: path.join(ROOT, 'src/e2ee/certificate.ts'), formats: ['es'], fileName: 'probe' },
        rollupOptions: { external: [] },
      },
    });
    const problems = nodeOnlyParts(out);
    expect(problems).toContain('module with a browser twin: src/e2ee/ed25519.ts');
    expect(problems.some((p) => p.startsWith('Node built-in'))).toBe(true);
  }, 60_000);
});
