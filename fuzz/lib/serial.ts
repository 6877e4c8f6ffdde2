/**
 * Corpus encoding of fuzz inputs (fuzz/README.md "The corpus"): any input a target takes — bytes,
 * text, numbers, bigints, nested arrays and objects — as plain JSON and back, exactly. Values JSON
 * cannot hold are tagged objects: `{"$bytes":"<base64>"}`, `{"$bigint":"123"}`, `{"$num":"NaN"}`
 * (also "Infinity", "-Infinity", "-0"), `{"$undefined":true}`; an object that has a key starting
 * with `$` is wrapped as `{"$object":{…}}`. Keys such as `__proto__` stay own data properties.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function special(n: number): string | null {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return 'Infinity';
  if (n === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(n, -0)) return '-0';
  return null;
}

/** A fresh object whose keys (even `__proto__`) are own data properties. */
function record(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function toJson(value: unknown): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'number') {
    const s = special(value);
    return s === null ? value : { $num: s };
  }
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    const body = record(keys.map((k) => [k, toJson((value as Record<string, unknown>)[k])])) as {
      [key: string]: Json;
    };
    return keys.some((k) => k.startsWith('$')) ? { $object: body } : body;
  }
  throw new TypeError(`cannot store a ${typeof value} in the corpus`);
}

export function fromJson(json: unknown): unknown {
  if (json === null || typeof json !== 'object') return json;
  if (Array.isArray(json)) return json.map(fromJson);
  const o = json as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const v = o[k];
    if (k === '$bytes' && typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    if (k === '$bigint' && typeof v === 'string') return BigInt(v);
    if (k === '$num' && typeof v === 'string') return v === '-0' ? -0 : Number(v);
    if (k === '$undefined') return undefined;
    if (k === '$object' && typeof v === 'object' && v !== null) {
      return record(Object.keys(v).map((key) => [key, fromJson((v as Record<string, unknown>)[key])]));
    }
  }
  return record(keys.map((k) => [k, fromJson(o[k])]));
}

/** Short, readable rendering of an input for a failure report (bytes as hex, cut at `max` chars). */
export function describeInput(value: unknown, max = 2000): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, replacer);
  } catch (error) {
    // Inputs are kept flat (deep structures travel as text), so this is only a fallback.
    text = `<${typeof value} that cannot be shown: ${(error as Error).message}>`;
  }
  const s = text ?? String(value);
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

function replacer(_key: string, v: unknown): unknown {
  if (v instanceof Uint8Array) {
    const hex = Buffer.from(v.subarray(0, 512)).toString('hex');
    return `<${v.length} bytes: ${hex}${v.length > 512 ? '…' : ''}>`;
  }
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string' && v.length > 600) return `${v.slice(0, 600)}… (${v.length} chars)`;
  return v;
}
