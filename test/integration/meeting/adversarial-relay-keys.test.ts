/**
 * The relay is the adversary (docs/threat-model.md), end to end over the real relay and real wrtc:
 * attacks on bindings, key deliveries and leader changes (docs/protocol.md "Binding pinning",
 * "Messages", "Protocol"), each checked on every honest participant's screen — shield (the
 * session's status), alarms, security code, roster code. Each attack starts at a well-defined moment
 * after everyone is secure; waits are on conditions (heartbeats received, messages refused), never
 * fixed sleeps. None of these attacks needs the relay to read media, so each runs on both of the
 * relay's media planes (docs/decisions/0018-media-planes.md) and every screen must read the same on
 * both. Helpers: relay-room.ts, adversary.ts, adversary-room.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { fromB64u, toB64u } from '../../../src/e2ee/bytes.ts';
import type { BindingMessage, KeyMessage } from '../../../src/e2ee/index.ts';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import type { MeetingSnapshot } from '../../../src/meeting/status.ts';
import type { OutgoingBody } from '../../../src/relay/index.ts';
import { impostorOf } from '../../helpers/impostor.ts';
import {
  allSecure,
  PLANES,
  PlaneComparison,
  screens,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';
import { e2eePayload, tappedE2ee, withPayload } from './adversary.ts';
import { expectNeverE2ee, LONG, openWhenShieldDrops, PARAMS } from './adversary-room.ts';
import { closeRelayRoom, moreHeartbeats, relayRoom } from './relay-room.ts';

afterEach(closeRelayRoom);
afterAll(stopSharedJanus);

const compared = new PlaneComparison();

type E2eeBody = OutgoingBody & { type: 'e2ee' };
const isE2ee = (b: OutgoingBody): b is E2eeBody => b.type === 'e2ee';
const snap = (p: HeadlessParticipant): MeetingSnapshot => p.session.snapshot;
/** The E2EE alarms among logged warning codes (a relay error about a participant who just left is none). */
const e2eeAlarms = (codes: string[]) => codes.filter((c) => c.startsWith('e2ee.'));

