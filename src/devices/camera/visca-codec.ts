/**
 * VISCA codec (docs/hardware.md §PTZ camera): typed commands ↔ packets `8x … FF`, and
 * replies `y0 4s FF` (ACK), `y0 5s … FF` (completion / inquiry answer), `y0 6s ee FF` (error),
 * plus the broadcast IF_Clear and Address Set answers and the camera's Network Change `z0 38 FF`.
 * Packets are at most 16 bytes; the splitter drops longer runs and counts them. Positions are
 * nibble-encoded two's-complement values; the pan/tilt position commands differ per model family
 * (`PanTiltLayout`, docs/hardware.md §Conformance).
 */
import { RoomdError } from '../../core/errors.ts';

export const MAX_PACKET = 16;

export type PanTiltDirection =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'up-left'
  | 'up-right'
  | 'down-left'
  | 'down-right'
  | 'stop';

export type ViscaInquiry = 'power' | 'zoom-position' | 'pan-tilt-position' | 'version';

/**
 * How a model family lays out AbsolutePosition/RelativePosition (`8x 01 06 02|03 …`) and the
 * Pan-tiltPosInq answer:
 * - EVI-D70/D80/D90, SRG-300H, FCB: `VV WW 0Y×4 0Z×4` (EVI-D70 Technical Manual, Command List 4/4);
 * - BRC-H700/Z700/300: `VV 00 0Y×5 0Z×4`, one speed for both axes and a 20-bit pan
 *   (BRC-H700 Command List 4/5; answer `y0 50 0p…0t 0u…0x FF`, BRC-300 Inquiry List 2/2);
 * - SRG-X400/X120: `vv 00 0p×4 0t×4` (SRG-X400 Command List 7/8).
 */
export interface PanTiltLayout {
  readonly panNibbles: 4 | 5;
  /** The byte after the pan speed is a tilt speed (`WW`); otherwise it is `00`. */
  readonly tiltSpeed: boolean;
}

export const LAYOUT_EVI: PanTiltLayout = { panNibbles: 4, tiltSpeed: true };
export const LAYOUT_BRC: PanTiltLayout = { panNibbles: 5, tiltSpeed: false };
export const LAYOUT_SRG_X: PanTiltLayout = { panNibbles: 4, tiltSpeed: false };

/** CAM_VersionInq answer `y0 50 GG GG HH HH JJ JJ KK FF`: vendor, model, ROM, sockets. */
export interface ViscaVersion {
  readonly vendor: number;
  readonly model: number;
  readonly rom: number;
  readonly sockets: number;
}

export type ViscaCommand =
  | { kind: 'power'; on: boolean }
  | { kind: 'zoom'; action: 'stop' | 'tele' | 'wide'; speed?: number }
  | { kind: 'zoom-direct'; position: number }
  | { kind: 'pan-tilt-drive'; direction: PanTiltDirection; panSpeed: number; tiltSpeed: number }
  | { kind: 'pan-tilt-absolute'; pan: number; tilt: number; panSpeed: number; tiltSpeed: number }
  | { kind: 'pan-tilt-relative'; pan: number; tilt: number; panSpeed: number; tiltSpeed: number }
  | { kind: 'pan-tilt-home' }
  | { kind: 'pan-tilt-reset' }
  | { kind: 'preset'; action: 'reset' | 'set' | 'recall'; preset: number }
  | { kind: 'inquiry'; what: ViscaInquiry }
  | { kind: 'address-set' }
  | { kind: 'if-clear' };

export const VISCA_ERRORS = {
  1: 'message length error',
  2: 'syntax error',
  3: 'command buffer full',
  4: 'command cancelled',
  5: 'no socket',
  65: 'command not executable',
} as const satisfies Record<number, string>;

export type ViscaReply =
  | { kind: 'ack'; address: number; socket: number }
  | { kind: 'completion'; address: number; socket: number; data: number[] }
  | { kind: 'error'; address: number; socket: number; code: number; name: string }
  | { kind: 'address-set'; next: number }
  | { kind: 'if-clear' }
  | { kind: 'network-change'; address: number }
  | { kind: 'unknown'; bytes: number[] };

const DRIVE: Record<PanTiltDirection, [number, number]> = {
  up: [3, 1],
  down: [3, 2],
  left: [1, 3],
  right: [2, 3],
  'up-left': [1, 1],
  'up-right': [2, 1],
  'down-left': [1, 2],
  'down-right': [2, 2],
  stop: [3, 3],
};

