/**
 * What a fuzz target is (fuzz/README.md "Adding a target"): a decoder's input space as fast-check
 * arbitraries, and one case that feeds an input to the decoder and checks its contract. A case may
 * end only in one of two ways: it returns (the decoder returned a value or a typed error it
 * documents), or it throws a failure. Everything the harness treats as a failure:
 *
 * - an exception that is not the decoder's typed error (a TypeError, a RangeError from a stack
 *   overflow, a RoomdError with a code outside the decoder's contract) — a "crash";
 * - a broken invariant (`invariant()` below: round trips, bounds) — an "invariant" failure;
 * - a case slower than the per-case limit, or one that never ends — "slow" / "hang" (the engine
 *   measures these; targets do nothing for them).
 */
import type fc from 'fast-check';
import { type ErrorCode, RoomdError } from '../../src/core/errors.ts';
import { concat } from '../../src/e2ee/bytes.ts';

export interface FuzzTarget<I = unknown> {
  /** Short kebab-case name: the corpus folder and the `--target` value. */
  readonly name: string;
  /** One line: the decoder(s) and their error contract. */
  readonly about: string;
  /** Structure-aware inputs: near-valid messages and mutations of valid ones. Built once per process. */
  arbitrary(): fc.Arbitrary<I>;
  /** One case. Returns when the contract held; throws (anything) when it did not. */
  run(input: I): void;
  /** A raw `.bin` corpus file as an input (byte-oriented targets: the bytes, maybe in one chunk). */
  fromBytes(bytes: Uint8Array): I;
  /** A few interesting valid and invalid inputs, written to the corpus by `npm run fuzz -- --seed-corpus`. */
  seeds(): readonly { readonly note: string; readonly input: I }[];
  /** Per-case time limit in ms when the default does not fit (e.g. signature checks). */
  readonly caseLimitMs?: number;
}

/** A broken invariant of a decoder (not a crash: the decoder returned, but something wrong). */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** The contract of a throwing decoder: these RoomdError codes (or code prefixes ending in '.'). */
export type Contract = readonly (ErrorCode | `${string}.`)[];

export function allowed(error: unknown, contract: Contract): error is RoomdError {
  if (!(error instanceof RoomdError)) return false;
  return contract.some((c) => (c.endsWith('.') ? error.code.startsWith(c) : error.code === c));
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: RoomdError };

/**
 * Run a throwing decoder: its value, or the typed error its contract allows. Any other exception
 * propagates unchanged (its stack top is the decoder's), which fails the case.
 */
export function typed<T>(contract: Contract, fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (allowed(error, contract)) return { ok: false, error };
    throw error;
  }
}

/** Checks a decode-result union (`{ok:false, error}`) holds a RoomdError of the contract. */
export function typedResult(result: { ok: boolean; error?: unknown }, contract: Contract): void {
  if (result.ok) return;
  invariant(
    allowed(result.error, contract),
    `error result is not a RoomdError of ${contract.join(' | ')}: ${String(result.error)}`,
  );
}

/** Structural equality for decoded values (bytes, bigints, plain objects, arrays). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.from(a).equals(Buffer.from(b));
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !sameValue(v, b.get(k))) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Cut `bytes` into consecutive chunks at the given points (taken modulo the length). */
export function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** One array of the parts, in order (src/e2ee/bytes.ts `concat`, taking a list). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return concat(...parts);
}
