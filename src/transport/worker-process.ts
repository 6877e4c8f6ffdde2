/**
 * Starting the media worker process (docs/decisions/0013-media-worker.md §Process): the same Node
 * binary, running worker-main.ts through tsx in a checkout and the built worker-main.js when
 * installed, with one extra pipe on file descriptor 3 for the protocol in worker-protocol.ts. The
 * worker's stdout is discarded (roomd's own stdout may carry JSON lines); its stderr is roomd's.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MAX_FRAME_BODY } from './worker-protocol.ts';

/** One running worker, as the factory sees it. */
export interface WorkerLink {
  readonly pid: number | undefined;
  write(frame: Uint8Array): void;
  onData(listener: (chunk: Uint8Array) => void): void;
  /** Called once when the worker is gone: it exited, could not start, or its pipe broke. */
  onExit(listener: (how: { code: number | null; signal: string | null }) => void): void;
  kill(signal: NodeJS.Signals): void;
  /** Whether a running worker keeps roomd's event loop alive (only while it holds connections). */
  ref(): void;
  unref(): void;
}

export type WorkerLauncher = () => WorkerLink;

/** Bytes gathered in one turn before they are written at once instead of at the end of the turn. */
export const MAX_BATCH_BYTES = 64 * 1024;
/** One batch buffer: a full batch and one more frame of the largest size always fit. */
const ARENA_BYTES = MAX_BATCH_BYTES + 4 + MAX_FRAME_BODY;

/** What batchedWriter needs of a pipe: net.Socket's write and its count of bytes not yet written. */
export interface FramePipe {
  write(bytes: Uint8Array): unknown;
  readonly writableLength?: number;
}

/**
 * Writes frames to the pipe (docs/decisions/0013-media-worker.md §Cost): the frames written in one
 * turn of the event loop are copied into one batch buffer and leave in one write at the end of the
 * turn — a stream write costs far more than copying a 1.2 KB chunk, and a turn often holds many. A
 * turn that gathers MAX_BATCH_BYTES writes them at once, so a batch never holds more than that plus
 * one frame. The batch buffer is used again only when the pipe took the last write whole, at once
 * (nothing of it is left in the socket's queue); otherwise later frames go after it, or into a
 * fresh buffer.
 */
export function batchedWriter(
  pipe: FramePipe,
  defer: (flush: () => void) => void = setImmediate,
): (frame: Uint8Array) => void {
  let arena: Buffer | null = null;
  let start = 0;
  let end = 0;
  let scheduled = false;
  const flush = () => {
    if (arena === null || end === start) return;
    pipe.write(arena.subarray(start, end));
    if (pipe.writableLength === 0) start = end = 0;
    else start = end;
  };
  const deferred = () => {
    scheduled = false;
    flush();
  };
  return (frame) => {
    if (arena === null || arena.byteLength - end < frame.byteLength) {
      flush();
      if (arena === null || arena.byteLength - end < frame.byteLength) {
        arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, frame.byteLength));
        start = end = 0;
      }
    }
    arena.set(frame, end);
    end += frame.byteLength;
    if (end - start >= MAX_BATCH_BYTES) flush();
    else if (!scheduled) {
      scheduled = true;
      defer(deferred);
    }
  };
}

/** The worker's entry and the Node flags it needs, next to this module (source or build). */
export function workerEntry(): { entry: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
    return { entry: fileURLToPath(new URL('./worker-main.ts', here)), execArgv: ['--import', tsx] };
  }
  return { entry: fileURLToPath(new URL('./worker-main.js', here)), execArgv: [] };
}

/**
 * For profiling only: with ROOMD_MEDIA_WORKER_CPU_PROF set to a directory, each worker writes a V8
 * CPU profile there when it exits (docs/benchmarks.md §Media worker).
 */
function profilingFlags(): string[] {
  const dir = process.env.ROOMD_MEDIA_WORKER_CPU_PROF;
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

export function processWorkerLauncher(): WorkerLauncher {
  return () => {
    const { entry, execArgv } = workerEntry();
    const child = spawn(process.execPath, [...execArgv, ...profilingFlags(), entry], {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
    });
    const pipe = child.stdio[3] as Socket;
    const exitListeners: ((how: { code: number | null; signal: string | null }) => void)[] = [];
    let gone = false;
    const exited = (code: number | null, signal: string | null) => {
      if (gone) return;
      gone = true;
      pipe.destroy();
      for (const l of exitListeners) l({ code, signal });
    };
    child.on('exit', (code, signal) => exited(code, signal));
    // Spawning failed (no such binary, no resources): the same as a worker that died at once.
    child.on('error', () => exited(null, null));
    // Writes to a worker that just died fail with EPIPE; its exit is reported by the child's events.
    pipe.on('error', () => {});
    const writeFrame = batchedWriter(pipe);
    return {
      get pid() {
        return child.pid;
      },
      write(frame) {
        if (!gone) writeFrame(frame);
      },
      onData(listener) {
        pipe.on('data', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      kill(signal) {
        if (!gone) child.kill(signal);
      },
      ref() {
        child.ref();
        pipe.ref();
      },
      unref() {
        child.unref();
        pipe.unref();
      },
    };
  };
}
