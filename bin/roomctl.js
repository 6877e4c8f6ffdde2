#!/usr/bin/env node
// roomctl binary: runs the TypeScript sources through tsx in a checkout, the built dist/ when installed.
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const source = new URL('src/http/roomctl/cli.ts', root);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import(new URL('dist/src/http/roomctl/cli.js', root).href);
}
await cli.main();
