/**
 * Admin operations through app.inject() (docs/kiosk-and-admin-api.md): settings through the injected
 * schema, signed provisioning bundles (trust on first use, required after, rotation, replay), status,
 * health, devices, logs download, restart, scheduling, OpenAPI docs, security headers.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { signBundle } from '../../../src/http/admin/bundle.ts';
import { claimAndSignIn } from '../../support/admin-session.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

const orgSecret = ed25519.utils.randomSecretKey();
const orgPublic = Buffer.from(ed25519.getPublicKey(orgSecret)).toString('hex');
const otherSecret = ed25519.utils.randomSecretKey();
const bundle = (serial: number, extra: Record<string, unknown> = {}, key = orgSecret) =>
  signBundle(
    { serial, issuedAt: '2026-11-26T09:00:00Z', settings: { room: { name: 'Harbour' } }, ...extra },
    key,
  );

describe('settings', () => {
  test('read, write and schema go through the backend; invalid values keep their field messages', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    expect((await s.asToken({ method: 'GET', url: '/api/v1/settings' })).json()).toMatchObject({
      room: { name: 'Fjord' },
    });
    expect((await s.asToken({ method: 'GET', url: '/api/v1/settings/schema' })).json()).toHaveProperty(
      'type',
      'object',
    );
    const ok = await s.asSession({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { room: { name: 'Atlas' } },
    });
    expect(ok.statusCode).toBe(200);
    expect(f.room.state.room.name).toBe('Atlas');
    const bad = await s.asSession({
      method: 'PATCH',
      url: '/api/v1/settings',
      payload: { room: { name: 7 } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({
      code: 'config.invalid',
      fields: [{ path: 'room.name', message: 'must be a string' }],
    });
    const notObject = await s.asSession({ method: 'PATCH', url: '/api/v1/settings', payload: [1, 2] });
    expect(notObject.statusCode).toBe(400);
  });
});

describe('provisioning bundles', () => {
  test('the first bundle after claim pins its signer; later bundles must use that key', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const first = await s.asToken({
      method: 'POST',
      url: '/api/v1/provision',
      payload: bundle(1, { roomName: 'Harbour' }),
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ ok: true, serial: 1, organisationKey: orgPublic });
    expect(f.room.state.room.name).toBe('Harbour');
    const foreign = await s.asToken({
      method: 'POST',
      url: '/api/v1/provision',
      payload: bundle(2, {}, otherSecret),
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().error.code).toBe('http.bad_signature');
    const replay = await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(1) });
    expect(replay.statusCode).toBe(409);
    expect(replay.json().error.code).toBe('http.stale_bundle');
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(2) })).statusCode,
    ).toBe(200);
  });

  test('a signed bundle with a serial past the exact integers is refused and cannot wedge later ones', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f, { organisationKey: orgPublic });
    for (const serial of [1.7976931348623157e308, Number.MAX_SAFE_INTEGER + 2]) {
      const r = await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(serial) });
      expect(r.statusCode).toBe(400);
    }
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(1) })).statusCode,
    ).toBe(200);
  });

  test('a key given at claim is required from the first bundle on', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f, { organisationKey: orgPublic });
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(1, {}, otherSecret) }))
        .statusCode,
    ).toBe(403);
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(1) })).statusCode,
    ).toBe(200);
  });

  test('a tampered payload, a wrong format and other devices’ bundles are refused', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f, { organisationKey: orgPublic });
    const good = bundle(1);
    const tampered = {
      ...good,
      payload: Buffer.from(JSON.stringify({ serial: 1, issuedAt: 'x', settings: { evil: true } })).toString(
        'base64url',
      ),
    };
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: tampered })).json().error.code,
    ).toBe('http.bad_signature');
    const wrongShape = await s.asToken({
      method: 'POST',
      url: '/api/v1/provision',
      payload: { format: 'zip', data: 1 },
    });
    expect(wrongShape.statusCode).toBe(400);
    expect(wrongShape.json().error.fields.map((x: { path: string }) => x.path)).toContain('body.signer');
    const elsewhere = await s.asToken({
      method: 'POST',
      url: '/api/v1/provision',
      payload: bundle(1, { deviceIds: ['rd-someone-else'] }),
    });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json().error.message).toContain('other devices');
    expect(f.backend.calls.some((c) => c.name === 'applyProvisioning')).toBe(false);
  });

  test('a bundle can rotate the organisation key', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f, { organisationKey: orgPublic });
    const nextPublic = Buffer.from(ed25519.getPublicKey(otherSecret)).toString('hex');
    const rotate = await s.asToken({
      method: 'POST',
      url: '/api/v1/provision',
      payload: bundle(1, { organisationKey: nextPublic }),
    });
    expect(rotate.json().organisationKey).toBe(nextPublic);
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(2) })).statusCode,
    ).toBe(403);
    expect(
      (await s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(2, {}, otherSecret) }))
        .statusCode,
    ).toBe(200);
  });
});

describe('concurrent provisioning bundles', () => {
  /** Send the bundles while the first one is being applied (held at the gate), then let it finish. */
  const inFlight = async (
    fx: HttpFixture,
    s: Awaited<ReturnType<typeof claimAndSignIn>>,
    serials: number[],
  ) => {
    let open = () => {};
    fx.backend.provisioningGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const entered = vi.spyOn(fx.servers.auth, 'provisionExclusively');
    const send = (serial: number) =>
      s.asToken({ method: 'POST', url: '/api/v1/provision', payload: bundle(serial) });
    const first = send(serials[0]!);
    await expect.poll(() => fx.backend.calls.filter((c) => c.name === 'applyProvisioning').length).toBe(1);
    const rest = serials.slice(1).map(send);
    // Every later bundle has reached the handler while the first is still being applied.
    await expect.poll(() => entered.mock.calls.length).toBe(serials.length);
    open();
    return Promise.all([first, ...rest]);
  };

  test('two bundles with the same serial at once: exactly one is applied', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f, { organisationKey: orgPublic });
    const results = await inFlight(f, s, [4, 4]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.statusCode === 409)?.json().error.code).toBe('http.stale_bundle');
    expect(f.backend.calls.filter((c) => c.name === 'applyProvisioning')).toHaveLength(1);
    expect(f.servers.auth.lastBundleSerial).toBe(4);
  });

  test('a lower serial arriving while a higher one is applied is refused', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f, { organisationKey: orgPublic });
    const results = await inFlight(f, s, [7, 6, 8]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 409, 200]);
    const applied = f.backend.calls
      .filter((c) => c.name === 'applyProvisioning')
      .map((c) => (c.args[0] as { serial: number }).serial);
    expect(applied).toEqual([7, 8]);
    expect(f.servers.auth.lastBundleSerial).toBe(8);
  });
});

