/**
 * Mutation of valid inputs (fuzz/README.md "Inputs"): start from real, well-formed messages and
 * damage them the ways hostile or broken peers do — bit flips, truncation, splicing, length-field
 * tweaks, duplication, deep nesting, huge numbers, odd unicode, prototype-pollution keys. Every
 * mutation is a fast-check value, so a failing case shrinks to the fewest, smallest mutations.
 */
import fc from 'fast-check';

// ---- bytes ------------------------------------------------------------------------------------

type ByteOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; len: number }
  | { op: 'dup'; at: number; len: number; times: number }
  | { op: 'splice'; at: number; other: number; from: number }
  | { op: 'int'; at: number; width: 1 | 2 | 4; little: boolean; add: boolean; value: number };

/** Values that sit on the edges of byte, u16 and u32 length fields. */
export const EDGE_INTS = [
  0, 1, 2, 3, 0x7f, 0x80, 0xfe, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
  0xfffffffe, 0xffffffff,
] as const;

const byteOp = (seedCount: number): fc.Arbitrary<ByteOp> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('set' as const),
        at: fc.nat(),
        value: fc.oneof(fc.constantFrom(0, 1, 0x7f, 0x80, 0xfe, 0xff), fc.nat(255)),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 16 }),
          fc.constantFrom(Uint8Array.of(0xff, 0xff, 0xff), Uint8Array.of(0, 0, 1), Uint8Array.of(0)),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('delete' as const),
        at: fc.nat(),
        len: fc.integer({ min: 1, max: 64 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('dup' as const),
        at: fc.nat(),
        len: fc.integer({ min: 1, max: 256 }),
        times: fc.integer({ min: 1, max: 64 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant('splice' as const),
        at: fc.nat(),
        other: fc.nat(Math.max(0, seedCount - 1)),
        from: fc.nat(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('int' as const),
        at: fc.nat(),
        width: fc.constantFrom(1 as const, 2 as const, 4 as const),
        little: fc.boolean(),
        add: fc.boolean(),
        value: fc.oneof(fc.constantFrom(...EDGE_INTS), fc.integer({ min: -16, max: 16 })),
      }),
    },
  );

function readInt(b: Uint8Array, at: number, width: number, little: boolean): number {
  let v = 0;
  for (let i = 0; i < width; i++) v = v * 256 + (b[at + (little ? width - 1 - i : i)] ?? 0);
  return v;
}

function writeInt(b: Uint8Array, at: number, width: number, little: boolean, value: number): void {
  let v = ((value % 2 ** (8 * width)) + 2 ** (8 * width)) % 2 ** (8 * width);
  for (let i = width - 1; i >= 0; i--) {
    const idx = at + (little ? width - 1 - i : i);
    if (idx < b.length) b[idx] = v % 256;
    v = Math.floor(v / 256);
  }
}

export function applyByteOps(
  seed: Uint8Array,
  ops: readonly ByteOp[],
  seeds: readonly Uint8Array[],
  maxLength: number,
): Uint8Array {
  let b = seed.slice();
  for (const o of ops) {
    const at = b.length === 0 ? 0 : o.at % (b.length + 1);
    switch (o.op) {
      case 'flip':
        if (b.length > 0) b[at % b.length]! ^= 1 << o.bit;
        break;
      case 'set':
        if (b.length > 0) b[at % b.length] = o.value;
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'insert': {
        const next = new Uint8Array(b.length + o.bytes.length);
        next.set(b.subarray(0, at), 0);
        next.set(o.bytes, at);
        next.set(b.subarray(at), at + o.bytes.length);
        b = next;
        break;
      }
      case 'delete': {
        const next = new Uint8Array(b.length - Math.min(o.len, b.length - at));
        next.set(b.subarray(0, at), 0);
        next.set(b.subarray(at + o.len), at);
        b = next;
        break;
      }
      case 'dup': {
        const piece = b.subarray(at, at + o.len);
        if (piece.length === 0) break;
        const copies = Math.max(0, Math.min(o.times, Math.floor((maxLength - b.length) / piece.length)));
        const next = new Uint8Array(b.length + piece.length * copies);
        next.set(b.subarray(0, at + piece.length), 0);
        for (let i = 1; i <= copies; i++) next.set(piece, at + piece.length * i);
        next.set(b.subarray(at + piece.length), at + piece.length * (copies + 1));
        b = next;
        break;
      }
      case 'splice': {
        const other = seeds[o.other % Math.max(1, seeds.length)] ?? b;
        const tail = other.subarray(other.length === 0 ? 0 : o.from % other.length);
        const next = new Uint8Array(at + tail.length);
        next.set(b.subarray(0, at), 0);
        next.set(tail, at);
        b = next;
        break;
      }
      case 'int': {
        if (b.length === 0) break;
        const pos = at % b.length;
        const old = readInt(b, pos, o.width, o.little);
        writeInt(b, pos, o.width, o.little, o.add ? old + o.value : o.value);
        break;
      }
    }
    if (b.length > maxLength) b = b.slice(0, maxLength);
  }
  return b;
}

/** Mutations (1..maxOps) of one of `seeds`, at most `maxLength` bytes. */
export function mutatedBytes(
  seeds: readonly Uint8Array[],
  options: { maxOps?: number; maxLength?: number } = {},
): fc.Arbitrary<Uint8Array> {
  if (seeds.length === 0) throw new Error('mutatedBytes needs at least one seed');
  const maxLength = options.maxLength ?? 1 << 20;
  return fc
    .tuple(
      fc.nat(seeds.length - 1),
      fc.array(byteOp(seeds.length), { minLength: 1, maxLength: options.maxOps ?? 6 }),
    )
    .map(([i, ops]) => applyByteOps(seeds[i]!, ops, seeds, maxLength));
}

/** Random bytes rich in the given tokens (start codes, terminators, magic numbers). */
export function tokenBytes(tokens: readonly number[][], maxParts = 40): fc.Arbitrary<Uint8Array> {
  return fc
    .array(
      fc.oneof(
        fc.constantFrom(...tokens),
        fc.array(fc.oneof(fc.constantFrom(0, 0xff), fc.nat(255)), { maxLength: 8 }),
      ),
      { maxLength: maxParts },
    )
    .map((parts) => Uint8Array.from(parts.flat()));
}

/** Cut points for feeding a stream in pieces: none, a few, or very many (byte by byte). */
export const cutPoints: fc.Arbitrary<number[]> = fc.oneof(
  fc.constant<number[]>([]),
  fc.array(fc.nat(), { maxLength: 8 }),
  fc.integer({ min: 1, max: 7 }).map((step) => Array.from({ length: 4096 }, (_, i) => (i + 1) * step)),
);

// ---- JSON values and text ------------------------------------------------------------------------

/** Keys that have hurt JavaScript parsers: prototype pollution and inherited names. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  '',
  ' ',
  '\u0000',
] as const;

/** Strings on the edges: empty, control characters, lone surrogates, BOM, bidi, long runs. */
export const EDGE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u001f',
  '\u007f',
  '\ud800',
  '\udfff',
  '\ud83d\ude00',
  '\ufeff',
  '\u202e',
  '\u200b',
  '\uffff',
  'é',
  '"',
  '\\',
  '\r\n',
  'null',
  '0',
  '-1',
  '1e309',
  '__proto__',
  'A'.repeat(64),
  'A'.repeat(65),
  'A'.repeat(128),
  'A'.repeat(129),
  'A'.repeat(256),
  'A'.repeat(257),
  'A'.repeat(1025),
] as const;

