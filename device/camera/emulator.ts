/**
 * VISCA camera emulator (device/README.md): answers the same bytes as a PTZ camera on address 1
 * with two command sockets: ACK, completion after a move time that depends on distance and
 * speed, inquiry answers, error replies (syntax, buffer full, not executable in standby,
 * cancelled by IF_Clear), presets by memory number, and scriptable faults (`silent`, `failNext`).
 *
 * Profiles stand for real models (docs/hardware.md §Conformance): `generic` (the default: a clone
 * that answers without Address Set and has no CAM_VersionInq), `sony-evi-d70` (EVI-D70: `VV WW`,
 * four pan nibbles, memories 0–5) and `sony-brc-h700` (BRC-H700: `VV 00`, five pan nibbles, silent
 * until it has an address, Network Change `z0 38 FF` when the chain changes).
 */
import { type Clock, SystemClock, type TimerHandle } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/events.ts';
import {
  decodeCommand,
  encodeReply,
  LAYOUT_BRC,
  LAYOUT_EVI,
  type PanTiltLayout,
  toNibbles,
  type ViscaCommand,
  type ViscaInquiry,
  type ViscaReply,
  ViscaSplitter,
} from '../../src/devices/camera/visca-codec.ts';
import type { ByteStream } from '../../src/transport/serial/stream.ts';

export interface ViscaEmulatorProfile {
  readonly name: string;
  /** CAM_VersionInq answer; null answers it with a syntax error. */
  readonly version: { vendor: number; model: number; rom: number } | null;
  readonly layout: PanTiltLayout;
  /** Memory numbers the camera stores: 0 … memories − 1; others are a syntax error. */
  readonly memories: number;
  /** Answers nothing (not even IF_Clear) until it has received Address Set. */
  readonly needsAddress: boolean;
  readonly panRange: readonly [number, number];
  readonly tiltRange: readonly [number, number];
}

export const EMULATOR_PROFILES = {
  generic: {
    name: 'generic VISCA camera',
    version: null,
    layout: LAYOUT_EVI,
    memories: 128,
    needsAddress: false,
    panRange: [-2448, 2448],
    tiltRange: [-432, 1296],
  },
  /** EVI-D70 Technical Manual: model 040E, vendor 0020; pan F725–08DB; memories 0–5. */
  'sony-evi-d70': {
    name: 'Sony EVI-D70',
    version: { vendor: 0x0020, model: 0x040e, rom: 0x0101 },
    layout: LAYOUT_EVI,
    memories: 6,
    needsAddress: false,
    panRange: [-2267, 2267],
    tiltRange: [-400, 1200],
  },
  /** BRC-H700 Command List: model 0501, vendor 0001; pan limits 0xF75A8–0x08A58 (20 bits). */
  'sony-brc-h700': {
    name: 'Sony BRC-H700',
    version: { vendor: 0x0001, model: 0x0501, rom: 0x0120 },
    layout: LAYOUT_BRC,
    memories: 16,
    needsAddress: true,
    panRange: [-0x8a58, 0x8a58],
    tiltRange: [-0x186a, 0x493d],
  },
} as const satisfies Record<string, ViscaEmulatorProfile>;

export type ViscaEmulatorProfileName = keyof typeof EMULATOR_PROFILES;

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
  /** Which camera to be; default `generic`. */
  readonly profile?: ViscaEmulatorProfileName;
  /**
   * Answer CAM_VersionInq as the profile says (default true); false answers it with a syntax
   * error, as a camera behind a converter that does not pass it on, or older firmware.
   */
  readonly answersVersion?: boolean;
}

export const PAN_RANGE = EMULATOR_PROFILES.generic.panRange;
export const TILT_RANGE = EMULATOR_PROFILES.generic.tiltRange;
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
  readonly profile: ViscaEmulatorProfile;
  /** The address Address Set gave this camera (null until then; preset for cameras that do not need it). */
  address: number | null;
  /** Addressed packets ignored because the camera had no address. */
  ignoredWithoutAddress = 0;
  readonly #clock: Clock;
  readonly #delay: number;
  readonly #ups: number;
  readonly #powerOnMs: number;
  readonly #answersVersion: boolean;
  readonly #splitter = new ViscaSplitter();
  readonly #sockets = new Map<number, TimerHandle>();
  #stream: ByteStream | null = null;
  #failNext: number | null = null;

  constructor(o: ViscaEmulatorOptions = {}) {
    this.#clock = o.clock ?? new SystemClock();
    this.#delay = o.replyDelayMs ?? 5;
    this.#ups = o.unitsPerSecond ?? 2000;
    this.#powerOnMs = o.powerOnMs ?? 300;
    this.profile = EMULATOR_PROFILES[o.profile ?? 'generic'];
    this.#answersVersion = o.answersVersion ?? true;
    this.address = this.profile.needsAddress ? null : 1;
  }

  /**
   * A device joined or left the chain: the camera sends Network Change `z0 38 FF` and (when its
   * profile needs Address Set) answers nothing until it is addressed again.
   */
  networkChange(): void {
    const from = this.address ?? 1;
    if (this.profile.needsAddress) this.address = null;
    this.#cancelAll();
    this.#send({ kind: 'network-change', address: from }, 0);
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
    const { address, command } = decodeCommand(p, this.profile.layout);
    this.events.emit('command', command);
    if (address === 8) {
      if (command?.kind === 'address-set') {
        // The first device takes the address in the packet and passes on address + 1.
        this.address = 1;
        this.#send({ kind: 'address-set', next: 2 });
      } else if (command?.kind === 'if-clear' && this.address !== null) {
        this.#cancelAll();
        this.#send({ kind: 'if-clear' });
      }
      return;
    }
    if (this.address === null) {
      this.ignoredWithoutAddress++;
      return;
    }
    if (address !== this.address) return;
    if (command === null || this.#badMemory(command)) {
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

  #badMemory(c: ViscaCommand): boolean {
    return c.kind === 'preset' && c.preset >= this.profile.memories;
  }

  #inquiry(what: ViscaInquiry): void {
    const s = this.state;
    if (what === 'version') {
      const v = this.#answersVersion ? this.profile.version : null;
      if (v === null) this.#send({ kind: 'error', address: 1, socket: 0, code: 0x02, name: '' });
      else {
        const w = (x: number) => [(x >> 8) & 0xff, x & 0xff];
        const data = [...w(v.vendor), ...w(v.model), ...w(v.rom), 2];
        this.#send({ kind: 'completion', address: 1, socket: 0, data });
      }
      return;
    }
    const data =
      what === 'power'
        ? [s.power === 'on' ? 2 : 3]
        : what === 'zoom-position'
          ? toNibbles(s.zoom)
          : [...toNibbles(s.pan, this.profile.layout.panNibbles), ...toNibbles(s.tilt)];
    this.#send({ kind: 'completion', address: 1, socket: 0, data });
  }

  /** Applies a command; returns how long the camera takes to finish it. */
  #run(c: ViscaCommand): number {
    const s = this.state;
    const moveTo = (pan: number, tilt: number, speed: number) => {
      const np = clamp(pan, this.profile.panRange);
      const nt = clamp(tilt, this.profile.tiltRange);
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
