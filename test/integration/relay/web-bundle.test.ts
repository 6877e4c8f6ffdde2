// The relay publishes the hash of the web bundle it serves (docs/protocol.md §Web client):
// /join/bundle.json and the page's X-Roomd-Bundle header carry the hash that scripts/web-bundle-hash.mjs
// and the documented coreutils line compute from the directory; every file of the directory is in
// it, a changed file changes it, and a directory too large to be a build is refused at load.
// Real HTTP on loopback; no media (fake peers).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { createRelay, type Relay } from '../../../src/relay/server.ts';
import {
  loadWebClient,
  WEB_BUNDLE_LIMITS,
  WEB_CLIENT_CSP,
  type WebBundleManifest,
} from '../../../src/relay/web-client.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

const run = promisify(execFile);
const CHECKER = path.resolve(import.meta.dirname, '../../../scripts/web-bundle-hash.mjs');

let dir: string;
let relay: Relay;
let bare: Relay;

async function writeBundle(into: string, script: string): Promise<void> {
  await mkdir(path.join(into, 'assets'), { recursive: true });
  await writeFile(
    path.join(into, 'index.html'),
    '<!doctype html><script type="module" src="./assets/index-abc.js"></script>',
  );
  await writeFile(path.join(into, 'assets', 'index-abc.js'), script);
  await writeFile(path.join(into, 'assets', 'index-abc.css'), 'p{}');
  await writeFile(path.join(into, 'assets', 'notes.txt'), 'hashed, not served');
}

async function checker(bundleDir: string): Promise<string> {
  return (await run(process.execPath, [CHECKER, bundleDir])).stdout.trim();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'roomd-web-bundle-'));
  await writeBundle(dir, 'console.log(1);');
  // Not regular files: not part of the bundle, never served.
  await symlink(path.join(dir, 'index.html'), path.join(dir, 'assets', 'link.js'));
  relay = createRelay({ peers: new FakePeerNetwork(), webClientDir: dir });
  bare = createRelay({ peers: new FakePeerNetwork(), webClientDir: path.join(dir, 'missing') });
  await Promise.all([relay.start(), bare.start()]);
});

afterAll(async () => {
  await Promise.all([relay.stop(), bare.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('the published bundle hash', () => {
  it('is at /join/bundle.json and on the page, and is what the checker computes', async () => {
    const res = await fetch(`${relay.address.httpUrl}/join/bundle.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('content-security-policy')).toBe(WEB_CLIENT_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const manifest = (await res.json()) as WebBundleManifest;
    expect(Object.keys(manifest).sort()).toEqual(['bundleHash', 'files']);
    expect(manifest.files.map((f) => f.path)).toEqual([
      'assets/index-abc.css',
      'assets/index-abc.js',
      'assets/notes.txt',
      'index.html',
    ]);
    expect(manifest.bundleHash).toBe(await checker(dir));

    const page = await fetch(`${relay.address.httpUrl}/join/123-4567-8901`);
    expect(page.status).toBe(200);
    expect(page.headers.get('x-roomd-bundle')).toBe(manifest.bundleHash);
    await page.body?.cancel();
    // The symbolic link is neither hashed nor served.
    const link = await fetch(`${relay.address.httpUrl}/join/assets/link.js`);
    expect(link.status).toBe(404);
    await link.body?.cancel();
  });

  it('follows the documented recipe: sha256sum lines of the sorted files, hashed again', async () => {
    const { stdout } = await run(
      'bash',
      ['-c', "find . -type f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum"],
      { cwd: dir },
    );
    const bundle = await loadWebClient(dir);
    expect(stdout).toBe(`${bundle?.manifest.bundleHash}  -\n`);
  });

  it('changes when any byte of the bundle changes', async () => {
    const other = await mkdtemp(path.join(tmpdir(), 'roomd-web-bundle-'));
    try {
      await writeBundle(other, 'console.log(1);');
      const same = await loadWebClient(other);
      await writeFile(path.join(other, 'assets', 'index-abc.js'), 'console.log(2);');
      const changed = await loadWebClient(other);
      const original = await loadWebClient(dir);
      expect(same?.manifest.bundleHash).toBe(original?.manifest.bundleHash);
      expect(changed?.manifest.bundleHash).not.toBe(original?.manifest.bundleHash);
      expect(changed?.manifest.bundleHash).toBe(await checker(other));
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('is 404 where the web client is not installed', async () => {
    const res = await fetch(`${bare.address.httpUrl}/join/bundle.json`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-security-policy')).toBe(WEB_CLIENT_CSP);
    await res.body?.cancel();
  });

  it('refuses at load a directory with more files than a build has', async () => {
    const big = await mkdtemp(path.join(tmpdir(), 'roomd-web-bundle-'));
    try {
      await writeBundle(big, 'console.log(1);');
      await Promise.all(
        Array.from({ length: WEB_BUNDLE_LIMITS.files }, (_, i) =>
          writeFile(path.join(big, 'assets', `f${i}.js`), ''),
        ),
      );
      const error = await loadWebClient(big).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RoomdError);
      expect((error as RoomdError).code).toBe('config.invalid');
    } finally {
      await rm(big, { recursive: true, force: true });
    }
  });
});
