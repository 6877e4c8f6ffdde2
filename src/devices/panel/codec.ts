/**
 * Nextion HMI wire codec (hardware brief, "Touch panel"): instructions out (ASCII, terminated by
 * FF FF FF, text escaped and length-limited) and return frames in (binary, terminated by
 * FF FF FF). The parser is length-aware for fixed-size frames (a number frame may contain FF),
 * resynchronises after the next FF FF FF on anything it does not understand, counts the bytes it
 * skips, and never holds more than MAX_BUFFER bytes.
 */
import { RoomdError } from '../../core/errors.ts';

export const TERMINATOR = Uint8Array.of(0xff, 0xff, 0xff);
/** The panel's serial instruction buffer is 1024 bytes; one instruction must fit well inside. */
export const MAX_INSTRUCTION_BYTES = 1000;
/** Longest string (0x70) payload we accept. */
export const MAX_STRING_BYTES = 255;
export const MAX_BUFFER = 512;

export const ERROR_NAMES = {
  0: 'invalid instruction',
  2: 'invalid component id',
  3: 'invalid page id',
  4: 'invalid picture id',
  5: 'invalid font id',
  26: 'invalid variable name or attribute',
  27: 'invalid variable operation',
  28: 'assignment failed',
  30: 'invalid parameter count',
  32: 'invalid escape character',
  35: 'variable name too long',
  36: 'serial buffer overflow',
} as const satisfies Record<number, string>;

export type NextionErrorCode = keyof typeof ERROR_NAMES;

export type NextionFrame =
  | { kind: 'touch'; page: number; component: number; pressed: boolean }
  | { kind: 'page'; page: number }
  | { kind: 'coords'; x: number; y: number; pressed: boolean; asleep: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'sleep' }
  | { kind: 'wake' }
  | { kind: 'startup' }
  | { kind: 'ready' }
  | { kind: 'upgrade' }
  | { kind: 'transparent-ready' }
  | { kind: 'transparent-done' }
  | { kind: 'ok' }
  | { kind: 'error'; code: NextionErrorCode; name: string };

/** Payload length of fixed-size frames by first byte (excluding code and terminator). */
const FIXED: ReadonlyMap<number, number> = new Map([
  [0x65, 3],
  [0x66, 1],
  [0x67, 5],
  [0x68, 5],
  [0x71, 4],
  [0x86, 0],
  [0x87, 0],
  [0x88, 0],
  [0x89, 0],
  [0xfd, 0],
  [0xfe, 0],
  [0x01, 0],
  ...Object.keys(ERROR_NAMES).map((k): [number, number] => [Number(k), 0]),
]);

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Text → panel bytes (ISO-8859-1); characters outside it become '?'. */
export function encodeLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i] = c <= 0xfe ? c : 0x3f;
  }
  return out;
}

/**
 * Quote a text value for `obj.txt="…"`: control characters dropped (newline becomes the panel's
 * `\r`), quotes and backslashes escaped, cut to `maxChars` characters before escaping so an
 * escape is never split.
 */
export function quoteText(value: string, maxChars: number): string {
  let clean = '';
  for (const ch of value.replace(/\r\n?/g, '\n')) {
    const c = ch.codePointAt(0)!;
    if (ch === '\n' || c >= 0x20) clean += c > 0xfe ? '?' : ch;
  }
  const cut = [...clean].slice(0, Math.max(0, maxChars));
  let out = '"';
  for (const ch of cut) {
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\r';
    else out += ch;
  }
  return `${out}"`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,28}(\.[A-Za-z_][A-Za-z0-9_]{0,28})?$/;

export function assertName(name: string): void {
  if (!NAME.test(name)) {
    throw new RoomdError('core.invalid_argument', {
      message: `Not a panel object name: ${name}`,
      context: { name },
    });
  }
}

