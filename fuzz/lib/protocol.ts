/**
 * Messages between the fuzz engine (main thread) and its worker (fuzz/worker.ts), and the shared
 * progress block the engine's watchdog reads to tell which case hung.
 */
import type { CaseFailure } from './case.ts';
import type { Json } from './serial.ts';

export interface RunJob {
  readonly target: string;
  /** Base seed; batch k of the run uses batchSeed(seed, k). */
  readonly seed: number;
  /** Stop after this many generated cases… */
  readonly cases?: number;
  /** …or after this much time (whichever is given; cases wins). */
  readonly seconds?: number;
  readonly caseLimitMs?: number;
  /** Replay the corpus first, from this entry on (undefined: no replay). */
  readonly corpusFrom?: number;
  /** Corpus root folder (tests point it elsewhere). */
  readonly corpusRoot?: string;
}

export type ToWorker =
  | { readonly type: 'run'; readonly job: RunJob }
  | { readonly type: 'reproduce'; readonly target: string; readonly seed: number; readonly path: string };

export interface FoundFailure {
  readonly failure: CaseFailure;
  readonly input: Json;
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
}

export type FromWorker =
  | { readonly type: 'corpus-files'; readonly files: readonly string[] }
  /** The corpus was replayed (sent before fuzzing, so the count survives a worker lost later). */
  | { readonly type: 'corpus-done'; readonly cases: number }
  | {
      readonly type: 'corpus-failure';
      readonly file: string;
      readonly failure: CaseFailure;
      /** The input, readable (describeInput). */
      readonly input: string;
    }
  | { readonly type: 'first-failure'; readonly input: Json }
  /** A batch passed: the generated cases run so far (so the count survives a worker lost later). */
  | { readonly type: 'progress'; readonly cases: number }
  | {
      readonly type: 'done';
      readonly cases: number;
      readonly fuzzMs: number;
      readonly found?: FoundFailure;
    }
  | { readonly type: 'reproduced'; readonly input: Json }
  | { readonly type: 'harness-error'; readonly message: string };

/** Phases in the progress block. */
export const PHASE = { idle: 0, corpus: 1, generate: 2, shrink: 3 } as const;

/**
 * Layout of the shared progress block: Int32 [phase, corpus index, run index, batch], then Float64
 * [case start, generation start].
 */
export const PROGRESS_BYTES = 40;
export const I_PHASE = 0;
export const I_CORPUS = 1;
export const I_RUN = 2;
export const I_BATCH = 3;
/** Index in the Float64 view at byte 16: start time (Date.now()) of the running case; 0 when none. */
export const F_STARTED = 0;
/**
 * Index in the Float64 view: when fast-check began generating the next input (Date.now()), while
 * fuzzing and no case runs; 0 otherwise. A worker lost while it is set was lost in the generator
 * (an arbitrary without bounds), on case I_RUN + 1 of the batch.
 */
export const F_GENERATING = 1;

/** Seed of batch `k` of a run. */
export function batchSeed(seed: number, k: number): number {
  return (seed ^ Math.imul(k + 1, 0x9e3779b1)) | 0;
}
