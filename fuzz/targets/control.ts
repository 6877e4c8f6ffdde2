/**
 * Control frames (src/meeting/control.ts): the decrypted plaintext of another participant's mute /
 * camera state and reactions. decodeControl and decodeReaction never throw; they return a value or
 * null. Invariants: a value has the declared types (booleans, a known reaction, a safe integer seq
 * ≥ 0), nothing over 1024 bytes decodes, and encode → decode is the identity.
 */
import fc from 'fast-check';
import {
  type ControlState,
  decodeControl,
  decodeReaction,
  encodeControl,
  encodeReaction,
} from '../../src/meeting/control.ts';
import { REACTIONS, type Reaction } from '../../src/protocol/vocabulary.ts';
import { mutatedBytes, mutatedJsonText } from '../lib/mutate.ts';
import { type FuzzTarget, invariant, sameValue } from '../lib/target.ts';

type Input =
  | Uint8Array
  | { readonly state: ControlState; readonly seq: number }
  | { readonly reaction: Reaction; readonly seq: number };

const seq = fc.oneof(fc.nat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));

const SEEDS: unknown[] = [
  { v: 1, type: 'state', muted: true, cameraOn: false, seq: 3 },
  { v: 1, type: 'reaction', reaction: 'clap', seq: 4 },
];

function check(bytes: Uint8Array): void {
  const c = decodeControl(bytes);
  const r = decodeReaction(bytes);
  invariant(c === null || r === null, 'one frame decoded as both a state and a reaction');
  for (const v of [c, r]) {
    if (v === null) continue;
    invariant(bytes.length <= 1024, 'a frame over 1024 bytes decoded');
    invariant(Number.isSafeInteger(v.seq) && v.seq >= 0, 'seq out of range');
  }
  if (c !== null) {
    invariant(typeof c.muted === 'boolean' && typeof c.cameraOn === 'boolean', 'state fields not booleans');
    invariant(sameValue(decodeControl(encodeControl(c, c.seq)), c), 'a decoded state does not round-trip');
  }
  if (r !== null) {
    invariant(REACTIONS.includes(r.reaction), 'unknown reaction decoded');
    invariant(
      sameValue(decodeReaction(encodeReaction(r.reaction, r.seq)), r),
      'a decoded reaction does not round-trip',
    );
  }
}

export const control: FuzzTarget<Input> = {
  name: 'control',
  about: 'src/meeting/control.ts decodeControl / decodeReaction: value or null',
  arbitrary: () => {
    const utf8 = (t: string) => new Uint8Array(Buffer.from(t, 'utf8'));
    const seedBytes = SEEDS.map((s) => utf8(JSON.stringify(s)));
    return fc.oneof(
      {
        weight: 1,
        arbitrary: fc.record({ state: fc.record({ muted: fc.boolean(), cameraOn: fc.boolean() }), seq }),
      },
      { weight: 1, arbitrary: fc.record({ reaction: fc.constantFrom(...REACTIONS), seq }) },
      { weight: 5, arbitrary: mutatedJsonText(SEEDS).map(utf8) },
      { weight: 2, arbitrary: mutatedBytes(seedBytes, { maxLength: 2048 }) },
    );
  },
  run(input) {
    if (input instanceof Uint8Array) {
      check(input);
      return;
    }
    if ('state' in input) {
      const bytes = encodeControl(input.state, input.seq);
      invariant(
        sameValue(decodeControl(bytes), { ...input.state, seq: input.seq }),
        'a state does not round-trip',
      );
      check(bytes);
    } else {
      const bytes = encodeReaction(input.reaction, input.seq);
      invariant(sameValue(decodeReaction(bytes), input), 'a reaction does not round-trip');
      check(bytes);
    }
  },
  fromBytes: (bytes) => bytes,
  seeds: () => {
    const utf8 = (t: string) => new Uint8Array(Buffer.from(t, 'utf8'));
    return [
      { note: 'valid state', input: encodeControl({ muted: true, cameraOn: true }, 1) },
      { note: 'valid reaction', input: encodeReaction('raise_hand', 2) },
      {
        note: 'seq beyond 2^53',
        input: utf8('{"v":1,"type":"state","muted":true,"cameraOn":false,"seq":9007199254740993}'),
      },
      {
        note: 'reaction named __proto__',
        input: utf8('{"v":1,"type":"reaction","reaction":"__proto__","seq":1}'),
      },
      { note: 'invalid UTF-8', input: Uint8Array.of(0x7b, 0xc3, 0x28, 0x7d) },
      { note: 'deep nesting', input: utf8(`${'['.repeat(500)}${']'.repeat(500)}`) },
    ];
  },
};
