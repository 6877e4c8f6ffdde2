/**
 * The fuzz engine (fuzz/README.md "How a run works"), main-thread side: runs each target in a fresh
 * worker thread (fuzz/worker.ts) and watches it. A case running longer than the hang limit, or a
 * worker that runs out of memory (its heap limit, or the process growing past its allowance), is
 * stopped; the engine then regenerates that case's input from its seed and path in a fresh worker
 * (without running the decoder) so even a hang is kept and reported. A worker lost while
 * fast-check was still generating the input is a harness failure: its seed and path are reported,
 * the input is not generated again. New failures are written to the corpus.
 */
import { Worker } from 'node:worker_threads';
import type { CaseFailure } from './case.ts';
import { saveToCorpus } from './corpus.ts';
import {
  batchSeed,
  F_GENERATING,
  F_STARTED,
  type FoundFailure,
  type FromWorker,
  I_BATCH,
  I_CORPUS,
  I_PHASE,
  I_RUN,
  PHASE,
  PROGRESS_BYTES,
  type RunJob,
  type ToWorker,
} from './protocol.ts';
import { describeInput, fromJson, type Json } from './serial.ts';

export interface Failure extends CaseFailure {
  readonly target: string;
  /** Where it came from: a corpus file, or fuzzing (then seed and path reproduce it). */
  readonly source: 'corpus' | 'fuzz';
  /** The corpus file holding the input (an existing one, or the one just written). */
  readonly file?: string;
  /** The (shrunk) input, readable. */
  readonly input: string;
  readonly seed?: number;
  readonly path?: string;
  readonly shrinks?: number;
}

export interface TargetReport {
  readonly target: string;
  readonly corpusCases: number;
  readonly cases: number;
  /** Wall time spent generating and running cases (not replaying the corpus or starting up). */
  readonly fuzzMs: number;
  readonly failures: readonly Failure[];
}

export interface RunOptions {
  readonly seed: number;
  readonly cases?: number;
  readonly seconds?: number;
  readonly caseLimitMs?: number;
  /** A case still running after this long is a hang (default 10 s). */
  readonly hangMs?: number;
  /** Write new failures to the corpus (default true). */
  readonly save?: boolean;
  /** Replay the corpus first (default true). */
  readonly replay?: boolean;
  readonly corpusRoot?: string;
}

const WORKER_URL = new URL('../worker.ts', import.meta.url).href;
/** The worker is TypeScript: load it through tsx's API, which works under `node --import tsx` and vitest. */
const BOOT = `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(WORKER_URL)}, ${JSON.stringify(WORKER_URL)}))`;

class WorkerLost extends Error {
  readonly outOfMemory: boolean;
  constructor(message: string, outOfMemory: boolean) {
    super(message);
    this.outOfMemory = outOfMemory;
  }
}

const MB = 1024 * 1024;

/** One worker thread and its progress block. */
class Runner {
  readonly progress = new SharedArrayBuffer(PROGRESS_BYTES);
  readonly ints = new Int32Array(this.progress, 0, 4);
  readonly started = new Float64Array(this.progress, 16, 2);
  readonly worker: Worker;
  /**
   * Process RSS at which the worker is stopped as out of memory. Its heap limit does not cover
   * memory outside the V8 heap (large strings and buffers), which can grow until the kernel kills
   * the whole process; this watches the process instead.
   */
  readonly #maxRss: number;
  readonly #maxRssMb: number;
  #listener: ((m: FromWorker) => void) | null = null;
  #onLost: ((e: WorkerLost) => void) | null = null;
  #lost: WorkerLost | null = null;