function range(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RoomdError('core.invalid_argument', {
      message: `VISCA ${name} must be an integer from ${min} to ${max}.`,
      context: { name, value: v },
    });
  }
  return v;
}

/** Value → `count` nibbles, most significant first (two's complement for negatives). */
export function toNibbles(v: number, count: 4 | 5 = 4): number[] {
  const out: number[] = [];
  for (let i = count - 1; i >= 0; i--) out.push(Math.floor(v / 16 ** i) & 0xf);
  return out;
}

/** Nibbles (4 or 5, most significant first) → value; `signed` reads two's complement. */
export function fromNibbles(n: readonly number[], signed: boolean): number {
  let u = 0;
  for (const x of n) u = u * 16 + (x & 0xf);
  const top = 16 ** n.length;
  return signed && u >= top / 2 ? u - top : u;
}

function panRange(layout: PanTiltLayout): [number, number] {
  return layout.panNibbles === 5 ? [-0x80000, 0x7ffff] : [-32768, 32767];
}

function body(c: ViscaCommand, layout: PanTiltLayout): number[] {
  switch (c.kind) {
    case 'power':
      return [0x01, 0x04, 0x00, c.on ? 0x02 : 0x03];
    case 'zoom': {
      if (c.action === 'stop') return [0x01, 0x04, 0x07, 0x00];
      const base = c.action === 'tele' ? 0x20 : 0x30;
      if (c.speed === undefined) return [0x01, 0x04, 0x07, base === 0x20 ? 0x02 : 0x03];
      return [0x01, 0x04, 0x07, base | range('zoom speed', c.speed, 0, 7)];
    }
    case 'zoom-direct':
      return [0x01, 0x04, 0x47, ...toNibbles(range('zoom position', c.position, 0, 0xffff))];
    case 'pan-tilt-drive':
      return [
        0x01,
        0x06,
        0x01,
        range('pan speed', c.panSpeed, 1, 0x18),
        range('tilt speed', c.tiltSpeed, 1, 0x14),
        ...DRIVE[c.direction],
      ];
    case 'pan-tilt-absolute':
    case 'pan-tilt-relative': {
      const [lo, hi] = panRange(layout);
      return [
        0x01,
        0x06,
        c.kind === 'pan-tilt-absolute' ? 0x02 : 0x03,
        range('pan speed', c.panSpeed, 1, 0x18),
        layout.tiltSpeed ? range('tilt speed', c.tiltSpeed, 1, 0x14) : 0x00,
        ...toNibbles(range('pan', c.pan, lo, hi), layout.panNibbles),
        ...toNibbles(range('tilt', c.tilt, -32768, 32767)),
      ];
    }
    case 'pan-tilt-home':
      return [0x01, 0x06, 0x04];
    case 'pan-tilt-reset':
      return [0x01, 0x06, 0x05];
    case 'preset':
      return [0x01, 0x04, 0x3f, { reset: 0, set: 1, recall: 2 }[c.action], range('preset', c.preset, 0, 127)];
    case 'inquiry':
      return c.what === 'power'
        ? [0x09, 0x04, 0x00]
        : c.what === 'zoom-position'
          ? [0x09, 0x04, 0x47]
          : c.what === 'version'
            ? [0x09, 0x00, 0x02]
            : [0x09, 0x06, 0x12];
    case 'address-set':
      return [0x30, 0x01];
    case 'if-clear':
      return [0x01, 0x00, 0x01];
  }
}

export function encodeCommand(c: ViscaCommand, address = 1, layout: PanTiltLayout = LAYOUT_EVI): Uint8Array {
  if (c.kind === 'address-set' || c.kind === 'if-clear')
    return Uint8Array.from([0x88, ...body(c, layout), 0xff]);
  range('camera address', address, 1, 7);
  return Uint8Array.from([0x80 | address, ...body(c, layout), 0xff]);
}

export function isInquiry(c: ViscaCommand): boolean {
  return c.kind === 'inquiry';
}

