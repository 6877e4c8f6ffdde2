/**
 * Rekey compute (issue 3 benchmarks): the leader's time to produce all wrapped meeting keys for a new
 * epoch with pair secrets cached, for 10, 50 and 200 participants (goal ≤ 20 ms at 200), and the
 * first-join cost (hybrid X25519 + ML-KEM-768 pair secret) separately.
 * Run: node --import tsx bench/rekey-compute.ts
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { makeEphemeralKeys, signBinding, verifyBinding } from '../src/e2ee/binding.ts';
import { Leader } from '../src/e2ee/leader.ts';
import { DEFAULT_PARAMS, type RelayMember } from '../src/e2ee/types.ts';

const M = 'bench-meeting';
const I = 'bench-instance';
const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function participantBinding(id: string) {
  const sk = ed25519.utils.randomSecretKey();
  return signBinding({
    meetingId: M,
    instanceId: I,
    participantId: id,
    deviceId: `dev-${id}`,
    displayName: id,
    client: 'roomd',
    caps: ['e2ee-v1'],
    identityPublic: ed25519.getPublicKey(sk),
    identitySecret: sk,
    keys: makeEphemeralKeys(),
    nonce: randomBytes(16),
  });
}

// A pool of bindings, reused across sizes (making them is not what we measure).
const pool = Array.from({ length: 200 }, (_, i) => participantBinding(`p${i}`));

for (const n of [10, 50, 200]) {
  const leaderSk = ed25519.utils.randomSecretKey();
  const ephemeral = makeEphemeralKeys();
  const selfMsg = signBinding({
    meetingId: M,
    instanceId: I,
    participantId: 'leader',
    deviceId: 'dev-leader',
    displayName: 'Leader',
    client: 'roomd',
    caps: ['e2ee-v1'],
    identityPublic: ed25519.getPublicKey(leaderSk),
    identitySecret: leaderSk,
    keys: ephemeral,
    nonce: randomBytes(16),
  });
  const self = verifyBinding(selfMsg, { meetingId: M, instanceId: I });
  const leader = new Leader({
    meetingId: M,
    instanceId: I,
    selfId: 'leader',
    identitySecret: leaderSk,
    self,
    ephemeral,
    params: { ...DEFAULT_PARAMS },
    random: (k) => randomBytes(k),
    firstEpoch: 1,
    knownSlots: new Map(),
    installOwnKey: () => [],
    onOwnHeartbeat: () => [],
  });
  const members: RelayMember[] = [
    { participantId: 'leader', displayName: 'Leader', client: 'roomd', e2ee: true },
  ];
  for (let i = 0; i < n; i++)
    members.push({ participantId: `p${i}`, displayName: `p${i}`, client: 'roomd', e2ee: true });
  leader.onRelayRoster(members, 0);
  for (let i = 0; i < n; i++) leader.onBinding(pool[i] as (typeof pool)[number], 0);
  // First rekey: computes every pair secret (X25519 + ML-KEM-768 encapsulation + HKDF), wraps, signs a heartbeat.
  const t0 = performance.now();
  const first = leader.start(0);
  const firstMs = performance.now() - t0;
  const sent = first.filter((e) => e.type === 'send' && e.to !== 'all').length;
  if (sent !== n) throw new Error(`expected ${n} deliveries, got ${sent}`);
  const key = randomBytes(32);
  const times: number[] = [];
  for (let r = 0; r < 25; r++) {
    const t = performance.now();
    leader.wrapAll(leader.epoch + 1 + r, key, 'await');
    times.push(performance.now() - t);
  }
  console.log(
    JSON.stringify({
      name: 'rekey-compute',
      params: { participants: n, pairSecrets: 'cached', stat: 'median of 25' },
      value: round2(median(times)),
      unit: 'ms',
    }),
  );
  console.log(
    JSON.stringify({
      name: 'rekey-first-join',
      params: { participants: n, includes: 'x25519+ml-kem-768+hkdf+wrap+heartbeat' },
      value: round2(firstMs),
      unit: 'ms',
    }),
  );
  leader.destroy();
}

// The pieces of a first join, per participant.
const kem = ml_kem768.keygen();
const xa = x25519.keygen();
const xb = x25519.keygen();
const enc: number[] = [];
const dh: number[] = [];
for (let r = 0; r < 15; r++) {
  let t = performance.now();
  ml_kem768.encapsulate(kem.publicKey);
  enc.push(performance.now() - t);
  t = performance.now();
  x25519.getSharedSecret(xa.secretKey, xb.publicKey);
  dh.push(performance.now() - t);
}
console.log(
  JSON.stringify({
    name: 'first-join-mlkem768-encapsulate',
    params: { perParticipant: true },
    value: round2(median(enc)),
    unit: 'ms',
  }),
);
console.log(
  JSON.stringify({
    name: 'first-join-x25519',
    params: { perParticipant: true },
    value: round2(median(dh)),
    unit: 'ms',
  }),
);
