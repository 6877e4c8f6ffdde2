/**
 * VISCA camera emulator (issue 6, emulators): answers the same bytes as a PTZ camera on address 1
 * with two command sockets: ACK, completion after a move time that depends on distance and
 * speed, inquiry answers, error replies (syntax, buffer full, not executable in standby,
 * cancelled by IF_Clear), presets, and scriptable faults (`silent`, `failNext`).
 */
import { type Clock, SystemClock, type TimerHandle } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/events.ts';
import {
  decodeCommand,
  encodeReply,
  toNibbles,
  type ViscaCommand,
  type ViscaReply,
  ViscaSplitter,
} from '../../src/devices/camera/visca-codec.ts';
import type { ByteStream } from '../../src/transport/serial/stream.ts';

export interface CameraState {
  power: 'on' | 'standby';
  pan: number;
  tilt: number;
  zoom: number;
}

export interface ViscaEmulatorOptions {
  readonly clock?: Clock;
  /** Delay before ACK and inquiry answers; default 5 ms (a real camera takes a few ms). */
  readonly replyDelayMs?: number;
  /** Pan/tilt position units per second at full speed; default 2000. */
  readonly unitsPerSecond?: number;
  /** Power-on time; default 300 ms. */
  readonly powerOnMs?: number;
}

export const PAN_RANGE = [-2448, 2448] as const;
export const TILT_RANGE = [-432, 1296] as const;
export const ZOOM_RANGE = [0, 0x4000] as const;

export type ViscaEmulatorEvents = {
  command: ViscaCommand | null;
  moved: CameraState;
};

const clamp = (v: number, [lo, hi]: readonly [number, number]) => Math.max(lo, Math.min(hi, v));

export class ViscaEmulator {
  readonly events = new EventBus<ViscaEmulatorEvents>();
  readonly state: CameraState = { power: 'on', pan: 0, tilt: 0, zoom: 0 };
  readonly presets = new Map<number, { pan: number; tilt: number; zoom: number }>();
  /** When true the camera never answers (cable pulled on the camera side, wrong baud rate). */
  silent = false;
  readonly #clock: Clock;
  readonly #delay: number;
  readonly #ups: number;
  readonly #powerOnMs: number;
  readonly #splitter = new ViscaSplitter();
  readonly #sockets = new Map<number, TimerHandle>();
  #stream: ByteStream | null = null;
  #failNext: number | null = null;

  constructor(o: ViscaEmulatorOptions = {}) {
    this.#clock = o.clock ?? new SystemClock();
    this.#delay = o.replyDelayMs ?? 5;
    this.#ups = o.unitsPerSecond ?? 2000;
    this.#powerOnMs = o.powerOnMs ?? 300;
  }

