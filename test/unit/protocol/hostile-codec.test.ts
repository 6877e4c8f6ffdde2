// Hostile input to the signaling codec (docs/protocol.md "# Wire protocol" §Limits, §Validation):
// deep nesting is refused by a scan before parsing, error sentences never echo what was sent, and
// decoding never throws whatever the bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeClientMessage,
  decodeServerMessage,
  jsonDeeperThan,
  MAX_JSON_DEPTH,
  MAX_SIGNAL_BYTES,
} from '../../../src/protocol/index.ts';

const DEEP = 5000;
const arrays = (n: number, inner = '') => '['.repeat(n) + inner + ']'.repeat(n);
const objects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const hostile: [string, string][] = [
  ['a 5,000-deep array as v', `{"v":${arrays(DEEP)},"type":"ping","id":1}`],
  ['a 5,000-deep array as v without a type', `{"v":${arrays(DEEP)}}`],
  ['a 5,000-deep array as type', `{"v":1,"type":${arrays(DEEP)}}`],
  ['a 5,000-deep array in a known field', `{"v":1,"type":"ping","id":${arrays(DEEP)}}`],
  ['a 5,000-deep array in an unknown field', `{"v":1,"type":"leave","x":${arrays(DEEP)}}`],
  ['a 5,000-deep object as v', `{"v":${objects(DEEP)},"type":"ping","id":1}`],
  ['a 5,000-deep object as the payload', `{"v":1,"type":"e2ee","to":"all","payload":${objects(DEEP)}}`],
  ['mixed arrays and objects', `{"v":${'[{"a":'.repeat(DEEP)}1${'}]'.repeat(DEEP)}}`],
  ['a deep top-level array', arrays(DEEP)],
  ['unbalanced opening brackets only', `{"v":${'['.repeat(DEEP)}`],
];

describe('signaling codec against deep nesting', () => {
  for (const [name, decode] of [
    ['decodeClientMessage', decodeClientMessage],
    ['decodeServerMessage', decodeServerMessage],
  ] as const) {
    it.each(hostile)(`${name} refuses %s with protocol.malformed`, (_n, text) => {
      const r = decode(text);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('protocol.malformed');
        expect(r.error.message.length).toBeLessThan(200);
      }
      const bytes = decode(new TextEncoder().encode(text));
      expect(bytes.ok).toBe(false);
      if (!bytes.ok) expect(bytes.error.code).toBe('protocol.malformed');
    });
  }

  it('names the depth limit, and fits a 10 KB attack far below the size limit', () => {
    const text = `{"v":${arrays(DEEP)},"type":"ping","id":1}`;
    expect(text.length).toBeLessThan(MAX_SIGNAL_BYTES);
    const r = decodeClientMessage(text);
    expect(!r.ok && r.error.message).toContain(String(MAX_JSON_DEPTH));
  });

  it('counts only brackets outside strings, and escaped quotes stay inside them', () => {
    expect(jsonDeeperThan(arrays(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDeeperThan(arrays(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    const inString = JSON.stringify({ v: 1, type: 'e2ee', to: 'all', payload: `\\"${'['.repeat(DEEP)}` });
    expect(jsonDeeperThan(inString, MAX_JSON_DEPTH)).toBe(false);
    expect(decodeClientMessage(inString).ok).toBe(true);
    // An escaped quote does not end the string, so the brackets after it are still inside it.
    const escaped = `{"v":1,"type":"e2ee","to":"all","payload":"\\"${'{'.repeat(100)}"}`;
    expect(decodeClientMessage(escaped).ok).toBe(true);
  });

  it('keeps a message at the depth limit to the schema check (refused there, not crashed)', () => {
    const r = decodeClientMessage(`{"v":1,"type":"ping","id":${arrays(MAX_JSON_DEPTH - 1)}}`);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('protocol.malformed');
      expect(r.ref).toBe('ping');
    }
  });

  it('never echoes a received value in an error sentence', () => {
    const long = 'x'.repeat(100_000);
    for (const text of [
      JSON.stringify({ v: long, type: 'ping', id: 1 }),
      JSON.stringify({ v: { a: long }, type: 'ping', id: 1 }),
      JSON.stringify({ v: 1, type: long }),
      JSON.stringify({ v: 1, type: 'leave', [long]: 1 }),
      JSON.stringify({ v: 1, type: 'join', meetingId: long }),
    ]) {
      for (const r of [decodeClientMessage(text), decodeServerMessage(text)]) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.message.length).toBeLessThan(400);
      }
    }
  });
});

describe('signaling codec is total (property)', () => {
  const neverThrows = (input: string | Uint8Array) => {
    for (const r of [decodeClientMessage(input), decodeServerMessage(input)]) {
      expect(typeof r.ok).toBe('boolean');
      if (!r.ok) expect(r.error.code.startsWith('protocol.')).toBe(true);
    }
  };

  it('for arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 500 }), neverThrows), { numRuns: 3000 });
  });

  it('for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 500 }), neverThrows), { numRuns: 3000 });
  });

  it('for arbitrary JSON values in message-shaped objects, however deep', () => {
    // Values as JSON text: ordinary ones, and nested ones far deeper than any serializer could write.
    const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => arrays(n));
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
      deep,
    );
    const field = (name: string) => value.map((text) => `"${name}":${text}`);
    const message = fc
      .tuple(
        fc.oneof(fc.constant('"v":1'), field('v')),
        fc.oneof(
          fc.constantFrom('join', 'ping', 'e2ee', 'roster', 'error', 'hello').map((t) => `"type":"${t}"`),
          field('type'),
        ),
        fc.subarray(['id', 'payload', 'participants', 'to']).chain((names) => fc.tuple(...names.map(field))),
      )
      .map(([v, type, rest]) => `{${[v, type, ...rest].join(',')}}`);
    fc.assert(fc.property(message, neverThrows), { numRuns: 1500 });
  });

  it('for bracket soup (unbalanced, nested in strings, escaped)', () => {
    const soup = fc
      .array(fc.constantFrom('[', ']', '{', '}', '"', '\\', ':', ',', '1', '"v"', '"type"'), {
        maxLength: 4000,
      })
      .map((parts) => parts.join(''));
    fc.assert(fc.property(soup, neverThrows), { numRuns: 1000 });
  });
});
