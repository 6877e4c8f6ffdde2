/**
 * Build of the web client (web/, docs/decisions/0022-one-core-in-node-and-browser.md): Preact and the
 * shared src/ modules, with their browser twins, into web/dist, relocatable (relative asset paths:
 * the relay serves it at /join/<meeting id>, any web server can host it). No inline script or style
 * and no data: assets (the page runs under a strict CSP); every script and style carries its
 * Subresource Integrity hash.
 */
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';
import { browserTwins, subresourceIntegrity } from './build-plugins.ts';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  // The same bundle whatever NODE_ENV says (tests build it too): never Preact's devtools hook.
  plugins: [
    browserTwins(),
    preact({ devToolsEnabled: false, prefreshEnabled: false }),
    subresourceIntegrity(),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
});
