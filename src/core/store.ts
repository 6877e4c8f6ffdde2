/**
 * The state store: files under the state directory written atomically (temp file, fsync, rename,
 * fsync of the directory), each with a `.last-good` twin. A reader that finds the current file
 * damaged falls back to the twin and reports it, so the room screen can say so.
 *
 * Every file-system step goes through `StoreFs` so tests can simulate a crash between any two steps.
 */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { RoomdError } from './errors.ts';

export interface StoreFs {
  writeTemp(file: string, data: Uint8Array, mode: number): Promise<void>;
  fsyncFile(file: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
  readFile(file: string): Promise<Buffer>;
  unlink(file: string): Promise<void>;
  mkdir(dir: string, mode: number): Promise<void>;
}

export const nodeStoreFs: StoreFs = {
  async writeTemp(file, data, mode) {
    const fh = await fsp.open(file, 'wx', mode);
    try {
      await fh.writeFile(data);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
  },
  async fsyncFile(file) {
    const fh = await fsp.open(file, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  async fsyncDir(dir) {
    const fh = await fsp.open(dir, 'r');
    try {
      await fh.sync();
    } catch (error) {
      // Some file systems refuse fsync on a directory (EINVAL); the rename is still durable there.
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    } finally {
      await fh.close();
    }
  },
  readFile: (file) => fsp.readFile(file),
  unlink: (file) => fsp.unlink(file),
  async mkdir(dir, mode) {
    await fsp.mkdir(dir, { recursive: true, mode });
  },
};

/** Write `data` to `file` so a crash at any moment leaves the old content or the new, never a mix. */
export async function writeFileAtomic(
  file: string,
  data: Uint8Array | string,
  options: { mode?: number; fs?: StoreFs } = {},
): Promise<void> {
  const fs = options.fs ?? nodeStoreFs;
  const mode = options.mode ?? 0o600;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.writeTemp(tmp, bytes, mode);
    await fs.fsyncFile(tmp);
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.unlink(tmp).catch(() => {});
    throw new RoomdError('core.store_io', {
      message: `Could not write ${path.basename(file)}.`,
      context: { file },
      cause: error,
    });
  }
  await fs.fsyncDir(dir);
}

export type ReadSource = 'current' | 'last-good' | 'none';

export interface ReadResult<T> {
  value: T | undefined;
  source: ReadSource;
  /** Set when the current file existed but was unreadable or invalid. */
  problem?: RoomdError;
}

/**
 * One JSON document in the state directory. `parse` validates and may throw; a throw means the
 * file is corrupt.
 */
export class JsonFileStore<T> {
  readonly file: string;
  readonly lastGoodFile: string;
  readonly #parse: (raw: unknown) => T;
  readonly #fs: StoreFs;
  readonly #mode: number;

  constructor(file: string, parse: (raw: unknown) => T, options: { fs?: StoreFs; mode?: number } = {}) {
    this.file = file;
    this.lastGoodFile = `${file}.last-good`;
    this.#parse = parse;
    this.#fs = options.fs ?? nodeStoreFs;
    this.#mode = options.mode ?? 0o600;
  }

  async read(): Promise<ReadResult<T>> {
    const current = await this.#tryRead(this.file);
    if (current.kind === 'ok') return { value: current.value, source: 'current' };
    if (current.kind === 'missing') {
      // A crash between the two renames of the very first write can leave only the twin.
      const twin = await this.#tryRead(this.lastGoodFile);
      return twin.kind === 'ok'
        ? { value: twin.value, source: 'last-good' }
        : { value: undefined, source: 'none' };
    }
    const problem = new RoomdError('core.store_corrupt', {
      message: `${path.basename(this.file)} is damaged (${current.reason}); using the last good copy.`,
      context: { file: this.file, reason: current.reason },
    });
    const twin = await this.#tryRead(this.lastGoodFile);
    if (twin.kind === 'ok') return { value: twin.value, source: 'last-good', problem };
    return {
      value: undefined,
      source: 'none',
      problem: new RoomdError('core.store_corrupt', {
        message: `${path.basename(this.file)} is damaged (${current.reason}) and there is no good copy.`,
        context: { file: this.file, reason: current.reason },
      }),
    };
  }

  async write(value: T): Promise<void> {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    await this.#fs.mkdir(path.dirname(this.file), 0o700);
    await writeFileAtomic(this.file, text, { fs: this.#fs, mode: this.#mode });
    await writeFileAtomic(this.lastGoodFile, text, { fs: this.#fs, mode: this.#mode });
  }

  async #tryRead(
    file: string,
  ): Promise<{ kind: 'ok'; value: T } | { kind: 'missing' } | { kind: 'bad'; reason: string }> {
    let raw: Buffer;
    try {
      raw = await this.#fs.readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      return { kind: 'bad', reason: (error as Error).message };
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return { kind: 'bad', reason: 'not valid JSON' };
    }
    try {
      return { kind: 'ok', value: this.#parse(json) };
    } catch (error) {
      return { kind: 'bad', reason: error instanceof Error ? error.message : String(error) };
    }
  }
}
