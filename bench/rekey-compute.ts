/**
 * Rekey compute: the leader's time to produce all wrapped meeting keys for a new epoch with pair
 * secrets cached, for 10, 50 and 200 participants (goal ≤ 20 ms at 200), and the first-join cost
 * (hybrid X25519 + ML-KEM-768 pair secret) separately. `rekey-full` is a whole periodic rekey as the
 * leader runs it (wraps plus the signed heartbeat over the roster), once with plain bindings and
 * once with every participant certified by a trusted organization (policy `refuse`, so the leader
 * checks every certificate), measured in the same run.
 * Run: node --import tsx bench/rekey-compute.ts
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { makeEphemeralKeys, signBinding, verifyBinding } from '../src/e2ee/binding.ts';
import { toB64u } from '../src/e2ee/bytes.ts';
import { issueCertificate } from '../src/e2ee/certificate.ts';
import { RosterIdentities } from '../src/e2ee/roster-identity.ts';
import { Leader } from '../src/e2ee/leader.ts';
import { DEFAULT_PARAMS, type RelayMember } from '../src/e2ee/types.ts';

const M = 'bench-meeting';
const I = 'bench-instance';
const round2 = (x: number) => Math.round(x * 100) / 100;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const orgSecret = ed25519.utils.randomSecretKey();
const anchor = { org: 'Bench Org', publicKey: toB64u(ed25519.getPublicKey(orgSecret)) };
const WALL = Date.UTC(2026, 10, 26);

function participantBinding(id: string, certified = false) {
  const sk = ed25519.utils.randomSecretKey();
  const cert = certified
    ? issueCertificate(
        {
          org: anchor.org,
          name: `Person ${id}`,
          kind: 'person',
          key: ed25519.getPublicKey(sk),
          notBefore: WALL - 86_400_000,
          notAfter: WALL + 86_400_000,
        },
        orgSecret,
      )
    : undefined;
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
    ...(cert === undefined ? {} : { cert }),
  });
}

// Pools of bindings, reused across sizes (making them is not what we measure).
const plainPool = Array.from({ length: 200 }, (_, i) => participantBinding(`p${i}`));
const certPool = Array.from({ length: 200 }, (_, i) => participantBinding(`p${i}`, true));

for (const [n, certificates] of [
  [10, false],
  [50, false],
  [200, false],
  [200, true],
] as const) {
  const pool = certificates ? certPool : plainPool;
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
    ...(certificates
      ? {
          identities: new RosterIdentities({
            anchors: [anchor],
            unverified: 'refuse',
            wallClock: () => WALL,
          }),
        }
      : {}),
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
  // Whole periodic rekeys: every wrap plus the signed heartbeat carrying the roster.
  const full: number[] = [];
  let now = 0;
  for (let r = 0; r < 15; r++) {
    now += DEFAULT_PARAMS.rekeyIntervalMs;
    const t = performance.now();
    const out = leader.tick(now);
    full.push(performance.now() - t);
    if (out.filter((e) => e.type === 'send' && e.to !== 'all').length !== n)
      throw new Error('rekey missed someone');
  }
  console.log(
    JSON.stringify({
      name: 'rekey-full',
      params: { participants: n, certificates, includes: 'wraps+signed heartbeat', stat: 'median of 15' },
      value: round2(median(full)),
      unit: 'ms',
    }),
  );
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
      params: { participants: n, certificates, pairSecrets: 'cached', stat: 'median of 25' },
      value: round2(median(times)),
      unit: 'ms',
    }),
  );
  console.log(
    JSON.stringify({
      name: 'rekey-first-join',
      params: { participants: n, certificates, includes: 'x25519+ml-kem-768+hkdf+wrap+heartbeat' },
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
