/**
 * The demo's laptop (demo/devices.ts; docs/kiosk-and-admin-api.md §roomctl demo): plugging it into
 * the room's HDMI capture makes the device manager raise `content.plugged`, as a real dongle's node
 * appearing does (docs/hardware.md §Content sharing), and pulling it out `content.unplugged`. The
 * demo watches it as `presence: 'laptop'` (src/app/room/index.ts): no laptop is "no laptop
 * connected", never a fault, so a fresh demo's devices are all ok.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoDevices } from '../../../demo/devices.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { deviceInfo } from '../../../src/app/room/snapshot.ts';
import { type ContentChange, DeviceManager } from '../../../src/devices/manager.ts';
import { idleView } from '../../../src/devices/panel/view.ts';
import { waitFor } from '../../helpers/meeting-harness.ts';
import { spyCommands } from './helpers.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('the demo laptop', () => {
  it('plug and unplug raise the content events a real HDMI capture dongle raises', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-laptop-'));
    cleanup.push(() => fsp.rm(dir, { recursive: true, force: true }));
    const devices = new DemoDevices();
    await devices.start(dir);
    cleanup.push(() => devices.stop());
    const manager = new DeviceManager(
      { content: { device: devices.paths.laptop, presence: 'laptop' }, contentProbeMs: 50, usb: false },
      { clock: new SystemClock(), commands: spyCommands(), view: idleView('Demo') },
    );
    const events: [string, ContentChange][] = [];
    manager.events.on('content.plugged', (c) => events.push(['plugged', c]));
    manager.events.on('content.unplugged', (c) => events.push(['unplugged', c]));
    await manager.start();
    cleanup.push(() => manager.stop());
    const content = () => manager.status().find((s) => s.id === 'content')!;

    // The laptop starts on the shelf: the room has nothing to share, and nothing is wrong.
    expect(devices.laptopPlugged).toBe(false);
    expect(content()).toMatchObject({ state: 'absent', health: 'ok' });
    expect(deviceInfo(content()).status).toBe('ok');
    expect(manager.contentPresent).toBe(false);

    expect(await devices.replug('laptop')).toBe(
      "The laptop is plugged into the room's HDMI capture; the room can share its slides.",
    );
    await waitFor(() => events.length === 1, 'content.plugged');
    expect(events[0]).toEqual(['plugged', { path: devices.paths.laptop, name: null }]);
    expect(content().state).toBe('ready');
    expect(await devices.replug('laptop')).toBe('The laptop is plugged in.');

    expect(await devices.unplug('laptop')).toContain('unplugged');
    await waitFor(() => events.length === 2, 'content.unplugged');
    expect(events[1]?.[0]).toBe('unplugged');
    expect(manager.contentPresent).toBe(false);
    // Taken away again: still no fault.
    expect(content()).toMatchObject({ state: 'absent', health: 'ok' });
    expect(await devices.unplug('laptop')).toBe('The laptop is not plugged in.');
  });
});
