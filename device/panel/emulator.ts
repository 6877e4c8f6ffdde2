/**
 * Nextion panel emulator (issue 6, emulators): speaks the panel's bytes over any ByteStream,
 * keeps page/component state built from the roomd page contract, acknowledges per bkcmd, answers
 * `get`/`sendme`, rejects unknown components like a real panel, resets a page's components when
 * the page is loaded (local scope), can script touches and restarts, and renders its current
 * page as text.
 */
import { EventBus } from '../../src/core/events.ts';
import { encodeFrame, type NextionErrorCode, type NextionFrame } from '../../src/devices/panel/codec.ts';
import { type ComponentSpec, PAGES, type PageSpec, pageById } from '../../src/devices/panel/contract.ts';
import {
  type Instruction,
  InstructionSplitter,
  parseInstruction,
} from '../../src/devices/panel/instructions.ts';
import type { ByteStream } from '../../src/transport/serial/stream.ts';

export interface ComponentState {
  txt: string;
  val: number;
  pic: number;
  bco: number;
  /** Text colour (RGB565). */
  pco: number;
  vis: boolean;
}

export type PanelEmulatorEvents = {
  instruction: Instruction;
  page: number;
};

const ATTRS = new Set(['txt', 'val', 'pic', 'bco', 'pco']);

function blank(spec: ComponentSpec): ComponentState {
  return { txt: spec.kind === 'button' ? spec.name : '', val: 0, pic: 0, bco: 50712, pco: 0, vis: true };
}

export class NextionEmulator {
  readonly events = new EventBus<PanelEmulatorEvents>();
  readonly log: string[] = [];
  #stream: ByteStream | null = null;
  readonly #splitter = new InstructionSplitter();
  #page = 0;
  #bkcmd = 2;
  dim = 100;
  #state = new Map<number, Map<string, ComponentState>>();
  /** When true the panel swallows instructions without answering (for timeout tests). */
  silent = false;
  /** Component names the loaded HMI project lacks: writes to them fail with `02`. */
  readonly missing = new Set<string>();

  constructor() {
    this.#resetAll();
  }

  /** Connect to a line; the panel announces itself like after power-on. */
  attach(stream: ByteStream, announce = true): void {
    this.#stream = stream;
    stream.on('data', (bytes) => {
      for (const text of this.#splitter.push(bytes)) this.#execute(text);
    });
    stream.on('close', () => {
      if (this.#stream === stream) this.#stream = null;
    });
    if (announce) this.restart();
  }

  get page(): number {
    return this.#page;
  }

  get pageSpec(): PageSpec {
    return pageById(this.#page)!;
  }

  get bkcmd(): number {
    return this.#bkcmd;
  }

  component(name: string, page = this.#page): ComponentState | undefined {
    if (this.missing.has(name)) return undefined;
    return this.#state.get(page)?.get(name);
  }

  text(name: string, page = this.#page): string | undefined {
    return this.component(name, page)?.txt;
  }

  /** Power cycle: all state back to defaults, then `00 00 00 FF FF FF 88 FF FF FF`. */
  restart(): void {
    this.#resetAll();
    this.#send({ kind: 'startup' });
    this.#send({ kind: 'ready' });
  }

  /** A person taps a component: press and release frames. */
  touch(name: string): void {
    const spec = this.pageSpec.components.find((c) => c.name === name);
    if (spec === undefined) throw new Error(`No component ${name} on page ${this.pageSpec.name}`);
    const comp = this.component(name);
    if (comp !== undefined && !comp.vis) throw new Error(`Component ${name} is hidden`);
    this.#send({ kind: 'touch', page: this.#page, component: spec.id, pressed: true });
    this.#send({ kind: 'touch', page: this.#page, component: spec.id, pressed: false });
  }

  /** Move a slider, then release it. */
  slide(name: string, value: number): void {
    const c = this.component(name);
    if (c !== undefined) c.val = value;
    this.touch(name);
  }

  /** Raw bytes from the panel (garbage tests). */
  sendRaw(bytes: Uint8Array): void {
    void this.#stream?.write(bytes).catch(() => {});
  }

  /** The current page as text, one component a line; hidden components are left out. */
  render(): string {
    const spec = this.pageSpec;
    const lines = [`[page ${spec.id} ${spec.name}]`];
    for (const c of spec.components) {
      const s = this.component(c.name)!;
      if (!s.vis) continue;
      if (c.kind === 'text' || c.kind === 'button') lines.push(`${c.name}: ${s.txt}`);
      else if (c.kind === 'picture') lines.push(`${c.name}: pic ${s.pic}`);
      else lines.push(`${c.name}: ${s.val}`);
    }
    return lines.join('\n');
  }

  #resetAll(): void {
    this.#page = 0;
    this.#bkcmd = 2;
    this.#state = new Map(PAGES.map((p) => [p.id, this.#pageDefaults(p)]));
  }

  #pageDefaults(p: PageSpec): Map<string, ComponentState> {
    return new Map(p.components.map((c) => [c.name, blank(c)]));
  }

  #send(f: NextionFrame): void {
    void this.#stream?.write(encodeFrame(f)).catch(() => {});
  }

