#!/usr/bin/env node
// roomd binary: runs the TypeScript sources through tsx in a checkout, the built dist/ when installed.
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const source = new URL('src/app/cli.ts', root);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('dist/src/app/cli.js', root).href);
}