describe.each(PLANES)(
  'the relay is the adversary over real wrtc: bindings, deliveries, leader changes (%s media plane)',
  (plane) => {
    it('a present member’s binding substituted, then its real one replayed: nobody keys the id, every screen alarms, none green', async () => {
      const bindings = new Map<string, E2eeBody>();
      const inject: { to: string; bodies: OutgoingBody[] } = { to: '', bodies: [] };
      const deliveriesToVictim: KeyMessage[] = [];
      let victimId = '';
      let attacked = false;
      const r = await relayRoom(
        {
          outgoing(body, ctx) {
            const m = e2eePayload(body);
            if (isE2ee(body) && m?.t === 'e2ee.binding') bindings.set(body.from, body);
            if (attacked && m?.t === 'e2ee.key' && (m as unknown as KeyMessage).recipientId === victimId)
              deliveriesToVictim.push(m as unknown as KeyMessage);
            if (body.type === 'roster' && ctx.participantId === inject.to && inject.bodies.length > 0)
              return [body, ...inject.bodies.splice(0)];
            return body;
          },
        },
        ['Host', 'A', 'Victim', 'B'],
        undefined,
        plane,
      );
      const names = ['Host', 'A', 'Victim', 'B'];
      victimId = r.pid('Victim');
      const hostId = r.pid('Host');
      const real = bindings.get(victimId);
      if (real === undefined) throw new Error('the victim’s binding was not seen');
      const impostor = impostorOf(JSON.parse(real.payload) as BindingMessage);
      const epochBefore = r.p('A').session.sendEpoch;
      const codeBefore = snap(r.p('A')).securityCode;
      // The leader's window opens once its client processed the impostor binding.
      r.onTap = (name, text) => {
        const m = tappedE2ee(text) as { t?: string; sig?: string } | null;
        if (name === 'Host' && m?.t === 'e2ee.binding' && m.sig === impostor.sig)
          r.watch.openAfterThisMessage('Host');
      };
      const live = r.h.relay.core.liveFor(r.id)!;
      // 1. The relay hands the leader its own keys in the victim's name, as if the victim sent them.
      attacked = true;
      inject.to = hostId;
      inject.bodies = [withPayload(real, impostor)];
      r.h.relay.core.broadcastRoster(live);
      await waitFor(() => r.watch.isOpen('Host'), 'the leader processed the impostor binding', LONG);
      await openWhenShieldDrops(r, names);
      // 2. Then replays the victim's real binding, hoping to restore it before anyone notices.
      inject.bodies = [real];
      r.h.relay.core.broadcastRoster(live);
      await waitFor(
        () => r.rejected('Host').includes('e2ee.binding_conflict'),
        'the leader refusing the replayed binding for a pinned id',
        LONG,
      );
      await waitFor(
        () => names.every((n) => r.alarms(n).includes('e2ee.binding_conflict')),
        'every participant (the victim too) alarming: binding conflict',
        LONG,
      );
      // Hold the attack state for a few heartbeats everywhere before looking.
      await moreHeartbeats(r, names, 4);
      for (const n of names) {
        expect(snap(r.p(n)).shield, n).toBe('partial');
        expect(snap(r.p(n)).alarms.length, n).toBeGreaterThan(0);
      }
      // Neither the impostor nor the replayed binding was keyed: no delivery for the id since.
      expect(deliveriesToVictim).toEqual([]);
      for (const n of ['Host', 'A', 'B']) {
        const entry = snap(r.p(n)).participants.find((p) => p.id === victimId);
        expect(entry?.keyed, `the victim keyed on ${n}'s screen`).toBe(false);
        expect(r.p(n).session.sendEpoch, `${n} rekeyed without the victim`).toBeGreaterThan(epochBefore);
      }
      expect(r.p('Victim').session.sendEpoch).toBe(epochBefore);
      // The leader did not change, so neither did the code people read aloud.
      expect(snap(r.p('A')).securityCode).toBe(codeBefore);
      compared.record(plane, 'a binding substituted, then replayed', screens(names.map((n) => r.p(n))));
      r.watch.closeAll();
      expectNeverE2ee(r, names);
    }, 60_000);

    it('a leader change after five periodic rekeys: the new leader keys everyone, all e2ee with one new code', async () => {
      const params = { ...PARAMS, rekeyIntervalMs: 1200 };
      const r = await relayRoom({}, ['Host', 'A', 'B', 'C'], () => ({ e2eeParams: params }), plane);
      const rest = ['A', 'B', 'C'];
      const start = r.p('A').session.sendEpoch;
      await waitFor(
        () => allSecure([...r.people.values()]) && r.p('A').session.sendEpoch >= start + 5,
        'five periodic rekeys, everyone secure',
        LONG,
      );
      const before = snap(r.p('A'));
      const epochBefore = r.p('A').session.sendEpoch;
      const hostId = r.pid('Host');
      const t0 = Date.now();
      await r.p('Host').leave();
      await waitFor(
        () =>
          allSecure(rest.map((n) => r.p(n))) &&
          rest.every((n) => {
            const s = snap(r.p(n));
            return s.leader !== null && s.leader !== hostId && s.securityCode !== before.securityCode;
          }),
        'everyone remaining secure under the new leader',
        LONG,
      );
      // Nobody waits for a heartbeat timeout or a retry: the new leader keys everyone at once (a few
      // hundred ms here; the bound leaves room for a loaded machine).
      expect(Date.now() - t0).toBeLessThan(5000);
      const after = rest.map((n) => snap(r.p(n)));
      expect(new Set(after.map((s) => s.securityCode)).size).toBe(1);
      expect(new Set(after.map((s) => s.leader)).size).toBe(1);
      expect(new Set(after.map((s) => s.rosterCode)).size).toBe(1);
      expect(after[0]?.securityCode).not.toBe(before.securityCode);
      expect(after[0]?.rosterCode).not.toBe(before.rosterCode);
      for (const n of rest) {
        expect(r.p(n).session.sendEpoch, n).toBeGreaterThan(epochBefore);
        expect(e2eeAlarms(r.alarms(n)), n).toEqual([]);
      }
      // Media still opens both ways under the new leader's keys.
      const ids = rest.map((n) => r.pid(n));
      const base = rest.map((n, i) => r.p(n).okFrom(ids[(i + 1) % 3]!));
      await waitFor(
        () => rest.every((n, i) => r.p(n).okFrom(ids[(i + 1) % 3]!) > (base[i] ?? 0) + 5),
        'frames opening under the new keys',
        LONG,
      );
      compared.record(plane, 'a leader change after periodic rekeys', screens(rest.map((n) => r.p(n))));
    }, 60_000);

    it('a forged key delivery (made-up KEM ciphertext and box) is refused; the next real delivery still opens', async () => {
      const toVictim: { body: E2eeBody; key: KeyMessage }[] = [];
      const forged: { body: OutgoingBody | null } = { body: null };
      let victimId = '';
      const r = await relayRoom(
        {
          outgoing(body, ctx) {
            if (ctx.participantId !== victimId || victimId === '') return body;
            const m = e2eePayload(body);
            if (isE2ee(body) && m?.t === 'e2ee.key') toVictim.push({ body, key: m as unknown as KeyMessage });
            if (forged.body !== null) {
              const f = forged.body;
              forged.body = null;
              return [body, f];
            }
            return body;
          },
        },
        ['Host', 'Victim', 'B'],
        undefined,
        plane,
      );
      victimId = r.pid('Victim');
      // One more rekey, so that a delivery to the victim (bound to a nonce it still holds) is on record.
      await r.add('C').join();
      await waitFor(() => allSecure([...r.people.values()]) && toVictim.length > 0, 'four secure', LONG);
      const victim = r.p('Victim');
      const epoch = victim.session.sendEpoch;
      const last = toVictim.at(-1)!;
      const len = (b64: string | undefined) => (b64 === undefined ? 0 : fromB64u(b64).length);
      const fake: KeyMessage = {
        ...last.key,
        epoch: epoch + 1,
        switch: 'immediate',
        kem: toB64u(randomBytes(1088)),
        iv: toB64u(randomBytes(len(last.key.iv))),
        box: toB64u(randomBytes(len(last.key.box))),
      };
      const seen = toVictim.length;
      forged.body = withPayload(last.body, fake);
      await waitFor(
        () => r.rejected('Victim').includes('e2ee.decrypt_failed'),
        'the victim refusing the forged delivery',
        LONG,
      );
      await moreHeartbeats(r, ['Victim'], 3);
      expect(victim.session.sendEpoch).toBe(epoch);
      expect(snap(victim).shield).toBe('e2ee');
      // The next real rekey: the leader wraps for the pair secret the victim holds (no new KEM
      // ciphertext, it acknowledged before); a forgery that had replaced it would lock the victim out.
      await r.p('C').leave();
      const three = ['Host', 'Victim', 'B'].map((n) => r.p(n));
      await waitFor(
        () => allSecure(three) && victim.session.sendEpoch > epoch,
        'the victim keyed again by the next real delivery',
        LONG,
      );
      const later = toVictim.slice(seen).filter((d) => d.key.epoch > epoch);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((d) => d.key.kem === undefined)).toBe(true);
      expect(e2eeAlarms(r.alarms('Victim'))).toEqual([]);
      expect(snap(victim).alarms).toEqual([]);
      compared.record(plane, 'a forged key delivery', screens(three));
    }, 60_000);

    it('a participant’s binding in another participant’s id (through an honest relay): refused; the victim is neither evicted nor alarmed', async () => {
      const bindings = new Map<string, E2eeBody>();
      const r = await relayRoom(
        {
          outgoing(body) {
            if (isE2ee(body) && e2eePayload(body)?.t === 'e2ee.binding') bindings.set(body.from, body);
            return body;
          },
        },
        ['Host', 'Victim', 'Mallory', 'B'],
        undefined,
        plane,
      );
      const names = ['Host', 'Victim', 'Mallory', 'B'];
      const victimId = r.pid('Victim');
      const real = bindings.get(victimId);
      if (real === undefined) throw new Error('the victim’s binding was not seen');
      const codes = { security: snap(r.p('B')).securityCode, roster: snap(r.p('B')).rosterCode };
      // Mallory signs a binding claiming the victim's id with keys of its own; the relay attests that
      // Mallory sent it.
      const forged = impostorOf(JSON.parse(real.payload) as BindingMessage);
      for (const n of names) r.watch.open(n);
      expect(r.p('Mallory').session.relay.sendE2ee(r.pid('Host'), JSON.stringify(forged))).toBe(true);
      await waitFor(
        () => r.rejected('Host').includes('e2ee.unexpected'),
        'the leader refusing a binding whose id is not its sender',
        LONG,
      );
      await moreHeartbeats(r, names, 4);
      r.watch.closeAll();
      for (const n of names) {
        const notE2ee = r.watch.window(n).filter((s) => s.shield !== 'e2ee');
        expect(notE2ee, `${n} left e2ee`).toEqual([]);
        expect(e2eeAlarms(r.alarms(n)), n).toEqual([]);
        expect(snap(r.p(n)).alarms, n).toEqual([]);
        expect(snap(r.p(n)).securityCode).toBe(codes.security);
        expect(snap(r.p(n)).rosterCode).toBe(codes.roster);
        expect(snap(r.p(n)).participants.find((p) => p.id === victimId)?.keyed, n).toBe(true);
      }
      compared.record(plane, 'a binding in another’s id', screens(names.map((n) => r.p(n))));
      // Still a member: the next rekey keys the victim too.
      const epoch = r.p('Victim').session.sendEpoch;
      await r.add('Late').join();
      await waitFor(
        () => allSecure([...r.people.values()]) && r.p('Victim').session.sendEpoch > epoch,
        'the victim keyed by the next rekey',
        LONG,
      );
    }, 60_000);
  },
);

it('every screen reads the same on both media planes', () => {
  expect(compared.size).toBe(4);
  expect(compared.differences()).toEqual([]);
});
