// Meeting registry persistence, account E2EE setting, HTTP API and CLI: docs/protocol.md §Management API.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { runRelayCli } from '../../../src/relay/cli.ts';
import { MeetingRegistry } from '../../../src/relay/registry.ts';
import { createRelay } from '../../../src/relay/server.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { RelayClient } from '../../../src/transport/relay-client.ts';
import { hostKey } from './harness.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'roomd-relay-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('MeetingRegistry', () => {
  it('keeps scheduled meetings across a restart', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const a = new MeetingRegistry({ stateDir: dir, logger: silentLogger(), now: () => clock.now() });
    await a.load();
    const m = await a.create({
      hostIdentityKey: hostKey,
      title: 'Quarterly',
      start: '2026-02-01T09:00:00Z',
      end: '2026-02-01T10:00:00Z',
      room: 'Board room',
      passcode: '4711',
    });
    expect(m.id).toMatch(/^\d{3}-\d{4}-\d{4}$/);
    expect(m.encryption).toBe('e2ee');
    const b = new MeetingRegistry({ stateDir: dir, logger: silentLogger(), now: () => clock.now() });
    await b.load();
    expect(b.get(m.id)).toEqual(m);
  });

  it('refuses an E2EE meeting while the account does not allow E2EE, and applies its default', async () => {
    const r = new MeetingRegistry({ logger: silentLogger(), now: () => 0 });
    await r.updateAccount('default', { allowE2ee: false, defaultEncryption: 'enhanced' });
    await expect(r.create({ hostIdentityKey: hostKey, encryption: 'e2ee' })).rejects.toMatchObject({
      code: 'relay.e2ee_not_allowed',
    });
    expect((await r.create({ hostIdentityKey: hostKey })).encryption).toBe('enhanced');
    await expect(r.updateAccount('default', { defaultEncryption: 'e2ee' })).rejects.toMatchObject({
      code: 'relay.e2ee_not_allowed',
    });
  });

  it('rejects invalid meetings whole', async () => {
    const r = new MeetingRegistry({ logger: silentLogger(), now: () => 0 });
    await expect(r.create({ hostIdentityKey: 'short' })).rejects.toMatchObject({
      code: 'core.invalid_argument',
    });
    await expect(
      r.create({ hostIdentityKey: hostKey, start: '2026-02-01T10:00:00Z', end: '2026-02-01T09:00:00Z' }),
    ).rejects.toMatchObject({ code: 'core.invalid_argument' });
    await expect(r.create({ hostIdentityKey: hostKey, extra: 1 })).rejects.toMatchObject({
      code: 'core.invalid_argument',
    });
    await r.create({ hostIdentityKey: hostKey, id: 'abc-123' });
    await expect(r.create({ hostIdentityKey: hostKey, id: 'abc-123' })).rejects.toMatchObject({
      code: 'relay.meeting_exists',
    });
    expect(r.list()).toHaveLength(1);
  });
});

