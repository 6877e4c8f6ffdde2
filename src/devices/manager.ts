/**
 * Device manager (docs/hardware.md §Device manager): supervises every configured device — panel, camera,
 * speakerphone, USB bus — keeps each one's state, health, last error, counters and reconnects, survives any
 * device vanishing and returning without a restart, and raises typed events on an EventBus
 * (camera lost/back, panel redraw, mute changed, hook, content dongle plugged/unplugged, USB hot-plug).
 * Configuration is a plain
 * object (`DevicesConfig`); the app wires it to settings, the meeting and the kiosk. The speakerphone's
 * supervision is in speakerphone-link.ts, the content dongle's watch in content-watch.ts.
 */
import { existsSync } from 'node:fs';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { RoomdError, toRoomdError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { componentLogger, silentLogger } from '../core/logger.ts';
import { NodeProcessRunner, type ProcessRunner } from '../system/process.ts';
import { openByteStream } from '../transport/serial/open.ts';
import type { ByteStreamOpener } from '../transport/serial/stream.ts';
import {
  type BackoffOptions,
  DEFAULT_BACKOFF,
  type LinkState,
  SupervisedStream,
} from '../transport/serial/supervisor.ts';
import type { Camera } from './camera/camera.ts';
import { UvcCamera } from './camera/uvc-camera.ts';
import { ViscaCamera } from './camera/visca-camera.ts';
import type { HidrawOpener } from './hid/hidraw.ts';
import { hidrawOpener } from './hid/open.ts';
import type { CameraConfig, DevicesConfig, PanelConfig } from './config.ts';
import { ContentWatch } from './content-watch.ts';
import { ManagedCamera } from './managed-camera.ts';
import { MuteState } from './mute.ts';
import { PanelController } from './panel/controller.ts';
import { NextionLink } from './panel/link.ts';
import { startSpeakerphone } from './speakerphone-link.ts';
import type { RoomCommands } from '../protocol/room-commands.ts';
import type { RoomView } from './panel/view.ts';
import {
  DeviceRecord,
  type DeviceEvents,
  type DeviceId,
  type DeviceState,
  type DeviceStatus,
} from './status.ts';
import { NodeUsbBus, type UsbBus, UsbInventory } from './usb/bus.ts';
import { type Catalogue, loadCatalogue } from './usb/catalogue.ts';

export interface DeviceManagerDeps {
  readonly clock: Clock;
  readonly commands: RoomCommands;
  readonly view: RoomView;
  readonly logger?: Logger;
  readonly openStream?: ByteStreamOpener;
  readonly openHidraw?: HidrawOpener;
  readonly runner?: ProcessRunner;
  readonly usbBus?: UsbBus;
  readonly catalogue?: Catalogue;
  readonly mute?: MuteState;
  readonly events?: EventBus<DeviceEvents>;
  readonly pathExists?: (path: string) => boolean;
  readonly backoff?: BackoffOptions;
}

const LINK_STATES: Record<LinkState, DeviceState> = {
  connecting: 'connecting',
  open: 'ready',
  disconnected: 'disconnected',
  reopening: 'reconnecting',
  failed: 'failed',
  stopped: 'stopped',
};

export class DeviceManager {
  readonly name = 'devices';
  readonly events: EventBus<DeviceEvents>;
  readonly mute: MuteState;
  /** Stable camera handle; rejects with `device.unavailable` while no camera is connected. */
  readonly camera: ManagedCamera;
  readonly #config: DevicesConfig;
  readonly #deps: DeviceManagerDeps;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #records = new Map<DeviceId, DeviceRecord>();
  readonly #cleanup: (() => Promise<void> | void)[] = [];
  #panel: PanelController | null = null;
  #panelStream: SupervisedStream | null = null;
  #cameraStream: SupervisedStream | null = null;
  #cameraUp: boolean | null = null;
  readonly #content: ContentWatch;
  #running = false;

  constructor(config: DevicesConfig, deps: DeviceManagerDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#clock = deps.clock;
    this.#log = componentLogger(deps.logger ?? silentLogger(), 'devices');
    this.events = deps.events ?? new EventBus<DeviceEvents>();
    this.mute = deps.mute ?? new MuteState();
    this.camera = new ManagedCamera(config.camera?.kind ?? 'visca', (e) => this.#onCameraResult(e));
    const path = (id: DeviceId): string | null => {
      if (id === 'panel') return config.panel?.path ?? null;
      if (id === 'camera')
        return config.camera == null
          ? null
          : config.camera.kind === 'visca'
            ? config.camera.path
            : config.camera.device;
      if (id === 'speakerphone') return config.speakerphone?.hidraw ?? null;
      if (id === 'content') return config.content?.device ?? null;
      return null;
    };
    for (const id of ['panel', 'camera', 'speakerphone', 'content', 'usb'] as const) {
      this.#records.set(id, new DeviceRecord(id, path(id), this.#clock, this.events));
    }
    this.#content = new ContentWatch({
      record: this.#record('content'),
      clock: this.#clock,
      events: this.events,
      pathExists: deps.pathExists ?? existsSync,
      running: () => this.#running,
    });
  }

  /** The panel controller, when a panel is configured. */
  get panel(): PanelController | null {
    return this.#panel;
  }

  status(): DeviceStatus[] {
    const panel = this.#records.get('panel')!;
    if (this.#panelStream !== null) Object.assign(panel.counters, this.#panelStream.counters);
    const cam = this.#records.get('camera')!;
    if (this.#cameraStream !== null) Object.assign(cam.counters, this.#cameraStream.counters);
    return [...this.#records.values()].map((r) => r.snapshot());
  }

  /**
   * Whether the content dongle's node is there now (docs/hardware.md §Content sharing); false
   * while none is configured. The `content.plugged`/`content.unplugged` events report its changes.
   */
  get contentPresent(): boolean {
    return this.#content.present;
  }

  /** Whether a content dongle's node is configured to be watched. */
  get contentWatched(): boolean {
    return (this.#config.content?.device ?? null) !== null;
  }

  setView(view: RoomView): void {
    this.#panel?.setView(view);
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const offMute = this.mute.on('change', (c) => this.events.emit('mute.changed', c));
    this.#cleanup.push(offMute);
    if (this.#config.panel != null) this.#startPanel(this.#config.panel);
    if (this.#config.camera != null) this.#startCamera(this.#config.camera);
    const sp = this.#config.speakerphone;
    if (sp != null) {
      const open = this.#deps.openHidraw ?? hidrawOpener(this.#deps.openStream ?? openByteStream);
      this.#cleanup.push(
        startSpeakerphone(sp, {
          record: this.#record('speakerphone'),
          clock: this.#clock,
          open,
          backoff: this.#deps.backoff ?? DEFAULT_BACKOFF,
          mute: this.mute,
          events: this.events,
          running: () => this.#running,
        }),
      );
    }
    const content = this.#config.content;
    if (content?.device != null) {
      const probeMs = this.#config.contentProbeMs ?? 1000;
      this.#cleanup.push(this.#content.start(content.device, content.presence ?? 'dongle', probeMs));
    }
    if (this.#config.usb !== false) await this.#startUsb();
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const fn of this.#cleanup.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        this.#log.warn({ code: toRoomdError(e).code }, 'device stop failed');
      }
    }
    for (const r of this.#records.values()) if (r.state !== 'not-configured') r.set('stopped');
  }

  #record(id: DeviceId): DeviceRecord {
    return this.#records.get(id)!;
  }

  #stream(path: string, baudRate: number | undefined): SupervisedStream {
    return new SupervisedStream({
      path,
      opener: this.#deps.openStream ?? openByteStream,
      clock: this.#clock,
      openOptions: baudRate === undefined ? {} : { baudRate },
      backoff: this.#deps.backoff ?? DEFAULT_BACKOFF,
    });
  }

  #startPanel(cfg: PanelConfig): void {
    const rec = this.#record('panel');
    const stream = this.#stream(cfg.path, cfg.baudRate ?? 9600);
    const link = new NextionLink({ stream, clock: this.#clock });
    const ctl = new PanelController({
      link,
      clock: this.#clock,
      commands: this.#deps.commands,
      view: this.#deps.view,
      logger: this.#log,
    });
    this.#panel = ctl;
    this.#panelStream = stream;
    stream.on('state', (s) => rec.set(LINK_STATES[s.state], s.error ?? null));
    stream.on('open', ({ reopened }) => {
      if (reopened) rec.reconnects++;
    });
    ctl.on('redraw', (r) => {
      rec.count('redraws');
      rec.counters.garbageBytes = link.garbageBytes;
      if (rec.state === 'unresponsive') rec.set('ready');
      this.events.emit('panel.redraw', r);
    });
    ctl.on('synced', () => {
      if (rec.state === 'unresponsive') rec.set('ready');
    });
    ctl.on('error', ({ error }) => {
      rec.count('errors');
      rec.set(error.code === 'device.timeout' ? 'unresponsive' : rec.state, error);
    });
    ctl.start();
    stream.start();
    this.#cleanup.push(async () => {
      ctl.stop();
      link.dispose();
      await stream.stop();
    });
  }

  #startCamera(cfg: CameraConfig): void {
    const rec = this.#record('camera');
    const probeMs = this.#config.cameraProbeMs ?? 5000;
    const probe = () => void this.camera.getPower().catch(() => {});
    if (cfg.kind === 'visca') {
      const stream = this.#stream(cfg.path, cfg.baudRate ?? 9600);
      this.#cameraStream = stream;
      const visca = new ViscaCamera({
        stream,
        clock: this.#clock,
        ...(cfg.address === undefined ? {} : { address: cfg.address }),
        ...(cfg.model === undefined ? {} : { model: cfg.model }),
      });
      this.camera.attach(visca);
      const hex = (v: number | null) => (v === null ? null : v.toString(16).padStart(4, '0'));
      const showModel = () => {
        const m = visca.model;
        rec.setModel({
          family: m.family,
          name: m.name,
          vendorId: hex(m.vendorId),
          modelId: hex(m.modelId),
          source: m.source,
        });
      };
      showModel();
      visca.on('model', (m) => {
        this.#log.info({ family: m.family, model: m.name, source: m.source }, 'camera model');
        showModel();
      });
      visca.session.on('network-change', () => rec.count('networkChanges'));
      stream.on('state', (s) => {
        const state = LINK_STATES[s.state];
        if (s.state === 'open' || s.state === 'connecting') rec.set('connecting');
        else if (s.state === 'stopped') rec.set('stopped');
        else this.#cameraDown(state, s.error ?? null);
      });
      stream.on('open', ({ reopened }) => {
        if (reopened) rec.reconnects++;
        probe();
      });
      visca.session.on('health', ({ health, error }) => {
        if (health === 'recovering') rec.set('degraded', error);
        else if (health === 'unresponsive') this.#cameraDown('unresponsive', error);
      });
      visca.session.on('failure', ({ error }) => {
        rec.count(error.code === 'device.timeout' ? 'timeouts' : 'errorReplies');
        if (error.code === 'device.protocol_error') rec.set('degraded', error);
      });
      const t = this.#clock.setInterval(() => {
        if (stream.isOpen) probe();
      }, probeMs);
      stream.start();
      this.#cleanup.push(async () => {
        this.#clock.clear(t);
        await visca.close();
        await stream.stop();
      });
      return;
    }
    const exists = this.#deps.pathExists ?? existsSync;
    const runner = this.#deps.runner ?? new NodeProcessRunner();
    const check = () => {
      if (exists(cfg.device)) {
        if (!this.camera.connected) {
          if (this.#cameraUp === false) rec.reconnects++;
          this.camera.attach(new UvcCamera({ device: cfg.device, runner }));
          rec.set('connecting');
        }
        probe();
      } else {
        this.camera.attach(null);
        this.#cameraDown(
          'disconnected',
          new RoomdError('device.unavailable', {
            message: 'The USB camera is not connected.',
            context: { path: cfg.device },
          }),
        );
      }
    };
    const t: TimerHandle = this.#clock.setInterval(check, probeMs);
    check();
    this.#cleanup.push(async () => {
      this.#clock.clear(t);
      await this.camera.close();
    });
  }

  #onCameraResult(error: unknown | null): void {
    const rec = this.#record('camera');
    if (error === null) {
      rec.count('commands');
      if (rec.state !== 'ready') rec.set('ready');
      if (this.#cameraUp === false) this.events.emit('camera.back', { path: rec.path });
      this.#cameraUp = true;
      return;
    }
    const e = toRoomdError(error);
    if (e.code === 'device.unsupported' || e.code === 'core.invalid_argument') return;
    if (e.code === 'device.unavailable' && this.#config.camera?.kind === 'uvc')
      this.#cameraDown('unavailable', e);
  }

  #cameraDown(state: DeviceState, error: RoomdError | null): void {
    const rec = this.#record('camera');
    rec.set(state, error);
    if (this.#cameraUp !== false && this.#running) {
      this.#cameraUp = false;
      this.events.emit('camera.lost', { reason: state, error: rec.lastError });
    }
  }

  async #startUsb(): Promise<void> {
    const rec = this.#record('usb');
    rec.set('connecting');
    let catalogue = this.#deps.catalogue;
    if (catalogue === undefined) {
      try {
        catalogue = await loadCatalogue();
      } catch (e) {
        rec.set('failed', toRoomdError(e));
        return;
      }
    }
    const inv = new UsbInventory(this.#deps.usbBus ?? new NodeUsbBus(), catalogue);
    inv.on('attach', (i) => {
      rec.count('attached');
      this.events.emit('usb.attached', i);
      this.#content.onUsb(i, true);
    });
    inv.on('detach', (i) => {
      rec.count('detached');
      this.events.emit('usb.detached', i);
      this.#content.onUsb(i, false);
    });
    await inv.start();
    const s = inv.status;
    this.events.emit('usb.status', s);
    if (s.available) rec.set('ready');
    else if (s.absent === true) rec.set('absent');
    else
      rec.set(
        'unavailable',
        new RoomdError('device.unavailable', { message: `USB: ${s.reason}.`, context: { reason: s.reason } }),
      );
    this.#cleanup.push(() => inv.stop());
  }
}

export type {
  CameraConfig,
  ContentConfig,
  DevicesConfig,
  PanelConfig,
  SpeakerphoneConfig,
} from './config.ts';
export type { ContentChange, DeviceEvents, DeviceId, DeviceState, DeviceStatus } from './status.ts';
export type { Camera };
