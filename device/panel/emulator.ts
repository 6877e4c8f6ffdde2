/**
 * Nextion panel emulator (docs/hardware.md §Emulators): speaks the panel's bytes over any
 * ByteStream, keeps page/component state built from the roomd page contract, acknowledges per
 * bkcmd, answers `get`/`sendme`/`connect`, rejects unknown components and over-long names like a
 * real panel, resets a page's components when the page is loaded (local scope), can script
 * touches and restarts, and renders its current page as text.
 *
 * Conformance with a real panel (Nextion Instruction Set §6–§7, Nextion Upload Protocol) comes
 * in profiles (`PANEL_PROFILES`): whether power-on is announced with start-up frames, the speed
 * after power-on (`bauds`), the 1024-byte serial buffer with `24 FF FF FF` overflow notices. The
 * panel's bytes are built here from those documents, not with roomd's codec, so the two sides
 * cannot share a misreading (the emulator once repeated the codec's swapped FD/FE). Given
 * a `hostRate` (the host's line speed: the pty's termios, see line.ts), the emulator only
 * understands the host when both speeds match; otherwise each side receives noise.
 *
 * The profiles are in `profiles.ts`; return-data codes, frames and the panel's limits in `wire.ts`.
 */
import { EventBus } from '../../src/core/events.ts';
import { type ComponentSpec, PAGES, type PageSpec, pageById } from '../../src/devices/panel/contract.ts';
import {
  type Instruction,
  InstructionSplitter,
  parseInstruction,
} from '../../src/devices/panel/instructions.ts';
import type { ByteStream } from '../../src/transport/serial/stream.ts';
import { PANEL_PROFILES, type PanelProfile, type PanelProfileName } from './profiles.ts';
import {
  ATTRS,
  BAUD_RATES,
  type FailCode,
  frame,
  garble,
  latin1,
  RETURN,
  SYSTEM_VARS,
  tooLong,
} from './wire.ts';

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

/** The host's current line speed, read when bytes pass (sync for memory lines, async for ptys). */
export type HostRate = () => number | Promise<number>;

export interface AttachOptions {
  /** Power the panel on now (state reset, start-up frames if the profile sends them). Default true. */
  readonly announce?: boolean;
  /** Without it, speeds always match (a line without a speed, e.g. in-memory). */
  readonly hostRate?: HostRate;
}

function blank(spec: ComponentSpec): ComponentState {
  return { txt: spec.kind === 'button' ? spec.name : '', val: 0, pic: 0, bco: 50712, pco: 0, vis: true };
}

export class NextionEmulator {
  readonly events = new EventBus<PanelEmulatorEvents>();
  readonly log: string[] = [];
  readonly profile: PanelProfile;
  #stream: ByteStream | null = null;
  #hostRate: HostRate | undefined;
  #splitter = new InstructionSplitter();
  #page = 0;
  #bkcmd = 2;
  #bauds: number;
  #rate: number;
  dim = 100;
  #vars = new Map<string, number>();
  #state = new Map<number, Map<string, ComponentState>>();
  #busy = false;
  #backlog: string[] = [];
  #backlogBytes = 0;
  #rx: Promise<void> = Promise.resolve();
  #tx: Promise<void> = Promise.resolve();
  /** When true the panel swallows instructions without answering (for timeout tests). */
  silent = false;
  /** Component names the loaded HMI project lacks: writes to them fail with `02`. */
  readonly missing = new Set<string>();
  /** `24 FF FF FF` sent. */
  overflows = 0;
  /** Bytes received while the speeds did not match. */
  garbledBytes = 0;

  constructor(profile: PanelProfileName | PanelProfile = 'classic') {
    this.profile = typeof profile === 'string' ? PANEL_PROFILES[profile] : profile;
    this.#bauds = this.profile.bauds;
    this.#rate = this.#bauds;
    this.#resetAll();
  }

