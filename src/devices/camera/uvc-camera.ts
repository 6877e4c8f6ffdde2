/**
 * UVC camera pan/tilt/zoom through V4L2 controls (docs/hardware.md §PTZ camera; the kernel's
 * uvcvideo driver owns the control interface, so we use `v4l2-ctl` behind the ProcessRunner seam,
 * never raw USB). Presets are kept by roomd (UVC has none). UVC has no continuous drive through
 * absolute controls: `drive` moves one step (1/20 of the range) per call; `stop` is a no-op.
 */
import { RoomdError } from '../../core/errors.ts';
import type { ProcessRunner } from '../../system/process.ts';
import { type Camera, type CameraPosition, type CameraPower, checkPreset, type PanTilt } from './camera.ts';
import type { PanTiltDirection } from './visca-codec.ts';

export interface ControlRange {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly value: number;
}

const CONTROLS = ['pan_absolute', 'tilt_absolute', 'zoom_absolute'] as const;
type ControlName = (typeof CONTROLS)[number];

/** Parse `v4l2-ctl --list-ctrls` output into the ranges of the integer controls. */
export function parseControlList(text: string): Map<string, ControlRange> {
  const out = new Map<string, ControlRange>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z0-9_]+)\s+0x[0-9a-f]+\s+\(int\)\s*:\s*(.*)$/.exec(line);
    if (m === null) continue;
    const field = (k: string) => {
      const f = new RegExp(`\\b${k}=(-?\\d+)`).exec(m[2]!);
      return f === null ? null : Number(f[1]);
    };
    const min = field('min');
    const max = field('max');
    const value = field('value');
    if (min === null || max === null || value === null) continue;
    out.set(m[1]!, { min, max, step: Math.max(1, field('step') ?? 1), value });
  }
  return out;
}

/** Parse `v4l2-ctl -C a -C b` output (`name: value` lines). */
export function parseGetControls(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z0-9_]+):\s*(-?\d+)\s*$/.exec(line);
    if (m !== null) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

export interface UvcCameraOptions {
  /** `/dev/v4l/by-id/…-video-index0` (stable) or `/dev/videoN`. */
  readonly device: string;
  readonly runner: ProcessRunner;
  readonly timeoutMs?: number;
}

export class UvcCamera implements Camera {
  readonly kind = 'uvc' as const;
  readonly device: string;
  readonly #runner: ProcessRunner;
  readonly #timeoutMs: number;
  readonly #presets = new Map<number, CameraPosition>();
  #ranges: Map<string, ControlRange> | null = null;

  constructor(o: UvcCameraOptions) {
    this.device = o.device;
    this.#runner = o.runner;
    this.#timeoutMs = o.timeoutMs ?? 3000;
  }

  async ranges(): Promise<Map<string, ControlRange>> {
    if (this.#ranges === null) this.#ranges = parseControlList(await this.#ctl(['--list-ctrls']));
    return this.#ranges;
  }

  async setPower(on: boolean): Promise<void> {
    if (!on)
      throw new RoomdError('device.unsupported', {
        message: 'This USB camera has no standby.',
        context: { device: 'camera' },
      });
    await this.ranges();
  }

  async getPower(): Promise<CameraPower> {
    await this.ranges();
    return 'on';
  }

  async recallPreset(preset: number): Promise<void> {
    const p = this.#presets.get(checkPreset(preset));
    if (p === undefined) {
      throw new RoomdError('device.protocol_error', {
        message: `Camera preset ${preset} is not set.`,
        context: { preset },
      });
    }
    await this.#set({ pan_absolute: p.pan, tilt_absolute: p.tilt, zoom_absolute: p.zoom });
  }

  async savePreset(preset: number): Promise<void> {
    this.#presets.set(checkPreset(preset), await this.position());
  }

  async clearPreset(preset: number): Promise<void> {
    this.#presets.delete(checkPreset(preset));
  }

  async moveTo(t: PanTilt): Promise<void> {
    await this.#set({ pan_absolute: t.pan, tilt_absolute: t.tilt });
  }

  async moveBy(d: PanTilt): Promise<void> {
    const p = await this.position();
    await this.#set({ pan_absolute: p.pan + d.pan, tilt_absolute: p.tilt + d.tilt });
  }

  async drive(direction: PanTiltDirection): Promise<void> {
    if (direction === 'stop') return;
    const r = await this.ranges();
    const step = (name: ControlName) => {
      const c = r.get(name);
      return c === undefined ? 0 : Math.max(c.step, Math.round((c.max - c.min) / 20 / c.step) * c.step);
    };
    const dx = direction.includes('left') ? -1 : direction.includes('right') ? 1 : 0;
    const dy = direction.includes('up') ? 1 : direction.includes('down') ? -1 : 0;
    await this.moveBy({ pan: dx * step('pan_absolute'), tilt: dy * step('tilt_absolute') });
  }

  async home(): Promise<void> {
    await this.#set({ pan_absolute: 0, tilt_absolute: 0 });
  }

  async zoom(action: 'tele' | 'wide' | 'stop'): Promise<void> {
    if (action === 'stop') return;
    const c = (await this.ranges()).get('zoom_absolute');
    if (c === undefined) throw this.#unsupported('zoom_absolute');
    const p = await this.position();
    const step = Math.max(c.step, Math.round((c.max - c.min) / 10));
    await this.#set({ zoom_absolute: p.zoom + (action === 'tele' ? step : -step) });
  }

  async zoomTo(position: number): Promise<void> {
    await this.#set({ zoom_absolute: position });
  }

  async position(): Promise<CameraPosition> {
    const r = await this.ranges();
    const present = CONTROLS.filter((c) => r.has(c));
    if (present.length === 0) return { pan: 0, tilt: 0, zoom: 0 };
    const got = parseGetControls(await this.#ctl(present.flatMap((c) => ['-C', c])));
    return {
      pan: got.get('pan_absolute') ?? 0,
      tilt: got.get('tilt_absolute') ?? 0,
      zoom: got.get('zoom_absolute') ?? 0,
    };
  }

  async close(): Promise<void> {}

  async #set(values: Partial<Record<ControlName, number>>): Promise<void> {
    const r = await this.ranges();
    const parts: string[] = [];
    for (const [name, v] of Object.entries(values) as [ControlName, number][]) {
      const c = r.get(name);
      if (c === undefined) {
        if (name === 'zoom_absolute' && Object.keys(values).length > 1) continue;
        throw this.#unsupported(name);
      }
      const snapped = c.min + Math.round((Math.trunc(v) - c.min) / c.step) * c.step;
      parts.push(`${name}=${Math.max(c.min, Math.min(c.max, snapped))}`);
    }
    if (parts.length > 0) await this.#ctl(['-c', parts.join(',')]);
  }

  async #ctl(args: string[]): Promise<string> {
    const r = await this.#runner.run('v4l2-ctl', ['-d', this.device, ...args], {
      timeoutMs: this.#timeoutMs,
    });
    if (r.timedOut) {
      throw new RoomdError('device.timeout', {
        message: 'The USB camera did not answer.',
        context: { device: this.device },
      });
    }
    if (r.code !== 0) {
      throw new RoomdError('device.unavailable', {
        message: 'The USB camera could not be controlled.',
        context: { device: this.device, code: r.code, stderr: r.stderr.slice(0, 200) },
      });
    }
    return r.stdout;
  }

  #unsupported(control: string): RoomdError {
    return new RoomdError('device.unsupported', {
      message: 'This USB camera cannot do that.',
      context: { device: this.device, control },
    });
  }
}