/** Splits a byte stream into FF-terminated packets; runs longer than MAX_PACKET are dropped. */
export class ViscaSplitter {
  #buf: number[] = [];
  #overlong = false;
  garbageBytes = 0;

  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const b of chunk) {
      if (b === 0xff) {
        if (this.#overlong) this.garbageBytes++;
        else if (this.#buf.length > 0) out.push(Uint8Array.from([...this.#buf, 0xff]));
        else this.garbageBytes++;
        this.#buf = [];
        this.#overlong = false;
        continue;
      }
      if (this.#overlong) {
        this.garbageBytes++;
        continue;
      }
      // A header byte (bit 7 set) in the middle starts a new packet: resynchronise — except in the
      // data of a `y0 50` answer's first seven bytes, which CAM_VersionInq fills with whole bytes
      // (vendor, model, ROM: `GG GG HH HH JJ JJ KK`), not nibbles (docs/hardware.md §Conformance).
      const wholeBytes = this.#buf.length >= 2 && this.#buf.length <= 8 && this.#buf[1] === 0x50;
      if ((b & 0x80) !== 0 && this.#buf.length > 0 && !wholeBytes) {
        this.garbageBytes += this.#buf.length;
        this.#buf = [];
      }
      this.#buf.push(b);
      if (this.#buf.length >= MAX_PACKET) {
        this.garbageBytes += this.#buf.length;
        this.#buf = [];
        this.#overlong = true;
      }
    }
    return out;
  }
}

/** One packet from the camera (including its FF). */
export function decodeReply(p: Uint8Array): ViscaReply {
  const bytes = [...p];
  const h = p[0] ?? 0;
  if (p.length < 3 || p[p.length - 1] !== 0xff) return { kind: 'unknown', bytes };
  if (h === 0x88) {
    if (p.length === 4 && p[1] === 0x30 && p[2]! <= 0x0f) return { kind: 'address-set', next: p[2]! };
    if (p.length === 5 && p[1] === 0x01 && p[2] === 0x00 && p[3] === 0x01) return { kind: 'if-clear' };
    return { kind: 'unknown', bytes };
  }
  if ((h & 0x8f) !== 0x80) return { kind: 'unknown', bytes };
  const address = (h >> 4) - 8;
  if (address < 1 || address > 7) return { kind: 'unknown', bytes };
  const t = p[1]!;
  const socket = t & 0x0f;
  if (p.length === 3 && t === 0x38) return { kind: 'network-change', address };
  switch (t & 0xf0) {
    case 0x40:
      return p.length === 3 ? { kind: 'ack', address, socket } : { kind: 'unknown', bytes };
    case 0x50:
      return { kind: 'completion', address, socket, data: bytes.slice(2, -1) };
    case 0x60: {
      if (p.length !== 4) return { kind: 'unknown', bytes };
      const code = p[2]!;
      const name = (VISCA_ERRORS as Record<number, string>)[code] ?? `error 0x${code.toString(16)}`;
      return { kind: 'error', address, socket, code, name };
    }
    default:
      return { kind: 'unknown', bytes };
  }
}

export function encodeReply(r: ViscaReply): Uint8Array {
  const h = (a: number) => ((a + 8) << 4) & 0xff;
  switch (r.kind) {
    case 'ack':
      return Uint8Array.of(h(r.address), 0x40 | r.socket, 0xff);
    case 'completion':
      return Uint8Array.of(h(r.address), 0x50 | r.socket, ...r.data, 0xff);
    case 'error':
      return Uint8Array.of(h(r.address), 0x60 | r.socket, r.code, 0xff);
    case 'address-set':
      return Uint8Array.of(0x88, 0x30, r.next, 0xff);
    case 'if-clear':
      return Uint8Array.of(0x88, 0x01, 0x00, 0x01, 0xff);
    case 'network-change':
      return Uint8Array.of(h(r.address), 0x38, 0xff);
    case 'unknown':
      return Uint8Array.from(r.bytes);
  }
}

export type DecodedCommand = { address: number; command: ViscaCommand } | { address: number; command: null };

const DIRS = new Map(Object.entries(DRIVE).map(([k, [a, b]]) => [`${a},${b}`, k as PanTiltDirection]));

/**
 * Camera side: one packet from the host → the command, or null command for a syntax error.
 * `layout` is the camera's own pan/tilt position layout (a BRC reads `VV 00` and five pan nibbles).
 */
