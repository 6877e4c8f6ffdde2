/**
 * Valid values of a TypeBox schema as a fast-check arbitrary: the "near-valid" half of the
 * structure-aware inputs starts here (valid messages, then mutated). Covers what roomd's schemas
 * use: objects (optional keys sometimes left out), literals, unions, strings with pattern and
 * length bounds, integers and numbers with bounds, booleans, null, arrays with minItems and maxItems, unknown.
 * Arrays stay short (a few items) so cases are cheap; the mutators grow them to their bounds.
 */
import type { TSchema } from '@sinclair/typebox';
import fc from 'fast-check';

export function schemaArbitrary(schema: TSchema, maxArray = 4): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema['const']);
  const anyOf = schema['anyOf'] as TSchema[] | undefined;
  if (anyOf !== undefined) return fc.oneof(...anyOf.map((s) => schemaArbitrary(s, maxArray)));
  switch (schema['type']) {
    case 'object': {
      const props = (schema['properties'] ?? {}) as Record<string, TSchema>;
      const required = new Set((schema['required'] as string[] | undefined) ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, s] of Object.entries(props)) model[k] = schemaArbitrary(s, maxArray);
      return fc.record(model, { requiredKeys: [...required].filter((k) => k in props) });
    }
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
    case 'number': {
      const min = (schema['minimum'] as number | undefined) ?? Number.MIN_SAFE_INTEGER;
      const max = (schema['maximum'] as number | undefined) ?? Number.MAX_SAFE_INTEGER;
      const ints = fc.oneof(
        fc.constantFrom(...new Set([min, max, Math.min(max, Math.max(min, 0))])),
        fc.integer({
          min: Math.max(min, Number.MIN_SAFE_INTEGER),
          max: Math.min(max, Number.MAX_SAFE_INTEGER),
        }),
      );
      if (schema['type'] === 'integer') return ints;
      return fc.oneof(ints, fc.double({ min, max, noNaN: true, noDefaultInfinity: true }));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = schema['items'] as TSchema;
      const minItems = (schema['minItems'] as number | undefined) ?? 0;
      const maxItems = (schema['maxItems'] as number | undefined) ?? maxArray;
      return fc.array(schemaArbitrary(items, maxArray), {
        minLength: minItems,
        maxLength: Math.max(minItems, Math.min(maxItems, maxArray)),
      });
    }
    default:
      // Type.Unknown / Type.Any: any JSON.
      return fc.jsonValue({ maxDepth: 3 });
  }
}

function stringArbitrary(schema: TSchema): fc.Arbitrary<string> {
  const minLength = (schema['minLength'] as number | undefined) ?? 0;
  const maxLength = (schema['maxLength'] as number | undefined) ?? 10_000;
  const pattern = schema['pattern'] as string | undefined;
  const fits = (s: string) => s.length >= minLength && s.length <= maxLength;
  if (pattern !== undefined) {
    const re = new RegExp(pattern);
    return fc.stringMatching(re).filter((s) => fits(s) && re.test(s));
  }
  const cap = Math.min(maxLength, 64);
  return fc
    .oneof(
      {
        weight: 4,
        arbitrary: fc.string({ unit: 'grapheme', minLength, maxLength: Math.max(minLength, cap) }),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength, maxLength: Math.max(minLength, cap) }) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(...new Set([minLength, maxLength].filter((n) => n <= 300_000)))
          .map((n) => 'é'.repeat(n)),
      },
    )
    .filter(fits);
}
