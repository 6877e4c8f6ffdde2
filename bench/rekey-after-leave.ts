/**
 * rekey-after-leave (docs/benchmarks.md): with 8 participants on loopback, from one participant's leave to
 * every remaining sender encrypting under the new epoch. Production timing (DEFAULT_PARAMS);
 * the switch waits for every acknowledgement or `switchBoundMs`. Goal ≤ 250 ms + switch delay.
 */
import { DEFAULT_PARAMS } from '../src/e2ee/index.ts';
import type { HeadlessParticipant } from '../src/meeting/headless.ts';
import { startHarness, waitFor } from '../test/helpers/meeting-harness.ts';
import { emit, percentile } from './_lib.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const h = await startHarness();
const id = await h.meeting();
const opts = { e2eeParams: { ...DEFAULT_PARAMS }, videoFps: 0, audioFps: 0 };
const people: HeadlessParticipant[] = [h.participant(id, 'Host', { ...opts, identity: h.host })];
for (let i = 1; i < 7; i++) people.push(h.participant(id, `P${i}`, opts));
for (const p of people) await p.join();
const samples: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const leaver = h.participant(id, `Leaver ${r}`, opts);
  await leaver.join();
  const all = [...people, leaver];
  await waitFor(
    () =>
      all.every(
        (p) => p.session.snapshot.status === 'secure' && p.session.snapshot.participants.length === 8,
      ),
    '8 secure',
    30_000,
  );
  const before = Math.max(...people.map((p) => p.session.sendEpoch));
  const t0 = performance.now();
  await leaver.leave();
  await waitFor(
    () => people.every((p) => p.session.sendEpoch > before),
    'all senders on the new epoch',
    30_000,
  );
  samples.push(performance.now() - t0);
}
await h.close();
const params = { participants: 8, rounds: ROUNDS, switchBoundMs: DEFAULT_PARAMS.switchBoundMs };
emit({
  name: 'rekey-after-leave',
  params: { ...params, stat: 'p50' },
  value: percentile(samples, 50),
  unit: 'ms',
});
emit({
  name: 'rekey-after-leave',
  params: { ...params, stat: 'max' },
  value: Math.max(...samples),
  unit: 'ms',
});
process.exit(0);
