/**
 * The admin console's routes through app.inject() (docs/kiosk-and-admin-api.md §Admin console):
 * the overview (operator scope; the certificate fingerprint the setup screen shows; the meeting as
 * the room screen has it) and the device tests (admin scope, CSRF for sessions; a device that does
 * not pass is a test result, anything else stays an error; a room without tests says so).
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, test } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { type ConsoleDeps, consoleRoutes, type DeviceTests } from '../../../src/http/admin/console.ts';
import { httpErrorHandler } from '../../../src/http/errors.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { claimAndSignIn, mintToken, withToken } from '../../support/admin-session.ts';
import { E2EE_CODE, FakeAdminBackend, FakeRoom } from '../../support/http-fakes.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

describe('GET /api/v1/overview', () => {
  test('needs the operator scope and tells the room at a glance', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const metrics = await mintToken(s, 'metrics');
    const operator = await mintToken(s, 'operator');
    expect((await withToken(f, metrics, { method: 'GET', url: '/api/v1/overview' })).statusCode).toBe(403);
    const res = await withToken(f, operator, { method: 'GET', url: '/api/v1/overview' });
    expect(res.statusCode).toBe(200);
    const o = res.json();
    const kiosk = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    // One fingerprint: the room screen's (setup page) and the one roomctl pins.
    expect(o.certificate.fingerprint).toBe(f.servers.certificate.fingerprint);
    expect(o.certificate.fingerprint).toBe(kiosk.certFingerprint);
    expect(o).toMatchObject({
      room: { name: 'Fjord', deviceId: f.room.state.deviceId },
      version: '0.1.0',
      uptimeSeconds: 42,
      meeting: null,
      lastBundleSerial: 0,
      identity: { fingerprint: null },
      health: { status: 'ok' },
    });
    expect(o.devices.map((d: { id: string }) => d.id)).toEqual(['cam0', 'spk0']);
    expect(o.schedule).toHaveLength(2);
  });

  test('a meeting: title, shield, security code and how many are not verified', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    await f.room.join('81234567890');
    const o = (await s.asToken({ method: 'GET', url: '/api/v1/overview' })).json();
    expect(o.meeting).toEqual({
      id: '81234567890',
      title: 'Board review (E2EE)',
      status: 'in_meeting',
      encryption: 'e2ee',
      shield: 'e2ee',
      securityCode: E2EE_CODE,
      securityCodeChanged: false,
      rosterCode: '12345 67890 13579 24680',
      identityPolicy: 'warn',
      participants: 3,
      unverified: 1,
      mediaPath: null,
    });
  });
});

describe('camera tests', () => {
  test('an admin moves the camera to a preset or home; operators may not; sessions need the CSRF token', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    const ok = await s.asSession({
      method: 'POST',
      url: '/api/v1/devices/camera/preset',
      payload: { preset: 2 },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ ok: true, detail: 'The camera moved to preset 2.' });
    const home = await s.asSession({ method: 'POST', url: '/api/v1/devices/camera/home', payload: {} });
    expect(home.json()).toEqual({ ok: true, detail: 'The camera moved to its home position.' });
    expect(f.room.calls.filter((c) => c.name === 'ptz').map((c) => c.args[0])).toEqual([
      { op: 'preset', preset: 2 },
      { op: 'home' },
    ]);
    const operator = await mintToken(s, 'operator');
    const refused = await withToken(f, operator, {
      method: 'POST',
      url: '/api/v1/devices/camera/preset',
      payload: { preset: 1 },
    });
    expect(refused.statusCode).toBe(403);
    const noCsrf = await f.servers.admin.inject({
      method: 'POST',
      url: '/api/v1/devices/camera/preset',
      headers: { cookie: s.cookie },
      payload: { preset: 1 },
    });
    expect(noCsrf.statusCode).toBe(403);
    const bad = await s.asSession({
      method: 'POST',
      url: '/api/v1/devices/camera/preset',
      payload: { preset: 200 },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields).toEqual([{ path: 'body.preset', message: 'must be <= 127' }]);
  });

  test('a camera that does not answer is a failed test in words; any other failure stays an error', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    f.room.ptz = async () => {
      throw new RoomdError('device.unavailable', { message: 'The camera is not connected.' });
    };
    const res = await s.asSession({
      method: 'POST',
      url: '/api/v1/devices/camera/preset',
      payload: { preset: 1 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: false, detail: 'The camera is not connected.' });
    f.room.ptz = async () => {
      throw new RoomdError('core.internal', { message: 'secret internals' });
    };
    const broken = await s.asSession({ method: 'POST', url: '/api/v1/devices/camera/home' });
    expect(broken.statusCode).toBe(500);
    expect(broken.body).not.toContain('secret internals');
  });
});

describe('speaker and panel tests', () => {
  test('a room without device tests says it cannot run them', async () => {
    f = await makeHttpFixture();
    const s = await claimAndSignIn(f);
    for (const [url, what] of [
      ['/api/v1/devices/speaker/beep', 'play a test tone'],
      ['/api/v1/devices/panel/redraw', 'redraw the touch panel'],
    ] as const) {
      const res = await s.asSession({ method: 'POST', url });
      expect(res.statusCode).toBe(400);
      expect(res.json().error).toMatchObject({
        code: 'device.unsupported',
        message: `This room cannot ${what}.`,
      });
    }
  });

  test('the room’s answers are passed on; a device failure becomes ok: false', async () => {
    const room = new FakeRoom();
    let redraw: () => Promise<{ ok: boolean; detail: string }> = async () => ({ ok: true, detail: 'drawn' });
    const tests: DeviceTests = {
      beep: async () => ({ ok: true, detail: 'Played a tone.' }),
      redrawPanel: () => redraw(),
    };
    const deps: ConsoleDeps = {
      backend: new FakeAdminBackend(room),
      source: room,
      commands: room,
      certificate: { fingerprint: 'AB:CD', validTo: '2036-01-01T00:00:00.000Z' },
      deviceId: room.state.deviceId,
      lastBundleSerial: () => 0,
      tests,
    };
    const app = Fastify();
    app.setErrorHandler(httpErrorHandler);
    await app.register(consoleRoutes(deps));
    try {
      expect((await app.inject({ method: 'POST', url: '/api/v1/devices/speaker/beep' })).json()).toEqual({
        ok: true,
        detail: 'Played a tone.',
      });
      expect((await app.inject({ method: 'POST', url: '/api/v1/devices/panel/redraw' })).json()).toEqual({
        ok: true,
        detail: 'drawn',
      });
      redraw = async () => {
        throw new RoomdError('device.timeout', { message: 'The panel did not answer.' });
      };
      expect((await app.inject({ method: 'POST', url: '/api/v1/devices/panel/redraw' })).json()).toEqual({
        ok: false,
        detail: 'The panel did not answer.',
      });
    } finally {
      await app.close();
      room.dispose();
    }
  });
});
