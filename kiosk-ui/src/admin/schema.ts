/**
 * The settings form's model, read from the settings JSON Schema the admin API serves
 * (`GET /api/v1/settings/schema`, src/config/schema.ts is the one schema): which control each field
 * gets, its label, help text, default and "needs restart" mark, and the partial settings document
 * (PATCH /api/v1/settings) made from what an admin changed. Pure functions, no DOM.
 */
import { humanize } from './format.ts';

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  requiresRestart?: boolean;
  writeOnly?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
}

export type Choice = string | number | boolean | null;

export type Control =
  | { kind: 'text'; nullable: boolean; secret: boolean; maxLength?: number }
  | { kind: 'number'; nullable: boolean; integer: boolean; min?: number; max?: number }
  | { kind: 'boolean' }
  | { kind: 'choice'; options: Choice[] }
  /** A fixed value (schemaVersion): not shown, never sent. */
  | { kind: 'fixed' }
  /** A list of objects with simple fields (identity.trustAnchors): a table with rows. */
  | { kind: 'rows'; columns: Field[]; maxItems?: number }
  /** Anything else (a nullable object such as identity.certificate): JSON text. */
  | { kind: 'json'; nullable: boolean };

export interface Field {
  key: string;
  path: string[];
  /** Dotted path, as field errors and roomctl name it. */
  id: string;
  label: string;
  description?: string;
  default?: unknown;
  restart: boolean;
  control: Control;
}

export interface Group {
  key: string;
  path: string[];
  id: string;
  label: string;
  description?: string;
  fields: Field[];
  groups: Group[];
}

const isNull = (s: JsonSchema) => s.type === 'null';

function scalarControl(s: JsonSchema, nullable: boolean, secret: boolean): Control | null {
  if (s.type === 'string')
    return {
      kind: 'text',
      nullable,
      secret,
      ...(s.maxLength === undefined ? {} : { maxLength: s.maxLength }),
    };
  if (s.type === 'integer' || s.type === 'number')
    return {
      kind: 'number',
      nullable,
      integer: s.type === 'integer',
      ...(s.minimum === undefined ? {} : { min: s.minimum }),
      ...(s.maximum === undefined ? {} : { max: s.maximum }),
    };
  if (s.type === 'boolean' && !nullable) return { kind: 'boolean' };
  return null;
}

function simpleObject(s: JsonSchema): boolean {
  if (s.type !== 'object' || s.properties === undefined) return false;
  return Object.values(s.properties).every((p) => {
    const c = controlOf(p);
    return c.kind === 'text' || c.kind === 'number' || c.kind === 'boolean' || c.kind === 'choice';
  });
}

/** The control for one leaf schema. */
export function controlOf(s: JsonSchema): Control {
  const secret = s.writeOnly === true;
  if (s.anyOf !== undefined) {
    const branches = s.anyOf;
    if (branches.every((b) => 'const' in b || isNull(b)))
      return { kind: 'choice', options: branches.map((b) => (isNull(b) ? null : (b.const as Choice))) };
    const rest = branches.filter((b) => !isNull(b));
    const nullable = rest.length < branches.length;
    if (rest.length === 1) {
      const one = scalarControl(rest[0]!, nullable, secret);
      if (one !== null) return one;
    }
    return { kind: 'json', nullable };
  }
  if ('const' in s) return { kind: 'fixed' };
  const scalar = scalarControl(s, false, secret);
  if (scalar !== null) return scalar;
  if (s.type === 'array' && s.items !== undefined && simpleObject(s.items)) {
    return {
      kind: 'rows',
      columns: Object.entries(s.items.properties ?? {}).map(([k, p]) => fieldOf(k, [k], p)),
      ...(s.maxItems === undefined ? {} : { maxItems: s.maxItems }),
    };
  }
  return { kind: 'json', nullable: false };
}

function fieldOf(key: string, path: string[], s: JsonSchema): Field {
  return {
    key,
    path,
    id: path.join('.'),
    label: s.title ?? humanize(key),
    ...(s.description === undefined ? {} : { description: s.description }),
    ...('default' in s ? { default: s.default } : {}),
    restart: s.requiresRestart === true,
    control: controlOf(s),
  };
}

/** The schema as nested groups (objects) of fields (everything else), in declaration order. */
export function groupOf(s: JsonSchema, path: string[] = [], labels: Record<string, string> = {}): Group {
  const key = path[path.length - 1] ?? '';
  const id = path.join('.');
  const g: Group = {
    key,
    path,
    id,
    label: labels[id] ?? s.title ?? humanize(key),
    ...(s.description === undefined ? {} : { description: s.description }),
    fields: [],
    groups: [],
  };
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    const p = [...path, k];
    if (sub.type === 'object' && sub.properties !== undefined) g.groups.push(groupOf(sub, p, labels));
    else g.fields.push(fieldOf(k, p, sub));
  }
  return g;
}

/** Every field of a group and its subgroups. */
export function fieldsIn(g: Group): Field[] {
  return [...g.fields, ...g.groups.flatMap(fieldsIn)];
}

export function getAt(value: unknown, path: readonly string[]): unknown {
  let cur = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** A copy of `obj` with `value` at `path` (objects made on the way). */
export function setAt(
  obj: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): Record<string, unknown> {
  if (path.length === 0) return obj;
  const [head, ...rest] = path as [string, ...string[]];
  const inner = obj[head];
  return {
    ...obj,
    [head]:
      rest.length === 0
        ? value
        : setAt(
            inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : {},
            rest,
            value,
          ),
  };
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The partial settings document for the edited fields (each a dotted field id → new value). */
export function patchOf(
  edits: ReadonlyMap<string, { path: string[]; value: unknown }>,
): Record<string, unknown> {
  let patch: Record<string, unknown> = {};
  for (const { path, value } of edits.values()) patch = setAt(patch, path, value);
  return patch;
}

/**
 * Field errors from the server by field id. A message that starts by naming its field
 * ("'media.width' must be …") is shortened to the part after the name; a path inside a list row
 * (`identity.trustAnchors.0.publicKey`) stays as it is, for the row to find.
 */
export function errorsByField(fields: { path: string; message: string }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fields) {
    const path = f.path.replace(/^body\./, '');
    const prefix = `'${path}' `;
    const message = f.message.startsWith(prefix) ? f.message.slice(prefix.length) : f.message;
    out.set(path, out.has(path) ? `${out.get(path)}; ${message}` : message);
  }
  return out;
}

/** The error for a field: its own, or the first one inside it (a list's rows, an object's fields). */
export function errorFor(errors: ReadonlyMap<string, string>, id: string): string | undefined {
  const own = errors.get(id);
  if (own !== undefined) return own;
  for (const [k, v] of errors) if (k.startsWith(`${id}.`)) return `${k.slice(id.length + 1)}: ${v}`;
  return undefined;
}

/** Field errors that no field in `known` (ids) claims, for the top of the form. */
export function unclaimedErrors(
  errors: ReadonlyMap<string, string>,
  known: readonly string[],
): [string, string][] {
  return [...errors].filter(([k]) => !known.some((id) => k === id || k.startsWith(`${id}.`)));
}

export function describeDefault(v: unknown): string {
  if (v === null) return 'none';
  if (typeof v === 'string') return v === '' ? '(empty)' : v;
  if (Array.isArray(v)) return v.length === 0 ? 'none' : JSON.stringify(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
