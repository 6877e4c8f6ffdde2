/**
 * Validation of settings against the schema, with errors a facilities admin can act on: each names
 * the field (dotted path) and what is allowed there.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value, type ValueError, ValueErrorType } from '@sinclair/typebox/value';
import { RoomdError } from '../core/errors.ts';

export interface FieldError {
  field: string;
  message: string;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'a list' : 'an object';
  return String(value);
}

function allowedLiterals(schema: TSchema): unknown[] | null {
  const anyOf = schema['anyOf'] as TSchema[] | undefined;
  if (anyOf === undefined) return null;
  const out: unknown[] = [];
  for (const s of anyOf) {
    if ('const' in s) out.push(s['const']);
    else if (s['type'] === 'null') out.push(null);
    else return null;
  }
  return out;
}

function expectation(schema: TSchema): string {
  const literals = allowedLiterals(schema);
  if (literals !== null) return `one of ${literals.map((v) => JSON.stringify(v)).join(', ')}`;
  const anyOf = schema['anyOf'] as TSchema[] | undefined;
  if (anyOf !== undefined) return anyOf.map(expectation).join(' or ');
  switch (schema['type']) {
    case 'integer':
    case 'number': {
      const kind = schema['type'] === 'integer' ? 'a whole number' : 'a number';
      const min = schema['minimum'] as number | undefined;
      const max = schema['maximum'] as number | undefined;
      if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
      if (min !== undefined) return `${kind} of at least ${min}`;
      if (max !== undefined) return `${kind} of at most ${max}`;
      return kind;
    }
    case 'string': {
      const parts = ['text'];
      const minL = schema['minLength'] as number | undefined;
      const maxL = schema['maxLength'] as number | undefined;
      if (minL !== undefined && maxL !== undefined) parts.push(`of ${minL} to ${maxL} characters`);
      if (schema['pattern'] !== undefined) parts.push(`matching ${schema['pattern'] as string}`);
      return parts.join(' ');
    }
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'object':
      return 'an object';
    case 'array': {
      const max = schema['maxItems'] as number | undefined;
      return max === undefined ? 'a list' : `a list of at most ${max} entries`;
    }
    default:
      if ('const' in schema) return JSON.stringify(schema['const']);
      return 'a valid value';
  }
}

/** Whether a dotted field or one of its parents is in `seen` (walks up the path: linear overall). */
function seenOrParent(field: string, seen: ReadonlySet<string>): boolean {
  for (let at = field.length; at > 0; at = field.lastIndexOf('.', at - 1)) {
    if (seen.has(field.slice(0, at))) return true;
  }
  return false;
}

/**
 * A union of one object shape and null (`identity.certificate`) given an object: the errors of the
 * object branch say what is wrong inside it, which "must be an object or null" would not.
 */
function objectBranchErrors(e: ValueError): Iterable<ValueError> | null {
  if (e.type !== ValueErrorType.Union || typeof e.value !== 'object' || e.value === null) return null;
  if (Array.isArray(e.value)) return null;
  const branches = (e.schema['anyOf'] as TSchema[] | undefined) ?? [];
  const objects = branches.flatMap((b, i) => (b['type'] === 'object' ? [i] : []));
  if (objects.length !== 1) return null;
  return e.errors[objects[0]!] ?? null;
}

/** Every problem with `value`, one per field, in a stable order. */
export function fieldErrors(schema: TSchema, value: unknown): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const all = function* (): Generator<ValueError> {
    for (const e of Value.Errors(schema, value)) {
      const inner = objectBranchErrors(e);
      if (inner === null) yield e;
      else yield* inner;
    }
  };
  for (const e of all()) {
    const field = e.path.split('/').filter(Boolean).join('.') || '(root)';
    // A parent that is not an object reports once; skip its children's noise.
    if (seenOrParent(field, seen)) continue;
    seen.add(field);
    if (e.type === ValueErrorType.ObjectAdditionalProperties || e.message === 'Unexpected property') {
      out.push({ field, message: `'${field}' is not a setting roomd knows` });
    } else {
      out.push({ field, message: `'${field}' must be ${expectation(e.schema)} (got ${describe(e.value)})` });
    }
  }
  return out;
}

/** Most field errors one error names (its message and context stay small however bad the input). */
export const MAX_REPORTED_FIELDS = 20;

/**
 * Throw a `config.invalid` (or `config.unknown_key`) RoomdError listing the bad fields — the first
 * MAX_REPORTED_FIELDS of them, and how many more there are.
 */
export function assertValid<T>(schema: TSchema, value: unknown, what = 'settings'): T {
  const errors = fieldErrors(schema, value);
  if (errors.length === 0) return value as T;
  const onlyUnknown = errors.every((e) => e.message.endsWith('is not a setting roomd knows'));
  const shown = errors.slice(0, MAX_REPORTED_FIELDS);
  const more = errors.length - shown.length;
  throw new RoomdError(onlyUnknown ? 'config.unknown_key' : 'config.invalid', {
    message: `The ${what} are not valid: ${shown.map((e) => e.message).join('; ')}${more > 0 ? `; and ${more} more` : ''}.`,
    context: more > 0 ? { fields: shown, more } : { fields: shown },
  });
}
