/**
 * E2EE messages (src/e2ee/parse.ts, src/e2ee/messages.ts, docs/protocol.md "Messages"), identity
 * certificates inside bindings and roster entries included: the opaque
 * payload other participants send through the relay, parsed from JSON as the meeting session does
 * (src/meeting/machine.ts drops text that is not JSON). parseE2eeMessage returns a message or
 * throws e2ee.malformed / e2ee.unsupported_version; isRelayMember and isBindingShaped answer a
 * boolean. Invariants: a valid message parses to itself; what parses keeps within LIMITS and
 * parses again to the same value.
 */
import fc from 'fast-check';
import { toB64u } from '../../src/e2ee/bytes.ts';
import { CERT_LIMITS } from '../../src/e2ee/certificate.ts';
import { E2EE_PROTOCOL_VERSION, LIMITS, SIZES } from '../../src/e2ee/messages.ts';
import { isBindingShaped, isRelayMember, parseE2eeMessage } from '../../src/e2ee/parse.ts';
import { mutatedJsonText } from '../lib/mutate.ts';
import { type FuzzTarget, invariant, sameValue, typed } from '../lib/target.ts';

type Input = string | { readonly valid: Record<string, unknown> };

const CONTRACT = ['e2ee.malformed', 'e2ee.unsupported_version'] as const;

