import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('E2EE meetings', () => {
  for (const n of [2, 3, 8]) {
    it(`${n} participants reach the same security code and shield e2ee, and decrypt each other`, async () => {
      h = await startHarness();
      const id = await h.meeting();
      const people = [h.participant(id, 'Host', { identity: h.host, client: 'room' })];
      for (let i = 1; i < n; i++)
        people.push(h.participant(id, `P${i}`, { client: i % 2 === 0 ? 'mobile' : 'desktop' }));
      await Promise.all(people.map((p) => p.join()));
      await waitFor(() => allSecure(people), `${n} participants secure`, 30_000);
      const code = people[0]!.session.snapshot.securityCode!;
      expect(code).toMatch(/^\d{5}( \d{5}){7}$/);
      // Every participant decrypts fresh frames from every other one, and nothing decrypts wrong.
      const ids = people.map((p) => p.session.participantId!);
      const before = people.map((p) => ids.map((other) => p.okFrom(other)));
      await waitFor(
        () =>
          people.every((p, i) => ids.every((other, j) => i === j || p.okFrom(other) > before[i]![j]! + 2)),
        'frames flowing between everyone',
        20_000,
      );
      expect(people.reduce((s, p) => s + p.badTotal(), 0)).toBe(0);
      const roster = people[1]!.session.snapshot.participants;
      expect(roster.map((r) => r.name).sort()).toEqual(people.map((p) => p.name).sort());
      // Everyone holds the meeting key; nobody is certified (no organization in this meeting).
      expect(roster.every((r) => r.keyed)).toBe(true);
      expect(roster.every((r) => !r.verified && r.identity.status === 'unverified')).toBe(true);
    });
  }
});
