/**
 * The web bundle's hash is reproducible (docs/protocol.md §Web client): two builds of the same
 * sources into different directories give the same bundle hash, and the stand-alone checker
 * (scripts/web-bundle-hash.mjs, what anyone runs on a build of their own) computes the hash the relay
 * publishes for that directory. The page reads that hash from `bundle.json` with a total decoder.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { loadWebClient } from '../../../src/relay/web-client.ts';
import { bundleHashOf } from '../../../web/src/bundle-hash.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CHECKER = path.join(ROOT, 'scripts/web-bundle-hash.mjs');
const temps: string[] = [];

async function buildInto(): Promise<string> {
  const outDir = await mkdtemp(path.join(tmpdir(), 'roomd-web-build-'));
  temps.push(outDir);
  await build({
    configFile: path.join(ROOT, 'web/vite.config.ts'),
    logLevel: 'silent',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

afterAll(async () => {
  await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the web bundle hash', () => {
  it('is the same for two builds, and the checker prints what the relay publishes', async () => {
    const [a, b] = [await buildInto(), await buildInto()];
    const [bundleA, bundleB] = [await loadWebClient(a), await loadWebClient(b)];
    if (bundleA === null || bundleB === null) throw new Error('the build wrote no index.html');
    expect(bundleA.manifest.bundleHash).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleB.manifest).toEqual(bundleA.manifest);
    // The page, its script and its style; every one of them is served and every one is hashed.
    const paths = bundleA.manifest.files.map((f) => f.path);
    expect(paths).toContain('index.html');
    expect(paths.filter((p) => /^assets\/index-[\w-]+\.(js|css)$/.test(p))).toHaveLength(2);
    expect(paths.length).toBe(1 + bundleA.assets.size);

    const { stdout } = await promisify(execFile)(process.execPath, [CHECKER, b]);
    expect(stdout).toBe(`${bundleA.manifest.bundleHash}\n`);
  }, 120_000);
});

describe("the page's reading of bundle.json", () => {
  const hash = 'ab'.repeat(32);
  it('takes the hash of a manifest and nothing else', () => {
    expect(bundleHashOf(JSON.stringify({ bundleHash: hash, files: [] }))).toBe(hash);
    for (const text of [
      '',
      'not json',
      '<!doctype html>',
      'null',
      '[]',
      JSON.stringify({ bundleHash: hash.toUpperCase() }),
      JSON.stringify({ bundleHash: hash.slice(1) }),
      JSON.stringify({ bundleHash: 42 }),
      JSON.stringify({ files: [] }),
      `{"bundleHash":"${hash}","files":${'['.repeat(100)}${']'.repeat(100)}}`,
      JSON.stringify({ bundleHash: hash, pad: 'x'.repeat(300 * 1024) }),
    ]) {
      expect(bundleHashOf(text), text.slice(0, 40)).toBeNull();
    }
  });
});
