/**
 * Provisioning bundles (src/http/admin/bundle.ts, docs/admin.md): the JSON body of
 * `POST /api/v1/provision`, verified and parsed by verifyBundle, which returns or throws
 * http.bad_bundle / http.bad_signature / http.stale_bundle. Payloads are signed here with a test
 * key so the fuzzer reaches past the signature into payload parsing. Invariants: a bundle that is
 * accepted has a serial above the last one, names this device (or none), was signed by the trusted
 * key, and hands back a lowercase hex key; a valid bundle is accepted with its payload intact.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { BUNDLE_FORMAT, BundlePayload, signBundle, verifyBundle } from '../../src/http/admin/bundle.ts';
import { mutatedJsonText } from '../lib/mutate.ts';
import { schemaArbitrary } from '../lib/schema-arb.ts';
import { concatBytes, type FuzzTarget, invariant, sameValue, typed } from '../lib/target.ts';

interface Input {
  /** The request body as text. */
  readonly body: string;
  /** Which key the device already trusts: none yet, the test key, or another one. */
  readonly trust: 'none' | 'signer' | 'other';
  readonly lastSerial: number;
  /** Set when the body is a valid bundle for this device (it must be accepted). */
  readonly valid?: unknown;
}

const SECRET = new Uint8Array(32).fill(7);
const SIGNER = Buffer.from(ed25519.getPublicKey(SECRET)).toString('hex');
const OTHER = 'ab'.repeat(32);
const DEVICE = 'roomd-0001';
const DOMAIN = new TextEncoder().encode('roomd provisioning bundle v1\0');
const CONTRACT = ['http.bad_bundle', 'http.bad_signature', 'http.stale_bundle'] as const;

/** Sign arbitrary payload text (as organisation tooling would, but without checking it). */
function signText(payload: string): string {
  const bytes = new TextEncoder().encode(payload);
  const sig = ed25519.sign(concatBytes([DOMAIN, bytes]), SECRET);
  return JSON.stringify({
    format: BUNDLE_FORMAT,
    signer: SIGNER,
    payload: Buffer.from(bytes).toString('base64url'),
    signature: Buffer.from(sig).toString('base64url'),
  });
}

const settings = fc.oneof(
  fc.constant({}),
  fc.constant({ room: { name: 'Board room' }, media: { volume: 50 } }),
  fc.jsonValue({ maxDepth: 3 }),
);

const payload: fc.Arbitrary<Record<string, unknown>> = (
  schemaArbitrary(BundlePayload) as fc.Arbitrary<Record<string, unknown>>
).chain((p) => settings.map((s) => ({ ...p, settings: s })));

export const bundle: FuzzTarget<Input> = {
  name: 'bundle',
  about:
    'src/http/admin/bundle.ts verifyBundle of a JSON body: payload or http.bad_bundle / bad_signature / stale_bundle',
  caseLimitMs: 1000,
  arbitrary: () => {
    const trust = fc.constantFrom('none' as const, 'signer' as const, 'other' as const);
    const lastSerial = fc.constantFrom(0, 1, 5, Number.MAX_SAFE_INTEGER);
    const validPayload = payload.map((p) => ({
      ...p,
      serial: Math.min(p['serial'] as number, 2 ** 40) + 5,
      deviceIds: [DEVICE],
    }));
    const seeds = fc.sample(payload, { numRuns: 20, seed: 8 });
    const signedSeeds = seeds.slice(0, 6).map((p) => JSON.parse(signText(JSON.stringify(p))) as unknown);
    return fc.oneof(
      {
        weight: 2,
        arbitrary: fc.record({
          body: validPayload.map((p) => JSON.stringify(signBundle(p as never, SECRET))),
          trust: fc.constantFrom('none' as const, 'signer' as const),
          lastSerial: fc.constantFrom(0, 1, 4),
          valid: fc.constant(true),
        }),
      },
      // Payload mutated, then signed: reaches the payload parser.
      { weight: 4, arbitrary: fc.record({ body: mutatedJsonText(seeds).map(signText), trust, lastSerial }) },
      // The signed envelope mutated: format, signer, signature and payload fields.
      { weight: 3, arbitrary: fc.record({ body: mutatedJsonText(signedSeeds), trust, lastSerial }) },
    );
  },
  run(input) {
    let raw: unknown;
    try {
      raw = JSON.parse(input.body);
    } catch (error) {
      // Not JSON: the HTTP layer answers 400 before verifyBundle.
      if (error instanceof SyntaxError) return;
      throw error;
    }
    const organisationKey = input.trust === 'none' ? null : input.trust === 'signer' ? SIGNER : OTHER;
    const r = typed(CONTRACT, () =>
      verifyBundle(raw, { organisationKey, lastSerial: input.lastSerial, deviceId: DEVICE }),
    );
    if (input.valid !== undefined) {
      invariant(r.ok, `a valid bundle was refused: ${r.ok ? '' : r.error.message}`);
      const sent = JSON.parse(
        Buffer.from((raw as { payload: string }).payload, 'base64url').toString('utf8'),
      ) as unknown;
      invariant(sameValue(r.value.payload, sent), 'the payload changed on the way');
    }
    if (!r.ok) return;
    const p = r.value.payload;
    invariant(
      Number.isSafeInteger(p.serial) && p.serial > input.lastSerial,
      `serial ${p.serial} accepted after ${input.lastSerial}`,
    );
    invariant(
      p.deviceIds === undefined || p.deviceIds.includes(DEVICE),
      'a bundle for other devices accepted',
    );
    invariant(
      organisationKey === null || organisationKey === SIGNER,
      'a bundle signed by an untrusted key accepted',
    );
    invariant(
      /^[0-9a-f]{64}$/.test(r.value.nextOrganisationKey),
      'next organisation key is not lowercase hex',
    );
  },
  fromBytes: (bytes) => ({ body: Buffer.from(bytes).toString('utf8'), trust: 'none', lastSerial: 0 }),
  seeds: () => [
    {
      note: 'valid bundle',
      input: {
        body: JSON.stringify(
          signBundle(
            { serial: 2, issuedAt: '2026-01-01T00:00:00Z', settings: { room: { name: 'A' } } },
            SECRET,
          ),
        ),
        trust: 'signer',
        lastSerial: 1,
        valid: true,
      },
    },
    {
      note: 'stale serial',
      input: { body: signText('{"serial":1,"issuedAt":"x","settings":{}}'), trust: 'none', lastSerial: 1 },
    },
    { note: 'payload is not JSON', input: { body: signText('{"serial":'), trust: 'none', lastSerial: 0 } },
    {
      note: 'payload deeply nested settings',
      input: {
        body: signText(`{"serial":9,"issuedAt":"x","settings":${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
        trust: 'none',
        lastSerial: 0,
      },
    },
    {
      note: '__proto__ payload',
      input: {
        body: signText('{"serial":9,"issuedAt":"x","settings":{},"__proto__":{"polluted":1}}'),
        trust: 'none',
        lastSerial: 0,
      },
    },
    {
      note: 'serial 1e400',
      input: {
        body: signText('{"serial":1e400,"issuedAt":"x","settings":{}}'),
        trust: 'none',
        lastSerial: 0,
      },
    },
  ],
};