/** Numbers on the edges of integer types and of IEEE doubles. */
export const EDGE_NUMBERS = [
  0,
  1,
  -1,
  0.5,
  255,
  256,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 40,
  2 ** 40 + 1,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e21,
] as const;

const LONG_SIZES = [1023, 1024, 1025, 32 * 1024, 65535, 65536, 192 * 1024, 192 * 1024 + 1] as const;

/** A leaf value for replacing or adding: edge numbers, edge strings, small JSON, long strings. */
export const jsonLeaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, ...EDGE_NUMBERS, ...EDGE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(...LONG_SIZES).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.constant<unknown>([]) },
  { weight: 1, arbitrary: fc.constant<unknown>({}) },
);

/**
 * A deep value is written into the JSON text only after stringifying (JSON.stringify itself would
 * overflow the stack), through a placeholder string.
 */
const DEEP_MARK = '\u0000deep:';
function deepMarker(depth: number, kind: 'array' | 'object'): string {
  return `${DEEP_MARK}${kind}:${depth}\u0000`;
}
function deepText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export type JsonOp =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'deep'; at: number; depth: number; kind: 'array' | 'object' }
  | { op: 'grow'; at: number; times: number }
  | { op: 'retype'; at: number };

const jsonOp: fc.Arbitrary<JsonOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: jsonLeaf }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom(...HOSTILE_KEYS), fc.string({ maxLength: 8 })),
      value: jsonLeaf,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('deep' as const),
      at: fc.nat(),
      depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(1000, 5000, 20_000, 100_000)),
      kind: fc.constantFrom('array' as const, 'object' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('grow' as const),
      at: fc.nat(),
      times: fc.integer({ min: 1, max: 2000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('retype' as const), at: fc.nat() }) },
);

