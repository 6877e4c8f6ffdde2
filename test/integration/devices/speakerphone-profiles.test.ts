/**
 * Integration: the device manager drives every speakerphone emulator profile over a socat pty with
 * the hidstream framing (docs/hardware.md §Conformance): report IDs with a toggle or a latching
 * mute, no numbered reports (hidraw's write rules enforced, two-button mute, toggle hook switch),
 * and a level mute switch declared Absolute with a Preferred State. In each: the button mutes and
 * unmutes, roomd's mute lights the Mute (and Microphone) LEDs, hanging up turns Off-Hook off.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPtyPair } from '../../../device/pty.ts';
import {
  FakeSpeakerphone,
  SPEAKERPHONE_PROFILES,
  type SpeakerphoneProfile,
} from '../../../device/speakerphone/emulator.ts';
import { serveSpeakerphone } from '../../../device/speakerphone/serve.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { DeviceManager } from '../../../src/devices/manager.ts';
import { SerialPortByteStream } from '../../../src/transport/serial/serialport.ts';
import { eventually, spyCommands, tempDir } from './helpers.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe.each(SPEAKERPHONE_PROFILES)('speakerphone: %s', (profile: SpeakerphoneProfile) => {
  it('button and roomd share the mute, the LEDs answer, hanging up turns Off-Hook off', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.remove);
    const pty = await createPtyPair(join(tmp.dir, 'speak'), join(tmp.dir, 'speak-device'));
    const side = await SerialPortByteStream.open(pty.devicePath);
    const phone = new FakeSpeakerphone(profile);
    const stopServing = serveSpeakerphone(side, phone);
    cleanups.push(async () => {
      stopServing();
      await side.close();
      await pty.close();
    });
    const manager = new DeviceManager(
      { speakerphone: { hidraw: `hidstream:${join(tmp.dir, 'speak')}` }, usb: false },
      {
        clock: new SystemClock(),
        commands: spyCommands(),
        view: { phase: 'idle', roomName: 'Hamilton', meetings: [], notice: null, presets: [] },
      },
    );
    const hooks: boolean[] = [];
    manager.events.on('speakerphone.hook', (h) => hooks.push(h.offHook));
    cleanups.push(() => manager.stop());
    await manager.start();
    const micLed = phone.leds.microphone !== undefined;

    await eventually(() => expect(phone.leds.offHook).toBe(true));
    expect(manager.status().find((s) => s.id === 'speakerphone')?.state).toBe('ready');

    phone.pressMute();
    await eventually(() => {
      expect(manager.mute.muted).toBe(true);
      expect(phone.leds.muted).toBe(true);
      if (micLed) expect(phone.leds.microphone).toBe(true);
    });
    phone.pressMute();
    await eventually(() => {
      expect(manager.mute.muted).toBe(false);
      expect(phone.leds.muted).toBe(false);
      if (micLed) expect(phone.leds.microphone).toBe(false);
    });

    manager.mute.set(true, 'kiosk');
    await eventually(() => expect(phone.leds.muted).toBe(true));
    manager.mute.set(false, 'panel');
    await eventually(() => expect(phone.leds.muted).toBe(false));

    phone.setHook(false);
    await eventually(() => {
      expect(hooks).toEqual([false]);
      expect(phone.leds.offHook).toBe(false);
    });
    phone.setHook(true);
    await eventually(() => {
      expect(hooks).toEqual([false, true]);
      expect(phone.leds.offHook).toBe(true);
    });
    expect(phone.rejectedWrites).toBe(0);
  });
});
