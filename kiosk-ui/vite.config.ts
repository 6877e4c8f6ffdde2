/**
 * Build of the room-screen UI (docs/kiosk-and-admin-api.md): Preact, output in kiosk-ui/dist, served by the
 * kiosk context (index.html) and the admin context (admin.html). No inline scripts or styles
 * (both pages run under a strict CSP), no data: assets.
 */
import * as path from 'node:path';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome110',
    sourcemap: false,
    rollupOptions: {
      // The room screen (kiosk context) and the admin page (admin context) share one build.
      input: {
        kiosk: path.resolve(import.meta.dirname, 'index.html'),
        admin: path.resolve(import.meta.dirname, 'admin.html'),
      },
    },
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
