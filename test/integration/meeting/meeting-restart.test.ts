/**
 * Meetings end to end over real wrtc on loopback (docs/protocol.md §Session flow): the relay
 * restarts and everyone is secure again on their own.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('relay restart', () => {
  it('everyone reconnects and is secure again after the relay restarts, with no one doing anything', async () => {
    const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-relay-'));
    try {
      h = await startHarness({ relay: { stateDir } });
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
    } finally {
      await fsp.rm(stateDir, { recursive: true, force: true });
    }
  }, 60_000);
});
