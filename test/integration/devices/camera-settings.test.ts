/**
 * Integration: the `devices.camera.viscaModel` setting through the whole path — settings →
 * `devicesConfigFrom` → DeviceManager → ViscaCamera — against the BRC-H700 emulator profile on a
 * socat pty (docs/hardware.md §Conformance). Without the setting the model is detected from
 * CAM_VersionInq; with it the family is forced, which is what makes a BRC-class camera that does not
 * answer CAM_VersionInq usable (five pan nibbles, preset N is memory N − 1).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ViscaEmulator } from '../../../device/camera/emulator.ts';
import { createPtyPair } from '../../../device/pty.ts';
import { devicesConfigFrom } from '../../../src/app/room/config.ts';
import { parseSettings } from '../../../src/config/settings.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import type { ViscaModelSetting } from '../../../src/devices/camera/visca-models.ts';
import { DeviceManager } from '../../../src/devices/manager.ts';
import { parseCatalogue } from '../../../src/devices/usb/catalogue.ts';
import { SerialPortByteStream } from '../../../src/transport/serial/serialport.ts';
import { eventually, spyCommands, tempDir } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** 33 000 only fits the BRC's five pan nibbles (four stop at 32 767). */
const BRC_PAN = 33_000;

async function room(viscaModel: ViscaModelSetting | undefined, answersVersion: boolean) {
  const tmp = tempDir();
  cleanups.push(tmp.remove);
  const path = join(tmp.dir, 'camera');
  const pty = await createPtyPair(path, join(tmp.dir, 'camera-device'));
  const side = await SerialPortByteStream.open(pty.devicePath, 9600);
  const cam = new ViscaEmulator({
    replyDelayMs: 2,
    unitsPerSecond: 400_000,
    profile: 'sony-brc-h700',
    answersVersion,
  });
  cam.attach(side);
  cleanups.push(async () => {
    await side.close();
    await pty.close();
  });
  const settings = parseSettings({
    schemaVersion: 2,
    devices: {
      camera: {
        control: 'visca',
        controlPath: path,
        ...(viscaModel === undefined ? {} : { viscaModel }),
      },
    },
  });
  const config = devicesConfigFrom(settings);
  const manager = new DeviceManager(
    { ...config, usb: false },
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
  return { cam, config, manager, status };
}

describe('devices.camera.viscaModel from the settings to the camera', () => {
  it('unset (auto): the BRC-H700 is detected and moved with five pan nibbles', async () => {
    const { cam, config, manager, status } = await room(undefined, true);
    expect(config.camera).toMatchObject({ kind: 'visca', model: 'auto' });
    await eventually(() =>
      expect(status()).toMatchObject({
        state: 'ready',
        model: { family: 'sony-brc', name: 'BRC-H700', modelId: '0501', source: 'detected' },
      }),
    );
    await manager.camera.moveTo({ pan: BRC_PAN, tilt: 100 }, 1);
    expect(cam.state).toMatchObject({ pan: BRC_PAN, tilt: 100 });
  });

  it('auto on a BRC-H700 that does not answer CAM_VersionInq: generic, and its moves are refused', async () => {
    const { cam, manager, status } = await room('auto', false);
    await eventually(() =>
      expect(status()).toMatchObject({
        state: 'ready',
        model: { family: 'generic', modelId: null, source: 'default' },
      }),
    );
    // Four pan nibbles and a tilt speed: a syntax error to the BRC.
    await expect(manager.camera.moveTo({ pan: 1000, tilt: 100 }, 1)).rejects.toMatchObject({
      code: 'device.protocol_error',
    });
    expect(cam.state.pan).toBe(0);
  });

  it('sony-brc forces the family on that camera: it moves, and preset 2 is memory 1', async () => {
    const { cam, config, manager, status } = await room('sony-brc', false);
    expect(config.camera).toMatchObject({ kind: 'visca', model: 'sony-brc' });
    await eventually(() =>
      expect(status()).toMatchObject({
        state: 'ready',
        model: { family: 'sony-brc', name: null, modelId: null, source: 'configured' },
      }),
    );
    await manager.camera.moveTo({ pan: BRC_PAN, tilt: 100 }, 1);
    expect(cam.state).toMatchObject({ pan: BRC_PAN, tilt: 100 });
    expect(await manager.camera.position()).toEqual({ pan: BRC_PAN, tilt: 100, zoom: 0 });
    cam.presets.set(1, { pan: -500, tilt: 50, zoom: 1000 });
    await manager.camera.recallPreset(2);
    expect(cam.state).toMatchObject({ pan: -500, tilt: 50, zoom: 1000 });
  });
});
