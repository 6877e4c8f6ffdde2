/**
 * One fuzz case: run the target on an input and classify what happened (fuzz/README.md "What
 * fails"). The harness is the one place that catches everything — finding what escapes a decoder
 * is its job — and it turns each escape into a described failure instead of rethrowing it.
 */
import { InvariantError, type FuzzTarget } from './target.ts';

export type FailureKind = 'crash' | 'invariant' | 'slow' | 'hang' | 'out-of-memory';

export interface CaseFailure {
  readonly kind: FailureKind;
  readonly message: string;
  /** The first frames of the stack (where it broke). */
  readonly stackTop: string;
}

/** Carries a CaseFailure through fast-check (which shrinks on any throw). */
export class CaseFailureError extends Error {
  override readonly name = 'CaseFailureError';
  readonly failure: CaseFailure;
  constructor(failure: CaseFailure) {
    super(`${failure.kind}: ${failure.message}`);
    this.failure = failure;
  }
}

export const DEFAULT_CASE_LIMIT_MS = 500;

function stackTop(error: unknown, lines = 6): string {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  return stack
    .split('\n')
    .filter((l) => l.trimStart().startsWith('at '))
    .slice(0, lines)
    .map((l) => l.trim())
    .join('\n');
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message.slice(0, 500)}`;
  }
  return `non-Error thrown: ${String(error).slice(0, 200)}`;
}

const PROTOTYPES: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
];
const baseline = PROTOTYPES.map(([, p]) => Object.getOwnPropertyNames(p).length);

/** A decoder that writes onto a shared prototype (prototype pollution) fails the case. */
function pollution(): string | null {
  for (let i = 0; i < PROTOTYPES.length; i++) {
    const [name, proto] = PROTOTYPES[i]!;
    if (Object.getOwnPropertyNames(proto).length !== baseline[i]) return `${name} gained a property`;
  }
  return null;
}

function once(target: FuzzTarget, input: unknown): CaseFailure | null {
  try {
    target.run(input);
  } catch (error) {
    return {
      kind: error instanceof InvariantError ? 'invariant' : 'crash',
      message: describeError(error),
      stackTop: stackTop(error),
    };
  }
  const polluted = pollution();
  return polluted === null ? null : { kind: 'invariant', message: polluted, stackTop: '' };
}

/**
 * Run one case. A case over `limitMs` is run twice more and is slow only if every run is (a GC
 * pause or a busy machine does not fail a case).
 */
export function runCase(target: FuzzTarget, input: unknown, limitMs: number): CaseFailure | null {
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3; attempt++) {
    const t0 = performance.now();
    const failed = once(target, input);
    const ms = performance.now() - t0;
    if (failed !== null) return failed;
    best = Math.min(best, ms);
    if (best <= limitMs) return null;
  }
  return {
    kind: 'slow',
    message: `a case took ${best.toFixed(0)} ms (limit ${limitMs} ms; best of 3 runs)`,
    stackTop: '',
  };
}
