/**
 * The camera the rest of roomd holds (docs/hardware.md §Device manager): one stable Camera object that
 * forwards to whichever driver is currently connected, fails fast with `device.unavailable`
 * while there is none, and reports each call's outcome so the manager can keep the camera's
 * state honest (an error reply → degraded, a later success → ready).
 */
import { RoomdError } from '../core/errors.ts';
import type { Camera, CameraPosition, CameraPower, PanTilt, PanTiltDirection } from './camera/camera.ts';

export class ManagedCamera implements Camera {
  #target: Camera | null = null;
  #kind: 'visca' | 'uvc';
  readonly #onResult: (error: unknown | null) => void;

  constructor(kind: 'visca' | 'uvc', onResult: (error: unknown | null) => void) {
    this.#kind = kind;
    this.#onResult = onResult;
  }

  get kind(): 'visca' | 'uvc' {
    return this.#kind;
  }

  get connected(): boolean {
    return this.#target !== null;
  }

  attach(camera: Camera | null): void {
    this.#target = camera;
    if (camera !== null) this.#kind = camera.kind;
  }

  async #call<T>(fn: (c: Camera) => Promise<T>): Promise<T> {
    const c = this.#target;
    if (c === null)
      throw new RoomdError('device.unavailable', {
        message: 'The camera is not connected.',
        context: { device: 'camera' },
      });
    try {
      const v = await fn(c);
      this.#onResult(null);
      return v;
    } catch (e) {
      this.#onResult(e);
      throw e;
    }
  }

  setPower(on: boolean): Promise<void> {
    return this.#call((c) => c.setPower(on));
  }
  getPower(): Promise<CameraPower> {
    return this.#call((c) => c.getPower());
  }
  recallPreset(preset: number): Promise<void> {
    return this.#call((c) => c.recallPreset(preset));
  }
  savePreset(preset: number): Promise<void> {
    return this.#call((c) => c.savePreset(preset));
  }
  clearPreset(preset: number): Promise<void> {
    return this.#call((c) => c.clearPreset(preset));
  }
  moveTo(target: PanTilt, speed?: number): Promise<void> {
    return this.#call((c) => c.moveTo(target, speed));
  }
  moveBy(delta: PanTilt, speed?: number): Promise<void> {
    return this.#call((c) => c.moveBy(delta, speed));
  }
  drive(direction: PanTiltDirection, speed?: number): Promise<void> {
    return this.#call((c) => c.drive(direction, speed));
  }
  home(): Promise<void> {
    return this.#call((c) => c.home());
  }
  zoom(action: 'tele' | 'wide' | 'stop', speed?: number): Promise<void> {
    return this.#call((c) => c.zoom(action, speed));
  }
  zoomTo(position: number): Promise<void> {
    return this.#call((c) => c.zoomTo(position));
  }
  position(): Promise<CameraPosition> {
    return this.#call((c) => c.position());
  }
  async close(): Promise<void> {
    const c = this.#target;
    this.#target = null;
    await c?.close();
  }
}
