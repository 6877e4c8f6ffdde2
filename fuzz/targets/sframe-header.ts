/**
 * SFrame header (RFC 9605 §4.3, src/e2ee/sframe/header.ts): the first bytes of every encrypted
 * media frame from another participant. decodeHeader returns or throws e2ee.malformed; the decoded
 * KID and CTR are u64, the length 1..17 and within the input; encodeHeader ∘ decodeHeader is the
 * identity on (KID, CTR), and a header in minimal form re-encodes to the same bytes.
 */
import fc from 'fast-check';
import {
  decodeHeader,
  encodeHeader,
  headerLength,
  MAX_HEADER_LENGTH,
  MAX_U64,
} from '../../src/e2ee/sframe/header.ts';
import { mutatedBytes } from '../lib/mutate.ts';
import { type FuzzTarget, invariant, typed } from '../lib/target.ts';

type Input = Uint8Array | { readonly kid: bigint; readonly ctr: bigint };

const u64 = fc.oneof(
  fc.bigInt({ min: 0n, max: 7n }),
  fc.constantFrom(
    8n,
    0xffn,
    0x100n,
    0xffffn,
    0x1_0000_0000n,
    2n ** 53n - 1n,
    2n ** 53n,
    MAX_U64 - 1n,
    MAX_U64,
  ),
  fc.bigInt({ min: 0n, max: MAX_U64 }),
);

const SEEDS = [
  encodeHeader(0n, 0n),
  encodeHeader(5n, 1234n),
  encodeHeader(MAX_U64, MAX_U64),
  encodeHeader(300n, 7n),
];

export const sframeHeader: FuzzTarget<Input> = {
  name: 'sframe-header',
  about: 'src/e2ee/sframe/header.ts decodeHeader: value or e2ee.malformed',
  arbitrary: () =>
    fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      mutatedBytes(SEEDS, { maxLength: 40 }),
      fc.record({ kid: u64, ctr: u64 }),
    ),
  run(input) {
    if (!(input instanceof Uint8Array)) {
      const bytes = encodeHeader(input.kid, input.ctr);
      invariant(
        bytes.length === headerLength(input.kid, input.ctr),
        'encoded length differs from headerLength',
      );
      const h = decodeHeader(bytes);
      invariant(h.kid === input.kid && h.ctr === input.ctr, 'header does not round-trip');
      invariant(h.length === bytes.length, 'decoded length differs from encoded length');
      return;
    }
    const r = typed(['e2ee.malformed'], () => decodeHeader(input));
    if (!r.ok) return;
    const h = r.value;
    invariant(
      h.length >= 1 && h.length <= MAX_HEADER_LENGTH && h.length <= input.length,
      'length out of range',
    );
    invariant(h.kid >= 0n && h.kid <= MAX_U64 && h.ctr >= 0n && h.ctr <= MAX_U64, 'KID or CTR outside u64');
    const again = encodeHeader(h.kid, h.ctr);
    const back = decodeHeader(again);
    invariant(back.kid === h.kid && back.ctr === h.ctr, 're-encoded header decodes differently');
    if (again.length === h.length) {
      invariant(
        Buffer.from(again).equals(input.subarray(0, h.length)),
        'minimal header re-encodes differently',
      );
    }
  },
  fromBytes: (bytes) => bytes,
  seeds: () => [
    { note: 'KID 0, CTR 0 (one byte)', input: encodeHeader(0n, 0n) },
    { note: 'largest KID and CTR', input: encodeHeader(MAX_U64, MAX_U64) },
    { note: 'empty input', input: new Uint8Array(0) },
    { note: 'KID length 8 announced, 2 bytes present', input: Uint8Array.of(0xf0, 1, 2) },
    { note: 'non-minimal KID encoding', input: Uint8Array.of(0x80, 0x03) },
    { note: 'round trip of 2^64-1 / 8', input: { kid: MAX_U64, ctr: 8n } },
  ],
};
