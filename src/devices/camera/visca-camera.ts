/**
 * VISCA camera driver (hardware brief, "PTZ camera control"): the Camera interface over a
 * supervised serial line (`/dev/serial/by-id/…` or `tcp://`) and a ViscaSession. A reopened
 * line gets an IF_Clear first, so the camera's sockets are known-empty.
 */
import type { Clock } from '../../core/clock.ts';
import { RoomdError } from '../../core/errors.ts';
import type { Unsubscribe } from '../../core/events.ts';
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
  parsePanTiltReply,
  parsePowerReply,
  parseZoomReply,
  ViscaSplitter,
} from './visca-codec.ts';
import { ViscaSession, type ViscaSessionOptions } from './visca-session.ts';

export interface ViscaCameraOptions extends Omit<ViscaSessionOptions, 'write' | 'clock'> {
  readonly stream: SupervisedStream;
  readonly clock: Clock;
}

export class ViscaCamera implements Camera {
  readonly kind = 'visca' as const;
  readonly session: ViscaSession;
  readonly #splitter = new ViscaSplitter();
  readonly #offs: Unsubscribe[] = [];

  constructor(o: ViscaCameraOptions) {
    const stream = o.stream;
    this.session = new ViscaSession({ ...o, write: (b) => stream.write(b) });
    this.#offs.push(
      stream.on('data', (bytes) => {
        for (const p of this.#splitter.push(bytes)) this.session.receive(decodeReply(p));
      }),
      stream.on('state', (s) => {
        if (s.state === 'disconnected' || s.state === 'stopped') this.session.abort(s.state);
      }),
      stream.on('open', () => this.session.clear()),
    );
  }

  get garbageBytes(): number {
    return this.#splitter.garbageBytes;
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
    await this.session.execute({ kind: 'preset', action: 'recall', preset: checkPreset(preset) });
  }

  async savePreset(preset: number): Promise<void> {
    await this.session.execute({ kind: 'preset', action: 'set', preset: checkPreset(preset) });
  }

  async clearPreset(preset: number): Promise<void> {
    await this.session.execute({ kind: 'preset', action: 'reset', preset: checkPreset(preset) });
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
    const p = parsePanTiltReply(pt);
    const zoom = parseZoomReply(z);
    if (p === null) throw this.#bad('pan-tilt-position', pt);
    if (zoom === null) throw this.#bad('zoom-position', z);
    return { ...p, zoom };
  }

  async close(): Promise<void> {
    for (const off of this.#offs.splice(0)) off();
    this.session.abort('closed');
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
