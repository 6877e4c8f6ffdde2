/**
 * Meetings end to end over real wrtc on loopback (docs/protocol.md §Session flow): the relay
 * restarts and everyone is secure again on their own, on both of the relay's media planes
 * (docs/decisions/0018-media-planes.md).
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  allSecure,
  framesFlow,
  type Harness,
  mediaPlaneProblem,
  PLANES,
  PlaneComparison,
  screens,
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

const compared = new PlaneComparison();

describe.each(PLANES)('relay restart (%s media plane)', (plane) => {
  it('everyone reconnects and is secure again after the relay restarts, with no one doing anything', async () => {
    const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-relay-'));
    try {
      h = await startHarness({ plane, relay: { stateDir } });
      const id = await h.meeting();
      const people = [
        h.participant(id, 'Host', { identity: h.host }),
        h.participant(id, 'A'),
        h.participant(id, 'B'),
      ];
      await Promise.all(people.map((p) => p.join()));
      await waitFor(() => allSecure(people), 'secure before restart');
      await h.restartRelay();
      await waitFor(
        () => people.every((p) => p.session.snapshot.status !== 'secure'),
        'noticed the relay loss',
        10_000,
      );
      expect(people.every((p) => p.session.snapshot.shield !== 'e2ee')).toBe(true);
      await waitFor(() => allSecure(people), 'secure after restart', 20_000);
      expect(people.every((p) => p.session.counters.reconnects >= 1)).toBe(true);
      await framesFlow(people, 5, 'frames both ways through the restarted relay');
      await waitFor(() => mediaPlaneProblem(h!, 3) === null, 'the media on the same plane');
      compared.record(plane, 'after a relay restart', screens(people));
    } finally {
      await fsp.rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});

it('every screen reads the same on both media planes', () => {
  expect(compared.size).toBe(1);
  expect(compared.differences()).toEqual([]);
});
