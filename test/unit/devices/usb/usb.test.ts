import { describe, expect, it } from 'vitest';
import { FakeUsbBus } from '../../../../device/usb/fake-bus.ts';
import { NodeUsbBus, UsbInventory } from '../../../../src/devices/usb/bus.ts';
import { loadCatalogue, parseCatalogue } from '../../../../src/devices/usb/catalogue.ts';

describe('device catalogue', () => {
  it('loads the shipped catalogue and looks devices up by id', async () => {
    const c = await loadCatalogue();
    expect(c.entries.length).toBeGreaterThanOrEqual(8);
    expect(c.lookup(0x0b0e, 0x0420)).toMatchObject({ name: 'Jabra Speak 510', driver: 'hid-speakerphone' });
    expect(c.lookup(0x046d, 0x085f)?.capabilities).toContain('ptz');
    expect(c.lookup(0x1234, 0x5678)).toBeNull();
  });

  it('rejects bad entries with a typed error', () => {
    expect(() => parseCatalogue({})).toThrow(/"devices" must be a list/);
    const e = {
      vendorId: '0403',
      productId: '6001',
      name: 'x',
      driver: 'usb-serial',
      capabilities: ['serial'],
    };
    expect(() => parseCatalogue({ devices: [{ ...e, vendorId: '403' }] })).toThrow(/4 hex digits/);
    expect(() => parseCatalogue({ devices: [{ ...e, driver: 'magic' }] })).toThrow(/unknown driver/);
    expect(() => parseCatalogue({ devices: [e, e] })).toThrow(/duplicate/);
  });
});

describe('USB inventory', () => {
  it('tracks hot-plug with catalogue matches', async () => {
    const bus = new FakeUsbBus();
    const jabra = bus.plug(0x0b0e, 0x0420, { serialNumber: 'A1' });
    const inv = new UsbInventory(bus, await loadCatalogue());
    const seen: string[] = [];
    inv.on('attach', (i) => seen.push(`+${i.entry?.name ?? i.key}`));
    inv.on('detach', (i) => seen.push(`-${i.entry?.name ?? i.key}`));
    await inv.start();
    bus.plug(0x1a86, 0x7523);
    bus.plug(0xdead, 0xbeef);
    bus.unplug(jabra);
    expect(seen).toEqual(['+Jabra Speak 510', '+QinHeng CH340 USB-serial', '+dead:beef', '-Jabra Speak 510']);
    expect(inv.items()).toHaveLength(2);
    await inv.stop();
  });

  it('reports an absent USB bus as a normal state, not a crash', async () => {
    const bus = new NodeUsbBus('/nonexistent/sys/bus/usb');
    await bus.start();
    expect(bus.status).toEqual({
      available: false,
      reason: '/nonexistent/sys/bus/usb is absent',
      absent: true,
    });
    expect(await bus.list()).toEqual([]);
    await bus.stop();
    const inv = new UsbInventory(new FakeUsbBus({ absent: true }), parseCatalogue({ devices: [] }));
    await inv.start();
    expect(inv.status.available).toBe(false);
    expect(inv.items()).toEqual([]);
  });
});
