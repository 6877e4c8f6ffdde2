// The relay serves the web client (docs/protocol.md §Web client): the page at /join/<meeting id>
// and its hashed files at /join/assets/, each under the strict CSP; nothing else of the directory,
// and a plain 404 where the bundle is not built. Real HTTP on loopback; no media (fake peers).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, type Relay } from '../../../src/relay/server.ts';
import { WEB_CLIENT_CSP } from '../../../src/relay/web-client.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

let dir: string;
let relay: Relay;
let bare: Relay;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'roomd-web-'));
  await mkdir(path.join(dir, 'assets'));
  await writeFile(
    path.join(dir, 'index.html'),
    '<!doctype html><script type="module" src="./assets/index-abc.js"></script>',
  );
  await writeFile(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1);');
  await writeFile(path.join(dir, 'assets', 'notes.txt'), 'not served');
  await writeFile(path.join(dir, 'secret.json'), '{}');
  relay = createRelay({ peers: new FakePeerNetwork(), webClientDir: dir });
  bare = createRelay({ peers: new FakePeerNetwork(), webClientDir: path.join(dir, 'missing') });
  await Promise.all([relay.start(), bare.start()]);
});

afterAll(async () => {
  await Promise.all([relay.stop(), bare.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('web client on the relay', () => {
  it('serves the page for a meeting id under a strict CSP, not cached', async () => {
    for (const id of ['12345678901', '123-4567-8901']) {
      const res = await fetch(`${relay.address.httpUrl}/join/${id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toBe(WEB_CLIENT_CSP);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toContain('./assets/index-abc.js');
    }
    expect(WEB_CLIENT_CSP).toMatch(/script-src 'self'(;|$)/);
    expect(WEB_CLIENT_CSP).not.toMatch(/unsafe-(inline|eval)/);
  });

  it('serves the hashed scripts, and nothing else of the directory', async () => {
    const js = await fetch(`${relay.address.httpUrl}/join/assets/index-abc.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1);');
    for (const p of [
      '/join/assets/notes.txt',
      '/join/assets/..%2Fsecret.json',
      '/join/assets/missing.js',
      '/join/not-a-meeting',
      '/join/..%2Fsecret.json',
    ]) {
      const res = await fetch(`${relay.address.httpUrl}${p}`);
      expect(res.status, p).toBe(404);
      await res.body?.cancel();
    }
    // What every browser asks for: an empty answer, so a visitor's console shows no error.
    const icon = await fetch(`${relay.address.httpUrl}/favicon.ico`);
    expect(icon.status).toBe(204);
  });

  it('says the web client is not installed where it was not built', async () => {
    const res = await fetch(`${bare.address.httpUrl}/join/12345678901`);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/web client is not installed/);
  });
});
