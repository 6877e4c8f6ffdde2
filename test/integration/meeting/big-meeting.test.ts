/**
 * Big meetings on both media planes (docs/protocol.md §Big meetings): past last N, whoever starts
 * speaking gets the full video layer, the least recent speaker drops to small, everyone stays
 * end-to-end encrypted, and the speakers' frames keep flowing. Speech is the level the headless
 * participants write into their audio headers (and, on the Janus plane, report).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import {
  allSecure,
  framesFlow,
  type Harness,
  PLANES,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(stopSharedJanus);

const LOUD = 20;
const SILENT = 100; // a quiet room, measured (127 would mean no level at all)

describe.each(PLANES)('big meetings (%s plane)', (plane) => {
  it('the one who starts speaking is seen full, the least recent speaker small; all stay e2ee', async () => {
    h = await startHarness({ plane, relay: { bigMeeting: { lastN: 2, loudest: 2 } } });
    const id = await h.meeting();
    const speaking = new Set<string>();
    const person = (name: string, extra = {}) =>
      h!.participant(id, name, { audioLevel: () => (speaking.has(name) ? LOUD : SILENT), ...extra });
    const host = person('Host', { identity: h.host, client: 'room' });
    const people: HeadlessParticipant[] = [host, person('A'), person('B'), person('C')];
    for (const p of people) await p.join();
    await waitFor(() => allSecure(people), 'four secure', 30_000);
    const layers = () => people.map((p) => p.media.videoLayer).join(' ');
    // Four people, last N = 2: the first two joiners are full until someone speaks.
    await waitFor(() => layers() === 'full full small small', 'the first two full, the others small');

    speaking.add('C');
    await waitFor(() => layers() === 'full small small full', 'C full, A (least recent) small', 20_000);
    speaking.delete('C');
    speaking.add('B');
    await waitFor(() => layers() === 'small small full full', 'B full, Host small', 20_000);

    // The small layer is still the participant's video, sealed with the same keys: it decrypts.
    const [, a] = people;
    const fromA = people.map((p) => (p === a ? 0 : p.okFrom(a!.session.participantId!)));
    await waitFor(
      () => people.every((p, i) => p === a || p.okFrom(a!.session.participantId!) > fromA[i]! + 5),
      "A's small video and audio at everyone",
    );
    await framesFlow([people[2]!, people[3]!], 5, 'the speakers heard and seen');
    expect(allSecure(people)).toBe(true);
    expect(h.relay.stats().videoLayerChanges).toBeGreaterThanOrEqual(6);
    if (plane === 'embedded') {
      // The silent ones' audio is not forwarded in a big meeting; the speakers' is.
      expect(h.relay.stats().media.audioNotSelected).toBeGreaterThan(0);
    } else {
      expect(people[3]!.session.relay.levelReports).toBeGreaterThan(0);
    }
  });

  it('a meeting that shrinks to last N sends everyone full again', async () => {
    h = await startHarness({ plane, relay: { bigMeeting: { lastN: 2 } } });
    const id = await h.meeting();
    const people = [
      h.participant(id, 'Host', { identity: h.host, client: 'room' }),
      h.participant(id, 'A'),
      h.participant(id, 'B'),
    ];
    for (const p of people) await p.join();
    await waitFor(() => people[2]!.media.videoLayer === 'small', 'the third joiner small');
    await people[0]!.leave();
    await waitFor(() => people[2]!.media.videoLayer === 'full', 'full again at two people');
    await waitFor(() => allSecure(people.slice(1)), 'the two secure');
  });
});
