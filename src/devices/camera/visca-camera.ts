/**
 * VISCA camera driver (docs/hardware.md §PTZ camera): the Camera interface over a
 * supervised serial line (`/dev/serial/by-id/…` or `tcp://`) and a ViscaSession. An opened line
 * is set up first (Address Set, IF_Clear, CAM_VersionInq), so the camera's sockets are known-empty
 * and its model profile (command layout, preset numbering) is known before any command is sent;
 * the `model` setting forces a profile instead. docs/hardware.md §Conformance.
 */
import type { Clock } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import { EventBus, type Unsubscribe } from '../../core/events.ts';
import type { SupervisedStream } from '../../transport/serial/supervisor.ts';
import {
  type Camera,
  type CameraPosition,
  type CameraPower,
  checkPreset,
  type PanTilt,
  scaleSpeed,
} from './camera.ts';
import {
  decodeReply,
  type PanTiltDirection,
  type PanTiltLayout,
  parsePanTiltReply,
  parsePowerReply,
  parseZoomReply,
  type ViscaVersion,
  ViscaSplitter,
} from './visca-codec.ts';
import {
  configuredModel,
  identify,
  presetMemory,
  type ViscaModelInfo,
  type ViscaModelSetting,
  type ViscaProfile,
} from './visca-models.ts';
import { ViscaSession, type ViscaSessionOptions } from './visca-session.ts';

export interface ViscaCameraOptions extends Omit<ViscaSessionOptions, 'write' | 'clock' | 'identify'> {
  readonly stream: SupervisedStream;
  readonly clock: Clock;
  /** Model family, or `auto` (default) to take it from CAM_VersionInq. */
  readonly model?: ViscaModelSetting;
}

export class ViscaCamera implements Camera {
  readonly kind = 'visca' as const;
  readonly session: ViscaSession;
  readonly #splitter = new ViscaSplitter();
  readonly #offs: Unsubscribe[] = [];
  readonly #events = new EventBus<{ model: ViscaModelInfo }>();
  readonly #setting: ViscaModelSetting;
  #profile: ViscaProfile;
  #model: ViscaModelInfo;

  constructor(o: ViscaCameraOptions) {
    const stream = o.stream;
    this.#setting = o.model ?? 'auto';
    const initial = this.#setting === 'auto' ? identify(null) : configuredModel(this.#setting);
    this.#profile = initial.profile;
    this.#model = initial.info;
    this.session = new ViscaSession({ ...o, identify: true, write: (b) => stream.write(b) });
    this.session.layout = this.#profile.layout;
    this.#offs.push(
      stream.on('data', (bytes) => {
        for (const p of this.#splitter.push(bytes)) this.session.receive(decodeReply(p));
      }),
      stream.on('state', (s) => {
        if (s.state === 'disconnected' || s.state === 'stopped') this.session.abort(s.state);
      }),
      stream.on('open', () => this.session.setup()),
      this.session.on('ready', ({ version }) => this.#identified(version)),
    );
  }

  get garbageBytes(): number {
    return this.#splitter.garbageBytes;
  }

  /** The model profile in use: detected, configured, or the generic default. */
  get model(): ViscaModelInfo {
    return this.#model;
  }

  get layout(): PanTiltLayout {
    return this.#profile.layout;
  }

  /** A new model answer (the line was set up again, perhaps with another camera). */
  on(event: 'model', fn: (m: ViscaModelInfo) => void): Unsubscribe {
    return this.#events.on(event, fn);
  }

  async setPower(on: boolean): Promise<void> {
    await this.session.execute({ kind: 'power', on }, { completionTimeoutMs: 30_000 });
  }

  async getPower(): Promise<CameraPower> {
    const data = await this.session.execute({ kind: 'inquiry', what: 'power' });
    const p = parsePowerReply(data);
    if (p === null) throw this.#bad('power', data);
    return p;
  }

  async recallPreset(preset: number): Promise<void> {
    await this.#preset('recall', preset);
  }

  async savePreset(preset: number): Promise<void> {
    await this.#preset('set', preset);
  }

  async clearPreset(preset: number): Promise<void> {
    await this.#preset('reset', preset);
  }

  async moveTo(t: PanTilt, speed?: number): Promise<void> {
    await this.session.execute({
      kind: 'pan-tilt-absolute',
      ...this.#speeds(speed),
      pan: t.pan,
      tilt: t.tilt,
    });
  }

  async moveBy(d: PanTilt, speed?: number): Promise<void> {
    await this.session.execute({
      kind: 'pan-tilt-relative',
      ...this.#speeds(speed),
      pan: d.pan,
      tilt: d.tilt,
    });
  }

  async drive(direction: PanTiltDirection, speed?: number): Promise<void> {
    await this.session.execute({ kind: 'pan-tilt-drive', direction, ...this.#speeds(speed) });
  }

  async home(): Promise<void> {
    await this.session.execute({ kind: 'pan-tilt-home' });
  }

  async zoom(action: 'tele' | 'wide' | 'stop', speed?: number): Promise<void> {
    if (action === 'stop' || speed === undefined) await this.session.execute({ kind: 'zoom', action });
    else await this.session.execute({ kind: 'zoom', action, speed: scaleSpeed(speed, 7) });
  }

  async zoomTo(position: number): Promise<void> {
    await this.session.execute({ kind: 'zoom-direct', position });
  }

  async position(): Promise<CameraPosition> {
    const pt = await this.session.execute({ kind: 'inquiry', what: 'pan-tilt-position' });
    const z = await this.session.execute({ kind: 'inquiry', what: 'zoom-position' });
    const p = parsePanTiltReply(pt, this.#profile.layout.panNibbles);
    const zoom = parseZoomReply(z);
    if (p === null) throw this.#bad('pan-tilt-position', pt);
    if (zoom === null) throw this.#bad('zoom-position', z);
    return { ...p, zoom };
  }

  async close(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    this.session.abort('closed');
  }

  /**
   * Room preset → the camera's memory number, mapped when the command is sent so a preset asked
   * for while the line is being set up uses the model found.
   */
  #preset(action: 'recall' | 'set' | 'reset', preset: number): Promise<number[]> {
    checkPreset(preset);
    return this.session.execute({
      kind: 'preset',
      build: () => ({ kind: 'preset', action, preset: presetMemory(this.#profile, preset) }),
    });
  }

  #identified(version: ViscaVersion | null): void {
    const found = identify(version);
    const setting = this.#setting;
    // A configured family wins over the answer; the answer still names the model.
    const next =
      setting === 'auto'
        ? found
        : {
            profile: found.info.family === setting ? found.profile : configuredModel(setting).profile,
            info: { ...found.info, family: setting, source: 'configured' as const },
          };
    this.#profile = next.profile;
    this.session.layout = next.profile.layout;
    const changed = JSON.stringify(next.info) !== JSON.stringify(this.#model);
    this.#model = next.info;
    if (changed) this.#events.emit('model', next.info);
  }

  #speeds(speed: number | undefined): { panSpeed: number; tiltSpeed: number } {
    return { panSpeed: scaleSpeed(speed, 0x18), tiltSpeed: scaleSpeed(speed, 0x14) };
  }

  #bad(what: string, data: readonly number[]): RoomdError {
    return new RoomdError('device.protocol_error', {
      message: 'The camera sent an answer roomd does not understand.',
      context: { device: 'camera', inquiry: what, length: data.length },
    });
  }
}