/** One instruction to bytes; throws `core.invalid_argument` if it is too long or holds FF. */
export function encodeInstruction(text: string): Uint8Array {
  const body = encodeLatin1(text);
  if (body.length === 0 || body.length > MAX_INSTRUCTION_BYTES) {
    throw new RoomdError('core.invalid_argument', {
      message: `A panel instruction must be 1–${MAX_INSTRUCTION_BYTES} bytes.`,
      context: { length: body.length },
    });
  }
  const out = new Uint8Array(body.length + 3);
  out.set(body, 0);
  out.set(TERMINATOR, body.length);
  return out;
}

/** Instruction builders; names are checked, values escaped. */
export const ins = {
  setText(obj: string, value: string, maxChars: number): string {
    assertName(obj);
    return `${obj}.txt=${quoteText(value, maxChars)}`;
  },
  setNumber(objAttr: string, value: number): string {
    assertName(objAttr);
    const v = Math.trunc(Number.isFinite(value) ? value : 0);
    return `${objAttr}=${Math.max(-2147483648, Math.min(2147483647, v))}`;
  },
  visible(obj: string, on: boolean): string {
    assertName(obj);
    return `vis ${obj},${on ? 1 : 0}`;
  },
  page(id: number): string {
    return `page ${Math.max(0, Math.min(255, Math.trunc(id)))}`;
  },
  get(objAttr: string): string {
    assertName(objAttr);
    return `get ${objAttr}`;
  },
  bkcmd(level: 0 | 1 | 2 | 3): string {
    return `bkcmd=${level}`;
  },
  dim(percent: number): string {
    return `dim=${Math.max(0, Math.min(100, Math.round(percent)))}`;
  },
  sendme: 'sendme',
  reset: 'rest',
  connect: 'connect',
} as const;

/** RGB (0–255 each) → the panel's RGB565 colour number. */
export function rgb565(r: number, g: number, b: number): number {
  return ((r & 0xf8) << 8) | ((g & 0xfc) << 3) | (b >> 3);
}

/** Frame → bytes (used by the emulator and by round-trip tests). */
export function encodeFrame(f: NextionFrame): Uint8Array {
  const body: number[] = [];
  switch (f.kind) {
    case 'touch':
      body.push(0x65, f.page & 0xff, f.component & 0xff, f.pressed ? 1 : 0);
      break;
    case 'page':
      body.push(0x66, f.page & 0xff);
      break;
    case 'coords':
      body.push(
        f.asleep ? 0x68 : 0x67,
        (f.x >> 8) & 0xff,
        f.x & 0xff,
        (f.y >> 8) & 0xff,
        f.y & 0xff,
        f.pressed ? 1 : 0,
      );
      break;
    case 'string':
      body.push(0x70, ...encodeLatin1(f.value).subarray(0, MAX_STRING_BYTES));
      break;
    case 'number': {
      const v = f.value | 0;
      body.push(0x71, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
      break;
    }
    case 'sleep':
      body.push(0x86);
      break;
    case 'wake':
      body.push(0x87);
      break;
    case 'ready':
      body.push(0x88);
      break;
    case 'upgrade':
      body.push(0x89);
      break;
    case 'startup':
      body.push(0x00, 0x00, 0x00);
      break;
    case 'transparent-ready':
      body.push(0xfd);
      break;
    case 'transparent-done':
      body.push(0xfe);
      break;
    case 'ok':
      body.push(0x01);
      break;
    case 'error':
      body.push(f.code);
      break;
  }
  return Uint8Array.from([...body, 0xff, 0xff, 0xff]);
}

function decodeFixed(code: number, p: Uint8Array): NextionFrame {
  switch (code) {
    case 0x65:
      return { kind: 'touch', page: p[0]!, component: p[1]!, pressed: p[2] !== 0 };
    case 0x66:
      return { kind: 'page', page: p[0]! };
    case 0x67:
    case 0x68:
      return {
        kind: 'coords',
        x: (p[0]! << 8) | p[1]!,
        y: (p[2]! << 8) | p[3]!,
        pressed: p[4] !== 0,
        asleep: code === 0x68,
      };
    case 0x71:
      return { kind: 'number', value: p[0]! | (p[1]! << 8) | (p[2]! << 16) | (p[3]! << 24) };
    case 0x86:
      return { kind: 'sleep' };
    case 0x87:
      return { kind: 'wake' };
    case 0x88:
      return { kind: 'ready' };
    case 0x89:
      return { kind: 'upgrade' };
    case 0xfd:
      return { kind: 'transparent-ready' };
    case 0xfe:
      return { kind: 'transparent-done' };
    case 0x01:
      return { kind: 'ok' };
    default: {
      const c = code as NextionErrorCode;
      return { kind: 'error', code: c, name: ERROR_NAMES[c] };
    }
  }
}

function isTerm(buf: Uint8Array, at: number): boolean {
  return buf[at] === 0xff && buf[at + 1] === 0xff && buf[at + 2] === 0xff;
}

function findTerm(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 2 < end; i++) if (isTerm(buf, i)) return i;
  return -1;
}

