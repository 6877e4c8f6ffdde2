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

/** Writes frames to the pipe; frames written in one turn of the event loop leave in one write. */
export function batchedWriter(pipe: Socket): (frame: Uint8Array) => void {
  let corked = false;
  return (frame) => {
    if (!corked) {
      corked = true;
      pipe.cork();
      setImmediate(() => {
        corked = false;
        pipe.uncork();
      });
    }
    pipe.write(frame);
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

export function processWorkerLauncher(): WorkerLauncher {
  return () => {
    const { entry, execArgv } = workerEntry();
    const child = spawn(process.execPath, [...execArgv, entry], {
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
