/**
 * join-to-secure: from the join command to shield `e2ee` for the joining participant, p50 and p95
 * over 20 joins, into meetings of 2 and of 8 participants, on loopback with the real relay and wrtc,
 * with the protocol's production timing (DEFAULT_PARAMS). Goal: p95 ≤ 300 ms for 2, with identity
 * certificates checked. Each size runs twice in the same process: without certificates (baseline)
 * and with every participant certified by one organization that everyone trusts (policy `warn`, so
 * the shield turns green only once every member's certificate verified).
 * Joins are spaced by more than the join-coalescing window, as people arrive one by one: a join
 * within the window of another is deliberately batched into the next epoch
 * (docs/decisions/0009-sticky-leader-and-join-rekey.md).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { ephemeralIdentity } from '../src/app/bot.ts';
import { DEFAULT_PARAMS, issueCertificate, type TrustOptions } from '../src/e2ee/index.ts';
import { toBase64Url } from '../src/protocol/codec.ts';
import type { HeadlessParticipant } from '../src/meeting/headless.ts';
import { startHarness, waitFor } from '../test/helpers/meeting-harness.ts';
import { emit, percentile } from './_lib.ts';

const JOINS = Number(process.env['BENCH_JOINS'] ?? 20);

const orgSecret = ed25519.utils.randomSecretKey();
const anchor = { org: 'Bench Org', publicKey: toBase64Url(ed25519.getPublicKey(orgSecret)) };

/** A certified identity and the trust options that go with it. */
function certified(name: string, identity = ephemeralIdentity()) {
  const now = Date.now();
  const trust: TrustOptions = {
    anchors: [anchor],
    certificate: issueCertificate(
      {
        org: anchor.org,
        name,
        kind: 'person',
        key: identity.publicKey,
        notBefore: now - 60_000,
        notAfter: now + 86_400_000,
      },
      orgSecret,
    ),
    unverified: 'warn',
  };
  return { identity, trust };
}

for (const [size, certificates] of [
  [2, false],
  [2, true],
  [8, false],
  [8, true],
] as const) {
  const h = await startHarness();
  const id = await h.meeting();
  const base = { e2eeParams: { ...DEFAULT_PARAMS }, videoFps: 0, audioFps: 0 };
  const opts = (name: string, identity?: ReturnType<typeof ephemeralIdentity>) =>
    certificates
      ? { ...base, ...certified(name, identity) }
      : identity === undefined
        ? base
        : { ...base, identity };
  const present: HeadlessParticipant[] = [h.participant(id, 'Host', opts('Host', h.host))];
  for (let i = 1; i < size - 1; i++) present.push(h.participant(id, `P${i}`, opts(`P${i}`)));
  for (const p of present) await p.join();
  await waitFor(
    () => present.every((p) => p.session.snapshot.shield === 'e2ee'),
    'present participants secure',
    30_000,
  );
  const samples: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const joiner = h.participant(id, `Joiner ${i}`, opts(`Joiner ${i}`));
    const t0 = performance.now();
    await joiner.join();
    await waitFor(() => joiner.session.snapshot.shield === 'e2ee', 'joiner secure', 30_000);
    samples.push(performance.now() - t0);
    await joiner.leave();
    await new Promise((r) => setTimeout(r, DEFAULT_PARAMS.joinCoalesceMs + 200));
    await waitFor(
      () =>
        present.every(
          (p) =>
            p.session.snapshot.shield === 'e2ee' && p.session.snapshot.participants.length === present.length,
        ),
      'back to secure',
      30_000,
    );
  }
  await h.close();
  const params = { participants: size, joins: JOINS, certificates };
  emit({
    name: 'join-to-secure',
    params: { ...params, stat: 'p50' },
    value: percentile(samples, 50),
    unit: 'ms',
  });
  emit({
    name: 'join-to-secure',
    params: { ...params, stat: 'p95' },
    value: percentile(samples, 95),
    unit: 'ms',
  });
}
process.exit(0);
