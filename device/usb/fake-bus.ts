/**
 * USB bus emulator (docs/hardware.md §Emulators): a UsbBus whose devices a test or demo plugs in and out,
 * or that reports the bus as absent like a container without /sys/bus/usb.
 */
import { EventBus, type Unsubscribe } from '../../src/core/events.ts';
import {
  type UsbBus,
  type UsbBusEvents,
  type UsbBusStatus,
  type UsbDeviceInfo,
  usbKey,
} from '../../src/devices/usb/bus.ts';

export class FakeUsbBus implements UsbBus {
  readonly #events = new EventBus<UsbBusEvents>();
  readonly #devices = new Map<string, UsbDeviceInfo>();
  readonly #absent: boolean;
  #status: UsbBusStatus = { available: false, reason: 'not started' };

  constructor(options: { absent?: boolean } = {}) {
    this.#absent = options.absent ?? false;
  }

  get status(): UsbBusStatus {
    return this.#status;
  }

  on<K extends keyof UsbBusEvents>(event: K, fn: (p: UsbBusEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  async start(): Promise<void> {
    this.#status = this.#absent
      ? { available: false, reason: '/sys/bus/usb is absent', absent: true }
      : { available: true };
    this.#events.emit('status', this.#status);
  }

  async stop(): Promise<void> {
    this.#status = { available: false, reason: 'stopped' };
  }

  async list(): Promise<UsbDeviceInfo[]> {
    return this.#status.available ? [...this.#devices.values()] : [];
  }

  plug(vendorId: number, productId: number, extra: Partial<UsbDeviceInfo> = {}): UsbDeviceInfo {
    const d: UsbDeviceInfo = {
      vendorId,
      productId,
      serialNumber: null,
      manufacturer: null,
      product: null,
      ...extra,
    };
    this.#devices.set(usbKey(d), d);
    if (this.#status.available) this.#events.emit('attach', d);
    return d;
  }

  unplug(d: UsbDeviceInfo): void {
    if (this.#devices.delete(usbKey(d)) && this.#status.available) this.#events.emit('detach', d);
  }
}
