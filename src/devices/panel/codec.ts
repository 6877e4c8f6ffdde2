/**
 * Nextion HMI wire codec (docs/hardware.md §Touch panel contract): instructions out (ASCII,
 * terminated by FF FF FF, text escaped and length-limited) and return frames in (binary, terminated
 * by FF FF FF), as the Nextion Instruction Set §7 "Format of Nextion Return Data" defines them, plus
 * the `comok …` answer to `connect` from the Nextion Upload Protocol. The parser is length-aware for
 * fixed-size frames (a number frame may contain FF), resynchronises after the next FF FF FF on
 * anything it does not understand, counts the bytes it skips, and never holds more than MAX_BUFFER
 * bytes.
 */
import { RoomdError } from '../../core/errors.ts';

export const TERMINATOR = Uint8Array.of(0xff, 0xff, 0xff);
/** The panel's serial instruction buffer is 1024 bytes; one instruction must fit well inside. */
export const MAX_INSTRUCTION_BYTES = 1000;
/** Longest string (0x70) payload we accept. */
export const MAX_STRING_BYTES = 255;
export const MAX_BUFFER = 512;

/**
 * The failure codes of Nextion Instruction Set §7 (each answers the instruction that caused it).
 * `0x24` (serial buffer overflow) is not among them: it is a notice, decoded as `overflow`.
 */
export const ERROR_NAMES = {
  0: 'invalid instruction', // 0x00
  2: 'invalid component id', // 0x02
  3: 'invalid page id', // 0x03
  4: 'invalid picture id', // 0x04
  5: 'invalid font id', // 0x05
  6: 'invalid file operation', // 0x06
  9: 'invalid crc', // 0x09
  17: 'invalid baud rate setting', // 0x11
  18: 'invalid waveform id or channel', // 0x12
  26: 'invalid variable name or attribute', // 0x1A
  27: 'invalid variable operation', // 0x1B
  28: 'assignment failed', // 0x1C
  29: 'eeprom operation failed', // 0x1D
  30: 'invalid parameter count', // 0x1E
  31: 'io operation failed', // 0x1F
  32: 'invalid escape character', // 0x20
  35: 'variable name too long', // 0x23
} as const satisfies Record<number, string>;

/** `24 FF FF FF`: the panel's serial buffer overflowed (see `overflow` below). */
export const OVERFLOW_CODE = 0x24;

/** The answer to `connect` starts with these bytes (Nextion Upload Protocol, step 1). */
const COMOK = [0x63, 0x6f, 0x6d, 0x6f, 0x6b]; // "comok"
/** Longest `comok` line we accept (real ones are about 70 bytes). */
export const MAX_COMOK_BYTES = 128;

/** The rates `baud=` accepts (Nextion Instruction Set §6, system variable `baud`). */
export const NEXTION_BAUD_RATES = [
  2400, 4800, 9600, 19200, 31250, 38400, 57600, 115200, 230400, 250000, 256000, 512000, 921600,
] as const;

/** Nextion names: at most 14 characters for a page and 14 for a component (§7, code 0x23). */
export const MAX_NAME_CHARS = 14;

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
  /**
   * `24 FF FF FF`: "Buffer will continue to receive the current instruction, all previous
   * instructions are lost" (§7) — not an answer to the instruction being received.
   */
  | { kind: 'overflow' }
  /** `comok <touch>,<reserved>,<model>,<firmware>,<mcu>,<serial>,<flash>` (Upload Protocol). */
  | { kind: 'comok'; info: string }
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
  [OVERFLOW_CODE, 0],
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