  #ok(): void {
    if (this.#bkcmd === 1 || this.#bkcmd === 3) this.#send({ kind: 'ok' });
  }

  #fail(code: NextionErrorCode): void {
    if (this.#bkcmd >= 2) this.#send({ kind: 'error', code, name: '' });
  }

  #execute(text: string): void {
    this.log.push(text);
    if (this.log.length > 2000) this.log.splice(0, 1000);
    const ins = parseInstruction(text);
    this.events.emit('instruction', ins);
    if (this.silent) return;
    switch (ins.kind) {
      case 'page': {
        const spec =
          typeof ins.page === 'number' ? pageById(ins.page) : PAGES.find((p) => p.name === ins.page);
        if (spec === undefined) {
          this.#fail(0x03);
          return;
        }
        this.#page = spec.id;
        this.#state.set(spec.id, this.#pageDefaults(spec));
        this.events.emit('page', spec.id);
        this.#ok();
        return;
      }
      case 'vis': {
        const c = this.component(ins.target);
        if (c === undefined) {
          this.#fail(0x02);
          return;
        }
        c.vis = ins.on;
        this.#ok();
        return;
      }
      case 'set': {
        const c = this.component(ins.target);
        if (c === undefined) {
          this.#fail(0x02);
          return;
        }
        if (!ATTRS.has(ins.attr)) {
          this.#fail(0x1a);
          return;
        }
        if (ins.attr === 'txt') {
          if (typeof ins.value !== 'string') {
            this.#fail(0x1c);
            return;
          }
          const max = this.pageSpec.components.find((x) => x.name === ins.target)?.maxChars ?? 255;
          c.txt = ins.value.slice(0, max);
        } else {
          if (typeof ins.value !== 'number') {
            this.#fail(0x1c);
            return;
          }
          if (ins.attr === 'val') c.val = ins.value;
          else if (ins.attr === 'pic') c.pic = ins.value;
          else if (ins.attr === 'pco') c.pco = ins.value;
          else c.bco = ins.value;
        }
        this.#ok();
        return;
      }
      case 'get': {
        const c = this.component(ins.target);
        if (c === undefined) {
          this.#fail(0x02);
          return;
        }
        if (ins.attr === 'txt') {
          this.#send({ kind: 'string', value: c.txt });
          return;
        }
        if (ins.attr === 'val') {
          this.#send({ kind: 'number', value: c.val });
          return;
        }
        this.#fail(0x1a);
        return;
      }
      case 'system':
        if (ins.name === 'bkcmd' && ins.value >= 0 && ins.value <= 3) this.#bkcmd = ins.value;
        else if (ins.name === 'dim' || ins.name === 'dims') this.dim = Math.max(0, Math.min(100, ins.value));
        else {
          this.#fail(0x1a);
          return;
        }
        this.#ok();
        return;
      case 'sendme':
        this.#send({ kind: 'page', page: this.#page });
        return;
      case 'reset':
        this.restart();
        return;
      case 'connect':
        this.#send({
          kind: 'string',
          value: 'comok 1,30601-0,NX4832T035_011R,99,61488,D264B8204F0E1828,16777216',
        });
        return;
      case 'invalid':
        this.#fail(0x00);
        return;
    }
  }
}
