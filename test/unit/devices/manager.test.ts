import { afterEach, describe, expect, it, vi } from 'vitest';
import { ViscaEmulator } from '../../../device/camera/emulator.ts';
import { NextionEmulator } from '../../../device/panel/emulator.ts';
import { FakeSpeakerphone } from '../../../device/speakerphone/emulator.ts';
import { FakeUsbBus } from '../../../device/usb/fake-bus.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import type { DeviceEvents } from '../../../src/devices/manager.ts';
import { DeviceManager } from '../../../src/devices/manager.ts';
import { idleView } from '../../../src/devices/panel/view.ts';
import { parseCatalogue } from '../../../src/devices/usb/catalogue.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';
import { MemoryStreamHub } from '../../../src/transport/serial/memory.ts';

const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

function commands() {
  return {
    join: vi.fn(async () => {}),
    leave: vi.fn(async () => {}),
    setMute: vi.fn(async () => {}),
    setCamera: vi.fn(async () => {}),
    setVolume: vi.fn(async () => {}),
    ptz: vi.fn(async () => {}),
    react: vi.fn(async () => {}),
    chat: vi.fn(async () => {}),
    share: vi.fn(async () => {}),
    acknowledgeSecurityCode: vi.fn(async () => {}),
  };
}

let manager: DeviceManager | null = null;
afterEach(async () => {
  await manager?.stop();
  manager = null;
});

function record(m: DeviceManager) {
  const seen: { [K in keyof DeviceEvents]?: DeviceEvents[K][] } = {};
  for (const k of ['camera.lost', 'camera.back', 'panel.redraw', 'mute.changed', 'usb.attached'] as const) {
    const list: unknown[] = [];
    (seen as Record<string, unknown[]>)[k] = list;
    m.events.on(k, (p) => {
      list.push(p);
    });
  }
  return seen;
}