type Slot = { parent: Record<string, unknown> | unknown[]; key: string | number; depth: number };

/** Every place in a JSON value that holds a value, in preorder (the root's slot is a wrapper, depth 0). */
function slots(root: { value: unknown }): Slot[] {
  const out: Slot[] = [{ parent: root as unknown as Record<string, unknown>, key: 'value', depth: 0 }];
  const walk = (v: unknown, depth: number) => {
    if (depth > 64 || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        out.push({ parent: v, key: i, depth: depth + 1 });
        walk(item, depth + 1);
      });
    } else {
      for (const k of Object.keys(v)) {
        out.push({ parent: v as Record<string, unknown>, key: k, depth: depth + 1 });
        walk((v as Record<string, unknown>)[k], depth + 1);
      }
    }
  };
  walk(root.value, 0);
  return out;
}

/**
 * The slot an op works on: an even `at` picks among the message itself and its top-level fields
 * (where versions, types, serials and lengths live), an odd one among all slots.
 */
function pick(all: readonly Slot[], at: number): Slot {
  const pool = at % 2 === 0 ? all.filter((s) => s.depth <= 1) : all;
  return pool[Math.floor(at / 2) % pool.length]!;
}

function setOwn(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function retype(v: unknown): unknown {
  if (typeof v === 'string') return v === '' ? 0 : [v];
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 1 : 'false';
  if (v === null) return {};
  if (Array.isArray(v)) return v.length === 0 ? null : { 0: v[0] };
  return [v];
}

/** Copy of a JSON value in which keys such as `__proto__` remain own data properties. */
function clone(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(clone);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) setOwn(out, k, clone((v as Record<string, unknown>)[k]));
  return out;
}

/** Longest text the JSON mutators make: above the 256 KiB signalling limit, well below "slow to parse". */
export const MAX_TEXT = 320 * 1024;

/**
 * Most characters the value-level mutations may make a message serialise to. Every op that adds
 * (replace, add, grow) is held to what is left of it, so one input stays under a few MB however
 * the ops combine: growing an array whose item holds a long string would otherwise multiply it
 * (5000 copies of a 2 KiB string made a 500 MB text, which ran the worker out of memory before
 * the case even started).
 */
export const MAX_VALUE_TEXT = 2 * MAX_TEXT;