/** Incremental return-frame parser. */
export class NextionParser {
  #buf = new Uint8Array(MAX_BUFFER + 64);
  #len = 0;
  /** Bytes skipped as garbage since construction. */
  garbageBytes = 0;
  /** True while discarding an over-long frame until the next terminator. */
  #discarding = false;

  get buffered(): number {
    return this.#len;
  }

  push(chunk: Uint8Array): NextionFrame[] {
    const out: NextionFrame[] = [];
    for (let off = 0; off < chunk.length; ) {
      const room = this.#buf.length - this.#len;
      if (room === 0) this.#dropAll();
      const n = Math.min(chunk.length - off, this.#buf.length - this.#len);
      this.#buf.set(chunk.subarray(off, off + n), this.#len);
      this.#len += n;
      off += n;
      this.#drain(out);
    }
    return out;
  }

  #consume(n: number): void {
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
  }

  #skipTo(from: number): boolean {
    let t = findTerm(this.#buf, from, this.#len);
    if (t < 0) return false;
    // In a run of more than three FF the terminator is the last three.
    while (t + 3 < this.#len && this.#buf[t + 3] === 0xff) t++;
    this.garbageBytes += t + 3;
    this.#consume(t + 3);
    return true;
  }

  /** Drop everything but a possible partial terminator. */
  #dropAll(): void {
    let keep = 0;
    while (keep < 2 && keep < this.#len && this.#buf[this.#len - 1 - keep] === 0xff) keep++;
    this.garbageBytes += this.#len - keep;
    this.#consume(this.#len - keep);
    this.#discarding = true;
  }

  #drain(out: NextionFrame[]): void {
    for (;;) {
      const buf = this.#buf;
      const len = this.#len;
      if (len === 0) return;
      if (this.#discarding) {
        const t = findTerm(buf, 0, len);
        if (t < 0) {
          if (len > MAX_BUFFER) this.#dropAll();
          return;
        }
        this.garbageBytes += t + 3;
        this.#consume(t + 3);
        this.#discarding = false;
        continue;
      }
      const code = buf[0]!;
      if (code === 0x00 && len >= 2 && buf[1] === 0x00) {
        if (len < 6) return;
        if (buf[2] === 0x00 && isTerm(buf, 3)) {
          out.push({ kind: 'startup' });
          this.#consume(6);
        } else if (!this.#skipTo(1)) this.#dropAll();
        continue;
      }
      const fixed = FIXED.get(code);
      if (fixed !== undefined) {
        const total = 1 + fixed + 3;
        if (len < total) return;
        if (isTerm(buf, 1 + fixed)) {
          out.push(decodeFixed(code, buf.subarray(1, 1 + fixed)));
          this.#consume(total);
        } else if (!this.#skipTo(1)) this.#dropAll();
        continue;
      }
      if (code === 0x70) {
        const t = findTerm(buf, 1, Math.min(len, 1 + MAX_STRING_BYTES + 3));
        if (t >= 0) {
          out.push({ kind: 'string', value: latin1(buf.subarray(1, t)) });
          this.#consume(t + 3);
          continue;
        }
        if (len < 1 + MAX_STRING_BYTES + 3) return;
        if (!this.#skipTo(1)) this.#dropAll();
        continue;
      }
      if (!this.#skipTo(0)) {
        this.#dropAll();
        return;
      }
    }
  }
}