describe('DeviceManager', () => {
  it('supervises panel, VISCA camera and speakerphone through unplug and replug', async () => {
    const clock = new FakeClock();
    const hub = new MemoryStreamHub();
    const panel = new NextionEmulator();
    const cam = new ViscaEmulator({ clock });
    hub.plug('/dev/serial/by-id/panel', (d) => panel.attach(d));
    hub.plug('/dev/serial/by-id/cam', (d) => cam.attach(d));
    let phone = new FakeSpeakerphone('toggle');
    let phonePlugged = true;
    const usb = new FakeUsbBus();
    usb.plug(0x0b0e, 0x0420);
    manager = new DeviceManager(
      {
        panel: { path: '/dev/serial/by-id/panel' },
        camera: { kind: 'visca', path: '/dev/serial/by-id/cam' },
        speakerphone: { hidraw: '/dev/hidraw-room' },
        cameraProbeMs: 1000,
      },
      {
        clock,
        commands: commands(),
        view: idleView('Room 1'),
        openStream: hub.opener,
        openHidraw: async () => {
          if (!phonePlugged) throw new Error('ENOENT');
          return phone;
        },
        usbBus: usb,
        catalogue: parseCatalogue({
          devices: [
            {
              vendorId: '0b0e',
              productId: '0420',
              name: 'Jabra Speak 510',
              driver: 'hid-speakerphone',
              capabilities: [],
            },
          ],
        }),
      },
    );
    const seen = record(manager);
    await manager.start();
    const run = async (ms: number, step = 10) => {
      for (let t = 0; t < ms; t += step) {
        clock.advance(step);
        await settle(3);
      }
    };
    await run(100);
    const state = () => Object.fromEntries(manager!.status().map((s) => [s.id, s.state]));
    expect(state()).toEqual({
      panel: 'ready',
      camera: 'ready',
      speakerphone: 'ready',
      content: 'not-configured',
      usb: 'ready',
    });
    expect(seen['usb.attached']?.[0]?.entry?.name).toBe('Jabra Speak 510');
    expect(panel.text('tRoom')).toBe('Room 1');
    expect(seen['panel.redraw']).toHaveLength(1);

    // Mute from the button: one state, LED follows, event raised.
    phone.pressMute();
    await settle();
    expect(manager.mute.muted).toBe(true);
    expect(phone.leds.muted).toBe(true);
    expect(seen['mute.changed']).toEqual([{ muted: true, source: 'button' }]);

    // Camera: error reply → degraded; next probe → ready.
    cam.failNext(0x41);
    const recall = manager.camera.recallPreset(2).catch((e: unknown) => e);
    await run(50);
    expect(await recall).toMatchObject({ code: 'device.protocol_error' });
    expect(manager.status().find((s) => s.id === 'camera')).toMatchObject({
      state: 'degraded',
      lastError: { code: 'device.protocol_error', context: { reason: 'command not executable' } },
    });
    await run(1100);
    expect(state().camera).toBe('ready');

    // Camera silent → unresponsive, lost; answers again → back.
    cam.silent = true;
    await run(3000);
    expect(state().camera).toBe('unresponsive');
    expect(seen['camera.lost']).toHaveLength(1);
    cam.silent = false;
    await run(1100);
    expect(state().camera).toBe('ready');
    expect(seen['camera.back']).toHaveLength(1);

    // Unplug everything, then plug it back.
    hub.unplug('/dev/serial/by-id/cam');
    hub.unplug('/dev/serial/by-id/panel');
    phonePlugged = false;
    phone.unplug();
    await run(50);
    expect(state()).toMatchObject({ camera: 'failed', panel: 'failed', speakerphone: 'failed' });
    expect(seen['camera.lost']).toHaveLength(2);
    const panel2 = new NextionEmulator();
    hub.plug('/dev/serial/by-id/panel', (d) => panel2.attach(d));
    hub.plug('/dev/serial/by-id/cam', (d) => cam.attach(d));
    phone = new FakeSpeakerphone('toggle');
    phonePlugged = true;
    await run(2500);
    expect(state()).toEqual({
      panel: 'ready',
      camera: 'ready',
      speakerphone: 'ready',
      content: 'not-configured',
      usb: 'ready',
    });
    expect(seen['camera.back']).toHaveLength(2);
    expect(panel2.text('tRoom')).toBe('Room 1');
    expect(phone.leds).toEqual({ offHook: true, muted: true, ring: false });
    const st = manager.status();
    expect(st.find((s) => s.id === 'panel')?.reconnects).toBe(1);
    expect(st.find((s) => s.id === 'speakerphone')?.reconnects).toBe(1);
  });

  it('handles a UVC camera vanishing and an absent USB bus', async () => {
    const clock = new FakeClock();
    let present = true;
    const runner = new FakeProcessRunner().on('v4l2-ctl', () => ({ stdout: '' }));
    manager = new DeviceManager(
      { camera: { kind: 'uvc', device: '/dev/v4l/by-id/cam' }, cameraProbeMs: 1000 },
      {
        clock,
        commands: commands(),
        view: idleView('Room 1'),
        runner,
        pathExists: () => present,
        usbBus: new FakeUsbBus({ absent: true }),
        catalogue: parseCatalogue({ devices: [] }),
      },
    );
    const seen = record(manager);
    await manager.start();
    await settle();
    const cam = () => manager!.status().find((s) => s.id === 'camera')!;
    expect(cam().state).toBe('ready');
    // No USB bus on this machine: optional, so no fault (docs/hardware.md §USB inventory).
    expect(manager.status().find((s) => s.id === 'usb')).toMatchObject({
      state: 'absent',
      health: 'ok',
      lastError: null,
    });
    present = false;
    clock.advance(1000);
    await settle();
    expect(cam().state).toBe('disconnected');
    expect(seen['camera.lost']).toHaveLength(1);
    await expect(manager.camera.home()).rejects.toMatchObject({ code: 'device.unavailable' });
    present = true;
    clock.advance(1000);
    await settle();
    expect(cam()).toMatchObject({ state: 'ready', reconnects: 1 });
    expect(seen['camera.back']).toHaveLength(1);
  });
});
