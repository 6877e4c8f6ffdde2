/**
 * join-to-secure (issue 4): from the join command to shield `e2ee` for the joining participant,
 * p50 and p95 over 20 joins, into meetings of 2 and of 8 participants, on loopback with the real
 * relay and wrtc, with the protocol's production timing (DEFAULT_PARAMS). Goal: p95 ≤ 300 ms for 2.
 * Joins are spaced by more than the join-coalescing window, as people arrive one by one: a join
 * within the window of another is deliberately batched into the next epoch (e2ee brief).
 */
import { DEFAULT_PARAMS } from '../src/e2ee/index.ts';
import type { HeadlessParticipant } from '../src/meeting/headless.ts';
import { startHarness, waitFor } from '../test/helpers/meeting-harness.ts';
import { emit, percentile } from './_lib.ts';

const JOINS = Number(process.env['BENCH_JOINS'] ?? 20);

for (const size of [2, 8]) {
  const h = await startHarness();
  const id = await h.meeting();
  const opts = { e2eeParams: { ...DEFAULT_PARAMS }, videoFps: 0, audioFps: 0 };
  const present: HeadlessParticipant[] = [h.participant(id, 'Host', { ...opts, identity: h.host })];
  for (let i = 1; i < size - 1; i++) present.push(h.participant(id, `P${i}`, opts));
  for (const p of present) await p.join();
  await waitFor(
    () => present.every((p) => p.session.snapshot.shield === 'e2ee'),
    'present participants secure',
    30_000,
  );
  const samples: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const joiner = h.participant(id, `Joiner ${i}`, opts);
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
  const params = { participants: size, joins: JOINS };
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