  /** Connect to a line; by default the panel powers on (announcing itself if its profile does). */
  attach(stream: ByteStream, options: boolean | AttachOptions = true): void {
    const o: AttachOptions = typeof options === 'boolean' ? { announce: options } : options;
    this.#stream = stream;
    this.#hostRate = o.hostRate;
    stream.on('data', (bytes) => this.#onData(bytes));
    stream.on('close', () => {
      if (this.#stream === stream) this.#stream = null;
    });
    if (o.announce ?? true) this.restart();
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

  /** The panel's line speed now. */
  get rate(): number {
    return this.#rate;
  }

  /**
   * While busy (e.g. loading a heavy page) the panel buffers instructions instead of running
   * them; more than `bufferBytes` unprocessed bytes overflow. Clearing it runs the backlog.
   */
  get busy(): boolean {
    return this.#busy;
  }

  set busy(on: boolean) {
    this.#busy = on;
    if (on) return;
    const backlog = this.#backlog;
    this.#backlog = [];
    this.#backlogBytes = 0;
    for (const text of backlog) this.#execute(text);
  }

  component(name: string, page = this.#page): ComponentState | undefined {
    if (this.missing.has(name)) return undefined;
    return this.#state.get(page)?.get(name);
  }

  text(name: string, page = this.#page): string | undefined {
    return this.component(name, page)?.txt;
  }

  /**
   * Power cycle: all state back to defaults (bkcmd=2, the stored speed), then the start-up frames
   * `00 00 00 FF FF FF 88 FF FF FF` if the profile sends them.
   */
  restart(): void {
    this.#resetAll();
    if (!this.profile.announcesStartup) return;
    this.#write(Uint8Array.of(0x00, 0x00, 0x00, 0xff, 0xff, 0xff));
    this.#write(frame(RETURN.ready));
  }

  /** A person taps a component: press and release frames. */
  touch(name: string): void {
    const spec = this.pageSpec.components.find((c) => c.name === name);
    if (spec === undefined) throw new Error(`No component ${name} on page ${this.pageSpec.name}`);
    const comp = this.component(name);
    if (comp !== undefined && !comp.vis) throw new Error(`Component ${name} is hidden`);
    this.#write(frame(RETURN.touch, this.#page, spec.id, 1));
    this.#write(frame(RETURN.touch, this.#page, spec.id, 0));
  }

  /** Move a slider, then release it. */
  slide(name: string, value: number): void {
    const c = this.component(name);
    if (c !== undefined) c.val = value;
    this.touch(name);
  }

  /** Raw bytes from the panel, whatever the speeds (garbage tests). */
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
    this.#rate = this.#bauds;
    this.dim = 100;
    this.#vars = new Map([
      ['sys0', 0],
      ['sys1', 0],
      ['sys2', 0],
      ['thup', 0],
      ['thsp', 0],
      ['ussp', 0],
      ['sleep', 0],
    ]);
    this.#splitter = new InstructionSplitter();
    this.#busy = false;
    this.#backlog = [];
    this.#backlogBytes = 0;
    this.#state = new Map(PAGES.map((p) => [p.id, this.#pageDefaults(p)]));
  }

