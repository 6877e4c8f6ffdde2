/**
 * Vite plugins of the web client's build (docs/decisions/0022-one-core-in-node-and-browser.md):
 * `browserTwins` swaps a shared module for its `.browser.ts` twin where one exists, so the E2EE and
 * protocol code runs unchanged without Node's built-ins; `subresourceIntegrity` pins every script
 * and style the page loads to its SHA-384 (the relay serves the page under a CSP that only allows
 * its own origin, and the hashes bind the page to the exact bundle).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Plugin, Rollup } from 'vite';

export const BROWSER_SUFFIX = '.browser.ts';

export function browserTwins(): Plugin {
  return {
    name: 'roomd-browser-twins',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (importer === undefined || !source.startsWith('.')) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (resolved === null || resolved.external || !resolved.id.endsWith('.ts')) return resolved;
      if (resolved.id.endsWith(BROWSER_SUFFIX)) return resolved;
      const twin = `${resolved.id.slice(0, -'.ts'.length)}${BROWSER_SUFFIX}`;
      return existsSync(twin) ? { ...resolved, id: twin } : resolved;
    },
  };
}

export function sri(content: string | Uint8Array): string {
  return `sha384-${createHash('sha384').update(content).digest('base64')}`;
}

export function subresourceIntegrity(): Plugin {
  return {
    name: 'roomd-subresource-integrity',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        const bundle = ctx.bundle;
        if (bundle === undefined) return html;
        const byUrl = (url: string): Rollup.OutputChunk | Rollup.OutputAsset | undefined => {
          const name = url.replace(/^\.?\//, '');
          return bundle[name];
        };
        return html.replace(
          /<(script|link)\b([^>]*?)\s(src|href)="([^"]+)"([^>]*)>/g,
          (tag, el: string, before: string, attr: string, url: string, after: string) => {
            const out = byUrl(url);
            if (out === undefined || tag.includes('integrity=')) return tag;
            const content = out.type === 'chunk' ? out.code : out.source;
            return `<${el}${before} ${attr}="${url}" integrity="${sri(content)}"${after}>`;
          },
        );
      },
    },
  };
}