const PART = `[A-Za-z_][A-Za-z0-9_]{0,${MAX_NAME_CHARS - 1}}`;
/** `object`, `object.attribute` or `page.object`, each part at most 14 characters. */
const NAME = new RegExp(`^${PART}(\\.${PART})?$`);

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
  /** Line speed until the next power-on (`bauds=` would store it on the panel: never sent). */
  baud(rate: number): string {
    return `baud=${Math.trunc(rate)}`;
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
      body.push(0xfe);
      break;
    case 'transparent-done':
      body.push(0xfd);
      break;
    case 'ok':
      body.push(0x01);
      break;
    case 'overflow':
      body.push(OVERFLOW_CODE);
      break;
    case 'comok':
      body.push(...COMOK, ...encodeLatin1(` ${f.info}`).subarray(0, MAX_COMOK_BYTES - COMOK.length));
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
      return { kind: 'transparent-done' };
    case 0xfe:
      return { kind: 'transparent-ready' };
    case 0x01:
      return { kind: 'ok' };
    case OVERFLOW_CODE:
      return { kind: 'overflow' };
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
  /**
   * True right after a terminator: an FF here lengthens the run it ended, and in a run of more than
   * three FF the terminator is the last three. No frame starts with FF, so such bytes are skipped
   * one by one as garbage, wherever the chunks of the line happen to split.
   */
  #afterTerm = false;

  get buffered(): number {
    return this.#len;
  }

  /** Forget a partial frame (the line speed changed: what came before is noise); counted as garbage. */
  reset(): void {
    this.garbageBytes += this.#len;
    this.#len = 0;
    this.#discarding = false;
    this.#afterTerm = false;
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

  /** Consume bytes that end with a terminator: a frame, or garbage up to a resynchronisation. */
  #take(n: number): void {
    this.#consume(n);
    this.#afterTerm = true;
  }

  #skipTo(from: number): boolean {
    const t = findTerm(this.#buf, from, this.#len);
    if (t < 0) return false;
    this.garbageBytes += t + 3;
    this.#take(t + 3);
    return true;
  }

  /** Drop everything but a possible partial terminator. */
  #dropAll(): void {
    let keep = 0;
    while (keep < 2 && keep < this.#len && this.#buf[this.#len - 1 - keep] === 0xff) keep++;
    this.garbageBytes += this.#len - keep;
    this.#consume(this.#len - keep);
    this.#discarding = true;
    this.#afterTerm = false;
  }

  /** Whether the buffered bytes are (so far) a `comok` prefix. */
  #startsComok(len: number): boolean {
    for (let i = 1; i < Math.min(len, COMOK.length); i++) if (this.#buf[i] !== COMOK[i]) return false;
    return true;
  }

  #drain(out: NextionFrame[]): void {
    for (;;) {
      const buf = this.#buf;
      const len = this.#len;
      if (len === 0) return;
      if (this.#afterTerm) {
        let run = 0;
        while (run < len && buf[run] === 0xff) run++;
        if (run > 0) {
          this.garbageBytes += run;
          this.#consume(run);
          continue;
        }
        this.#afterTerm = false;
      }
      if (this.#discarding) {
        const t = findTerm(buf, 0, len);
        if (t < 0) {
          if (len > MAX_BUFFER) this.#dropAll();
          return;
        }
        this.garbageBytes += t + 3;
        this.#take(t + 3);
        this.#discarding = false;
        continue;
      }
      const code = buf[0]!;
      if (code === 0x00 && len >= 2 && buf[1] === 0x00) {
        if (len < 6) return;
        if (buf[2] === 0x00 && isTerm(buf, 3)) {
          out.push({ kind: 'startup' });
          this.#take(6);
        } else if (!this.#skipTo(1)) this.#dropAll();
        continue;
      }
      if (code === COMOK[0] && this.#startsComok(len)) {
        if (len < COMOK.length) return;
        const t = findTerm(buf, COMOK.length, Math.min(len, MAX_COMOK_BYTES + 3));
        if (t >= 0) {
          const info = latin1(buf.subarray(COMOK.length, t));
          out.push({ kind: 'comok', info: info.startsWith(' ') ? info.slice(1) : info });
          this.#take(t + 3);
          continue;
        }
        if (len < MAX_COMOK_BYTES + 3) return;
        if (!this.#skipTo(1)) this.#dropAll();
        continue;
      }
      const fixed = FIXED.get(code);
      if (fixed !== undefined) {
        const total = 1 + fixed + 3;
        if (len < total) return;
        if (isTerm(buf, 1 + fixed)) {
          out.push(decodeFixed(code, buf.subarray(1, 1 + fixed)));
          this.#take(total);
        } else if (!this.#skipTo(1)) this.#dropAll();
        continue;
      }
      if (code === 0x70) {
        const t = findTerm(buf, 1, Math.min(len, 1 + MAX_STRING_BYTES + 3));
        if (t >= 0) {
          out.push({ kind: 'string', value: latin1(buf.subarray(1, t)) });
          this.#take(t + 3);
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