describe('operations', () => {
  test('status, health, devices', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const status = (await s.asToken({ method: 'GET', url: '/api/v1/status' })).json();
    expect(status).toMatchObject({
      version: '0.1.0',
      deviceId: 'rd-7f3a9c21',
      claimed: true,
      loginLocked: false,
    });
    expect((await s.asToken({ method: 'GET', url: '/api/v1/health' })).json().status).toBe('ok');
    const devices = (await s.asToken({ method: 'GET', url: '/api/v1/devices' })).json().devices;
    expect(devices.map((d: { id: string }) => d.id)).toEqual(['cam0', 'spk0']);
  });

  test('logs download as a text attachment; a bad line count is refused', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const logs = await s.asToken({ method: 'GET', url: '/api/v1/logs?lines=50' });
    expect(logs.statusCode).toBe(200);
    expect(logs.headers['content-type']).toContain('text/plain');
    expect(logs.headers['content-disposition']).toMatch(/^attachment; filename="roomd-rd-7f3a9c21-.*\.log"$/);
    expect(logs.body).toContain('(50 requested)');
    const bad = await s.asToken({ method: 'GET', url: '/api/v1/logs?lines=lots' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields[0].path).toBe('querystring.lines');
  });

  test('restart is accepted and handed to the backend', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const res = await s.asToken({ method: 'POST', url: '/api/v1/restart' });
    expect(res.statusCode).toBe(202);
    expect(f.backend.calls.map((c) => c.name)).toContain('restart');
  });

  test('schedule a meeting for this room; bad bodies name the field', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const ok = await s.asToken({
      method: 'POST',
      url: '/api/v1/schedule',
      payload: {
        title: 'Design review',
        start: '2026-11-26T14:00:00Z',
        end: '2026-11-26T15:00:00Z',
        encryption: 'e2ee',
      },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toEqual({ meetingId: '87770001234' });
    const bad = await s.asToken({
      method: 'POST',
      url: '/api/v1/schedule',
      payload: { title: '', start: 'tomorrow', end: '2026-11-26T15:00:00Z', encryption: 'secret' },
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.fields.map((x: { path: string }) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['body.title', 'body.start', 'body.encryption']));
    const backwards = await s.asToken({
      method: 'POST',
      url: '/api/v1/schedule',
      payload: {
        title: 'Oops',
        start: '2026-11-26T15:00:00Z',
        end: '2026-11-26T14:00:00Z',
        encryption: 'e2ee',
      },
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().error.fields[0].path).toBe('body.end');
  });
});

describe('extra authenticated routes', () => {
  test('a plugin given to the admin server sits behind the guard', async () => {
    f = await makeHttpFixture({
      adminServer: {
        authenticatedPlugins: [
          async (app) => {
            app.get('/metrics', async () => 'roomd_up 1\n');
          },
        ],
      },
    });
    const s = await claimAndSignIn(f);
    expect((await f.servers.admin.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const ok = await s.asToken({ method: 'GET', url: '/metrics' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toBe('roomd_up 1\n');
  });
});

describe('admin page', () => {
  test('serves admin.html at / and its assets, nothing else from the state or UI dirs', async () => {
    const ui = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-admin-ui-'));
    await fsp.mkdir(path.join(ui, 'assets'));
    await fsp.writeFile(path.join(ui, 'admin.html'), '<!doctype html><title>roomd admin</title>');
    await fsp.writeFile(path.join(ui, 'index.html'), '<!doctype html><title>kiosk</title>');
    await fsp.writeFile(path.join(ui, 'assets', 'admin.js'), 'console.log(1)');
    f = await makeHttpFixture({ kiosk: { uiDir: ui } });
    const page = await f.servers.admin.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('roomd admin');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await f.servers.admin.inject({ method: 'GET', url: '/assets/admin.js' })).statusCode).toBe(200);
    for (const url of [
      '/index.html',
      '/assets/../index.html',
      '/assets/..%2fadmin.html',
      '/assets/%2e%2e/%2e%2e/package.json',
    ]) {
      expect((await f.servers.admin.inject({ method: 'GET', url })).statusCode).toBeGreaterThanOrEqual(400);
    }
    await fsp.rm(ui, { recursive: true, force: true });
  });
});

describe('documentation and headers', () => {
  test('OpenAPI document lists the admin routes with their security', async () => {
    f = await makeHttpFixture();
    const doc = (await f.servers.admin.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/claim',
        '/api/v1/login',
        '/api/v1/settings',
        '/api/v1/provision',
        '/api/v1/logs',
      ]),
    );
    expect(doc.paths['/api/v1/settings'].get.security).toEqual([{ session: [], csrf: [] }, { token: [] }]);
    const ui = await f.servers.admin.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
  });

  test('admin responses carry HSTS and the strict CSP', async () => {
    f = await makeHttpFixture();
    const res = await f.servers.admin.inject({ method: 'GET', url: '/api/v1/claim' });
    expect(res.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-ratelimit-limit']).toBeDefined();
  });
});
