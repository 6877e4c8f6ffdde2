/**
 * USB inventory and hot-plug (docs/hardware.md §USB inventory; the `usb`
 * package throws — even asynchronously, from a listener — without /sys/bus/usb). `UsbBus` is the
 * seam; `NodeUsbBus` loads `usb` lazily, only after checking /sys/bus/usb, and reports an absent
 * bus as a normal `unavailable` status. `UsbInventory` joins the bus with the catalogue.
 */
import { existsSync } from 'node:fs';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { Catalogue, CatalogueEntry } from './catalogue.ts';

export interface UsbDeviceInfo {
  readonly vendorId: number;
  readonly productId: number;
  readonly serialNumber: string | null;
  readonly manufacturer: string | null;
  readonly product: string | null;
}

export type UsbBusStatus =
  | { readonly available: true }
  /** `absent`: the machine has no USB bus (no /sys/bus/usb, e.g. a container): not a fault. */
  | { readonly available: false; readonly reason: string; readonly absent?: boolean };

export type UsbBusEvents = {
  attach: UsbDeviceInfo;
  detach: UsbDeviceInfo;
  status: UsbBusStatus;
};

export interface UsbBus {
  readonly status: UsbBusStatus;
  start(): Promise<void>;
  stop(): Promise<void>;
  list(): Promise<UsbDeviceInfo[]>;
  on<K extends keyof UsbBusEvents>(event: K, fn: (p: UsbBusEvents[K]) => void): Unsubscribe;
}

export function usbKey(d: UsbDeviceInfo): string {
  const hex = (n: number) => n.toString(16).padStart(4, '0');
  return `${hex(d.vendorId)}:${hex(d.productId)}${d.serialNumber === null ? '' : `:${d.serialNumber}`}`;
}

interface WebUsbDevice {
  vendorId: number;
  productId: number;
  serialNumber?: string | null;
  manufacturerName?: string | null;
  productName?: string | null;
}

interface WebUsbLike {
  getDevices(): Promise<WebUsbDevice[]>;
  addEventListener(type: string, fn: (ev: { device: WebUsbDevice }) => void): void;
  removeEventListener(type: string, fn: (ev: { device: WebUsbDevice }) => void): void;
}

function info(d: WebUsbDevice): UsbDeviceInfo {
  return {
    vendorId: d.vendorId,
    productId: d.productId,
    serialNumber: d.serialNumber ?? null,
    manufacturer: d.manufacturerName ?? null,
    product: d.productName ?? null,
  };
}

export class NodeUsbBus implements UsbBus {
  readonly #events = new EventBus<UsbBusEvents>();
  readonly #sysPath: string;
  #status: UsbBusStatus = { available: false, reason: 'not started' };
  #usb: WebUsbLike | null = null;
  readonly #onConnect = (ev: { device: WebUsbDevice }) => this.#events.emit('attach', info(ev.device));
  readonly #onDisconnect = (ev: { device: WebUsbDevice }) => this.#events.emit('detach', info(ev.device));

  constructor(sysPath = '/sys/bus/usb') {
    this.#sysPath = sysPath;
  }

  get status(): UsbBusStatus {
    return this.#status;
  }

  on<K extends keyof UsbBusEvents>(event: K, fn: (p: UsbBusEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  async start(): Promise<void> {
    if (!existsSync(this.#sysPath))
      return this.#set({ available: false, reason: `${this.#sysPath} is absent`, absent: true });
    try {
      const mod = (await import('usb')) as unknown as {
        WebUSB: new (o: { allowAllDevices: boolean }) => WebUsbLike;
      };
      const usb = new mod.WebUSB({ allowAllDevices: true });
      usb.addEventListener('connect', this.#onConnect);
      usb.addEventListener('disconnect', this.#onDisconnect);
      this.#usb = usb;
      this.#set({ available: true });
    } catch (e) {
      this.#set({
        available: false,
        reason: `USB access failed: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  }

  async stop(): Promise<void> {
    const usb = this.#usb;
    this.#usb = null;
    if (usb !== null) {
      // Synchronous bookkeeping in the usb module (its native release is queued), so nothing to catch.
      usb.removeEventListener('connect', this.#onConnect);
      usb.removeEventListener('disconnect', this.#onDisconnect);
    }
    if (this.#status.available) this.#set({ available: false, reason: 'stopped' });
  }

  async list(): Promise<UsbDeviceInfo[]> {
    if (this.#usb === null) return [];
    try {
      return (await this.#usb.getDevices()).map(info);
    } catch (e) {
      this.#set({
        available: false,
        reason: `USB listing failed: ${e instanceof Error ? e.message : String(e)}`,
      });
      return [];
    }
  }

  #set(s: UsbBusStatus): void {
    this.#status = s;
    this.#events.emit('status', s);
  }
}

export interface InventoryItem {
  readonly device: UsbDeviceInfo;
  readonly key: string;
  readonly entry: CatalogueEntry | null;
}

export type UsbInventoryEvents = {
  attach: InventoryItem;
  detach: InventoryItem;
};

/** The current set of USB devices, each with its catalogue entry (or null if unknown). */
export class UsbInventory {
  readonly #bus: UsbBus;
  readonly #catalogue: Catalogue;
  readonly #items = new Map<string, InventoryItem>();
  readonly #events = new EventBus<UsbInventoryEvents>();
  readonly #offs: Unsubscribe[] = [];

  constructor(bus: UsbBus, catalogue: Catalogue) {
    this.#bus = bus;
    this.#catalogue = catalogue;
  }

  get status(): UsbBusStatus {
    return this.#bus.status;
  }

  on<K extends keyof UsbInventoryEvents>(event: K, fn: (p: UsbInventoryEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  items(): InventoryItem[] {
    return [...this.#items.values()];
  }

  async start(): Promise<void> {
    this.#offs.push(
      this.#bus.on('attach', (d) => this.#add(d)),
      this.#bus.on('detach', (d) => {
        const key = usbKey(d);
        const it = this.#items.get(key);
        if (it === undefined) return;
        this.#items.delete(key);
        this.#events.emit('detach', it);
      }),
    );
    await this.#bus.start();
    for (const d of await this.#bus.list()) this.#add(d);
  }

  async stop(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    await this.#bus.stop();
  }

  #add(d: UsbDeviceInfo): void {
    const key = usbKey(d);
    if (this.#items.has(key)) return;
    const item = { device: d, key, entry: this.#catalogue.lookup(d.vendorId, d.productId) };
    this.#items.set(key, item);
    this.#events.emit('attach', item);
  }
}
