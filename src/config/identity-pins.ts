/**
 * The room's identity-key pins on disk (docs/admin.md §Key pins): per (organization, certified
 * name), the identity key this room saw first. A verified certificate for a known name with another
 * key shows "key changed" on every screen until an admin forgets the pin (a person who really got a
 * new key). Kept in `<state dir>/identity-pins.json`, written atomically with a last-good copy
 * (src/core/store.ts).
 *
 * It implements the E2EE layer's `IdentityPinStore` (src/e2ee/certificate.ts) structurally: `get`
 * and `pin` are synchronous (the roster check calls them), so a new pin is held in memory at once
 * and written behind, one write at a time, coalesced. Bounded: at most `maxPins` pins (the longest
 * held goes first when full) and a file of at most `maxFileBytes`. The decoder is total: a damaged
 * file is reported (and its last good copy used when there is one), never a crash.
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { JsonFileStore, nodeStoreFs, type StoreFs } from '../core/store.ts';
import { IDENTITY_LIMITS } from './schema.ts';

export const PINS_FILE = 'identity-pins.json';
export const PIN_LIMITS = Object.freeze({ maxPins: 4096, maxFileBytes: 4 * 1024 * 1024 });

export interface PinRecord {
  org: string;
  name: string;
  /** base64url Ed25519 identity public key (IVK). */
  key: string;
  /** Wall-clock ms since the Unix epoch when this room first saw the key for the name. */
  firstSeen: number;
}

interface PinsFile {
  version: 1;
  pins: PinRecord[];
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const B64U32 = /^[A-Za-z0-9_-]{43}$/;

function text(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.trim() !== '' && v.length <= max && !CONTROL.test(v);
}

const keyOf = (org: string, name: string) => JSON.stringify([org, name]);

/** Decode the pins file. Throws (JsonFileStore reports it as damage) for anything else. */
export function parsePinsFile(raw: unknown, maxPins: number = PIN_LIMITS.maxPins): PinsFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
  const r = raw as Record<string, unknown>;
  if (r['version'] !== 1) throw new Error('unknown version');
  const list = r['pins'];
  if (!Array.isArray(list)) throw new Error('no list of pins');
  if (list.length > maxPins) throw new Error(`more than ${maxPins} pins`);
  const seen = new Set<string>();
  const pins: PinRecord[] = [];
  for (const [i, p] of list.entries()) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new Error(`pin ${i} is not an object`);
    const o = p as Record<string, unknown>;
    const { org, name, key, firstSeen } = o;
    if (!text(org, IDENTITY_LIMITS.maxOrgLength) || !text(name, IDENTITY_LIMITS.maxNameLength))
      throw new Error(`pin ${i} has no valid org and name`);
    if (typeof key !== 'string' || !B64U32.test(key)) throw new Error(`pin ${i} has no valid key`);
    if (typeof firstSeen !== 'number' || !Number.isSafeInteger(firstSeen) || firstSeen < 0)
      throw new Error(`pin ${i} has no valid time`);
    const k = keyOf(org, name);
    if (seen.has(k)) throw new Error(`pin ${i} repeats a name`);
    seen.add(k);
    pins.push({ org, name, key, firstSeen });
  }
  return { version: 1, pins };
}

/** The state store's file system, refusing to read a file larger than `max` bytes. */
function boundedFs(base: StoreFs, max: number): StoreFs {
  return {
    ...base,
    async readFile(file) {
      if (base === nodeStoreFs) {
        // Check the size before reading it all (ENOENT passes through: the store treats it as absent).
        const st = await fsp.stat(file);
        if (st.size > max) throw new Error(`larger than ${max} bytes`);
      }
      const data = await base.readFile(file);
      if (data.length > max) throw new Error(`larger than ${max} bytes`);
      return data;
    },
  };
}

export interface IdentityPinsOptions {
  /** Wall-clock ms since the Unix epoch (the injected Clock's `now`). */
  now: () => number;
  log?: Logger;
  maxPins?: number;
  maxFileBytes?: number;
  /** For tests: simulate crashes between the store's steps. */
  fs?: StoreFs;
}

export class FileIdentityPins {
  readonly file: string;
  /** Set when the file was damaged at load (its last good copy, or nothing, is in use). */
  readonly problem: RoomdError | null;
  /** Writes that failed (the pins stay in memory; the next change writes them again). */
  writeFailures = 0;
  /** Pins dropped to stay within `maxPins`. */
  evicted = 0;
  readonly #store: JsonFileStore<PinsFile>;
  readonly #pins: Map<string, PinRecord>;
  readonly #o: IdentityPinsOptions;
  readonly #max: number;
  #changes = 0;
  #persisted = 0;
  #dirty = false;
  #writing: Promise<void> | null = null;

