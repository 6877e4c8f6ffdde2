/** The HDMI capture dongle as a managed device (docs/hardware.md §Content sharing). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeUsbBus } from '../../../device/usb/fake-bus.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { type ContentChange, DeviceManager, type DevicesConfig } from '../../../src/devices/manager.ts';
import { idleView } from '../../../src/devices/panel/view.ts';
import { loadCatalogue, parseCatalogue } from '../../../src/devices/usb/catalogue.ts';

const NODE = '/dev/v4l/by-id/usb-MACROSILICON_USB_Video-video-index0';

const settle = async (rounds = 10) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

const catalogue = parseCatalogue({
  devices: [
    {
      vendorId: '534d',
      productId: '2109',
      name: 'MacroSilicon MS2109 HDMI capture',
      driver: 'hdmi-capture',
      capabilities: ['video'],
    },
    {
      vendorId: '0b0e',
      productId: '0420',
      name: 'Jabra Speak 510',
      driver: 'hid-speakerphone',
      capabilities: [],
    },
  ],
});

let manager: DeviceManager | null = null;
afterEach(async () => {
  await manager?.stop();
  manager = null;
});

function setup(config: DevicesConfig, nodePresent = false, usbAbsent = false) {
  const clock = new FakeClock();
  const usb = new FakeUsbBus({ absent: usbAbsent });
  const nodes = new Set<string>(nodePresent ? [NODE] : []);
  const m = new DeviceManager(config, {
    clock,
    commands: {
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
    },
    view: idleView('Room 1'),
    usbBus: usb,
    catalogue,
    pathExists: (p) => nodes.has(p),
  });
  manager = m;
  const events: [string, ContentChange][] = [];
  m.events.on('content.plugged', (c) => events.push(['plugged', c]));
  m.events.on('content.unplugged', (c) => events.push(['unplugged', c]));
  const content = () => m.status().find((s) => s.id === 'content')!;
  return { m, clock, usb, nodes, events, content };
}

describe('DeviceManager: the content dongle', () => {
  it('a configured dongle plugged in and pulled out on the USB bus: plugged and unplugged, at once', async () => {
    const { m, usb, nodes, events, content } = setup({ content: { device: NODE } });
    await m.start();
    // Not plugged in yet: optional equipment that is not there, no fault.
    expect(content()).toMatchObject({ path: NODE, state: 'absent', health: 'ok', lastError: null });
    expect(m.contentPresent).toBe(false);
    expect(events).toEqual([]);

    nodes.add(NODE);
    const dongle = usb.plug(0x534d, 0x2109);
    await settle();
    expect(events).toEqual([['plugged', { path: NODE, name: 'MacroSilicon MS2109 HDMI capture' }]]);
    expect(content()).toMatchObject({ state: 'ready', health: 'ok', counters: { plugged: 1 } });
    expect(m.contentPresent).toBe(true);

    // Other USB devices do not make it look again or raise anything.
    usb.plug(0x0b0e, 0x0420);
    await settle();
    expect(events).toHaveLength(1);

    nodes.delete(NODE);
    usb.unplug(dongle);
    await settle();
    expect(events[1]).toEqual(['unplugged', { path: NODE, name: 'MacroSilicon MS2109 HDMI capture' }]);
    // A configured dongle that was there and vanished is a fault.
    expect(content()).toMatchObject({
      state: 'disconnected',
      health: 'error',
      lastError: { code: 'device.unavailable', message: 'The HDMI capture dongle is not connected.' },
      counters: { plugged: 1, unplugged: 1 },
    });
    expect(m.contentPresent).toBe(false);
  });

  it("presence 'laptop' (the demo's laptop): no laptop is never a fault, before or after one was plugged", async () => {
    const { m, clock, nodes, events, content } = setup({
      content: { device: NODE, presence: 'laptop' },
      contentProbeMs: 500,
      usb: false,
    });
    await m.start();
    expect(content()).toMatchObject({ state: 'absent', health: 'ok' });
    nodes.add(NODE);
    clock.advance(500);
    expect(content()).toMatchObject({ state: 'ready', health: 'ok' });
    nodes.delete(NODE);
    clock.advance(500);
    expect(events.map(([e]) => e)).toEqual(['plugged', 'unplugged']);
    expect(content()).toMatchObject({ state: 'absent', health: 'ok', counters: { unplugged: 1 } });
    expect(m.contentPresent).toBe(false);
  });

  it('an absent USB bus (a container) is not a fault either', async () => {
    const { m } = setup({ usb: true }, false, true);
    await m.start();
    expect(m.status().find((s) => s.id === 'usb')).toMatchObject({ state: 'absent', health: 'ok' });
  });

  it('without the USB bus the node is looked for every contentProbeMs; one event per change', async () => {
    const { m, clock, nodes, events, content } = setup({
      content: { device: NODE },
      contentProbeMs: 500,
      usb: false,
    });
    await m.start();
    nodes.add(NODE);
    clock.advance(499);
    expect(events).toEqual([]);
    clock.advance(1);
    expect(events).toEqual([['plugged', { path: NODE, name: null }]]);
    // Looks that find the same say nothing: no event, no state publication.
    let published = 0;
    m.events.on('device.state', (d) => {
      if (d.id === 'content') published++;
    });
    clock.advance(5000);
    expect(events).toHaveLength(1);
    expect(published).toBe(0);
    nodes.delete(NODE);
    clock.advance(500);
    expect(events.map(([e]) => e)).toEqual(['plugged', 'unplugged']);
    nodes.add(NODE);
    clock.advance(500);
    expect(events.map(([e]) => e)).toEqual(['plugged', 'unplugged', 'plugged']);
    expect(content()).toMatchObject({ state: 'ready', reconnects: 2 });
  });

  it('a dongle present at start is ready with no event; after stop nothing is raised', async () => {
    const { m, clock, nodes, events, content } = setup({ content: { device: NODE }, usb: false }, true);
    await m.start();
    expect(content().state).toBe('ready');
    expect(m.contentPresent).toBe(true);
    expect(events).toEqual([]);
    await m.stop();
    expect(m.contentPresent).toBe(false);
    expect(content().state).toBe('stopped');
    nodes.delete(NODE);
    clock.advance(10_000);
    expect(events).toEqual([]);
  });

  it('no node configured: a catalogued dongle is reported as unusable, and nothing is raised', async () => {
    const { m, usb, events, content } = setup({ content: { device: null } });
    await m.start();
    expect(content()).toMatchObject({ path: null, state: 'not-configured', health: 'ok' });
    const dongle = usb.plug(0x534d, 0x2109, { serialNumber: '20210621' });
    await settle();
    expect(content()).toMatchObject({
      state: 'unavailable',
      health: 'warning',
      lastError: {
        code: 'device.unavailable',
        message:
          'MacroSilicon MS2109 HDMI capture is plugged in; set devices.content.video to its /dev/v4l/by-id node to share from it.',
      },
    });
    usb.unplug(dongle);
    await settle();
    expect(content().state).toBe('not-configured');
    expect(events).toEqual([]);
    expect(m.contentPresent).toBe(false);
  });
});

describe('the device catalogue: HDMI capture', () => {
  it('ships the MS2109 as an hdmi-capture device', async () => {
    const shipped = await loadCatalogue();
    expect(shipped.lookup(0x534d, 0x2109)).toMatchObject({
      driver: 'hdmi-capture',
      capabilities: ['video', 'audio-in'],
    });
    expect(shipped.entries.filter((e) => e.driver === 'hdmi-capture').length).toBeGreaterThanOrEqual(2);
  });
});
