/**
 * Device status records and the typed events the device manager raises (docs/hardware.md
 * §Device manager): state, health, last error, counters and reconnects per device, as plain data for the
 * kiosk, admin UI and metrics.
 */
import type { Clock } from '../core/clock.ts';
import type { RoomdError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import type { MuteChange } from './mute.ts';
import type { InventoryItem, UsbBusStatus } from './usb/bus.ts';

export type DeviceId = 'panel' | 'camera' | 'speakerphone' | 'content' | 'usb';

export type DeviceState =
  | 'not-configured'
  /**
   * Optional equipment that is not there, which is no fault: nothing on the content input (no
   * laptop), no USB bus on this machine (docs/hardware.md §Device manager).
   */
  | 'absent'
  | 'connecting'
  | 'ready'
  | 'degraded'
  | 'unresponsive'
  | 'disconnected'
  | 'reconnecting'
  | 'failed'
  | 'unavailable'
  | 'stopped';

export type DeviceHealth = 'ok' | 'warning' | 'error';

export interface DeviceErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly context: Readonly<Record<string, unknown>>;
  readonly at: number;
}

/** The VISCA camera's model as found (docs/hardware.md §Conformance). */
export interface CameraModelStatus {
  /** Profile family in use: generic, sony-evi, sony-brc, sony-srg-x. */
  readonly family: string;
  readonly name: string | null;
  /** CAM_VersionInq vendor and model IDs as 4 hex digits, null without an answer. */
  readonly vendorId: string | null;
  readonly modelId: string | null;
  readonly source: 'detected' | 'configured' | 'default';
}

export interface DeviceStatus {
  readonly id: DeviceId;
  readonly path: string | null;
  readonly state: DeviceState;
  readonly health: DeviceHealth;
  /** Epoch ms of the last state change. */
  readonly since: number;
  readonly lastError: DeviceErrorInfo | null;
  readonly reconnects: number;
  readonly counters: Readonly<Record<string, number>>;
  /** The camera's model, for a VISCA camera once known. */
  readonly model?: CameraModelStatus;
}

/** A content dongle plugged in or pulled out. */
export interface ContentChange {
  /** The configured V4L2 node. */
  readonly path: string;
  /** The dongle's catalogue name, when the USB bus reported it. */
  readonly name: string | null;
}

export type DeviceEvents = {
  'device.state': DeviceStatus;
  /** The camera stopped working: video should pause and say so. */
  'camera.lost': { reason: DeviceState; error: DeviceErrorInfo | null };
  /** The camera works again after a loss. */
  'camera.back': { path: string | null };
  'panel.redraw': { reason: string; instructions: number; ms: number };
  'mute.changed': MuteChange;
  'speakerphone.hook': { offHook: boolean };
  /**
   * The content source became available: the HDMI capture dongle's node appeared (the dongle, and
   * with it a laptop, was plugged in; docs/hardware.md §Content sharing). `name` is the dongle's
   * catalogue name when the USB bus saw it, else null. Raised on the change only: the state at start
   * is `DeviceManager.contentPresent`.
   */
  'content.plugged': ContentChange;
  /** The content source went away: the dongle's node disappeared. */
  'content.unplugged': ContentChange;
  'usb.status': UsbBusStatus;
  'usb.attached': InventoryItem;
  'usb.detached': InventoryItem;
};

const HEALTH: Record<DeviceState, DeviceHealth> = {
  'not-configured': 'ok',
  absent: 'ok',
  connecting: 'warning',
  ready: 'ok',
  degraded: 'warning',
  unresponsive: 'error',
  disconnected: 'error',
  reconnecting: 'error',
  failed: 'error',
  unavailable: 'warning',
  stopped: 'ok',
};

/** One device's mutable record; every change is published on the bus. */
export class DeviceRecord {
  #state: DeviceState = 'not-configured';
  #since: number;
  #lastError: DeviceErrorInfo | null = null;
  reconnects = 0;
  readonly counters: Record<string, number> = {};
  #model: CameraModelStatus | null = null;

  constructor(
    readonly id: DeviceId,
    readonly path: string | null,
    readonly clock: Clock,
    readonly bus: EventBus<DeviceEvents>,
  ) {
    this.#since = clock.now();
  }

  get state(): DeviceState {
    return this.#state;
  }

  get lastError(): DeviceErrorInfo | null {
    return this.#lastError;
  }

  set(state: DeviceState, error?: RoomdError | null): void {
    if (error !== undefined && error !== null) {
      this.#lastError = {
        code: error.code,
        message: error.message,
        context: error.context,
        at: this.clock.now(),
      };
    }
    if (state === this.#state && (error === undefined || error === null)) return;
    if (state !== this.#state) this.#since = this.clock.now();
    this.#state = state;
    this.bus.emit('device.state', this.snapshot());
  }

  /** A new model answer; published like a state change. */
  setModel(model: CameraModelStatus): void {
    this.#model = model;
    this.bus.emit('device.state', this.snapshot());
  }

  count(name: string, by = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + by;
  }

  snapshot(): DeviceStatus {
    return {
      id: this.id,
      path: this.path,
      state: this.#state,
      health: HEALTH[this.#state],
      since: this.#since,
      lastError: this.#lastError,
      reconnects: this.reconnects,
      counters: { ...this.counters },
      ...(this.#model === null ? {} : { model: this.#model }),
    };
  }
}