  constructor(maxHeapMb: number, maxExternalMb: number) {
    this.#maxRss = process.memoryUsage.rss() + (maxHeapMb + maxExternalMb) * MB;
    this.#maxRssMb = Math.round(this.#maxRss / MB);
    this.worker = new Worker(BOOT, {
      eval: true,
      workerData: this.progress,
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    });
    this.worker.on('message', (m: FromWorker) => this.#listener?.(m));
    const lose = (e: WorkerLost) => {
      this.#lost ??= e;
      this.#onLost?.(e);
    };
    this.worker.on('error', (e: Error & { code?: string }) =>
      lose(new WorkerLost(e.message, e.code === 'ERR_WORKER_OUT_OF_MEMORY')),
    );
    this.worker.on('exit', (code) => lose(new WorkerLost(`worker exited (${code})`, false)));
  }

  /** Send a message and collect replies until `until` says done; rejects if the worker is lost. */
  request<T>(message: ToWorker, until: (m: FromWorker) => T | undefined, hangMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#lost !== null) {
        reject(this.#lost);
        return;
      }
      const watchdog = setInterval(
        () => {
          const now = Date.now();
          const t = this.started[F_STARTED]!;
          const g = this.started[F_GENERATING]!;
          let lost: WorkerLost | null = null;
          if (t > 0 && now - t > hangMs)
            lost = new WorkerLost(`a case ran for more than ${hangMs} ms`, false);
          else if (t === 0 && g > 0 && now - g > hangMs)
            lost = new WorkerLost(`generating an input took more than ${hangMs} ms`, false);
          else if (process.memoryUsage.rss() > this.#maxRss)
            lost = new WorkerLost(`the process grew past ${this.#maxRssMb} MB`, true);
          if (lost !== null) {
            finish();
            reject(lost);
          }
        },
        Math.min(250, hangMs / 4),
      );
      const finish = () => {
        clearInterval(watchdog);
        this.#listener = null;
        this.#onLost = null;
      };
      this.#onLost = (e) => {
        finish();
        reject(e);
      };
      this.#listener = (m) => {
        if (m.type === 'harness-error') {
          finish();
          reject(new Error(`fuzz harness error: ${m.message}`));
          return;
        }
        const result = until(m);
        if (result !== undefined) {
          finish();
          resolve(result);
        }
      };
      this.worker.postMessage(message);
    });
  }

  async stop(): Promise<void> {
    this.#listener = null;
    this.#onLost = null;
    await this.worker.terminate();
  }
}

export interface EngineOptions {
  /** Heap limit of the worker, so a decoder that allocates without bound fails alone (default 512). */
  readonly maxHeapMb?: number;
  /**
   * How far the process may grow beyond its size when the worker started plus the worker's heap
   * limit, before the worker is stopped as out of memory (default 1024).
   */
  readonly maxExternalMb?: number;
}

export class FuzzEngine {
  #runner: Runner | null = null;
  readonly #maxHeapMb: number;
  readonly #maxExternalMb: number;

  constructor(options: EngineOptions = {}) {
    this.#maxHeapMb = options.maxHeapMb ?? 512;
    this.#maxExternalMb = options.maxExternalMb ?? 1024;
  }

