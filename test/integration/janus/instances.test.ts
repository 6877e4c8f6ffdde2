/**
 * A relay over two Janus instances (docs/decisions/0018-media-planes.md, "Several instances"): two
 * meetings are placed one on each; the instance under one of them is killed mid-meeting, its
 * participants are told `media-lost`, offer again and land on the other instance, back to e2ee with
 * media both ways under the same keys; the other meeting never notices.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import { type JanusFixture, startJanus } from '../../helpers/janus.ts';
import { allSecure, type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let januses: JanusFixture[] = [];
let h: Harness | undefined;

beforeAll(async () => {
  januses = [await startJanus(), await startJanus()];
}, 60_000);
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  for (const j of januses) await j.stop();
});

/** Waits until every one of `people` decrypted `more` fresh frames from every other one. */
async function framesFlow(people: HeadlessParticipant[], more: number, what: string): Promise<void> {
  const ids = people.map((p) => p.session.participantId!);
  const before = people.map((p) => ids.map((other) => p.okFrom(other)));
  await waitFor(
    () =>
      people.every((p, i) => ids.every((other, j) => i === j || p.okFrom(other) >= before[i]![j]! + more)),
    what,
    20_000,
  );
}

describe('the Janus plane over two instances', () => {
  it('an instance killed mid-meeting: its meeting moves to the other, back to e2ee with media both ways', async () => {
    h = await startHarness({
      relay: { mediaPlane: { kind: 'janus', instances: januses.map((j) => j.url) } },
    });
    const relay = h.relay;
    const janusStats = () => relay.stats().mediaPlane.janus!;
    await waitFor(() => janusStats().instancesUp === 2, 'both instances up', 15_000);

    const first = await h.meeting();
    const moved = [
      h.participant(first, 'Host', { identity: h.host, client: 'room' }),
      h.participant(first, 'A'),
      h.participant(first, 'B'),
    ];
    await Promise.all(moved.map((p) => p.join()));
    await waitFor(() => allSecure(moved), 'first meeting secure', 30_000);
    await framesFlow(moved, 3, 'frames in the first meeting');

    const second = await h.meeting();
    const stays = [
      h.participant(second, 'Host 2', { identity: h.host, client: 'room' }),
      h.participant(second, 'C'),
    ];
    await Promise.all(stays.map((p) => p.join()));
    await waitFor(() => allSecure(stays), 'second meeting secure', 30_000);
    await framesFlow(stays, 3, 'frames in the second meeting');

    // One meeting on each instance (the second went where there were fewer participants).
    const placed = janusStats().instances;
    expect(placed.map((i) => [i.meetings, i.participants, i.publishers])).toEqual([
      [1, 3, 3],
      [1, 2, 2],
    ]);

    const epochs = moved.map((p) => p.session.sendEpoch);
    const lostBefore = [...moved, ...stays].map((p) => p.session.relay.mediaLost);
    const killedAt = Date.now();
    await januses[0]!.crash();
    await waitFor(
      () => moved.every((p, i) => p.session.relay.mediaLost > lostBefore[i]!),
      'media-lost at everyone of the first meeting',
      10_000,
    );
    const lostAt = Date.now();
    await framesFlow(moved, 5, 'frames through the other instance');
    const flowingAt = Date.now();
    console.log(
      `[janus instances] instance killed: media-lost at all after ${lostAt - killedAt} ms, ` +
        `frames both ways on the other instance ${flowingAt - killedAt} ms after the kill`,
    );

    const after = janusStats();
    expect(after.instances[0]).toMatchObject({ health: 'down', meetings: 0, downs: 1 });
    expect(after.instances[1]).toMatchObject({ health: 'up', meetings: 2, participants: 5 });
    await waitFor(
      () => janusStats().instances[1]!.publishers === 5,
      'all five publishing on the live instance',
    );
    expect(after.meetingsMoved).toBe(1);
    // Same participants, same keys: no rekey, and everyone still shows e2ee.
    expect(moved.map((p) => p.session.sendEpoch)).toEqual(epochs);
    expect(allSecure(moved)).toBe(true);
    // The meeting on the other instance was never touched.
    expect(stays.map((p, i) => p.session.relay.mediaLost - lostBefore[moved.length + i]!)).toEqual([0, 0]);
    await framesFlow(stays, 5, 'frames in the second meeting after the kill');
    expect([...moved, ...stays].reduce((n, p) => n + p.badTotal(), 0)).toBe(0);
  }, 120_000);
});