  #pageDefaults(p: PageSpec): Map<string, ComponentState> {
    return new Map(p.components.map((c) => [c.name, blank(c)]));
  }

  // ---- the line ----------------------------------------------------------------------------

  #onData(bytes: Uint8Array): void {
    const rate = this.#hostRate?.();
    if (rate === undefined) {
      this.#receive(bytes, true);
      return;
    }
    if (typeof rate === 'number') {
      this.#receive(bytes, rate === this.#rate);
      return;
    }
    // Decide by the host's speed when the bytes arrived, in arrival order.
    this.#rx = this.#rx
      .then(() => rate)
      .then(
        (r) => this.#receive(bytes, r === this.#rate),
        () => this.#receive(bytes, false),
      );
  }

  #receive(bytes: Uint8Array, understood: boolean): void {
    if (!understood) this.garbledBytes += bytes.length;
    const data = understood ? bytes : garble(bytes);
    if (!this.#busy) {
      const before = this.#splitter.overflows;
      const done = this.#splitter.push(data);
      if (this.#splitter.overflows > before) this.#overflow();
      for (const text of done) this.#execute(text);
      return;
    }
    // Busy: bytes wait in the serial buffer. Nextion Instruction Set §7, 0x24: "Buffer will continue
    // to receive the current instruction, all previous instructions are lost."
    for (const b of data) {
      for (const text of this.#splitter.push(Uint8Array.of(b))) {
        this.#backlog.push(text);
        this.#backlogBytes += text.length + 3;
      }
      if (this.#backlogBytes + this.#splitter.buffered > this.profile.bufferBytes) {
        this.#backlog = [];
        this.#backlogBytes = 0;
        this.#overflow();
      }
    }
  }

  #overflow(): void {
    this.overflows++;
    this.#write(frame(RETURN.overflow));
  }

  /** Bytes leave at the panel's speed of this moment; a host at another speed gets noise. */
  #write(bytes: Uint8Array): void {
    const stream = this.#stream;
    if (stream === null) return;
    const panelRate = this.#rate;
    const rate = this.#hostRate?.();
    const out = (r: number | undefined) =>
      // The host end may be gone (a test pulled the cable); the emulated panel just talks into the void.
      void stream.write(r === undefined || r === panelRate ? bytes : garble(bytes)).catch(() => {});
    if (rate === undefined || typeof rate === 'number') {
      out(rate);
      return;
    }
    this.#tx = this.#tx.then(() => rate).then(out, () => out(undefined));
  }

  #ok(): void {
    if (this.#bkcmd === 1 || this.#bkcmd === 3) this.#write(frame(RETURN.ok));
  }

  #fail(code: FailCode): void {
    if (this.#bkcmd >= 2) this.#write(frame(code));
  }

  // ---- instructions ------------------------------------------------------------------------

  #readVar(name: string): number | undefined {
    if (name === 'bkcmd') return this.#bkcmd;
    if (name === 'dim' || name === 'dims') return this.dim;
    if (name === 'baud') return this.#rate;
    if (name === 'bauds') return this.#bauds;
    return this.#vars.get(name);
  }

  /** Assign a system variable; returns the failure code, or null (the ack is then sent). */
  #writeVar(name: string, value: number): FailCode | null {
    if (!SYSTEM_VARS.has(name)) return RETURN.invalidVariable;
    if (name === 'bkcmd') {
      if (value < 0 || value > 3) return RETURN.assignmentFailed;
      this.#bkcmd = value;
    } else if (name === 'dim' || name === 'dims') this.dim = Math.max(0, Math.min(100, value));
    else if (name === 'baud' || name === 'bauds') {
      if (!BAUD_RATES.includes(value)) return RETURN.invalidBaud;
      // Acknowledged at the old speed, then the panel switches (`bauds` is also stored).
      this.#ok();
      this.#rate = value;
      if (name === 'bauds') this.#bauds = value;
      return null;
    } else this.#vars.set(name, value);
    this.#ok();
    return null;
  }

  #execute(text: string): void {
    this.log.push(text);
    if (this.log.length > 2000) this.log.splice(0, 1000);
    const ins = parseInstruction(text);
    this.events.emit('instruction', ins);
    if (this.silent) return;
    if ((ins.kind === 'set' || ins.kind === 'get' || ins.kind === 'vis') && tooLong(ins.target)) {
      this.#fail(RETURN.nameTooLong);
      return;
    }
    switch (ins.kind) {
      case 'page': {
        const spec =
          typeof ins.page === 'number' ? pageById(ins.page) : PAGES.find((p) => p.name === ins.page);
        if (spec === undefined) {
          this.#fail(RETURN.invalidPage);
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
          this.#fail(RETURN.invalidComponent);
          return;
        }
        c.vis = ins.on;
        this.#ok();
        return;
      }
      case 'set': {
        const c = this.component(ins.target);
        if (c === undefined) {
          this.#fail(RETURN.invalidComponent);
          return;
        }
        if (!ATTRS.has(ins.attr)) {
          this.#fail(RETURN.invalidVariable);
          return;
        }
        if (ins.attr === 'txt') {
          if (typeof ins.value !== 'string') {
            this.#fail(RETURN.assignmentFailed);
            return;
          }
          const max = this.pageSpec.components.find((x) => x.name === ins.target)?.maxChars ?? 255;
          c.txt = ins.value.slice(0, max);
        } else {
          if (typeof ins.value !== 'number') {
            this.#fail(RETURN.assignmentFailed);
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
          this.#fail(RETURN.invalidComponent);
          return;
        }
        if (ins.attr === 'txt') {
          this.#write(frame(RETURN.string, ...latin1(c.txt)));
          return;
        }
        if (ins.attr === 'val') {
          const v = c.val | 0;
          this.#write(frame(RETURN.number, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24));
          return;
        }
        this.#fail(RETURN.invalidVariable);
        return;
      }
      case 'system': {
        const code = this.#writeVar(ins.name, ins.value);
        if (code !== null) this.#fail(code);
        return;
      }
      case 'copy': {
        const value = this.#readVar(ins.from);
        const code = value === undefined ? RETURN.invalidVariable : this.#writeVar(ins.name, value);
        if (code !== null) this.#fail(code);
        return;
      }
      case 'sendme':
        this.#write(frame(RETURN.page, this.#page));
        return;
      case 'reset':
        this.restart();
        return;
      case 'connect':
        // Nextion Upload Protocol, step 1: `comok …` as plain text, whatever bkcmd is.
        this.#write(frame(...latin1(`comok ${this.profile.comok}`)));
        return;
      case 'invalid':
        this.#fail(RETURN.invalidInstruction);
        return;
    }
  }
}
