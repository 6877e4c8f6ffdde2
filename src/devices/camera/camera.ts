/**
 * One camera interface for VISCA (serial) and UVC (V4L2) cameras (docs/hardware.md §PTZ camera). Positions
 * are in the camera's native units (VISCA position steps; UVC arc-seconds and zoom units); speeds are
 * fractions 0–1 mapped onto each protocol's range.
 */
import type { PanTiltDirection } from './visca-codec.ts';

export type { PanTiltDirection };

export interface PanTilt {
  readonly pan: number;
  readonly tilt: number;
}

export interface CameraPosition extends PanTilt {
  readonly zoom: number;
}

export type CameraPower = 'on' | 'standby';

export interface Camera {
  readonly kind: 'visca' | 'uvc';
  setPower(on: boolean): Promise<void>;
  getPower(): Promise<CameraPower>;
  recallPreset(preset: number): Promise<void>;
  savePreset(preset: number): Promise<void>;
  clearPreset(preset: number): Promise<void>;
  moveTo(target: PanTilt, speed?: number): Promise<void>;
  moveBy(delta: PanTilt, speed?: number): Promise<void>;
  /** Start (or with 'stop', end) a continuous move. */
  drive(direction: PanTiltDirection, speed?: number): Promise<void>;
  home(): Promise<void>;
  zoom(action: 'tele' | 'wide' | 'stop', speed?: number): Promise<void>;
  zoomTo(position: number): Promise<void>;
  position(): Promise<CameraPosition>;
  close(): Promise<void>;
}

/** Presets the panel and kiosk may use. */
export const MAX_PRESET = 127;

export function checkPreset(preset: number, max = MAX_PRESET): number {
  if (!Number.isInteger(preset) || preset < 0 || preset > max) {
    throw new RangeError(`Camera preset must be an integer from 0 to ${max}.`);
  }
  return preset;
}

export function scaleSpeed(speed: number | undefined, max: number): number {
  const s = speed === undefined || !Number.isFinite(speed) ? 0.5 : Math.max(0, Math.min(1, speed));
  return Math.max(1, Math.round(s * max));
}
