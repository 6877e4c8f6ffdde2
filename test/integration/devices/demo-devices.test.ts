/**
 * The demo's room hardware (demo/devices.ts) under the device manager as the demo wires it
 * (demo/env.ts settings, the laptop as `presence: 'laptop'`, a machine without a USB bus): a fresh
 * demo has no device that is not ok — the laptop on the shelf is "no laptop connected", not a fault —
 * and its camera is a Sony EVI-D70 that says so, whose memory 1 is the room's preset 2.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoDevices } from '../../../demo/devices.ts';
import { FakeUsbBus } from '../../../device/usb/fake-bus.ts';
import { deviceInfo } from '../../../src/app/room/snapshot.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { DeviceManager } from '../../../src/devices/manager.ts';
import { idleView } from '../../../src/devices/panel/view.ts';
import { parseCatalogue } from '../../../src/devices/usb/catalogue.ts';
import { eventually, spyCommands } from './helpers.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a fresh demo room', () => {
  it('every device is ok, and the camera reports its model', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-demo-devices-'));
    cleanup.push(() => fsp.rm(dir, { recursive: true, force: true }));
    const devices = new DemoDevices();
    await devices.start(dir);
    cleanup.push(() => devices.stop());
    const paths = devices.paths;
    const manager = new DeviceManager(
      {
        panel: { path: paths.panel, baudRate: 115200 },
        camera: { kind: 'visca', path: paths.camera, model: 'auto' },
        speakerphone: { hidraw: `hidstream:${paths.speakerphone}` },
        content: { device: paths.laptop, presence: 'laptop' },
        usb: true,
      },
      {
        clock: new SystemClock(),
        commands: spyCommands(),
        view: idleView('Demo'),
        usbBus: new FakeUsbBus({ absent: true }),
        catalogue: parseCatalogue({ devices: [] }),
      },
    );
    await manager.start();
    cleanup.push(() => manager.stop());
    const byId = (id: string) => manager.status().find((s) => s.id === id)!;

    await eventually(() => {
      for (const id of ['panel', 'camera', 'speakerphone'])
        expect(byId(id), id).toMatchObject({ state: 'ready' });
    }, 15_000);
    expect(byId('content')).toMatchObject({ state: 'absent', health: 'ok' });
    expect(byId('usb')).toMatchObject({ state: 'absent', health: 'ok' });
    for (const s of manager.status()) expect(deviceInfo(s).status, s.id).toBe('ok');

    expect(byId('camera').model).toEqual({
      family: 'sony-evi',
      name: 'EVI-D70',
      vendorId: '0020',
      modelId: '040e',
      source: 'detected',
    });
    devices.camera.presets.set(1, { pan: 700, tilt: 150, zoom: 0 });
    await manager.camera.recallPreset(2);
    expect(devices.camera.state).toMatchObject({ pan: 700, tilt: 150 });
  }, 30_000);
});
