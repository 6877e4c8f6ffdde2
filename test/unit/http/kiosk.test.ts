/**
 * Kiosk context through app.inject(): state, touch commands with
 * field-level validation, error mapping, loopback-only, the exact-Origin rule
 * (docs/kiosk-and-admin-api.md §Two servers, two contexts), static files without path traversal.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function withUi(): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-ui-'));
  await fsp.mkdir(path.join(dir, 'assets'));
  await fsp.writeFile(path.join(dir, 'index.html'), '<!doctype html><title>kiosk</title>');
  await fsp.writeFile(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  await fsp.writeFile(path.join(dir, '.secret'), 'hidden');
  return dir;
}

describe('GET /api/v1/state', () => {
  test('returns the composed room state with setup info until claimed', async () => {
    f = await makeHttpFixture();
    const res = await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' });
    expect(res.statusCode).toBe(200);
    const s = res.json<RoomState>();
    expect(s.room).toEqual({ name: 'Fjord', provisioned: false });
    expect(s.setup?.setupCode).toMatch(/^\d{5}-\d{5}$/);
    expect(s.setup?.deviceId).toBe('rd-7f3a9c21');
    expect(s.setup?.certFingerprint).toBe(f.servers.certificate.fingerprint);
    expect(s.certFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(s.admin).toEqual({ loginLocked: false, lockedUntil: null });
    expect(s.meeting).toBeNull();
    expect(s.schedule).toHaveLength(2);
  });

  test('shows the meeting with shield and security code after a join', async () => {
    f = await makeHttpFixture();
    const join = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/join',
      payload: { meetingId: '812 3456 7890' },
    });
    expect(join.statusCode).toBe(200);
    expect(f.room.calls[0]).toEqual({ name: 'join', args: ['81234567890'] });
    const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    expect(s.meeting?.shield).toBe('e2ee');
    expect(s.meeting?.securityCode).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(s.meeting?.disabledFeatures.map((d) => d.feature)).toContain('Cloud recording');
  });
});

describe('touch commands', () => {
  // One server for the whole block (they only differ in the request); the room is reset per test.
  let shared: HttpFixture;
  beforeAll(async () => {
    shared = await makeHttpFixture();
  });
  afterAll(async () => {
    await shared.close();
  });
  beforeEach(() => {
    shared.room.state = { ...shared.room.state, meeting: null };
    shared.room.calls.length = 0;
    shared.room.failNextJoin = null;
  });

  const valid: [string, unknown, string, unknown[]][] = [
    ['leave', {}, 'leave', []],
    ['mute', { muted: true }, 'setMute', [true]],
    ['camera', { enabled: false }, 'setCamera', [false]],
    ['volume', { level: 35 }, 'setVolume', [35]],
    ['ptz', { op: 'preset', preset: 2 }, 'ptz', [{ op: 'preset', preset: 2 }]],
    [
      'ptz',
      { op: 'move', pan: -0.5, tilt: 0, zoom: 0.25 },
      'ptz',
      [{ op: 'move', pan: -0.5, tilt: 0, zoom: 0.25 }],
    ],
    ['react', { reaction: 'clap' }, 'react', ['clap']],
    ['security-code/ack', {}, 'ack', []],
  ];
  test.each(valid)('POST /api/v1/%s %j reaches the room', async (route, body, call, args) => {
    const f = shared;
    await f.room.join('81234567890');
    const res = await f.servers.kiosk.inject({
      method: 'POST',
      url: `/api/v1/${route}`,
      payload: body as object,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(f.room.calls.at(-1)).toEqual({ name: call, args });
  });

  const invalid: [string, unknown, string][] = [
    ['join', {}, 'body.meetingId'],
    ['join', { meetingId: 'abc' }, 'body.meetingId'],
    ['join', { meetingId: '81234567890', extra: 1 }, 'body.extra'],
    ['mute', { muted: 'yes' }, 'body.muted'],
    ['volume', { level: 101 }, 'body.level'],
    ['volume', { level: 2.5 }, 'body.level'],
    ['ptz', { op: 'spin' }, 'body.op'],
    ['ptz', { op: 'preset' }, 'body.preset'],
    ['react', { reaction: 'poop' }, 'body.reaction'],
    ['leave', { now: true }, 'body.now'],
  ];
  test.each(invalid)('POST /api/v1/%s %j is refused with a message for %s', async (route, body, field) => {
    const f = shared;
    const res = await f.servers.kiosk.inject({
      method: 'POST',
      url: `/api/v1/${route}`,
      payload: body as object,
    });
    expect(res.statusCode).toBe(400);
    const err = res.json<{ error: { code: string; message: string; fields: { path: string }[] } }>().error;
    expect(err.code).toBe('http.bad_request');
    expect(err.fields.map((x) => x.path)).toContain(field);
    expect(err.message).toContain(field);
    expect(f.room.calls).toHaveLength(0);
  });

  test('a non-JSON body is refused', async () => {
    const f = shared;
    const res = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/mute',
      headers: { 'content-type': 'text/plain' },
      payload: 'muted=true',
    });
    expect([400, 415]).toContain(res.statusCode);
    expect(res.json().error.code).toBe('http.bad_request');
    expect(f.room.calls).toHaveLength(0);
  });

  test('a RoomdError from the room keeps its status and human sentence', async () => {
    const f = shared;
    const res = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/join',
      payload: { meetingId: '80000000000' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'relay.meeting_not_found', message: 'There is no meeting with that ID.' },
    });
  });

  test('5xx errors hide their details', async () => {
    const f = shared;
    f.room.failNextJoin = new RoomdError('core.store_io', {
      message: 'EACCES /var/lib/roomd/x',
      context: { file: '/x' },
    });
    const res = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/join',
      payload: { meetingId: '81234567890' },
    });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('EACCES');
    expect(res.json().error.code).toBe('core.store_io');

    f.room.failNextJoin = new Error('secret internals') as RoomdError;
    const res2 = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/join',
      payload: { meetingId: '81234567890' },
    });
    expect(res2.statusCode).toBe(500);
    expect(res2.json()).toEqual({
      error: { code: 'core.internal', message: 'Something went wrong inside roomd.' },
    });
  });
});

describe('loopback only', () => {
  test('refuses clients from the LAN', async () => {
    f = await makeHttpFixture();
    for (const url of ['/api/v1/state', '/', '/api/v1/live']) {
      const res = await f.servers.kiosk.inject({ method: 'GET', url, remoteAddress: '192.168.1.77' });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('http.loopback_only');
    }
    const post = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/leave',
      payload: {},
      remoteAddress: '10.0.0.2',
    });
    expect(post.statusCode).toBe(403);
    expect(f.room.calls).toHaveLength(0);
  });

  test('refuses a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    f = await makeHttpFixture();
    const rebind = await f.servers.kiosk.inject({
      method: 'GET',
      url: '/api/v1/state',
      headers: { host: 'evil.example:8080' },
    });
    expect(rebind.statusCode).toBe(403);
    const cross = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/leave',
      payload: {},
      headers: { host: '127.0.0.1:8080', origin: 'http://evil.example' },
    });
    expect(cross.statusCode).toBe(403);
    const same = await f.servers.kiosk.inject({
      method: 'GET',
      url: '/api/v1/state',
      headers: { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
    });
    expect(same.statusCode).toBe(200);
  });

  test.each([
    ['null', '127.0.0.1:8080'],
    ['https://127.0.0.1:8080', '127.0.0.1:8080'],
    ['http://127.0.0.1:9999', '127.0.0.1:8080'],
    ['http://localhost:8080', '127.0.0.1:8080'],
    ['ws://127.0.0.1:8080', '127.0.0.1:8080'],
    ['http://127.0.0.1:8080.evil.example', '127.0.0.1:8080'],
  ])('refuses Origin %s (not exactly the kiosk’s own)', async (origin, host) => {
    f = await makeHttpFixture();
    for (const [method, url] of [
      ['POST', '/api/v1/leave'],
      ['POST', '/api/v1/mute'],
      ['GET', '/api/v1/state'],
      ['GET', '/api/v1/live'],
    ] as const) {
      const res = await f.servers.kiosk.inject({
        method,
        url,
        headers: { host, origin },
        ...(method === 'POST' ? { payload: url.endsWith('mute') ? { muted: true } : {} } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('http.forbidden');
    }
    expect(f.room.calls).toHaveLength(0);
  });

  test('accepts the kiosk’s own origin on 127.0.0.1 and localhost', async () => {
    f = await makeHttpFixture();
    for (const host of ['127.0.0.1:8080', 'localhost:8080']) {
      const res = await f.servers.kiosk.inject({
        method: 'POST',
        url: '/api/v1/camera',
        payload: { enabled: true },
        headers: { host, origin: `http://${host}` },
      });
      expect(res.statusCode).toBe(200);
    }
  });

  test('checks the Origin for LAN clients too when they are allowed', async () => {
    f = await makeHttpFixture({ kiosk: { allowRemote: true } });
    const lan = { remoteAddress: '192.168.1.77', headers: { host: '192.168.1.40:8080' } };
    const foreign = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/leave',
      payload: {},
      ...lan,
      headers: { ...lan.headers, origin: 'null' },
    });
    expect(foreign.statusCode).toBe(403);
    const own = await f.servers.kiosk.inject({
      method: 'POST',
      url: '/api/v1/camera',
      payload: { enabled: true },
      ...lan,
      headers: { ...lan.headers, origin: 'http://192.168.1.40:8080' },
    });
    expect(own.statusCode).toBe(200);
  });

  test('answers LAN clients when configured to', async () => {
    f = await makeHttpFixture({ kiosk: { allowRemote: true } });
    const res = await f.servers.kiosk.inject({
      method: 'GET',
      url: '/api/v1/state',
      remoteAddress: '192.168.1.77',
      headers: { host: '192.168.1.40:8080' },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('static kiosk UI', () => {
  test('serves index.html and assets with the strict CSP', async () => {
    const ui = await withUi();
    f = await makeHttpFixture({ kiosk: { uiDir: ui } });
    const index = await f.servers.kiosk.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('<title>kiosk</title>');
    const csp = String(index.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    const asset = await f.servers.kiosk.inject({ method: 'GET', url: '/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    await fsp.rm(ui, { recursive: true, force: true });
  });

  test.each([
    '/../package.json',
    '/..%2fpackage.json',
    '/%2e%2e/%2e%2e/package.json',
    '/assets/..%2f..%2f..%2fpackage.json',
    '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
    '/..%5c..%5cpackage.json',
    '/.secret',
    '/%2esecret',
    '/assets/app.js%00.html',
  ])('path traversal %s does not leave the UI directory', async (url) => {
    const ui = await withUi();
    f = await makeHttpFixture({ kiosk: { uiDir: ui } });
    const res = await f.servers.kiosk.inject({ method: 'GET', url });
    expect([400, 403, 404]).toContain(res.statusCode);
    expect(res.body).not.toContain('"name": "roomd"');
    expect(res.body).not.toContain('hidden');
    await fsp.rm(ui, { recursive: true, force: true });
  });

  test('says so when the UI is not built', async () => {
    f = await makeHttpFixture({ kiosk: { uiDir: path.join(os.tmpdir(), 'no-such-kiosk-ui') } });
    const res = await f.servers.kiosk.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('http.ui_missing');
  });
});

describe('rate limits and health', () => {
  test('the kiosk context is rate limited', async () => {
    f = await makeHttpFixture({ kiosk: { rateLimitPerMinute: 3 } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' });
    expect(limited.json().error.code).toBe('http.rate_limited');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  test('/health answers on both servers; unknown routes are 404 with a sentence', async () => {
    f = await makeHttpFixture();
    expect((await f.servers.kiosk.inject({ method: 'GET', url: '/health' })).json()).toEqual({
      status: 'ok',
    });
    expect((await f.servers.admin.inject({ method: 'GET', url: '/health' })).json()).toEqual({
      status: 'ok',
    });
    const missing = await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toEqual({ code: 'core.not_found', message: 'That does not exist.' });
  });
});
