/**
 * Settings files (src/config/settings.ts, src/config/validate.ts, docs/admin.md): the text of
 * `<state dir>/settings.json` (or its last-good copy), parsed as JsonFileStore does and passed to
 * parseSettings, which migrates, fills defaults and validates — returning settings or throwing
 * config.invalid / config.unknown_key / config.too_new / config.migration_failed. The admin API's
 * settings PATCH ends in the same function. Invariants: what parses satisfies the schema and parses
 * again to itself; valid settings come back unchanged; version-1 files migrate.
 */
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { SETTINGS_VERSION, SettingsSchema } from '../../src/config/schema.ts';
import { defaultSettings, parseSettings } from '../../src/config/settings.ts';
import { mutatedJsonText } from '../lib/mutate.ts';
import { schemaArbitrary } from '../lib/schema-arb.ts';
import { type FuzzTarget, invariant, sameValue, typed } from '../lib/target.ts';

type Input = string | { readonly valid: unknown };

const CONTRACT = [
  'config.invalid',
  'config.unknown_key',
  'config.too_new',
  'config.migration_failed',
] as const;

const V1 = fc.record(
  {
    roomName: fc.oneof(fc.constant('Board room'), fc.string({ maxLength: 70 })),
    kioskPort: fc.oneof(fc.constant(8080), fc.integer()),
    relayUrl: fc.constantFrom('ws://127.0.0.1:7443/v1/signal', 'wss://relay.example/v1/signal', 'http://x'),
    videoCodec: fc.constantFrom('vp8', 'h264', 'av1'),
    e2eeOnly: fc.boolean(),
  },
  { requiredKeys: [] },
);

function check(raw: unknown): void {
  const r = typed(CONTRACT, () => parseSettings(raw));
  if (!r.ok) return;
  invariant(Value.Check(SettingsSchema, r.value), 'parsed settings do not satisfy the schema');
  invariant(r.value.schemaVersion === SETTINGS_VERSION, 'parsed settings are not of the current version');
  const again = parseSettings(JSON.parse(JSON.stringify(r.value)));
  invariant(sameValue(again, r.value), 'parsed settings parse differently the second time');
}

export const settings: FuzzTarget<Input> = {
  name: 'settings',
  about: 'src/config/settings.ts parseSettings of a settings file: settings or config.*',
  arbitrary: () => {
    const valid = schemaArbitrary(SettingsSchema);
    const seeds = [
      defaultSettings(),
      ...fc.sample(valid, { numRuns: 10, seed: 9 }),
      ...fc.sample(V1, { numRuns: 5, seed: 10 }),
    ];
    return fc.oneof(
      { weight: 2, arbitrary: valid.map((v) => ({ valid: v })) },
      { weight: 1, arbitrary: V1.map((v) => JSON.stringify(v)) },
      { weight: 6, arbitrary: mutatedJsonText(seeds) },
    );
  },
  run(input) {
    if (typeof input !== 'string') {
      const r = typed(CONTRACT, () => parseSettings(JSON.parse(JSON.stringify(input.valid))));
      invariant(r.ok, `valid settings were refused: ${r.ok ? '' : r.error.message}`);
      invariant(sameValue(r.value, input.valid), 'valid settings changed on parsing');
      check(input.valid);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(input);
    } catch (error) {
      // JsonFileStore reports a file that is not JSON as damaged before parseSettings sees it.
      if (error instanceof SyntaxError) return;
      throw error;
    }
    check(raw);
  },
  fromBytes: (bytes) => Buffer.from(bytes).toString('utf8'),
  seeds: () => [
    { note: 'defaults', input: JSON.stringify(defaultSettings()) },
    {
      note: 'version 1 file',
      input:
        '{"roomName":"Board room","kioskPort":8081,"relayUrl":"wss://r/v1/signal","videoCodec":"h264","e2eeOnly":true}',
    },
    { note: 'version 99', input: '{"schemaVersion":99}' },
    { note: 'schemaVersion 1.5', input: '{"schemaVersion":1.5}' },
    {
      note: '__proto__ section',
      input: '{"schemaVersion":2,"__proto__":{"polluted":1},"room":{"__proto__":{"name":"x"}}}',
    },
    {
      note: 'many unknown keys',
      input: JSON.stringify(Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]))),
    },
    {
      note: 'deep section',
      input: `{"schemaVersion":2,"media":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`,
    },
  ],
};
