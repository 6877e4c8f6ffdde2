/**
 * The fuzz worker (fuzz/README.md "How a run works"): runs one target at a time inside a worker
 * thread, so the engine on the main thread can stop a case that never ends (a hang) or a worker
 * that ran out of memory, and still say which input did it. Replays the corpus, then runs
 * fast-check in batches (each with its own seed) until the case count or the time is used up;
 * the first failure is shrunk by fast-check and reported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';
import { CaseFailureError, DEFAULT_CASE_LIMIT_MS, runCase } from './lib/case.ts';
import { loadCorpus } from './lib/corpus.ts';
import {
  batchSeed,
  F_GENERATING,
  F_STARTED,
  type FromWorker,
  I_BATCH,
  I_CORPUS,
  I_PHASE,
  I_RUN,
  PHASE,
  type RunJob,
  type ToWorker,
} from './lib/protocol.ts';
import { describeInput, toJson } from './lib/serial.ts';
import type { FuzzTarget } from './lib/target.ts';
import { findTarget } from './targets/index.ts';

const port = parentPort!;
const progress = workerData as SharedArrayBuffer;
const ints = new Int32Array(progress, 0, 4);
const started = new Float64Array(progress, 16, 2);

function send(message: FromWorker): void {
  port.postMessage(message);
}

const arbitraries = new Map<string, fc.Arbitrary<unknown>>();
function arbitraryOf(target: FuzzTarget): fc.Arbitrary<unknown> {
  let a = arbitraries.get(target.name);
  if (a === undefined) {
    a = target.arbitrary();
    arbitraries.set(target.name, a);
  }
  return a;
}

function timed(target: FuzzTarget, input: unknown, limitMs: number) {
  started[F_GENERATING] = 0;
  started[F_STARTED] = Date.now();
  const failure = runCase(target, input, limitMs);
  started[F_STARTED] = 0;
  // From here until the next case starts, fast-check is generating its input (while fuzzing).
  if (Atomics.load(ints, I_PHASE) === PHASE.generate) started[F_GENERATING] = Date.now();
  return failure;
}

function run(job: RunJob): void {
  const target = findTarget(job.target);
  const limitMs = job.caseLimitMs ?? target.caseLimitMs ?? DEFAULT_CASE_LIMIT_MS;
  let corpusCases = 0;
  if (job.corpusFrom !== undefined) {
    const corpus = loadCorpus(target, job.corpusRoot);
    send({ type: 'corpus-files', files: corpus.map((e) => e.file) });
    Atomics.store(ints, I_PHASE, PHASE.corpus);
    for (let i = job.corpusFrom; i < corpus.length; i++) {
      Atomics.store(ints, I_CORPUS, i);
      const entry = corpus[i]!;
      const failure = timed(target, entry.input, limitMs);
      corpusCases++;
      if (failure !== null)
        send({ type: 'corpus-failure', file: entry.file, failure, input: describeInput(entry.input) });
    }
    send({ type: 'corpus-done', cases: corpusCases });
  }
  const arb = arbitraryOf(target);
  let firstFailure = true;
  const property = fc.property(arb, (input) => {
    if (Atomics.load(ints, I_PHASE) === PHASE.generate) Atomics.add(ints, I_RUN, 1);
    const failure = timed(target, input, limitMs);
    if (failure === null) return;
    if (firstFailure) {
      // Kept by the engine in case shrinking itself never ends.
      firstFailure = false;
      send({ type: 'first-failure', input: toJson(input) });
      Atomics.store(ints, I_PHASE, PHASE.shrink);
      started[F_GENERATING] = 0;
    }
    throw new CaseFailureError(failure);
  });

  const t0 = performance.now();
  const deadline = job.cases === undefined ? t0 + (job.seconds ?? 10) * 1000 : Number.POSITIVE_INFINITY;
  let cases = 0;
  let batchSize = 25;
  for (let k = 0; ; k++) {
    const left = job.cases === undefined ? batchSize : Math.min(batchSize, job.cases - cases);
    if (left <= 0 || performance.now() >= deadline) break;
    const seed = batchSeed(job.seed, k);
    Atomics.store(ints, I_BATCH, k);
    Atomics.store(ints, I_RUN, -1);
    Atomics.store(ints, I_PHASE, PHASE.generate);
    started[F_GENERATING] = Date.now();
    const b0 = performance.now();
    const details = fc.check(property, { seed, numRuns: left });
    const failedRuns = details.failed ? details.numRuns : 0;
    cases += details.failed ? failedRuns : left;
    if (details.failed) {
      const error = details.errorInstance;
      const failure =
        error instanceof CaseFailureError
          ? error.failure
          : { kind: 'crash' as const, message: `harness: ${String(error)}`, stackTop: '' };
      Atomics.store(ints, I_PHASE, PHASE.idle);
      started[F_GENERATING] = 0;
      send({
        type: 'done',
        cases,
        fuzzMs: performance.now() - t0,
        found: {
          failure,
          input: toJson(details.counterexample?.[0]),
          seed,
          path: details.counterexamplePath ?? '',
          shrinks: details.numShrinks,
        },
      });
      return;
    }
    send({ type: 'progress', cases });
    // Batches of about a quarter of a second: short enough to stop on time, long enough to be cheap.
    const ms = performance.now() - b0;
    batchSize = Math.max(5, Math.min(5000, Math.round((batchSize * 250) / Math.max(ms, 1))));
  }
  Atomics.store(ints, I_PHASE, PHASE.idle);
  started[F_GENERATING] = 0;
  send({ type: 'done', cases, fuzzMs: performance.now() - t0 });
}

/** The input of case `path` of a batch, generated again without running the decoder. */
function reproduce(targetName: string, seed: number, path: string): void {
  const target = findTarget(targetName);
  let captured: unknown;
  fc.check(
    fc.property(arbitraryOf(target), (input) => {
      captured = input;
      return false;
    }),
    { seed, path, numRuns: 1, endOnFailure: true },
  );
  send({ type: 'reproduced', input: toJson(captured) });
}

port.on('message', (message: ToWorker) => {
  try {
    if (message.type === 'run') run(message.job);
    else reproduce(message.target, message.seed, message.path);
  } catch (error) {
    // A problem of the harness itself (unknown target, unreadable corpus file), not of a decoder.
    send({
      type: 'harness-error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
});
