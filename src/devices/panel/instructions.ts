/**
 * The panel side of the Nextion wire (docs/hardware.md §Touch panel contract): splits the host's byte
 * stream into FF FF FF–terminated instructions and parses the subset roomd sends. Used by the
 * emulator and fuzzed; bounded like the return-frame parser.
 */
export const MAX_INSTRUCTION_BUFFER = 1024;

export type Instruction =
  | { kind: 'page'; page: number | string }
  | { kind: 'set'; target: string; attr: string; value: string | number }
  | { kind: 'vis'; target: string; on: boolean }
  | { kind: 'get'; target: string; attr: string }
  | { kind: 'sendme' }
  | { kind: 'reset' }
  | { kind: 'connect' }
  | { kind: 'system'; name: string; value: number }
  /** `sys0=sys0`: a system variable assigned from another (roomd's heartbeat). */
  | { kind: 'copy'; name: string; from: string }
  | { kind: 'invalid'; text: string };

/** Splits a byte stream into instruction strings; over-long instructions are dropped. */
export class InstructionSplitter {
  #buf: number[] = [];
  #ffRun = 0;
  #overflow = false;
  overflows = 0;

  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    for (const b of chunk) {
      if (b === 0xff) {
        this.#ffRun++;
        if (this.#ffRun === 3) {
          if (!this.#overflow && this.#buf.length > 0) out.push(String.fromCharCode(...this.#buf));
          this.#buf = [];
          this.#ffRun = 0;
          this.#overflow = false;
        }
        continue;
      }
      for (; this.#ffRun > 0; this.#ffRun--) this.#add(0xff);
      this.#add(b);
    }
    return out;
  }

  get buffered(): number {
    return this.#buf.length;
  }

  #add(b: number): void {
    if (this.#overflow) return;
    if (this.#buf.length >= MAX_INSTRUCTION_BUFFER) {
      this.#overflow = true;
      this.overflows++;
      this.#buf = [];
      return;
    }
    this.#buf.push(b);
  }
}

/** Undo `quoteText`: returns null when the literal is malformed. */
export function unquote(literal: string): string | null {
  if (literal.length < 2 || !literal.startsWith('"') || !literal.endsWith('"')) return null;
  let out = '';
  for (let i = 1; i < literal.length - 1; i++) {
    const ch = literal[i]!;
    if (ch === '"') return null;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = literal[++i];
    if (next === '"' || next === '\\') out += next;
    else if (next === 'r') out += '\n';
    else return null;
  }
  return out;
}

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const SET = new RegExp(`^(${IDENT})\\.(${IDENT})=(.*)$`, 's');
const SYS = new RegExp(`^(${IDENT})=(-?\\d{1,10})$`);
const COPY = new RegExp(`^(${IDENT})=(${IDENT})$`);
const GET = new RegExp(`^get (${IDENT})\\.(${IDENT})$`);
const VIS = new RegExp(`^vis (${IDENT}),([01])$`);
const PAGE = new RegExp(`^page (\\d{1,3}|${IDENT})$`);

export function parseInstruction(text: string): Instruction {
  if (text === 'sendme') return { kind: 'sendme' };
  if (text === 'rest') return { kind: 'reset' };
  if (text === 'connect') return { kind: 'connect' };
  let m = PAGE.exec(text);
  if (m) return { kind: 'page', page: /^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]! };
  m = VIS.exec(text);
  if (m) return { kind: 'vis', target: m[1]!, on: m[2] === '1' };
  m = GET.exec(text);
  if (m) return { kind: 'get', target: m[1]!, attr: m[2]! };
  m = SYS.exec(text);
  if (m) return { kind: 'system', name: m[1]!, value: Number(m[2]) };
  m = COPY.exec(text);
  if (m) return { kind: 'copy', name: m[1]!, from: m[2]! };
  m = SET.exec(text);
  if (m) {
    const raw = m[3]!;
    if (raw.startsWith('"')) {
      const s = unquote(raw);
      if (s !== null) return { kind: 'set', target: m[1]!, attr: m[2]!, value: s };
    } else if (/^-?\d{1,10}$/.test(raw)) {
      return { kind: 'set', target: m[1]!, attr: m[2]!, value: Number(raw) };
    }
  }
  return { kind: 'invalid', text: text.slice(0, 64) };
}