export function decodeCommand(p: Uint8Array, layout: PanTiltLayout = LAYOUT_EVI): DecodedCommand {
  const h = p[0] ?? 0;
  const address = h === 0x88 ? 8 : h & 0x0f;
  const none = { address, command: null };
  if (p.length < 3 || p[p.length - 1] !== 0xff || (h & 0xf0) !== 0x80) return none;
  const b = [...p.subarray(1, -1)];
  const key = b
    .slice(0, 3)
    .map((x) => x.toString(16).padStart(2, '0'))
    .join('');
  const nib = (i: number, n = 4) => b.slice(i, i + n);
  const nibOk = (i: number, n = 4) => nib(i, n).length === n && nib(i, n).every((x) => x <= 0x0f);
  const pn = layout.panNibbles;
  if (h === 0x88) {
    if (b.length === 2 && b[0] === 0x30 && b[1] === 0x01)
      return { address, command: { kind: 'address-set' } };
    if (b.length === 3 && key === '010001') return { address, command: { kind: 'if-clear' } };
    return none;
  }
  const cmd = ((): ViscaCommand | null => {
    if (key === '010400' && b.length === 4 && (b[3] === 2 || b[3] === 3))
      return { kind: 'power', on: b[3] === 2 };
    if (key === '010407' && b.length === 4) {
      const v = b[3]!;
      if (v === 0) return { kind: 'zoom', action: 'stop' };
      if (v === 2) return { kind: 'zoom', action: 'tele' };
      if (v === 3) return { kind: 'zoom', action: 'wide' };
      if ((v & 0xf0) === 0x20 && (v & 0xf) <= 7) return { kind: 'zoom', action: 'tele', speed: v & 0xf };
      if ((v & 0xf0) === 0x30 && (v & 0xf) <= 7) return { kind: 'zoom', action: 'wide', speed: v & 0xf };
      return null;
    }
    if (key === '010447' && b.length === 7 && nibOk(3))
      return { kind: 'zoom-direct', position: fromNibbles(nib(3), false) };
    if (key === '010601' && b.length === 7) {
      const dir = DIRS.get(`${b[5]},${b[6]}`);
      const ps = b[3]!;
      const ts = b[4]!;
      if (dir === undefined || ps < 1 || ps > 0x18 || ts < 1 || ts > 0x14) return null;
      return { kind: 'pan-tilt-drive', direction: dir, panSpeed: ps, tiltSpeed: ts };
    }
    if ((key === '010602' || key === '010603') && b.length === 9 + pn && nibOk(5, pn) && nibOk(5 + pn)) {
      const ps = b[3]!;
      const ts = b[4]!;
      if (ps < 1 || ps > 0x18) return null;
      if (layout.tiltSpeed ? ts < 1 || ts > 0x14 : ts !== 0) return null;
      return {
        kind: key === '010602' ? 'pan-tilt-absolute' : 'pan-tilt-relative',
        panSpeed: ps,
        tiltSpeed: layout.tiltSpeed ? ts : ps,
        pan: fromNibbles(nib(5, pn), true),
        tilt: fromNibbles(nib(5 + pn), true),
      };
    }
    if (key === '010604' && b.length === 3) return { kind: 'pan-tilt-home' };
    if (key === '010605' && b.length === 3) return { kind: 'pan-tilt-reset' };
    if (key === '01043f' && b.length === 5 && b[3]! <= 2 && b[4]! <= 127) {
      return { kind: 'preset', action: (['reset', 'set', 'recall'] as const)[b[3]!]!, preset: b[4]! };
    }
    if (b.length === 3 && key === '090400') return { kind: 'inquiry', what: 'power' };
    if (b.length === 3 && key === '090447') return { kind: 'inquiry', what: 'zoom-position' };
    if (b.length === 3 && key === '090612') return { kind: 'inquiry', what: 'pan-tilt-position' };
    if (b.length === 3 && key === '090002') return { kind: 'inquiry', what: 'version' };
    return null;
  })();
  return { address, command: cmd };
}

/** Inquiry answers (the data of a socket-0 completion). */
export function parsePowerReply(data: readonly number[]): 'on' | 'standby' | null {
  return data.length === 1 && data[0] === 2 ? 'on' : data.length === 1 && data[0] === 3 ? 'standby' : null;
}

export function parseZoomReply(data: readonly number[]): number | null {
  return data.length === 4 && data.every((x) => x <= 0xf) ? fromNibbles(data, false) : null;
}

export function parsePanTiltReply(
  data: readonly number[],
  panNibbles: 4 | 5 = 4,
): { pan: number; tilt: number } | null {
  if (data.length !== panNibbles + 4 || !data.every((x) => x <= 0xf)) return null;
  return {
    pan: fromNibbles(data.slice(0, panNibbles), true),
    tilt: fromNibbles(data.slice(panNibbles), true),
  };
}

/** CAM_VersionInq data `GG GG HH HH JJ JJ KK` (whole bytes, not nibbles). */
export function parseVersionReply(data: readonly number[]): ViscaVersion | null {
  if (data.length !== 7) return null;
  const w = (i: number) => (data[i]! << 8) | data[i + 1]!;
  return { vendor: w(0), model: w(2), rom: w(4), sockets: data[6]! };
}
