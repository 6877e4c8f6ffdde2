/**
 * E2EE meetings of 2, 3 and 8 participants on both of the relay's media planes
 * (docs/decisions/0018-media-planes.md): everyone reaches shield e2ee with one security code and
 * decrypts everyone else, and every screen reads the same whichever plane carries the media.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  allSecure,
  expectMediaOn,
  framesFlow,
  type Harness,
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

describe.each(PLANES)('E2EE meetings (%s media plane)', (plane) => {
  for (const n of [2, 3, 8]) {
    it(`${n} participants reach the same security code and shield e2ee, and decrypt each other`, async () => {
      h = await startHarness({ plane });
      const id = await h.meeting();
      const people = [h.participant(id, 'Host', { identity: h.host, client: 'room' })];
      for (let i = 1; i < n; i++)
        people.push(h.participant(id, `P${i}`, { client: i % 2 === 0 ? 'mobile' : 'desktop' }));
      await Promise.all(people.map((p) => p.join()));
      await waitFor(() => allSecure(people), `${n} participants secure`, 30_000);
      const code = people[0]!.session.snapshot.securityCode!;
      expect(code).toMatch(/^\d{5}( \d{5}){7}$/);
      // Every participant decrypts fresh frames from every other one, and nothing decrypts wrong.
      await framesFlow(people);
      expect(people.reduce((s, p) => s + p.badTotal(), 0)).toBe(0);
      expectMediaOn(h, n);
      // Nothing in the way here: every uplink goes straight to the relay or Janus, over UDP.
      if (n === 2) for (const p of people) expect(await p.session.relay.mediaPath()).toBe('direct-udp');
      const roster = people[1]!.session.snapshot.participants;
      expect(roster.map((r) => r.name).sort()).toEqual(people.map((p) => p.name).sort());
      // Everyone holds the meeting key; nobody is certified (no organization in this meeting).
      expect(roster.every((r) => r.keyed)).toBe(true);
      expect(roster.every((r) => !r.verified && r.identity.status === 'unverified')).toBe(true);
      compared.record(plane, `${n} participants secure`, screens(people));
    });
  }
});

it('every screen reads the same on both media planes', () => {
  expect(compared.size).toBe(3);
  expect(compared.differences()).toEqual([]);
});