  #current(): Runner {
    this.#runner ??= new Runner(this.#maxHeapMb, this.#maxExternalMb);
    return this.#runner;
  }

  async #discard(): Promise<void> {
    const r = this.#runner;
    this.#runner = null;
    await r?.stop();
  }

  async close(): Promise<void> {
    await this.#discard();
  }

  /**
   * Replay a target's corpus, then fuzz it; never throws for a decoder's failure (it is reported).
   * Each target gets a fresh worker, ended afterwards, so nothing one target allocated stays for
   * the next and the process's memory stays flat over a run.
   */
  async runTarget(target: string, options: RunOptions): Promise<TargetReport> {
    try {
      return await this.#runTarget(target, options);
    } finally {
      await this.#discard();
    }
  }

  async #runTarget(target: string, options: RunOptions): Promise<TargetReport> {
    const hangMs = options.hangMs ?? 10_000;
    const failures: Failure[] = [];
    let corpusFiles: readonly string[] = [];
    let corpusCases = 0;
    let cases = 0;
    let fuzzMs = 0;
    let corpusFrom: number | undefined = options.replay === false ? undefined : 0;
    const save = (note: string, input: Json) =>
      options.save === false ? undefined : saveToCorpus(target, note, fromJson(input), options.corpusRoot);

    for (;;) {
      const runner = this.#current();
      let firstFailure: Json | undefined;
      /** Generated cases of passed batches. */
      let passed = 0;
      const job: RunJob = {
        target,
        seed: options.seed,
        ...(options.cases === undefined ? {} : { cases: options.cases }),
        ...(options.seconds === undefined ? {} : { seconds: options.seconds }),
        ...(options.caseLimitMs === undefined ? {} : { caseLimitMs: options.caseLimitMs }),
        ...(corpusFrom === undefined ? {} : { corpusFrom }),
        ...(options.corpusRoot === undefined ? {} : { corpusRoot: options.corpusRoot }),
      };
      const startedAt = performance.now();
      try {
        const done = await runner.request(
          { type: 'run', job },
          (m) => {
            if (m.type === 'corpus-files') corpusFiles = m.files;
            else if (m.type === 'corpus-done') corpusCases += m.cases;
            else if (m.type === 'progress') passed = m.cases;
            else if (m.type === 'corpus-failure')
              failures.push({ ...m.failure, target, source: 'corpus', file: m.file, input: m.input });
            else if (m.type === 'first-failure') firstFailure = m.input;
            else if (m.type === 'done') return m;
            return undefined;
          },
          hangMs,
        );
        cases += done.cases;
        fuzzMs += done.fuzzMs;
        if (done.found !== undefined) failures.push(this.#found(target, done.found, save));
        return { target, corpusCases, cases, fuzzMs, failures };
      } catch (error) {
        if (!(error instanceof WorkerLost)) throw error;
        // The worker hung or died: find the case from the progress block, then start afresh.
        const phase = Atomics.load(runner.ints, I_PHASE);
        const inGenerator = runner.started[F_STARTED] === 0 && runner.started[F_GENERATING]! > 0;
        const kind = error.outOfMemory ? 'out-of-memory' : 'hang';
        const message = error.outOfMemory ? `the worker ran out of memory (${error.message})` : error.message;
        await this.#discard();
        if (phase === PHASE.corpus) {
          const i = Atomics.load(runner.ints, I_CORPUS);
          const file = corpusFiles[i] ?? `corpus entry ${i}`;
          failures.push({ kind, message, stackTop: '', target, source: 'corpus', file, input: file });
          corpusCases += i + 1 - (corpusFrom ?? 0);
          corpusFrom = i + 1;
          continue; // the rest of the corpus, then fuzzing
        }
        fuzzMs += performance.now() - startedAt;
        // The passed batches, and the cases of this one up to the one that was lost.
        const inBatch = phase === PHASE.generate || phase === PHASE.shrink;
        cases += passed + (inBatch ? Math.max(0, Atomics.load(runner.ints, I_RUN) + 1) : 0);
        if (phase === PHASE.shrink && firstFailure !== undefined) {
          const file = save(`${kind} (while shrinking; not minimised)`, firstFailure);
          failures.push({
            kind,
            message: `${message} while shrinking a failure`,
            stackTop: '',
            target,
            source: 'fuzz',
            ...(file === undefined ? {} : { file }),
            input: describeInput(fromJson(firstFailure)),
          });
        } else if (phase === PHASE.generate && inGenerator) {
          // Lost in fast-check's generation of the next case: the target's arbitrary is at fault, and
          // generating that input again would only do the same.
          const seed = batchSeed(options.seed, Atomics.load(runner.ints, I_BATCH));
          const path = String(Atomics.load(runner.ints, I_RUN) + 1);
          failures.push({
            kind,
            message: `${message} while generating the input (the target's arbitrary is not bounded)`,
            stackTop: '',
            target,
            source: 'fuzz',
            input: '(not generated again)',
            seed,
            path,
          });
        } else if (phase === PHASE.generate) {
          const seed = batchSeed(options.seed, Atomics.load(runner.ints, I_BATCH));
          const path = String(Atomics.load(runner.ints, I_RUN));
          const input = await this.#reproduce(target, seed, path, hangMs);
          const file = input === undefined ? undefined : save(kind, input);
          failures.push({
            kind,
            message,
            stackTop: '',
            target,
            source: 'fuzz',
            ...(file === undefined ? {} : { file }),
            input:
              input === undefined ? '(lost: generating it again failed too)' : describeInput(fromJson(input)),
            seed,
            path,
          });
        } else {
          failures.push({ kind, message, stackTop: '', target, source: 'fuzz', input: '(unknown)' });
        }
        return { target, corpusCases, cases, fuzzMs, failures };
      }
    }
  }

  /** The input of a case, generated again in a fresh worker; undefined when that worker is lost too. */
  async #reproduce(target: string, seed: number, path: string, hangMs: number): Promise<Json | undefined> {
    const runner = this.#current();
    try {
      return await runner.request(
        { type: 'reproduce', target, seed, path },
        (m) => (m.type === 'reproduced' ? m.input : undefined),
        hangMs,
      );
    } catch (error) {
      if (!(error instanceof WorkerLost)) throw error;
      await this.#discard();
      return undefined;
    }
  }

  #found(
    target: string,
    found: FoundFailure,
    save: (note: string, input: Json) => string | undefined,
  ): Failure {
    const file = save(`${found.failure.kind}: ${found.failure.message.slice(0, 200)}`, found.input);
    return {
      ...found.failure,
      target,
      source: 'fuzz',
      ...(file === undefined ? {} : { file }),
      input: describeInput(fromJson(found.input)),
      seed: found.seed,
      path: found.path,
      shrinks: found.shrinks,
    };
  }
}

/** A failure as the lines a person reads (the CLI and the test print these). */
export function formatFailure(f: Failure): string {
  const lines = [
    `✗ ${f.target}: ${f.kind} (${f.source}${f.file === undefined ? '' : `, ${f.file}`})`,
    `  ${f.message}`,
  ];
  if (f.stackTop !== '') lines.push(...f.stackTop.split('\n').map((l) => `    ${l}`));
  if (f.seed !== undefined)
    lines.push(`  seed ${f.seed}, path ${f.path}${f.shrinks ? `, ${f.shrinks} shrinks` : ''}`);
  lines.push(`  input: ${f.input}`);
  return lines.join('\n');
}