/** Length of `JSON.stringify(v)` without making it (escapes not counted), or more than `cap` once past it. */
export function jsonTextSize(v: unknown, cap = Number.POSITIVE_INFINITY): number {
  let size = 0;
  const walk = (x: unknown): void => {
    if (size > cap) return;
    if (typeof x === 'string') size += x.length + 2;
    else if (typeof x === 'number') size += String(x).length;
    else if (typeof x === 'boolean') size += x ? 4 : 5;
    else if (Array.isArray(x)) {
      size += x.length === 0 ? 2 : 1 + x.length; // brackets and commas
      for (const item of x) {
        walk(item);
        if (size > cap) return;
      }
    } else if (typeof x === 'object' && x !== null) {
      const keys = Object.keys(x);
      size += keys.length === 0 ? 2 : 1 + keys.length;
      for (const k of keys) {
        size += k.length + 3; // "k":
        walk((x as Record<string, unknown>)[k]);
        if (size > cap) return;
      }
    } else size += 4;
  };
  walk(v);
  return size;
}

export function applyJsonOps(seed: unknown, ops: readonly JsonOp[]): string {
  const root = { value: clone(seed) };
  for (const o of ops) {
    const slot = pick(slots(root), o.at);
    const { parent, key } = slot;
    const current = (parent as Record<string | number, unknown>)[key];
    // What the message may still grow by (deep nesting is budgeted when it is written, below).
    const room = MAX_VALUE_TEXT - jsonTextSize(root.value, MAX_VALUE_TEXT);
    const fits = (v: unknown) => jsonTextSize(v, room) <= room;
    switch (o.op) {
      case 'replace':
        if (fits(o.value)) setOwn(parent as Record<string, unknown>, String(key), clone(o.value));
        break;
      case 'delete':
        // The whole message stays (an empty text is the text mutators' business).
        if (parent === (root as unknown)) break;
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, unknown>)[key as string];
        break;
      case 'add':
        if (!fits(o.value)) break;
        if (Array.isArray(current)) current.push(clone(o.value));
        else if (typeof current === 'object' && current !== null)
          setOwn(current as Record<string, unknown>, o.key, clone(o.value));
        else if (!Array.isArray(parent) && parent !== (root as unknown))
          setOwn(parent as Record<string, unknown>, o.key, clone(o.value));
        break;
      case 'deep':
        setOwn(parent as Record<string, unknown>, String(key), deepMarker(o.depth, o.kind));
        break;
      case 'grow':
        // Up to 5000 items, or a string past 300 000 characters — as far as the budget goes.
        if (Array.isArray(current) && current.length > 0) {
          const first = current[0];
          const each = jsonTextSize(first, room) + 1;
          const n = Math.min(o.times, 5000 - current.length, Math.floor(room / each));
          for (let i = 0; i < n; i++) current.push(clone(first));
        } else if (typeof current === 'string' && current.length > 0) {
          const copies = Math.min(
            o.times,
            Math.ceil(300_000 / current.length),
            1 + Math.floor(room / current.length),
          );
          if (copies > 1) setOwn(parent as Record<string, unknown>, String(key), current.repeat(copies));
        }
        break;
      case 'retype':
        setOwn(parent as Record<string, unknown>, String(key), retype(current));
        break;
    }
  }
  const text = JSON.stringify(root.value) ?? '';
  if (!text.includes('deep:')) return text;
  let budget = MAX_TEXT - text.length;
  return text.replace(/"\\u0000deep:(array|object):(\d+)\\u0000"/g, (_m, kind: string, depth: string) => {
    const deep = deepText(Number(depth), kind as 'array' | 'object');
    if (deep.length > budget) return 'null';
    budget -= deep.length;
    return deep;
  });
}

type TextOp =
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'dupMember'; at: number }
  | { op: 'nest'; depth: number; kind: 'array' | 'object' }
  | { op: 'numbers'; value: string };

const TEXT_TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  '\\',
  '\\u',
  '\\ud800',
  '\\u0000',
  'null',
  '1e999999',
  '-0',
  '9'.repeat(400),
  '\u0000',
  '\ufeff',
  '"__proto__":{"polluted":1},',
  '"constructor":{"prototype":{"polluted":1}},',
  ' '.repeat(1000),
] as const;

