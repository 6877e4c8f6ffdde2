/**
 * The room's one command port (src/protocol/room-commands.ts) as `Room` carries out the camera verb:
 * the kiosk's moves and the panel's presets reach the camera the same way.
 */
import { describe, expect, it, vi } from 'vitest';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { Camera } from '../../../src/devices/camera/camera.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import { Room } from '../../../src/meeting/room.ts';
import type { RoomCommands } from '../../../src/protocol/room-commands.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

function fakeCamera() {
  return {
    recallPreset: vi.fn(async (_p: number) => {}),
    home: vi.fn(async () => {}),
    drive: vi.fn(async (_d: string) => {}),
    zoom: vi.fn(async (_a: string) => {}),
  };
}

function room(camera: ReturnType<typeof fakeCamera> | null): RoomCommands {
  return new Room({
    roomName: () => 'Huddle Room 3',
    relayUrl: () => 'ws://127.0.0.1:9/v1/signal',
    minimumEncryption: () => 'enhanced',
    identity: ephemeralIdentity('room'),
    clock: new FakeClock(0),
    log: silentLogger(),
    peers: new FakePeerNetwork(),
    runner: new FakeProcessRunner(),
    mute: new MuteState(false),
    camera: () => camera as unknown as Camera | null,
    schedule: { list: async () => [] },
    media: null,
    volume: 50,
  });
}

describe('Room as the command port: ptz', () => {
  it('maps presets, home, stop, zoom and the larger of pan and tilt to the camera', async () => {
    const cam = fakeCamera();
    const r = room(cam);
    await r.ptz({ op: 'preset', preset: 2 });
    await r.ptz({ op: 'home' });
    await r.ptz({ op: 'stop' });
    await r.ptz({ op: 'move', pan: -0.5, tilt: 0.2, zoom: 0 });
    await r.ptz({ op: 'move', pan: 0.1, tilt: -0.9, zoom: 0 });
    await r.ptz({ op: 'move', pan: 0.1, tilt: 0.9, zoom: 0 });
    await r.ptz({ op: 'move', pan: 0.3, tilt: 0.3, zoom: 0 });
    await r.ptz({ op: 'move', pan: 1, tilt: 0, zoom: 0.25 });
    await r.ptz({ op: 'move', pan: 0, tilt: 0, zoom: -1 });
    expect(cam.recallPreset.mock.calls).toEqual([[2]]);
    expect(cam.home).toHaveBeenCalledTimes(1);
    expect(cam.drive.mock.calls).toEqual([['stop'], ['left'], ['down'], ['up'], ['right']]);
    expect(cam.zoom.mock.calls).toEqual([['tele'], ['wide']]);
  });

  it('without a camera that can move, every camera verb is refused in words', async () => {
    const r = room(null);
    await expect(r.ptz({ op: 'preset', preset: 1 })).rejects.toMatchObject({
      code: 'device.unavailable',
      message: 'No camera that can move is connected.',
    });
    await expect(r.ptz({ op: 'move', pan: 1, tilt: 0, zoom: 0 })).rejects.toMatchObject({
      code: 'device.unavailable',
    });
  });

  it('acknowledging the security code outside a meeting does nothing and does not fail', async () => {
    await expect(room(null).acknowledgeSecurityCode()).resolves.toBeUndefined();
  });
});
