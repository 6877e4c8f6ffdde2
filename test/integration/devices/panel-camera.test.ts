/**
 * Integration: the device manager on real socat ptys with the panel and VISCA emulators
 * (docs/hardware.md §Device manager): one-touch join, shield + code groups, unplug/replug redraw, preset
 * recall moving the camera, sharing from the panel, VISCA timeout and error replies as device states.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ViscaEmulator } from '../../../device/camera/emulator.ts';
import { NextionEmulator } from '../../../device/panel/emulator.ts';
import { createPtyPair, type PtyPair } from '../../../device/pty.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { DeviceManager, type DeviceEvents } from '../../../src/devices/manager.ts';
import type { RoomView } from '../../../src/devices/panel/view.ts';
import { parseCatalogue } from '../../../src/devices/usb/catalogue.ts';
import type { PtzCommand } from '../../../src/protocol/room-commands.ts';
import { SerialPortByteStream } from '../../../src/transport/serial/serialport.ts';
import type { ByteStream } from '../../../src/transport/serial/stream.ts';
import { eventually, spyCommands, tempDir } from './helpers.ts';

const CODE = '40712 11893 55021 90310 27745 61188 03392 84476';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function plugPanel(dir: string, panel: NextionEmulator): Promise<{ pty: PtyPair; stream: ByteStream }> {
  const pty = await createPtyPair(join(dir, 'panel'), join(dir, 'panel-device'));
  const stream = await SerialPortByteStream.open(pty.devicePath, 115200);
  panel.attach(stream, false);
  return { pty, stream };
}

function baseView(now: number): RoomView {
  return {
    phase: 'idle',
    roomName: 'Lovelace',
    timeZone: 'UTC',
    notice: null,
    presets: [
      { preset: 1, label: 'Table' },
      { preset: 2, label: 'Whiteboard' },
    ],
    meetings: [{ id: '55566677788', title: 'Demo meeting', start: now + 5 * 60_000, end: now + 65 * 60_000 }],
  };
}

describe('room hardware on socat ptys', () => {
  it('joins from the panel, shows the shield and code, survives unplug/replug, moves the camera', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const panel = new NextionEmulator();
    let panelSide = await plugPanel(tmp.dir, panel);
    cleanups.push(async () => {
      await panelSide.stream.close();
      await panelSide.pty.close();
    });
    const camPty = await createPtyPair(join(tmp.dir, 'camera'), join(tmp.dir, 'camera-device'));
    const camStream = await SerialPortByteStream.open(camPty.devicePath, 9600);
    const cam = new ViscaEmulator({ replyDelayMs: 2 });
    cam.attach(camStream);
    cleanups.push(async () => {
      await camStream.close();
      await camPty.close();
    });

    const clock = new SystemClock();
    const commands = spyCommands();
    const view = baseView(clock.now());
    const manager = new DeviceManager(
      {
        panel: { path: join(tmp.dir, 'panel'), baudRate: 115200 },
        camera: { kind: 'visca', path: join(tmp.dir, 'camera') },
        usb: false,
      },
      { clock, commands, view, catalogue: parseCatalogue({ devices: [] }) },
    );
    commands.ptz.mockImplementation(async (c: PtzCommand) => {
      if (c.op === 'preset') await manager.camera.recallPreset(c.preset);
    });
    const redraws: DeviceEvents['panel.redraw'][] = [];
    manager.events.on('panel.redraw', (r) => redraws.push(r));
    cleanups.push(() => manager.stop());
    await manager.start();

    await eventually(() => expect(panel.text('bJoin')).toBe('Join Demo meeting'));
    panel.touch('bJoin');
    await eventually(() => expect(commands.join).toHaveBeenCalledWith('55566677788'));

    manager.setView({
      ...view,
      phase: 'joining',
      joining: { title: 'Demo meeting', progress: 40, step: 'Verifying keys' },
    });
    await eventually(() => expect(panel.text('tStep')).toBe('Verifying keys'));
    const inMeeting: RoomView = {
      ...view,
      phase: 'in-meeting',
      meeting: {
        title: 'Demo meeting',
        shield: 'e2ee',
        securityCode: CODE,
        muted: false,
        cameraOn: true,
        volume: 60,
      },
    };
    manager.setView(inMeeting);
    const shown = () => [0, 1, 2, 3, 4, 5, 6, 7].map((i) => panel.text(`tCode${i}`)).join(' ');
    await eventually(() => {
      expect(panel.pageSpec.name).toBe('meeting');
      expect(panel.text('tShield')).toBe('End-to-end encrypted');
      expect(shown()).toBe(CODE);
    });

    // Unplug: socat goes away with both links; replug at the same path with a fresh panel.
    await panelSide.stream.close();
    await panelSide.pty.close();
    await eventually(() =>
      expect(['disconnected', 'reconnecting', 'failed']).toContain(
        manager.status().find((s) => s.id === 'panel')?.state,
      ),
    );
    const before = redraws.length;
    const fresh = new NextionEmulator();
    panelSide = await plugPanel(tmp.dir, fresh);
    await eventually(() => {
      expect(redraws.length).toBeGreaterThan(before);
      expect(fresh.pageSpec.name).toBe('meeting');
      expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => fresh.text(`tCode${i}`)).join(' ')).toBe(CODE);
    });
    expect(redraws.at(-1)?.reason).toBe('reopened');
    expect(manager.status().find((s) => s.id === 'panel')?.reconnects).toBe(1);

    // Preset 2 on the panel moves the emulated camera.
    cam.presets.set(2, { pan: 900, tilt: -100, zoom: 2000 });
    fresh.touch('bPre2');
    await eventually(() => expect(cam.state).toMatchObject({ pan: 900, tilt: -100, zoom: 2000 }));
    expect(commands.ptz).toHaveBeenCalledWith({ op: 'preset', preset: 2 });

    // Share from the panel; a refusal shows on the notice line.
    const share = { active: false, self: false, by: null, canShare: true };
    manager.setView({ ...inMeeting, meeting: { ...inMeeting.meeting, share } });
    await eventually(() => expect(fresh.text('bShare')).toBe('Share'));
    commands.share.mockRejectedValueOnce(new RoomdError('meeting.share_busy'));
    fresh.touch('bShare');
    await eventually(() => expect(fresh.text('tNotice')).toMatch(/^Someone else is sharing/));
    expect(commands.share).toHaveBeenCalledWith(true);
    manager.setView({
      ...inMeeting,
      meeting: { ...inMeeting.meeting, share: { ...share, active: true, self: true } },
    });
    await eventually(() => expect(fresh.text('bShare')).toBe('Stop sharing'));
    fresh.touch('bShare');
    await eventually(() => expect(commands.share).toHaveBeenLastCalledWith(false));

    // A VISCA error reply and a timeout each become a clear camera state.
    cam.failNext(0x41);
    await expect(manager.camera.home()).rejects.toMatchObject({ code: 'device.protocol_error' });
    expect(manager.status().find((s) => s.id === 'camera')).toMatchObject({
      state: 'degraded',
      lastError: { context: { reason: 'command not executable' } },
    });
    const lost: DeviceEvents['camera.lost'][] = [];
    manager.events.on('camera.lost', (l) => lost.push(l));
    cam.silent = true;
    await expect(manager.camera.home()).rejects.toMatchObject({ code: 'device.timeout' });
    await eventually(() => {
      expect(manager.status().find((s) => s.id === 'camera')).toMatchObject({
        state: 'unresponsive',
        health: 'error',
      });
      expect(lost).toHaveLength(1);
    });
    cam.silent = false;
    await manager.camera.getPower();
    expect(manager.status().find((s) => s.id === 'camera')?.state).toBe('ready');
  });
});
