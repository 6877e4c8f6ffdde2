/**
 * roomctl against a real HTTPS admin server (docs/kiosk-and-admin-api.md §roomctl): every command,
 * `--json`, the pinned certificate fingerprint, the saved connection, and exit codes scripts can trust.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signBundle } from '../../../src/http/admin/bundle.ts';
import { runRoomctl } from '../../../src/http/roomctl/cli.ts';
import { RoomctlExit } from '../../../src/http/roomctl/exit.ts';
import { settingsPatch } from '../../../src/http/roomctl/commands.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { setupCodeOf } from '../../support/admin-session.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture;
let dir: string;
let config: string;
let url: string;
let fingerprint: string;

async function roomctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRoomctl([...args, '--config', config], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { ROOMCTL_PASSWORD: 'correct horse battery staple' },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  f = await makeHttpFixture();
  await f.servers.module.start();
  url = f.servers.urls().admin;
  fingerprint = f.servers.certificate.fingerprint;
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomctl-'));
  config = path.join(dir, 'config.json');
});

afterAll(async () => {
  await f.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('roomctl', () => {
  test('usage errors exit 64, a missing device exits 78', async () => {
    expect((await roomctl()).code).toBe(RoomctlExit.usage);
    expect((await roomctl('frobnicate', '--url', url)).code).toBe(RoomctlExit.usage);
    expect((await roomctl('status', '--bogus')).code).toBe(RoomctlExit.usage);
    expect((await roomctl('help')).code).toBe(RoomctlExit.ok);
    const none = await roomctl('status', '--json');
    expect(none.code).toBe(RoomctlExit.config);
    expect(JSON.parse(none.out).error.exitCode).toBe(78);
  });

  test('claim refuses a device whose certificate does not match the fingerprint', async () => {
    const code = await setupCodeOf(f);
    const wrong = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
    const r = await roomctl('claim', '--url', url, '--fingerprint', wrong, '--code', code);
    expect(r.code).toBe(RoomctlExit.noPerm);
    expect(r.err).toContain('intercepting');
    expect((await f.servers.admin.inject({ method: 'GET', url: '/api/v1/claim' })).json().claimed).toBe(
      false,
    );
  });

  test('claim with a wrong code is not allowed (77); the right code claims and saves the connection', async () => {
    const bad = await roomctl('claim', '--url', url, '--fingerprint', fingerprint, '--code', '00000-00000');
    expect(bad.code).toBe(RoomctlExit.noPerm);
    expect(bad.err).toContain('The setup code is wrong.');
    const code = await setupCodeOf(f);
    const r = await roomctl(
      'claim',
      '--json',
      '--url',
      url,
      '--fingerprint',
      fingerprint,
      '--code',
      code,
      '--room-name',
      'Atlas',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ claimed: true, fingerprint });
    const saved = JSON.parse(await fsp.readFile(config, 'utf8'));
    expect(saved).toMatchObject({ url, fingerprint });
    expect(saved.token).toMatch(/^rmd_/);
    expect((await fsp.stat(config)).mode & 0o777).toBe(0o600);
    const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    expect(s.room).toEqual({ name: 'Atlas', provisioned: true });
  });

  test('status, health, devices with --json', async () => {
    const status = await roomctl('status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ deviceId: 'rd-7f3a9c21', claimed: true });
    const human = await roomctl('status');
    expect(human.out).toMatch(/deviceId\s+rd-7f3a9c21/);
    expect(JSON.parse((await roomctl('health', '--json')).out).status).toBe('ok');
    const devices = await roomctl('devices', '--json');
    expect(JSON.parse(devices.out).map((d: { id: string }) => d.id)).toEqual(['cam0', 'spk0']);
  });

  test('settings set and get; an invalid value exits 65 with the sentence', async () => {
    expect((await roomctl('settings', 'set', 'room.name=Harbour')).code).toBe(0);
    expect((await roomctl('settings', 'get', 'room.name')).out).toBe('Harbour');
    expect(JSON.parse((await roomctl('settings', 'get', 'room', '--json')).out)).toEqual({ name: 'Harbour' });
    const bad = await roomctl('settings', 'set', 'room.name=7', '--json');
    expect(bad.code).toBe(RoomctlExit.dataErr);
    expect(JSON.parse(bad.out).error).toMatchObject({ code: 'config.invalid', status: 400 });
    expect((await roomctl('settings', 'get', 'no.such')).code).toBe(RoomctlExit.failure);
    expect((await roomctl('settings', 'set', 'novalue')).code).toBe(RoomctlExit.usage);
  });

  test('settingsPatch builds nested objects and parses JSON values', () => {
    expect(settingsPatch(['a.b=1', 'a.c=true', 'd=hello', 'e={"x":[1]}'])).toEqual({
      a: { b: 1, c: true },
      d: 'hello',
      e: { x: [1] },
    });
  });

  test('provision --bundle applies a signed bundle; a replay is refused (1)', async () => {
    const secret = ed25519.utils.randomSecretKey();
    const file = path.join(dir, 'bundle.json');
    await fsp.writeFile(
      file,
      JSON.stringify(
        signBundle(
          { serial: 5, issuedAt: '2026-11-26T09:00:00Z', settings: {}, roomName: 'Lighthouse' },
          secret,
        ),
      ),
    );
    const ok = await roomctl('provision', '--bundle', file, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).serial).toBe(5);
    expect(f.room.state.room.name).toBe('Lighthouse');
    expect((await roomctl('provision', '--bundle', file)).code).toBe(RoomctlExit.failure);
    expect((await roomctl('provision', '--bundle', path.join(dir, 'missing.json'))).code).toBe(
      RoomctlExit.usage,
    );
    await fsp.writeFile(path.join(dir, 'junk.json'), 'not json');
    expect((await roomctl('provision', '--bundle', path.join(dir, 'junk.json'))).code).toBe(
      RoomctlExit.dataErr,
    );
  });

  test('logs, restart, schedule', async () => {
    const logs = await roomctl('logs', '--lines', '20');
    expect(logs.code).toBe(0);
    expect(logs.out).toContain('(20 requested)');
    expect((await roomctl('restart')).code).toBe(0);
    expect(f.backend.calls.map((c) => c.name)).toContain('restart');
    const sched = await roomctl(
      'schedule',
      '--json',
      '--title',
      'Design review',
      '--start',
      '2026-11-27T10:00:00Z',
      '--minutes',
      '45',
    );
    expect(sched.code).toBe(0);
    expect(JSON.parse(sched.out)).toMatchObject({
      meetingId: '87770001234',
      end: '2026-11-27T10:45:00.000Z',
    });
    expect((await roomctl('schedule', '--title', 'x', '--start', 'soon')).code).toBe(RoomctlExit.usage);
    expect(
      (await roomctl('schedule', '--title', 'x', '--start', '2026-11-27T10:00:00Z', '--encryption', 'rot13'))
        .code,
    ).toBe(RoomctlExit.usage);
  });

  test('token create --scope, list and revoke; a metrics token may not run admin commands (77)', async () => {
    const made = await roomctl('token', 'create', '--name', 'prometheus', '--scope', 'metrics', '--json');
    expect(made.code).toBe(0);
    const t = JSON.parse(made.out) as { id: string; scope: string; token: string };
    expect(t.scope).toBe('metrics');
    expect(t.token).toMatch(/^rmd_/);
    const denied = await roomctl('settings', 'set', 'room.name=Owned', '--token', t.token, '--json');
    expect(denied.code).toBe(RoomctlExit.noPerm);
    expect(JSON.parse(denied.out).error).toMatchObject({ code: 'http.forbidden', status: 403 });
    const escalate = await roomctl('token', 'create', '--name', 'x', '--scope', 'admin', '--token', t.token);
    expect(escalate.code).toBe(RoomctlExit.noPerm);
    const list = await roomctl('token', 'list');
    expect(list.out).toMatch(new RegExp(`${t.id}\\s+metrics`));
    expect((await roomctl('token', 'revoke', t.id)).code).toBe(0);
    expect((await roomctl('token', 'list', '--json')).out).not.toContain(t.id);
    expect((await roomctl('token', 'create', '--name', 'x', '--scope', 'root')).code).toBe(RoomctlExit.usage);
    expect((await roomctl('token', 'create')).code).toBe(RoomctlExit.usage);
    expect((await roomctl('token', 'frob')).code).toBe(RoomctlExit.usage);
  });

  test('a wrong token is not allowed (77); an unreachable device is 69', async () => {
    expect((await roomctl('status', '--token', `rmd_000000000000_${'A'.repeat(43)}`)).code).toBe(
      RoomctlExit.noPerm,
    );
    const r = await roomctl('status', '--url', 'https://127.0.0.1:1');
    expect(r.code).toBe(RoomctlExit.unavailable);
    expect(r.err).toContain('Cannot reach');
  });
});
