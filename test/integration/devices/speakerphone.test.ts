/**
 * Integration: mute is one state across the HID speakerphone, the panel and the meeting: the HID
 * mute button mutes the meeting and the LED report follows (docs/hardware.md §Speakerphone). The panel runs
 * on a socat pty; the speakerphone on the fake hidraw seam.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NextionEmulator } from '../../../device/panel/emulator.ts';
import { createPtyPair } from '../../../device/pty.ts';
import { FakeSpeakerphone } from '../../../device/speakerphone/emulator.ts';
import { serveSpeakerphone } from '../../../device/speakerphone/serve.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { DeviceManager } from '../../../src/devices/manager.ts';
import type { MeetingView, RoomView } from '../../../src/devices/panel/view.ts';
import { SerialPortByteStream } from '../../../src/transport/serial/serialport.ts';
import { eventually, spyCommands, tempDir } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('speakerphone mute', () => {
  it('button, panel and meeting share one mute state and the LED follows', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const pty = await createPtyPair(join(tmp.dir, 'panel'), join(tmp.dir, 'panel-device'));
    const side = await SerialPortByteStream.open(pty.devicePath);
    const panel = new NextionEmulator();
    panel.attach(side, false);
    cleanups.push(async () => {
      await side.close();
      await pty.close();
    });
    const phone = new FakeSpeakerphone('toggle');
    const commands = spyCommands();
    const meeting: MeetingView = {
      title: 'Standup',
      shield: 'e2ee',
      securityCode: null,
      muted: false,
      cameraOn: true,
      volume: 50,
    };
    const view = (m: MeetingView): RoomView => ({
      phase: 'in-meeting',
      roomName: 'Hopper',
      meetings: [],
      notice: null,
      presets: [],
      meeting: m,
    });
    const manager = new DeviceManager(
      { panel: { path: join(tmp.dir, 'panel') }, speakerphone: { hidraw: '/dev/hidraw-speak' }, usb: false },
      { clock: new SystemClock(), commands, view: view(meeting), openHidraw: async () => phone },
    );
    cleanups.push(() => manager.stop());
    // The app's wiring, in miniature: the panel's mute command sets the shared state, and the
    // meeting (here: the view) follows the state.
    commands.setMute.mockImplementation(async (m: boolean) => void manager.mute.set(m, 'panel'));
    const meetingMuted: boolean[] = [];
    manager.events.on('mute.changed', ({ muted }) => {
      meetingMuted.push(muted);
      manager.setView(view({ ...meeting, muted }));
    });
    await manager.start();
    await eventually(() => expect(panel.text('bMute')).toBe('Mute'));
    expect(phone.leds).toEqual({ offHook: true, muted: false, ring: false });

    phone.pressMute();
    await eventually(() => {
      expect(meetingMuted).toEqual([true]);
      expect(phone.leds.muted).toBe(true);
      expect(panel.text('bMute')).toBe('Unmute');
    });

    panel.touch('bMute');
    await eventually(() => {
      expect(commands.setMute).toHaveBeenCalledWith(false);
      expect(meetingMuted).toEqual([true, false]);
      expect(phone.leds.muted).toBe(false);
      expect(panel.text('bMute')).toBe('Mute');
    });
    expect(phone.writes.at(-1)).toEqual(Uint8Array.of(2, 0b001));
  });

  it('drives the speakerphone emulator over a pty with the hidstream framing', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const pty = await createPtyPair(join(tmp.dir, 'speak'), join(tmp.dir, 'speak-device'));
    const side = await SerialPortByteStream.open(pty.devicePath);
    const phone = new FakeSpeakerphone('level');
    serveSpeakerphone(side, phone);
    cleanups.push(async () => {
      await side.close();
      await pty.close();
    });
    const manager = new DeviceManager(
      { speakerphone: { hidraw: `hidstream:${join(tmp.dir, 'speak')}` }, usb: false },
      {
        clock: new SystemClock(),
        commands: spyCommands(),
        view: { phase: 'idle', roomName: 'x', meetings: [], notice: null, presets: [] },
      },
    );
    cleanups.push(() => manager.stop());
    await manager.start();
    await eventually(() => expect(phone.leds.offHook).toBe(true));
    phone.pressMute();
    await eventually(() => {
      expect(manager.mute.muted).toBe(true);
      expect(phone.leds.muted).toBe(true);
    });
    manager.mute.set(false, 'kiosk');
    await eventually(() => expect(phone.leds.muted).toBe(false));
  });
});