const id = fc.oneof(
  fc.constantFrom('1', '17', 'meeting-1', 'inst-0001', 'dev:ab.cd', '~'.repeat(LIMITS.maxIdLength)),
  fc.stringMatching(/^[\x21-\x7e]{1,128}$/),
);
const displayName = fc.oneof(
  fc.constantFrom('', 'Board room', 'Zoë ✓', 'x'.repeat(LIMITS.maxNameLength)),
  fc
    .string({ unit: 'grapheme', maxLength: 40 })
    .filter((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.length <= 256),
);
const token = fc.stringMatching(/^[a-z0-9._-]{1,32}$/);
const b64 = (len: number) => fc.uint8Array({ minLength: len, maxLength: len }).map(toB64u);
const u32 = (min: number) => fc.oneof(fc.constantFrom(min, 0xffffffff), fc.integer({ min, max: 0xffffffff }));
const safe = fc.oneof(fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.nat());

// Identity certificates (src/e2ee/certificate.ts, docs/protocol.md "Identity certificates").
const certName = fc.oneof(
  fc.constantFrom('Acme Corp', 'Boardroom 4', 'Zoë ✓', 'x'.repeat(CERT_LIMITS.maxNameLength)),
  fc.stringMatching(/^[A-Za-z0-9 .,'-]{1,40}$/).filter((s) => s.trim() !== ''),
);
const cert = fc
  .record({
    v: fc.constant(1),
    org: certName,
    name: certName,
    kind: fc.constantFrom('room', 'person', 'bot'),
    key: b64(32),
    notBefore: fc.nat({ max: 2 ** 44 }),
    span: fc.integer({ min: 1, max: 2 ** 40 }),
    issuer: b64(32),
    sig: b64(SIZES.signature),
  })
  .map(({ span, ...c }) => ({ ...c, notAfter: c.notBefore + span }));

const binding = fc.record({
  t: fc.constant('e2ee.binding'),
  v: fc.constant(E2EE_PROTOCOL_VERSION),
  binding: fc.record(
    {
      v: fc.constant(1),
      meetingId: id,
      instanceId: id,
      participantId: id,
      deviceId: id,
      displayName,
      client: token,
      caps: fc.array(token, { maxLength: LIMITS.maxCaps }),
      ivk: b64(SIZES.ivk),
      x25519: b64(SIZES.x25519),
      mlkem: b64(SIZES.mlkemPublic),
      nonce: b64(SIZES.nonce),
      cert,
    },
    {
      requiredKeys: [
        'v',
        'meetingId',
        'instanceId',
        'participantId',
        'deviceId',
        'displayName',
        'client',
        'caps',
        'ivk',
        'x25519',
        'mlkem',
        'nonce',
      ],
    },
  ),
  sig: b64(SIZES.signature),
});

const key = fc.record(
  {
    t: fc.constant('e2ee.key'),
    v: fc.constant(1),
    meetingId: id,
    instanceId: id,
    leaderId: id,
    recipientId: id,
    epoch: u32(1),
    slot: fc.oneof(fc.constantFrom(0, 2 ** 40), fc.nat()),
    switch: fc.constantFrom('immediate', 'await'),
    nonce: b64(SIZES.nonce),
    iv: b64(SIZES.xnonce),
    box: b64(SIZES.box),
    kem: b64(SIZES.mlkemCiphertext),
  },
  {
    requiredKeys: [
      't',
      'v',
      'meetingId',
      'instanceId',
      'leaderId',
      'recipientId',
      'epoch',
      'slot',
      'switch',
      'nonce',
      'iv',
      'box',
    ],
  },
);

const ack = fc.record({
  t: fc.constant('e2ee.ack'),
  v: fc.constant(1),
  meetingId: id,
  instanceId: id,
  leaderId: id,
  participantId: id,
  epoch: u32(1),
  nonce: b64(SIZES.nonce),
  mac: b64(SIZES.mac),
});

const rosterEntry = fc.record(
  {
    participantId: id,
    slot: fc.nat(),
    bindingHash: fc.oneof(fc.constant(''), b64(SIZES.hash)),
    displayName,
    client: token,
    e2ee: fc.boolean(),
    ivk: fc.oneof(fc.constant(''), b64(SIZES.ivk)),
    cert,
  },
  { requiredKeys: ['participantId', 'slot', 'bindingHash', 'displayName', 'client', 'e2ee', 'ivk'] },
);

const heartbeat = fc.record({
  t: fc.constant('e2ee.heartbeat'),
  v: fc.constant(1),
  body: fc.record({
    meetingId: id,
    instanceId: id,
    leaderId: id,
    epoch: u32(1),
    sendEpoch: u32(0),
    rosterVersion: safe,
    counter: safe,
    time: safe,
    rosterHash: b64(SIZES.hash),
    prev: fc.oneof(fc.constant(''), b64(SIZES.hash)),
    roster: fc.array(rosterEntry, { maxLength: 4 }),
  }),
  leader: binding,
  sig: b64(SIZES.signature),
});

const valid = fc.oneof(binding, key, ack, heartbeat) as fc.Arbitrary<Record<string, unknown>>;

function check(value: unknown): void {
  invariant(typeof isRelayMember(value) === 'boolean', 'isRelayMember did not answer a boolean');
  invariant(typeof isBindingShaped(value) === 'boolean', 'isBindingShaped did not answer a boolean');
  const r = typed(CONTRACT, () => parseE2eeMessage(value));
  if (!r.ok) return;
  const m = r.value;
  if (m.t === 'e2ee.heartbeat') {
    invariant(m.body.roster.length <= LIMITS.maxRoster, 'roster over the limit');
    invariant(m.leader.binding.caps.length <= LIMITS.maxCaps, 'caps over the limit');
  }
  if (m.t === 'e2ee.binding') invariant(m.binding.caps.length <= LIMITS.maxCaps, 'caps over the limit');
  const again = parseE2eeMessage(JSON.parse(JSON.stringify(m)));
  invariant(sameValue(again, m), 'a parsed message parses differently the second time');
}

export const e2eeMessage: FuzzTarget<Input> = {
  name: 'e2ee-message',
  about:
    'src/e2ee/parse.ts parseE2eeMessage of JSON payloads: message or e2ee.malformed / e2ee.unsupported_version',
  arbitrary: () => {
    const seeds = fc.sample(valid, { numRuns: 30, seed: 2 });
    return fc.oneof(
      { weight: 2, arbitrary: valid.map((v) => ({ valid: v })) },
      { weight: 6, arbitrary: mutatedJsonText(seeds) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    );
  },
  run(input) {
    if (typeof input !== 'string') {
      const m = typed(CONTRACT, () => parseE2eeMessage(JSON.parse(JSON.stringify(input.valid))));
      invariant(m.ok, `a valid message was refused: ${m.ok ? '' : m.error.message}`);
      invariant(sameValue(m.value, input.valid), 'a valid message does not parse to itself');
      check(input.valid);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(input);
    } catch (error) {
      // The session drops a payload that is not JSON (src/meeting/machine.ts) before the decoder.
      if (error instanceof SyntaxError) return;
      throw error;
    }
    check(value);
  },
  fromBytes: (bytes) => Buffer.from(bytes).toString('utf8'),
  seeds: () => {
    const [b, k] = fc.sample(fc.tuple(binding, key), { numRuns: 1, seed: 3 })[0]!;
    return [
      { note: 'valid binding', input: JSON.stringify(b) },
      { note: 'valid key delivery', input: JSON.stringify(k) },
      { note: 'version 2 binding', input: JSON.stringify({ ...b, v: 2 }) },
      {
        note: '__proto__ in a binding body',
        input: JSON.stringify(b).replace('{"v":1,', '{"__proto__":{"polluted":1},"v":1,'),
      },
      {
        note: 'roster of 1001 entries',
        input: JSON.stringify({ t: 'e2ee.heartbeat', v: 1, body: { roster: new Array(1001).fill(0) } }),
      },
      {
        note: 'caps as a deep array',
        input: `{"t":"e2ee.binding","v":1,"binding":{"caps":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      },
    ];
  },
};