describe('relay HTTP API and CLI', () => {
  it('creates, lists and deletes meetings through the CLI against a running relay, with a token', async () => {
    const tok = 'tok-0123456789abcdef';
    const relay = createRelay({ peers: new FakePeerNetwork(), stateDir: await tempDir(), adminToken: tok });
    await relay.start();
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io = {
        stdout: (l: string) => out.push(l),
        stderr: (l: string) => err.push(l),
        env: { ROOMD_RELAY_TOKEN: tok },
      };
      const url = relay.address.httpUrl;
      expect(
        await runRelayCli(
          [
            'create',
            '--url',
            url,
            `--host-key=${hostKey}`,
            '--title',
            'Standup',
            '--encryption',
            'enhanced',
            '--passcode',
            '98765',
          ],
          io,
        ),
      ).toBe(0);
      const created = JSON.parse(out.at(-1)!) as { id: string; encryption: string; passcode: string };
      expect(created.encryption).toBe('enhanced');
      // The creator sees the passcode once; lists say only that there is one.
      expect(created.passcode).toBe('98765');
      expect(await runRelayCli(['list', '--url', url, '--json'], io)).toBe(0);
      const listed = JSON.parse(out.at(-1)!) as Record<string, unknown>[];
      expect(listed.map((m) => m['id'])).toEqual([created.id]);
      expect(listed[0]).toMatchObject({ hasPasscode: true });
      expect(listed[0]).not.toHaveProperty('passcode');
      expect(out.at(-1)).not.toContain('98765');
      expect(await runRelayCli(['delete', created.id, '--url', url], io)).toBe(0);
      expect(relay.registry.list()).toHaveLength(0);
      expect(await runRelayCli(['delete', created.id, '--url', url], io)).toBe(1);
      expect(err.at(-1)).toMatch(/no meeting with that ID/);
      expect(await runRelayCli(['list', '--url', url], { ...io, env: {} })).toBe(1);
      expect(
        await runRelayCli(
          ['account', '--url', url, '--allow-e2ee', 'false', '--default-encryption', 'enhanced'],
          io,
        ),
      ).toBe(0);
      expect(JSON.parse(out.at(-1)!)).toEqual({
        id: 'default',
        allowE2ee: false,
        defaultEncryption: 'enhanced',
      });
      expect(await runRelayCli(['frobnicate'], io)).toBe(64);
    } finally {
      await relay.stop();
    }
  });

  it('answers bad bodies with typed errors', async () => {
    const relay = createRelay({ peers: new FakePeerNetwork() });
    await relay.start();
    try {
      // No token given: the relay made one in memory for its embedder.
      const authorization = `Bearer ${relay.adminToken}`;
      const res = await fetch(`${relay.address.httpUrl}/api/v1/meetings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ hostIdentityKey: 'x' }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'core.invalid_argument' });
      const missing = await fetch(`${relay.address.httpUrl}/api/v1/meetings/000-0000-0000`, {
        headers: { authorization },
      });
      expect(missing.status).toBe(404);
    } finally {
      await relay.stop();
    }
  });
});

describe('relay over TLS', () => {
  it('serves wss with the given certificate and a client joins through it', async () => {
    const dir = await tempDir();
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const certPem = await readFile(cert);
    const peers = new FakePeerNetwork();
    const relay = createRelay({ peers, tls: { cert: certPem, key: await readFile(key) } });
    await relay.start();
    const client = new RelayClient({
      url: relay.address.signalUrl,
      peers,
      reconnect: false,
      // The relay's self-signed certificate is trusted by its key's pin (docs/admin.md §Firewalls).
      network: {
        proxy: null,
        tlsPin: createHash('sha256')
          .update(new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' }))
          .digest('base64'),
      },
      join: () => ({
        meetingId: '000-0000-0000',
        displayName: 'x',
        client: 'room',
        protocol: 1,
        deviceId: 'd',
      }),
    });
    try {
      expect(relay.address.signalUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/signal$/);
      const admission = client.events.next('admission');
      client.start();
      expect(await admission).toMatchObject({ status: 'refused', reason: 'meeting_not_found' });
    } finally {
      await client.close();
      await relay.stop();
    }
  });
});

describe('roomd relay serve', () => {
  it('listens, keeps meetings in the state dir, and stops on abort', async () => {
    const dir = await tempDir();
    const out: string[] = [];
    const abort = new AbortController();
    let url = '';
    const done = runRelayCli(['--port', '0', '--state-dir', dir], {
      stdout: (l) => out.push(l),
      stderr: (l) => out.push(l),
      env: {},
      signal: abort.signal,
      onListening: (u) => {
        url = u;
      },
    });
    while (url === '') await new Promise((r) => setTimeout(r, 10));
    const api = url.replace('ws://', 'http://').replace('/v1/signal', '');
    // The first start made an admin token in the state dir (0600) and said so once, with where it is.
    const tokenFile = path.join(dir, 'admin-token');
    const token = (await readFile(tokenFile, 'utf8')).trim();
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    expect(out.filter((l) => l.includes(token))).toHaveLength(1);
    expect(out.join('\n')).toContain(tokenFile);
    const body = JSON.stringify({ hostIdentityKey: hostKey, title: 'Kept' });
    const post = (authorization?: string) =>
      fetch(`${api}/api/v1/meetings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      });
    expect((await post()).status).toBe(401);
    expect((await post(`Bearer ${token}`)).status).toBe(201);
    // The management CLI finds the token in the state dir by itself.
    expect(
      await runRelayCli(['list', '--url', api, '--state-dir', dir], {
        stdout: (l) => out.push(l),
        stderr: (l) => out.push(l),
        env: {},
      }),
    ).toBe(0);
    expect(out.at(-1)).toMatch(/\tKept$/);
    abort.abort();
    expect(await done).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ event: 'listening' });
    const reg = new MeetingRegistry({ stateDir: dir, logger: silentLogger(), now: () => 0 });
    await reg.load();
    expect(reg.list().map((m) => m.title)).toEqual(['Kept']);
    expect(await runRelayCli(['--port', 'x'], { stdout: () => {}, stderr: () => {}, env: {} })).toBe(64);
    // A second start reuses the token and never prints it again.
    const again: string[] = [];
    const abort2 = new AbortController();
    let url2 = '';
    const done2 = runRelayCli(['--port', '0', '--state-dir', dir], {
      stdout: (l) => again.push(l),
      stderr: (l) => again.push(l),
      env: {},
      signal: abort2.signal,
      onListening: (u) => {
        url2 = u;
      },
    });
    while (url2 === '') await new Promise((r) => setTimeout(r, 10));
    abort2.abort();
    expect(await done2).toBe(0);
    expect((await readFile(tokenFile, 'utf8')).trim()).toBe(token);
    expect(again.join('\n')).not.toContain(token);
    expect(again.join('\n')).toContain(tokenFile);
  });

  it('refuses to listen beyond loopback without an explicit token', async () => {
    const err: string[] = [];
    const code = await runRelayCli(['--host', '0.0.0.0', '--port', '0'], {
      stdout: () => {},
      stderr: (l) => err.push(l),
      env: {},
    });
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/beyond this machine, without an admin token/);
    await expect(
      createRelay({ host: '0.0.0.0', peers: new FakePeerNetwork() }).start(),
    ).rejects.toMatchObject({
      code: 'config.invalid',
    });
  });
});
