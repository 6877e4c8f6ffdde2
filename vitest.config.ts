import { defineConfig } from 'vitest/config';

// Every test file runs in its own forked process: files start daemons, media workers and Chromium,
// and a process per file keeps their state apart. (wrtc, which segfaults inside worker threads, is
// loaded only by media worker processes: docs/decisions/0013-media-worker.md.)
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