const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(),
      text: fc.oneof(fc.constantFrom(...TEXT_TOKENS), fc.string({ unit: 'binary', maxLength: 4 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      at: fc.nat(),
      len: fc.integer({ min: 1, max: 16 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dupMember' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('nest' as const),
      depth: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(10_000, 100_000)),
      kind: fc.constantFrom('array' as const, 'object' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('numbers' as const),
      value: fc.constantFrom(
        '1e999999',
        '-0',
        '0.0',
        '1E2',
        '123456789012345678901234567890',
        '-1',
        '4294967296',
      ),
    }),
  },
);

export function applyTextOps(seed: string, ops: readonly TextOp[]): string {
  let t = seed;
  for (const o of ops) {
    if (t.length > MAX_TEXT) break;
    const at = o.op === 'nest' || o.op === 'numbers' ? 0 : o.at % (t.length + 1);
    switch (o.op) {
      case 'truncate':
        t = t.slice(0, at);
        break;
      case 'insert':
        t = t.slice(0, at) + o.text + t.slice(at);
        break;
      case 'delete':
        t = t.slice(0, at) + t.slice(at + o.len);
        break;
      case 'dupMember': {
        // Repeat one `"key":` member right after the opening brace: a duplicate key.
        const start = t.indexOf('"', at);
        const colon = start < 0 ? -1 : t.indexOf('":', start);
        const brace = t.indexOf('{');
        if (colon < 0 || brace < 0) break;
        const end = t.indexOf(',', colon);
        const member = t.slice(start, end < 0 ? t.length - 1 : end);
        t = `${t.slice(0, brace + 1)}${member},${t.slice(brace + 1)}`;
        break;
      }
      case 'nest':
        if (t.length + o.depth * 6 > MAX_TEXT) break;
        t =
          o.kind === 'array'
            ? `${'['.repeat(o.depth)}${t}${']'.repeat(o.depth)}`
            : `${'{"a":'.repeat(o.depth)}${t}${'}'.repeat(o.depth)}`;
        break;
      case 'numbers':
        t = t.replace(/(?<=[:[,])-?\d+(\.\d+)?([eE][+-]?\d+)?/g, o.value);
        break;
    }
  }
  return t;
}

/**
 * JSON text derived from one of `seeds` (JSON values): value-level mutations (replace, delete, add
 * hostile keys, retype, grow arrays, deep nesting), then a few text-level ones (truncate, insert
 * tokens, duplicate members, wrap in deep nesting, odd number literals). Sometimes none of either.
 */
export function mutatedJsonText(
  seeds: readonly unknown[],
  options: { maxJsonOps?: number; maxTextOps?: number } = {},
): fc.Arbitrary<string> {
  if (seeds.length === 0) throw new Error('mutatedJsonText needs at least one seed');
  return fc
    .tuple(
      fc.nat(seeds.length - 1),
      fc.array(jsonOp, { maxLength: options.maxJsonOps ?? 4 }),
      fc.oneof(
        { weight: 4, arbitrary: fc.constant([] as TextOp[]) },
        { weight: 1, arbitrary: fc.array(textOp, { minLength: 1, maxLength: options.maxTextOps ?? 3 }) },
      ),
    )
    .map(([i, jsonOps, textOps]) =>
      applyTextOps(applyJsonOps(seeds[i], jsonOps), textOps).slice(0, 2 * MAX_TEXT),
    );
}

/** Text as the socket may deliver it: a string, or its UTF-8 bytes, sometimes with invalid UTF-8. */
export function asWire(text: fc.Arbitrary<string>): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    { weight: 8, arbitrary: text },
    { weight: 1, arbitrary: text.map((t) => new Uint8Array(Buffer.from(t, 'utf8'))) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(text, fc.nat(), fc.constantFrom(0x80, 0xc0, 0xed, 0xf8, 0xff))
        .map(([t, at, bad]) => {
          const b = Buffer.from(t, 'utf8');
          const out = new Uint8Array(b.length + 1);
          const pos = at % (b.length + 1);
          out.set(b.subarray(0, pos), 0);
          out[pos] = bad;
          out.set(b.subarray(pos), pos + 1);
          return out;
        }),
    },
  );
}
