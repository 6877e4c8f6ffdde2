/**
 * Pinned meeting policies (docs/protocol.md "Meeting policy"): once the room has verified a
 * meeting's host-signed policy, it keeps it per meeting id, so a later answer from the relay cannot
 * strip or weaken it. A pin only ever gets stronger (`enhanced` → `e2ee`). The room keeps its pins in
 * `STATE_DIR/meeting-policies.json` (atomic writes with a last-good copy, `src/core/store.ts`);
 * tests keep them in memory. Bounded: the oldest pins go first beyond `max`.
 */
import * as path from 'node:path';
import type { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { JsonFileStore, type StoreFs } from '../core/store.ts';
import { bareMeetingId, type MeetingPolicy, parseMeetingPolicy } from '../e2ee/index.ts';

/** What the meeting session and the schedule need from the pins. */
export interface MeetingPolicyBook {
  /** The verified policy pinned for a meeting (ids compare without dashes). */
  get(meetingId: string): MeetingPolicy | undefined;
  /**
   * Pin a policy that verified. `new`: first for its meeting; `stronger`: it replaced a weaker one;
   * `kept`: an equal or stronger one was pinned already and stays.
   */
  pin(policy: MeetingPolicy): 'new' | 'stronger' | 'kept';
}

export const MAX_POLICY_PINS = 1024;
export const POLICY_PINS_FILE = 'meeting-policies.json';

export class MemoryPolicyBook implements MeetingPolicyBook {
  readonly #pins = new Map<string, MeetingPolicy>();
  readonly #max: number;

  constructor(initial: Iterable<MeetingPolicy> = [], max = MAX_POLICY_PINS) {
    this.#max = max;
    for (const p of initial) this.pin(p);
  }

  get size(): number {
    return this.#pins.size;
  }

  get(meetingId: string): MeetingPolicy | undefined {
    return this.#pins.get(bareMeetingId(meetingId));
  }

  pin(policy: MeetingPolicy): 'new' | 'stronger' | 'kept' {
    const k = bareMeetingId(policy.meetingId);
    const held = this.#pins.get(k);
    if (held !== undefined && (held.encryption === 'e2ee' || policy.encryption === held.encryption)) {
      return 'kept';
    }
    // Full: an `enhanced` pin goes first (the oldest), so a relay listing many genuine policies
    // cannot push out the `e2ee` pins that hold meetings to E2EE; an `enhanced` newcomer never
    // displaces an `e2ee` pin.
    if (held === undefined && this.#pins.size >= this.#max) {
      const weaker = [...this.#pins].find(([, p]) => p.encryption === 'enhanced')?.[0];
      if (weaker !== undefined) this.#pins.delete(weaker);
      else if (policy.encryption === 'enhanced') return 'kept';
      else this.#pins.delete(this.#pins.keys().next().value as string);
    }
    this.#pins.delete(k);
    this.#pins.set(k, policy);
    return held === undefined ? 'new' : 'stronger';
  }

  /** Oldest first. */
  list(): MeetingPolicy[] {
    return [...this.#pins.values()];
  }
}

interface PinsFile {
  version: 1;
  policies: MeetingPolicy[];
}

/** Total decoder of the pins file: any damage makes the store fall back to the last good copy. */
export function parsePinsFile(raw: unknown, max = MAX_POLICY_PINS): PinsFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not an object');
  const o = raw as Record<string, unknown>;
  if (o['version'] !== 1) throw new Error('unknown version');
  const list = o['policies'];
  if (!Array.isArray(list)) throw new Error('policies is not a list');
  if (list.length > max) throw new Error(`more than ${max} policies`);
  const policies: MeetingPolicy[] = [];
  for (const [i, v] of list.entries()) {
    const r = parseMeetingPolicy(v);
    if (!r.ok) throw new Error(`policy ${i}: ${r.error.message}`);
    policies.push(r.policy);
  }
  return { version: 1, policies };
}

export interface FilePolicyBookOptions {
  log: Logger;
  max?: number;
  fs?: StoreFs;
}

/** Pins kept in the state directory; `pin` answers at once and the file follows (writes serialised). */
export class FilePolicyBook implements MeetingPolicyBook {
  readonly #book: MemoryPolicyBook;
  readonly #store: JsonFileStore<PinsFile>;
  readonly #log: Logger;
  #writing: Promise<void> = Promise.resolve();
  #writeFailed = false;
  /** Set when the file was damaged at open (the last good copy, or nothing, was used). */
  readonly problem: RoomdError | undefined;

  private constructor(
    store: JsonFileStore<PinsFile>,
    book: MemoryPolicyBook,
    log: Logger,
    problem: RoomdError | undefined,
  ) {
    this.#store = store;
    this.#book = book;
    this.#log = log;
    this.problem = problem;
  }

  /** Open (or start) the pins of a state directory. */
  static async open(stateDir: string, o: FilePolicyBookOptions): Promise<FilePolicyBook> {
    const max = o.max ?? MAX_POLICY_PINS;
    const store = new JsonFileStore(path.join(stateDir, POLICY_PINS_FILE), (raw) => parsePinsFile(raw, max), {
      ...(o.fs === undefined ? {} : { fs: o.fs }),
    });
    const read = await store.read();
    if (read.problem !== undefined) o.log.error({ code: read.problem.code }, read.problem.message);
    const book = new MemoryPolicyBook(read.value?.policies ?? [], max);
    return new FilePolicyBook(store, book, o.log, read.problem);
  }

  get size(): number {
    return this.#book.size;
  }

  get(meetingId: string): MeetingPolicy | undefined {
    return this.#book.get(meetingId);
  }

  pin(policy: MeetingPolicy): 'new' | 'stronger' | 'kept' {
    const result = this.#book.pin(policy);
    if (result !== 'kept') {
      this.#log.info(
        { meetingId: policy.meetingId, encryption: policy.encryption, result },
        'meeting policy pinned',
      );
      this.#persist();
    }
    return result;
  }

  /** Resolves once every pin so far is on disk (or its write failed and was logged). */
  settled(): Promise<void> {
    return this.#writing;
  }

  #persist(): void {
    const snapshot: PinsFile = { version: 1, policies: this.#book.list() };
    this.#writing = this.#writing
      .then(() => this.#store.write(snapshot))
      .then(
        () => {
          this.#writeFailed = false;
        },
        (error: unknown) => {
          // The pins stay in memory; the next pin tries again. Logged once per failing streak.
          if (!this.#writeFailed) {
            this.#writeFailed = true;
            const code = (error as { code?: string }).code ?? 'core.store_io';
            this.#log.error({ code }, 'could not write the pinned meeting policies');
          }
        },
      );
  }
}