  attach(stream: ByteStream): void {
    this.#stream = stream;
    stream.on('data', (bytes) => {
      for (const p of this.#splitter.push(bytes)) this.#handle(p);
    });
    stream.on('close', () => {
      if (this.#stream === stream) this.#stream = null;
      this.#cancelAll();
    });
  }

  /** The next command gets this VISCA error code (0x02, 0x03, 0x41 …) instead of running. */
  failNext(code: number): void {
    this.#failNext = code;
  }

  get busySockets(): number {
    return this.#sockets.size;
  }

  /** Raw bytes from the camera, outside any protocol exchange (garbage and soak tests). */
  sendRaw(bytes: Uint8Array): void {
    void this.#stream?.write(bytes).catch(() => {});
  }

  #send(r: ViscaReply, delay = this.#delay): void {
    const bytes = encodeReply(r);
    const go = () => void this.#stream?.write(bytes).catch(() => {});
    if (delay <= 0) go();
    else this.#clock.setTimeout(go, delay);
  }

  #cancelAll(): void {
    for (const t of this.#sockets.values()) this.#clock.clear(t);
    this.#sockets.clear();
  }

  #handle(p: Uint8Array): void {
    if (this.silent) return;
    const { address, command } = decodeCommand(p);
    this.events.emit('command', command);
    if (address === 8) {
      if (command?.kind === 'if-clear') {
        this.#cancelAll();
        this.#send({ kind: 'if-clear' });
      } else if (command?.kind === 'address-set') this.#send({ kind: 'address-set', next: 2 });
      return;
    }
    if (address !== 1) return;
    if (command === null) {
      this.#send({ kind: 'error', address: 1, socket: 0, code: 0x02, name: '' });
      return;
    }
    if (command.kind === 'inquiry') {
      this.#inquiry(command.what);
      return;
    }
    const fail = this.#failNext;
    this.#failNext = null;
    if (fail !== null && fail !== 0x41 && fail !== 0x04) {
      this.#send({ kind: 'error', address: 1, socket: 0, code: fail, name: '' });
      return;
    }
    const socket = [1, 2].find((s) => !this.#sockets.has(s));
    if (socket === undefined) {
      this.#send({ kind: 'error', address: 1, socket: 0, code: 0x03, name: '' });
      return;
    }
    this.#send({ kind: 'ack', address: 1, socket });
    const notExecutable = fail !== null || (this.state.power === 'standby' && command.kind !== 'power');
    if (notExecutable) {
      this.#send({ kind: 'error', address: 1, socket, code: fail ?? 0x41, name: '' }, this.#delay * 2);
      return;
    }
    const ms = this.#run(command);
    const t = this.#clock.setTimeout(() => {
      this.#sockets.delete(socket);
      this.#send({ kind: 'completion', address: 1, socket, data: [] }, 0);
    }, this.#delay + ms);
    this.#sockets.set(socket, t);
  }

  #inquiry(what: 'power' | 'zoom-position' | 'pan-tilt-position'): void {
    const s = this.state;
    const data =
      what === 'power'
        ? [s.power === 'on' ? 2 : 3]
        : what === 'zoom-position'
          ? toNibbles(s.zoom)
          : [...toNibbles(s.pan), ...toNibbles(s.tilt)];
    this.#send({ kind: 'completion', address: 1, socket: 0, data });
  }

  /** Applies a command; returns how long the camera takes to finish it. */
  #run(c: ViscaCommand): number {
    const s = this.state;
    const moveTo = (pan: number, tilt: number, speed: number) => {
      const np = clamp(pan, PAN_RANGE);
      const nt = clamp(tilt, TILT_RANGE);
      const dist = Math.max(Math.abs(np - s.pan), Math.abs(nt - s.tilt));
      s.pan = np;
      s.tilt = nt;
      this.events.emit('moved', { ...s });
      return Math.round((dist / (this.#ups * speed)) * 1000);
    };
    switch (c.kind) {
      case 'power': {
        const was = s.power;
        s.power = c.on ? 'on' : 'standby';
        return c.on && was === 'standby' ? this.#powerOnMs : 10;
      }
      case 'zoom': {
        if (c.action !== 'stop') s.zoom = c.action === 'tele' ? ZOOM_RANGE[1] : ZOOM_RANGE[0];
        this.events.emit('moved', { ...s });
        return 10;
      }
      case 'zoom-direct':
        s.zoom = clamp(c.position, ZOOM_RANGE);
        this.events.emit('moved', { ...s });
        return 100;
      case 'pan-tilt-drive':
        return 10;
      case 'pan-tilt-absolute':
        return moveTo(c.pan, c.tilt, c.panSpeed / 0x18);
      case 'pan-tilt-relative':
        return moveTo(s.pan + c.pan, s.tilt + c.tilt, c.panSpeed / 0x18);
      case 'pan-tilt-home':
        return moveTo(0, 0, 1);
      case 'pan-tilt-reset':
        return moveTo(0, 0, 1) + 500;
      case 'preset': {
        if (c.action === 'set') this.presets.set(c.preset, { pan: s.pan, tilt: s.tilt, zoom: s.zoom });
        else if (c.action === 'reset') this.presets.delete(c.preset);
        else {
          const p = this.presets.get(c.preset) ?? { pan: 0, tilt: 0, zoom: 0 };
          s.zoom = p.zoom;
          return moveTo(p.pan, p.tilt, 1);
        }
        return 20;
      }
      default:
        return 10;
    }
  }
}
