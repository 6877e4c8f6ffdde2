/**
 * The admin backend's health and devices agree (src/app/room/admin.ts): a device check passes
 * exactly when /api/v1/devices calls the device ok, so a USB bus the devices list shows as
 * degraded makes the room degraded, not "ok"; devices carry their state and last change; the
 * status names roomd's version from package.json.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { createAdminBackend, roomdVersion } from '../../../src/app/room/admin.ts';
import type { DeviceIdentity } from '../../../src/config/identity.ts';
import { defaultSettings } from '../../../src/config/settings.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { DeviceState, DeviceStatus } from '../../../src/devices/status.ts';
import type { Room } from '../../../src/meeting/room.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await fsp.rm(d, { recursive: true, force: true });
});

function device(id: DeviceStatus['id'], state: DeviceState, health: DeviceStatus['health']): DeviceStatus {
  return {
    id,
    path: id === 'usb' ? null : `/dev/${id}`,
    state,
    health,
    since: Date.UTC(2026, 0, 1, 9, 30),
    lastError:
      state === 'ready'
        ? null
        : {
            code: 'device.unavailable',
            message: `${id} is not there`,
            context: {},
            at: Date.UTC(2026, 0, 1),
          },
    reconnects: 0,
    counters: {},
  };
}

async function backend(devices: DeviceStatus[]) {
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-admin-health-'));
  dirs.push(stateDir);
  const room = { scheduleError: null, meeting: () => null } as unknown as Room;
  return createAdminBackend({
    stateDir,
    settings: () => defaultSettings(),
    setSettings: () => {},
    identity: { deviceId: 'rd-test', fingerprint: 'abcd ef01 2345 6789' } as DeviceIdentity,
    room,
    devices: () => devices,
    logs: () => '',
    log: silentLogger(),
    startedAt: Date.now(),
    restart: () => {},
  });
}

describe('health agrees with the devices', () => {
  test('a device the devices list calls degraded is a failing check and makes the room degraded', async () => {
    const b = await backend([
      device('panel', 'ready', 'ok'),
      device('camera', 'ready', 'ok'),
      device('usb', 'unavailable', 'warning'),
    ]);
    const devices = await b.devices();
    expect(devices.find((d) => d.id === 'usb')).toMatchObject({
      status: 'degraded',
      state: 'unavailable',
      since: '2026-01-01T09:30:00.000Z',
      detail: 'usb is not there',
    });
    const health = await b.health();
    expect(health.status).toBe('degraded');
    for (const d of devices)
      expect(health.checks.find((c) => c.name === `device:${d.id}`)?.ok).toBe(d.status === 'ok');
    expect(health.checks.find((c) => c.name === 'device:usb')?.detail).toBe('unavailable: usb is not there');
  });

  test('optional equipment that is not there (absent) is ok and a passing check', async () => {
    const b = await backend([device('panel', 'ready', 'ok'), device('content', 'absent', 'ok')]);
    expect((await b.devices()).find((d) => d.id === 'content')).toMatchObject({
      status: 'ok',
      state: 'absent',
    });
    const health = await b.health();
    expect(health.status).toBe('ok');
    expect(health.checks.find((c) => c.name === 'device:content')).toMatchObject({ ok: true });
  });

  test('everything ready: ok; devices not set up are no checks at all', async () => {
    const b = await backend([device('panel', 'ready', 'ok'), device('speakerphone', 'not-configured', 'ok')]);
    const health = await b.health();
    expect(health.status).toBe('ok');
    expect(health.checks.map((c) => c.name)).toEqual(['meeting-service', 'device:panel']);
  });

  test('the status carries the version of package.json and the identity fingerprint', async () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.resolve(import.meta.dirname, '../../../package.json'), 'utf8'),
    );
    const b = await backend([]);
    expect(await b.status()).toMatchObject({ version: pkg.version, fingerprint: 'abcd ef01 2345 6789' });
    expect(roomdVersion(os.tmpdir())).toBeNull();
  });
});