  private constructor(
    store: JsonFileStore<PinsFile>,
    pins: PinRecord[],
    problem: RoomdError | null,
    o: IdentityPinsOptions,
  ) {
    this.#store = store;
    this.file = store.file;
    this.problem = problem;
    this.#o = o;
    this.#max = o.maxPins ?? PIN_LIMITS.maxPins;
    const ordered = [...pins].sort((a, b) => a.firstSeen - b.firstSeen);
    this.#pins = new Map(ordered.map((p) => [keyOf(p.org, p.name), p]));
  }

  /** Load the pins of `stateDir`. Never throws for bad content: that is `problem`. */
  static async open(stateDir: string, o: IdentityPinsOptions): Promise<FileIdentityPins> {
    const max = o.maxPins ?? PIN_LIMITS.maxPins;
    const store = new JsonFileStore<PinsFile>(
      path.join(stateDir, PINS_FILE),
      (raw) => parsePinsFile(raw, max),
      {
        fs: boundedFs(o.fs ?? nodeStoreFs, o.maxFileBytes ?? PIN_LIMITS.maxFileBytes),
        mode: 0o600,
      },
    );
    const read = await store.read();
    let problem: RoomdError | null = null;
    if (read.problem !== undefined) {
      problem = new RoomdError('core.store_corrupt', {
        message:
          read.value === undefined
            ? "The room's identity key pins file is damaged and has no good copy; the room starts with no pins and pins keys anew as it sees them."
            : "The room's identity key pins file is damaged; the room uses its last good copy.",
        context: { file: store.file },
        cause: read.problem,
      });
      o.log?.error({ err: problem, file: store.file }, 'identity pins file damaged');
    }
    return new FileIdentityPins(store, read.value?.pins ?? [], problem, o);
  }

  get size(): number {
    return this.#pins.size;
  }

  /** base64url key pinned for this (organization, name), or undefined. */
  get(org: string, name: string): string | undefined {
    return this.#pins.get(keyOf(org, name))?.key;
  }

  /** Pin a key for a name not pinned yet (never overwrites; `forget` first). Written behind. */
  pin(org: string, name: string, key: string): void {
    const k = keyOf(org, name);
    if (this.#pins.has(k)) return;
    if (this.#pins.size >= this.#max) {
      const oldest = this.#pins.keys().next().value;
      if (oldest !== undefined) {
        this.#pins.delete(oldest);
        this.evicted++;
        this.#o.log?.warn({ max: this.#max }, 'identity pins full; the longest-held pin was dropped');
      }
    }
    this.#pins.set(k, { org, name, key, firstSeen: this.#o.now() });
    void this.#changed();
  }

  /**
   * Forget the pin of a (organization, name), so the next verified key for it is pinned anew.
   * Resolves once that is on disk; false when there was no such pin.
   */
  async forget(org: string, name: string): Promise<boolean> {
    if (!this.#pins.delete(keyOf(org, name))) return false;
    const change = await this.#changed();
    if (this.#persisted < change)
      throw new RoomdError('core.store_io', {
        message:
          'The pin was forgotten but the pins file could not be written; it may come back after a restart.',
        context: { file: this.file },
      });
    return true;
  }

  /** Every pin, by organization and name. */
  list(): PinRecord[] {
    return [...this.#pins.values()]
      .map((p) => ({ ...p }))
      .sort((a, b) => (a.org === b.org ? a.name.localeCompare(b.name) : a.org.localeCompare(b.org)));
  }

  /** Resolves once every change so far has been written (or failed to be). */
  async flush(): Promise<void> {
    await this.#writing;
  }

  /** Note a change and make sure a write covering it runs; resolves with the change's number. */
  async #changed(): Promise<number> {
    const change = ++this.#changes;
    this.#dirty = true;
    this.#writing ??= this.#drain();
    await this.#writing;
    return change;
  }

  async #drain(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      const upTo = this.#changes;
      const body: PinsFile = { version: 1, pins: [...this.#pins.values()] };
      try {
        await this.#store.write(body);
        this.#persisted = upTo;
      } catch (error) {
        // The store wraps write failures as core.store_io; creating the directory fails with errno.
        const expected =
          (error instanceof RoomdError && error.code === 'core.store_io') ||
          typeof (error as NodeJS.ErrnoException).code === 'string';
        if (!expected) throw error;
        this.writeFailures++;
        this.#o.log?.error({ err: error, file: this.file }, 'identity pins could not be written');
      }
    }
    this.#writing = null;
  }
}
