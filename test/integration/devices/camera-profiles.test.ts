/**
 * Integration: the device manager drives every VISCA emulator profile over a socat pty
 * (docs/hardware.md §Conformance): a generic camera, a Sony EVI-D70 (presets 1–6 are memories
 * 0–5) and a Sony BRC-H700 (`VV 00` and five pan nibbles, silent until Address Set, Network Change
 * when the chain changes). The camera's model shows in the device status.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EMULATOR_PROFILES,
  ViscaEmulator,
  type ViscaEmulatorProfileName,
} from '../../../device/camera/emulator.ts';
import { createPtyPair } from '../../../device/pty.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { DeviceManager } from '../../../src/devices/manager.ts';
import { parseCatalogue } from '../../../src/devices/usb/catalogue.ts';
import { SerialPortByteStream } from '../../../src/transport/serial/serialport.ts';
import { eventually, spyCommands, tempDir } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const EXPECTED: Record<ViscaEmulatorProfileName, { model: object; presetBase: number; pan: number }> = {
  generic: { model: { family: 'generic', name: null, source: 'default' }, presetBase: 0, pan: 2000 },
  'sony-evi-d70': {
    model: { family: 'sony-evi', name: 'EVI-D70', vendorId: '0020', modelId: '040e', source: 'detected' },
    presetBase: 1,
    pan: -2000,
  },
  // 33 000 only fits the BRC's five pan nibbles (four stop at 32 767).
  'sony-brc-h700': {
    model: { family: 'sony-brc', name: 'BRC-H700', vendorId: '0001', modelId: '0501', source: 'detected' },
    presetBase: 1,
    pan: 33_000,
  },
};

async function room(profile: ViscaEmulatorProfileName) {
  const tmp = tempDir();
  cleanups.push(tmp.remove);
  const pty = await createPtyPair(join(tmp.dir, 'camera'), join(tmp.dir, 'camera-device'));
  const side = await SerialPortByteStream.open(pty.devicePath, 9600);
  const cam = new ViscaEmulator({ replyDelayMs: 2, unitsPerSecond: 400_000, profile });
  cam.attach(side);
  cleanups.push(async () => {
    await side.close();
    await pty.close();
  });
  const manager = new DeviceManager(
    { camera: { kind: 'visca', path: join(tmp.dir, 'camera') }, usb: false },
    {
      clock: new SystemClock(),
      commands: spyCommands(),
      view: { phase: 'idle', roomName: 'Noether', meetings: [], notice: null, presets: [] },
      catalogue: parseCatalogue({ devices: [] }),
    },
  );
  cleanups.push(() => manager.stop());
  await manager.start();
  const status = () => manager.status().find((s) => s.id === 'camera')!;
  return { cam, manager, status };
}

describe.each(Object.keys(EMULATOR_PROFILES) as ViscaEmulatorProfileName[])('VISCA camera: %s', (profile) => {
  const want = EXPECTED[profile];

  it('is set up, identified, moved, recalled and re-addressed after a Network Change', async () => {
    const { cam, manager, status } = await room(profile);
    await eventually(() => expect(status()).toMatchObject({ state: 'ready', model: want.model }));
    expect(cam.address).toBe(1);

    await manager.camera.moveTo({ pan: want.pan, tilt: 100 }, 1);
    expect(cam.state).toMatchObject({ pan: want.pan, tilt: 100 });
    expect(await manager.camera.position()).toEqual({ pan: want.pan, tilt: 100, zoom: 0 });

    // The room's preset 2 is the camera's memory 2 − presetBase.
    cam.presets.set(2 - want.presetBase, { pan: -500, tilt: 50, zoom: 1000 });
    await manager.camera.recallPreset(2);
    expect(cam.state).toMatchObject({ pan: -500, tilt: 50, zoom: 1000 });

    cam.networkChange();
    await eventually(() => expect(status().counters['networkChanges']).toBe(1));
    await manager.camera.home();
    expect(cam.state).toMatchObject({ pan: 0, tilt: 0 });
    expect(cam.address).toBe(1);
    expect(status().state).toBe('ready');
  });
});

describe('VISCA camera presets on an EVI-D70', () => {
  it('has memories 0–5 only: preset 7 is refused before anything is sent', async () => {
    const { manager, status } = await room('sony-evi-d70');
    await eventually(() => expect(status()).toMatchObject({ state: 'ready', model: { name: 'EVI-D70' } }));
    await expect(manager.camera.recallPreset(7)).rejects.toMatchObject({ code: 'core.invalid_argument' });
    expect(status().state).toBe('ready');
  });
});
