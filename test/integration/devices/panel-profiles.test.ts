/**
 * Integration: the device manager drives the panel emulator on real socat ptys, once per panel
 * profile (docs/hardware.md §Conformance: Nextion): a classic panel that announces power-on and
 * stores 115200, and a Nextion Editor 1.65+ panel that powers on silently at 9600 with bkcmd=2.
 * The emulator reads the speed roomd sets on its end of the pty and only understands it when the
 * speeds match. Each run: found and drawn, one-touch join, a silent-or-not power cycle in a meeting
 * redrawn (the time is measured and printed, not asserted), unplug/replug redrawn.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NextionEmulator } from '../../../device/panel/emulator.ts';
import { PANEL_PROFILES, type PanelProfileName } from '../../../device/panel/profiles.ts';
import { type PtyRateWatch, watchPtyRate } from '../../../device/panel/line.ts';
import { createPtyPair, type PtyPair } from '../../../device/pty.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { DeviceManager, type DeviceEvents } from '../../../src/devices/manager.ts';
import type { RoomView } from '../../../src/devices/panel/view.ts';
import { parseCatalogue } from '../../../src/devices/usb/catalogue.ts';
import { SerialPortByteStream } from '../../../src/transport/serial/serialport.ts';
import type { ByteStream } from '../../../src/transport/serial/stream.ts';
import { eventually, spyCommands, tempDir } from './helpers.ts';

const CODE = '40712 11893 55021 90310 27745 61188 03392 84476';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Plugged {
  pty: PtyPair;
  stream: ByteStream;
  watch: PtyRateWatch;
}

/** A pty pair with the panel on its device end, already powered (as when roomd starts). */
async function plugPanel(dir: string, panel: NextionEmulator): Promise<Plugged> {
  const pty = await createPtyPair(join(dir, 'panel'), join(dir, 'panel-device'));
  const watch = watchPtyRate(pty.hostPath);
  const stream = await SerialPortByteStream.open(pty.devicePath, 9600);
  panel.attach(stream, { announce: false, hostRate: watch.read });
  return { pty, stream, watch };
}

async function unplug(p: Plugged): Promise<void> {
  await p.watch.close();
  await p.stream.close();
  await p.pty.close();
}

function baseView(now: number): RoomView {
  return {
    phase: 'idle',
    roomName: 'Lovelace',
    timeZone: 'UTC',
    notice: null,
    presets: [{ preset: 1, label: 'Table' }],
    meetings: [{ id: '55566677788', title: 'Demo meeting', start: now + 5 * 60_000, end: now + 65 * 60_000 }],
  };
}

const codeShown = (p: NextionEmulator) => [0, 1, 2, 3, 4, 5, 6, 7].map((i) => p.text(`tCode${i}`)).join(' ');

describe.each(Object.keys(PANEL_PROFILES) as PanelProfileName[])(
  'panel profile %s on socat ptys',
  (profile) => {
    it('is found at its speed, moved to 115200, survives a power cycle and a replug', async () => {
      const tmp = tempDir();
      cleanups.push(tmp.remove);
      const panel = new NextionEmulator(profile);
      let side = await plugPanel(tmp.dir, panel);
      cleanups.push(() => unplug(side));

      const clock = new SystemClock();
      const commands = spyCommands();
      const view = baseView(clock.now());
      const manager = new DeviceManager(
        { panel: { path: join(tmp.dir, 'panel'), baudRate: 115200 }, usb: false },
        { clock, commands, view, catalogue: parseCatalogue({ devices: [] }) },
      );
      const redraws: DeviceEvents['panel.redraw'][] = [];
      manager.events.on('panel.redraw', (r) => redraws.push(r));
      cleanups.push(() => manager.stop());
      await manager.start();

      // Drawn and moved to the fast speed: in either order, depending on when the probe found it.
      await eventually(() => {
        expect(panel.text('bJoin')).toBe('Join Demo meeting');
        expect(panel.rate).toBe(115200);
      });
      expect(await side.watch.read()).toBe(115200);
      expect(panel.bkcmd).toBe(3);
      panel.touch('bJoin');
      await eventually(() => expect(commands.join).toHaveBeenCalledWith('55566677788'));

      manager.setView({
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
      });
      await eventually(() => expect(codeShown(panel)).toBe(CODE));

      // Power cycle on an open line: state, bkcmd and speed back to the profile's defaults; the
      // editor-1.65 profile says nothing at all.
      const before = redraws.length;
      const t0 = performance.now();
      panel.restart();
      expect(panel.page).toBe(0);
      await eventually(() => {
        expect(redraws.length).toBeGreaterThan(before);
        expect(panel.pageSpec.name).toBe('meeting');
        expect(codeShown(panel)).toBe(CODE);
        expect(panel.text('tShield')).toBe('End-to-end encrypted');
      });
      const recoveredMs = performance.now() - t0;
      expect(panel.bkcmd).toBe(3);
      expect(panel.rate).toBe(115200);
      const redraw = redraws.slice(before).at(-1);
      expect(redraw?.reason).toBe(
        PANEL_PROFILES[profile].announcesStartup ? 'panel-ready' : 'panel-recovered',
      );
      console.info(
        `[panel ${profile}] power cycle → meeting page redrawn in ${recoveredMs.toFixed(0)} ms` +
          ` (redraw ${redraw?.instructions} instructions in ${redraw?.ms.toFixed(0)} ms, reason ${redraw?.reason})`,
      );

      // Unplug, then a fresh panel at the same path: powered on, so at its stored speed again.
      await unplug(side);
      await eventually(() =>
        expect(['disconnected', 'reconnecting', 'failed']).toContain(
          manager.status().find((s) => s.id === 'panel')?.state,
        ),
      );
      const fresh = new NextionEmulator(profile);
      const beforeReplug = redraws.length;
      const t1 = performance.now();
      side = await plugPanel(tmp.dir, fresh);
      await eventually(() => {
        expect(redraws.length).toBeGreaterThan(beforeReplug);
        expect(fresh.pageSpec.name).toBe('meeting');
        expect(codeShown(fresh)).toBe(CODE);
      });
      console.info(
        `[panel ${profile}] replug → meeting page redrawn in ${(performance.now() - t1).toFixed(0)} ms`,
      );
      expect(fresh.rate).toBe(115200);
      expect(redraws.at(-1)?.reason).toBe('reopened');
      expect(manager.status().find((s) => s.id === 'panel')?.reconnects).toBe(1);
    });
  },
);
