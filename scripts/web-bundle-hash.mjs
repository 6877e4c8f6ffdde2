#!/usr/bin/env node
// Prints the bundle hash of a built web client directory (default web/dist), the value a relay
// publishes at /join/bundle.json and in the page's X-Roomd-Bundle header (docs/protocol.md §Web
// client). Written with node:crypto and node:fs only, apart from roomd's code, so anyone can check
// a relay against a build of their own:
//
//   npm ci && npm run build:web && node scripts/web-bundle-hash.mjs web/dist
//
// Recipe: every regular file under the directory (symbolic links are not part of a bundle), its
// path relative to the directory with `/` separators; sorted by the UTF-8 bytes of the paths; one
// line `<sha256 of the file, lowercase hex>  <path>\n` each (two spaces: sha256sum's format);
// the bundle hash is the SHA-256 of those lines. The same with coreutils:
//
//   cd web/dist && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum
//
// Usage: node scripts/web-bundle-hash.mjs [DIR] [--files]   (--files also lists every file's hash)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const listFiles = args.includes('--files');
const dir = args.find((a) => a !== '--files') ?? new URL('../web/dist', import.meta.url).pathname;

if (!existsSync(join(dir, 'index.html'))) {
  process.stderr.write(`web-bundle-hash: ${dir} holds no index.html: build it with 'npm run build:web'\n`);
  process.exit(1);
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

const files = [];
const walk = (rel) => {
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) walk(path);
    else if (entry.isFile()) files.push({ path, sha256: sha256(readFileSync(join(dir, path))) });
  }
};
walk('');
files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
const bundleHash = sha256(files.map((f) => `${f.sha256}  ${f.path}\n`).join(''));

if (listFiles) for (const f of files) process.stdout.write(`${f.sha256}  ${f.path}\n`);
process.stdout.write(`${bundleHash}\n`);
