/**
 * Process-runner seam: one small interface for
 * short commands (`run`, e.g. `v4l2-ctl`) and long-running children (`spawn`, e.g. ffmpeg), with
 * the real implementation on node:child_process and a scriptable fake for tests.
 *
 * Contract: `run` never rejects. A non-zero exit is in `code`; a program that could not start
 * gives code `null` with the reason in `stderr`; a child killed by the timeout has `timedOut`.
 *
 * A spawned child can get one extra output pipe as its fd 3 (`extraOutput`), for a second stream
 * beside stdout (ffmpeg writes it as `pipe:3`, e.g. the microphone's level-meter PCM).
 */
import { spawn as nodeSpawn } from 'node:child_process';
import { PassThrough, type Readable, type Writable } from 'node:stream';

export interface RunOptions {
  /** Kill the child (SIGKILL) after this long; default 10 s. */
  readonly timeoutMs?: number;
  readonly input?: string | Uint8Array;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Cap on captured stdout/stderr each (bytes); default 1 MiB. */
  readonly maxOutputBytes?: number;
}

export interface RunResult {
  /** Exit code, or null when killed by a signal or the program could not start. */
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Open a pipe from the child's fd 3 to `ChildHandle.extraOutput`. Read it to its end: a child
   * writing to a full pipe nobody drains blocks.
   */
  readonly extraOutput?: boolean;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** Set when the program could not be started at all. */
  readonly error?: Error;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The child's fd 3, when spawned with `extraOutput`. */
  readonly extraOutput?: Readable;
  /** Resolves once, when the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  kill(signal?: NodeJS.Signals): void;
}

export interface ProcessRunner {
  run(cmd: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  spawn(cmd: string, args: readonly string[], options?: SpawnOptions): ChildHandle;
}

export class NodeProcessRunner implements ProcessRunner {
  run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const max = options.maxOutputBytes ?? 1024 * 1024;
    return new Promise((resolve) => {
      const child = nodeSpawn(cmd, [...args], {
        cwd: options.cwd,
        env: options.env === undefined ? process.env : { ...options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let timedOut = false;
      let startError: Error | null = null;
      child.stdout.on('data', (c: Buffer) => {
        if (outLen < max) out.push(c.subarray(0, max - outLen));
        outLen += c.length;
      });
      child.stderr.on('data', (c: Buffer) => {
        if (errLen < max) err.push(c.subarray(0, max - errLen));
        errLen += c.length;
      });
      child.stdin.on('error', () => {});
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 10_000);
      child.on('error', (e) => {
        startError = e;
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          code: startError === null ? code : null,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: startError === null ? Buffer.concat(err).toString('utf8') : String(startError),
          timedOut,
        });
      });
      if (options.input !== undefined) child.stdin.end(options.input);
      else child.stdin.end();
    });
  }

  spawn(cmd: string, args: readonly string[], options: SpawnOptions = {}): ChildHandle {
    const child = nodeSpawn(cmd, [...args], {
      cwd: options.cwd,
      env: options.env === undefined ? process.env : { ...options.env },
      stdio: options.extraOutput === true ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.on('error', () => {});
    // Node types stdio[3] as a Duplex (a socket pair end); the child only writes to it.
    const fd3 = options.extraOutput === true ? (child.stdio[3] as Readable | null) : null;
    const exited = new Promise<ExitInfo>((resolve) => {
      let startError: Error | undefined;
      child.on('error', (e) => {
        startError = e;
        if (child.pid === undefined) resolve({ code: null, signal: null, error: e });
      });
      child.on('close', (code, signal) =>
        resolve(startError === undefined ? { code, signal } : { code, signal, error: startError }),
      );
    });
    return {
      pid: child.pid,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      ...(fd3 === null ? {} : { extraOutput: fd3 }),
      exited,
      kill: (signal: NodeJS.Signals = 'SIGTERM') => {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  }
}

export interface FakeCall {
  readonly cmd: string;
  readonly args: readonly string[];
  /** The options a `spawn` was given, when it was given any. */
  readonly options?: SpawnOptions;
}

export type FakeHandler = (args: readonly string[], input?: string | Uint8Array) => Partial<RunResult>;

/**
 * A scripted runner: `on(cmd, handler)` answers `run`; unknown commands exit 127 like a shell.
 * `spawn` returns a child whose streams (and fd 3, with `extraOutput`) the test drives and which
 * exits on `kill`.
 */
export class FakeProcessRunner implements ProcessRunner {
  readonly calls: FakeCall[] = [];
  readonly children: FakeChild[] = [];
  readonly #handlers = new Map<string, FakeHandler>();

  on(cmd: string, handler: FakeHandler): this {
    this.#handlers.set(cmd, handler);
    return this;
  }

  async run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ cmd, args: [...args] });
    const h = this.#handlers.get(cmd);
    if (h === undefined) {
      return { code: 127, signal: null, stdout: '', stderr: `${cmd}: command not found`, timedOut: false };
    }
    const r = h(args, options.input);
    return { code: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...r };
  }

  spawn(cmd: string, args: readonly string[], options?: SpawnOptions): ChildHandle {
    this.calls.push({ cmd, args: [...args], ...(options === undefined ? {} : { options }) });
    const child = new FakeChild(this.children.length + 1000, options?.extraOutput === true);
    this.children.push(child);
    return child;
  }
}

export class FakeChild implements ChildHandle {
  readonly pid: number;
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly extraOutput?: PassThrough;
  readonly exited: Promise<ExitInfo>;
  #resolve: (e: ExitInfo) => void = () => {};
  #done = false;

  constructor(pid: number, extraOutput = false) {
    this.pid = pid;
    if (extraOutput) this.extraOutput = new PassThrough();
    this.exited = new Promise((r) => {
      this.#resolve = r;
    });
  }

  get running(): boolean {
    return !this.#done;
  }

  /** End the child as if it exited by itself. */
  exit(code: number | null, signal: string | null = null): void {
    if (this.#done) return;
    this.#done = true;
    this.stdout.end();
    this.stderr.end();
    this.extraOutput?.end();
    this.#resolve({ code, signal });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.exit(null, signal);
  }
}
