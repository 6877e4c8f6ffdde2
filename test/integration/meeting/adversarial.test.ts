/**
 * "The relay is the adversary" (docs/threat-model.md §What the relay cannot do): every misbehaviour
 * there, end to end over the real relay (its test hooks), real wrtc on loopback and the client
 * session. Each test starts the attack at a well-defined moment (after everyone is secure, a flag
 * flips or the relay injects a message), and checks that (1) it is caught — an alarm, a rejected
 * message, a decrypt-failure counter or a leave — and (2) the victims' shield never reads 'e2ee'
 * while the relay misbehaves: every `state` event of the victims' sessions and a 20 ms poll are
 * sampled in one global order (ShieldWatch), and no sample inside the attack window may read
 * 'e2ee'.
 *
 * The window of a victim opens when it cannot help but know: right after its client processed the
 * first hostile message (seen by the client's signaling tap, or the decrypt-failure counter for
 * media); for attacks noticed only by absence (dropped / forged heartbeats) when its shield first
 * leaves 'e2ee' (a heartbeat may be 6 s old: docs/protocol.md "Shield (fail-closed)"), and from
 * then on it must stay off 'e2ee'. The window closes when the attack stops; where the protocol
 * recovers, the test then waits for it.
 *
 * This file: MITM of bindings, replayed key deliveries, injected participants, dropped / forged /
 * replayed heartbeats, leader swap. Media attacks: adversarial-media.test.ts; downgrades, relay-made
 * keys and non-E2EE clients: adversarial-downgrade.test.ts. Helpers: adversary.ts, adversary-room.ts.
 * None of these attacks needs the relay to read media, so each runs on both of the relay's media
 * planes (docs/decisions/0018-media-planes.md) and every screen must read the same on both.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeEphemeralKeys, signBinding } from '../../../src/e2ee/binding.ts';
import { fromB64u, toB64u } from '../../../src/e2ee/bytes.ts';
import type { BindingBody, HeartbeatMessage } from '../../../src/e2ee/messages.ts';
import type { RosterEntry } from '../../../src/protocol/schemas.ts';
import type { OutgoingBody } from '../../../src/relay/index.ts';
import {
  allSecure,
  PLANES,
  PlaneComparison,
  screens,
  sleep,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';
import { e2eePayload, parseTapped, tappedE2ee, withPayload } from './adversary.ts';
import {
  closeRoom,
  expectNeverE2ee,
  joiner,
  LONG,
  openWhenShieldDrops,
  secureRoom,
} from './adversary-room.ts';

afterEach(closeRoom);
afterAll(stopSharedJanus);

const compared = new PlaneComparison();

const randomKey = () => toB64u(x25519.getPublicKey(x25519.utils.randomSecretKey()));

describe.each(PLANES)(
  'the relay is the adversary: keys, roster, heartbeats, leader (%s media plane)',
  (plane) => {
    it('a swapped ephemeral key in a binding (MITM): refused by the leader, never e2ee, recovers when it stops', async () => {
      const attack = { on: true };
      const r = await secureRoom(
        {
          outgoing(body) {
            const m = e2eePayload(body);
            if (!attack.on || m?.t !== 'e2ee.binding' || body.type !== 'e2ee') return body;
            const b = m.binding as BindingBody;
            if (b.displayName !== 'Victim') return body;
            return withPayload(body, { ...m, binding: { ...b, x25519: randomKey() } });
          },
        },
        ['Host', 'A'],
        plane,
      );
      r.onTap = (name, text) => {
        const m = parseTapped(text) as { type?: string; participants?: RosterEntry[] };
        if (m.type === 'roster' && m.participants?.some((e) => e.displayName === 'Victim'))
          r.watch.openAfterThisMessage(name);
      };
      const victim = joiner(r, 'Victim');
      r.watch.open('Victim');
      await victim.join();
      await waitFor(() => r.rejected('Host').includes('e2ee.bad_signature'), 'the leader refusing it', LONG);
      await waitFor(
        () => ['Host', 'A'].every((n) => r.p(n).session.snapshot.shield === 'partial'),
        'everyone else partial (the relay lists someone the leader has not verified)',
        LONG,
      );
      // The shield turns partial when the relay's list has differed for the grace period; the alarm
      // that names why is logged from the same change, possibly a moment later on a loaded machine.
      await waitFor(
        () => r.alarms('A').includes('e2ee.roster_mismatch'),
        'A alarming: roster mismatch',
        LONG,
      );
      expect(r.p('Host').session.counters.e2eeRejected).toBeGreaterThan(0);
      expect(victim.session.sendEpoch).toBe(0);
      expect(r.p('A').session.snapshot.participants.map((p) => p.name)).not.toContain('Victim');
      attack.on = false;
      r.watch.closeAll();
      expectNeverE2ee(r, ['Victim', 'Host', 'A']);
      // The joiner re-sends its binding; untouched now, it is verified and everyone is secure.
      await waitFor(() => allSecure([r.p('Host'), r.p('A'), victim]), 'secure after the attack', LONG);
      compared.record(plane, 'after a swapped ephemeral key', screens([r.p('Host'), r.p('A'), victim]));
    });

    it('a binding re-signed with the relay’s own identity and keys (MITM): the victim alarms, never e2ee', async () => {
      const attacker = { secretKey: ed25519.utils.randomSecretKey() };
      const publicKey = ed25519.getPublicKey(attacker.secretKey);
      const keys = makeEphemeralKeys();
      const r = await secureRoom(
        {
          outgoing(body) {
            const m = e2eePayload(body);
            if (m?.t !== 'e2ee.binding' || body.type !== 'e2ee') return body;
            const b = m.binding as BindingBody;
            if (b.displayName !== 'Victim') return body;
            const forged = signBinding({
              ...b,
              identityPublic: publicKey,
              identitySecret: attacker.secretKey,
              keys,
              nonce: fromB64u(b.nonce),
            });
            return withPayload(body, forged);
          },
        },
        ['Host', 'A'],
        plane,
      );
      const victim = joiner(r, 'Victim');
      r.watch.open('Victim');
      await victim.join();
      await waitFor(
        () => r.alarms('Victim').includes('e2ee.binding_mismatch'),
        'the victim noticing its keys were replaced',
        LONG,
      );
      await waitFor(() => victim.session.snapshot.shield === 'partial', 'victim partial', LONG);
      // The delivery wrapped for the relay's keys does not open for the victim.
      await waitFor(() => r.rejected('Victim').length > 0, 'the victim refusing the delivery', LONG);
      expect(victim.session.sendEpoch).toBe(0);
      expect(victim.session.snapshot.alarms.length).toBeGreaterThan(0);
      r.watch.closeAll();
      expectNeverE2ee(r, ['Victim']);
      compared.record(plane, 'a re-signed binding: the victim', screens([victim]));
    });

    it('a replayed old key delivery instead of the new one: refused, never e2ee, recovers when it stops', async () => {
      const attack = { on: false };
      const captured: OutgoingBody[] = [];
      let victimId = '';
      const r = await secureRoom(
        {
          outgoing(body, ctx) {
            if (e2eePayload(body)?.t !== 'e2ee.key' || ctx.participantId !== victimId) return body;
            if (!attack.on) {
              captured.push(body);
              return body;
            }
            return captured[0] ?? null;
          },
        },
        ['Host', 'Victim', 'Leaver'],
        plane,
      );
      victimId = r.pid('Victim');
      // One more rekey so that a delivery to the victim is on record.
      const extra = joiner(r, 'Extra');
      await extra.join();
      await waitFor(() => allSecure([...r.people.values()]) && captured.length > 0, 'four secure', LONG);
      const epochBefore = r.p('Victim').session.snapshot.epoch;
      r.onTap = (name, text) => {
        const m = tappedE2ee(text);
        if (name === 'Victim' && m?.t === 'e2ee.heartbeat' && (m.body?.epoch ?? 0) > epochBefore)
          r.watch.openAfterThisMessage(name);
      };
      const refusedBefore = r.p('Victim').session.counters.e2eeRejected;
      attack.on = true;
      await r.p('Leaver').leave();
      await waitFor(() => r.rejected('Victim').includes('e2ee.stale_epoch'), 'the replay refused', LONG);
      await waitFor(() => r.watch.isOpen('Victim'), 'the new epoch announced to the victim', LONG);
      // It asks again (binding re-sent); the relay replays again; refused again. The log says a
      // repeated refusal once a minute; the counter counts each one.
      await waitFor(
        () => r.p('Victim').session.counters.e2eeRejected >= refusedBefore + 2,
        'the second replay refused',
        LONG,
      );
      expect(r.p('Victim').session.snapshot.epoch).toBe(epochBefore);
      attack.on = false;
      r.watch.closeAll();
      expectNeverE2ee(r, ['Victim']);
      await waitFor(
        () =>
          allSecure([r.p('Host'), r.p('Victim'), extra]) &&
          r.p('Victim').session.snapshot.epoch > epochBefore,
        'secure under the new epoch after the attack',
        LONG,
      );
      compared.record(plane, 'after a replayed delivery', screens([r.p('Host'), r.p('Victim'), extra]));
    });

    it('an injected participant absent from the leader’s roster: everyone partial, never e2ee, recovers', async () => {
      const attack = { on: false };
      const mallory: RosterEntry = {
        participantId: '4242',
        displayName: 'Mallory',
        client: 'desktop',
        protocol: 1,
        deviceId: 'mallory-1',
        identityKey: null,
        host: false,
        e2eeCapable: true,
        joinedAt: Date.now(),
      };
      const r = await secureRoom(
        { roster: (roster) => (attack.on ? [...roster, mallory] : roster) },
        ['Host', 'A', 'B'],
        plane,
      );
      const names = ['Host', 'A', 'B'];
      r.onTap = (name, text) => {
        const m = parseTapped(text) as { type?: string; participants?: RosterEntry[] };
        if (m.type === 'roster' && m.participants?.some((e) => e.displayName === 'Mallory'))
          r.watch.openAfterThisMessage(name);
      };
      const live = r.h.relay.core.liveFor(r.id)!;
      attack.on = true;
      r.h.relay.core.broadcastRoster(live);
      await waitFor(
        () => names.every((n) => r.p(n).session.snapshot.shield === 'partial'),
        'everyone partial',
        LONG,
      );
      await waitFor(() => names.every((n) => r.alarms(n).includes('e2ee.roster_mismatch')), 'alarms', LONG);
      for (const n of names)
        expect(r.p(n).session.snapshot.participants.map((p) => p.name)).not.toContain('Mallory');
      compared.record(plane, 'an injected participant', screens(names.map((n) => r.p(n))));
      attack.on = false;
      r.watch.closeAll();
      expectNeverE2ee(r, names);
      r.h.relay.core.broadcastRoster(live);
      await waitFor(() => allSecure(names.map((n) => r.p(n))), 'secure once the relay tells the truth', LONG);
      compared.record(plane, 'after an injected participant', screens(names.map((n) => r.p(n))));
    });

    it('dropped heartbeats: the secure state ends within the timeout and comes back when they flow', async () => {
      const attack = { on: false };
      let delivered = 0;
      const r = await secureRoom(
        {
          outgoing(body) {
            if (e2eePayload(body)?.t !== 'e2ee.heartbeat') return body;
            return attack.on ? null : body;
          },
        },
        ['Host', 'A', 'B'],
        plane,
      );
      r.onTap = (name, text) => {
        if (r.watch.isOpen(name) && tappedE2ee(text)?.t === 'e2ee.heartbeat') delivered++;
      };
      attack.on = true;
      await openWhenShieldDrops(r, ['A', 'B']);
      await waitFor(
        () => ['A', 'B'].every((n) => r.alarms(n).includes('e2ee.heartbeat_missing')),
        'heartbeat alarms',
        LONG,
      );
      await sleep(1000);
      for (const n of ['A', 'B']) expect(r.p(n).session.snapshot.status).not.toBe('secure');
      attack.on = false;
      r.watch.closeAll();
      expect(delivered).toBe(0);
      expectNeverE2ee(r, ['A', 'B']);
      await waitFor(() => allSecure(['Host', 'A', 'B'].map((n) => r.p(n))), 'secure again', LONG);
      compared.record(plane, 'after dropped heartbeats', screens(['Host', 'A', 'B'].map((n) => r.p(n))));
    });

    it('forged and replayed heartbeats are refused; the secure state ends and comes back', async () => {
      const attack = { on: false };
      const relayKey = ed25519.utils.randomSecretKey();
      let before: HeartbeatMessage | undefined;
      let n = 0;
      const r = await secureRoom(
        {
          outgoing(body) {
            const hb = e2eePayload(body) as HeartbeatMessage | null;
            if (hb?.t !== 'e2ee.heartbeat' || body.type !== 'e2ee') return body;
            if (!attack.on) {
              before = hb;
              return body;
            }
            const variant = n++ % 3;
            const b = hb.body;
            if (variant === 0) {
              // The roster changed under the leader's signature.
              const roster = [
                ...b.roster,
                {
                  participantId: '4242',
                  slot: 99,
                  bindingHash: '',
                  displayName: 'M',
                  client: 'web',
                  e2ee: true,
                },
              ];
              return withPayload(body, { ...hb, body: { ...b, roster } });
            }
            if (variant === 1) {
              // Re-signed by the relay with its own key.
              const sig = ed25519.sign(new TextEncoder().encode(JSON.stringify(b)), relayKey);
              return withPayload(body, { ...hb, body: { ...b, counter: b.counter + 1 }, sig: toB64u(sig) });
            }
            // A heartbeat everyone already accepted before the attack, again.
            return withPayload(body, before);
          },
        },
        ['Host', 'A', 'B'],
        plane,
      );
      attack.on = true;
      await openWhenShieldDrops(r, ['A', 'B']);
      await waitFor(
        () => ['A', 'B'].every((v) => r.rejected(v).includes('e2ee.bad_signature')),
        'forgeries refused',
        LONG,
      );
      await waitFor(
        () => ['A', 'B'].every((v) => r.rejected(v).includes('e2ee.stale_epoch')),
        'replays refused',
        LONG,
      );
      await sleep(1000);
      for (const v of ['A', 'B']) expect(r.p(v).session.snapshot.status).not.toBe('secure');
      attack.on = false;
      r.watch.closeAll();
      expectNeverE2ee(r, ['A', 'B']);
      await waitFor(() => allSecure(['Host', 'A', 'B'].map((x) => r.p(x))), 'secure again', LONG);
      compared.record(plane, 'after forged heartbeats', screens(['Host', 'A', 'B'].map((x) => r.p(x))));
    });

    it('a leader swap to someone not in the verified roster is refused by everyone; recovers', async () => {
      const attack = { on: true };
      const r = await secureRoom(
        {
          leader(choice, roster) {
            const swapped = roster.find((e) => e.displayName === 'Swapped');
            return attack.on && swapped !== undefined
              ? { participantId: swapped.participantId, reason: 'longest_present' }
              : choice;
          },
        },
        ['Host', 'A', 'B'],
        plane,
      );
      const names = ['Host', 'A', 'B'];
      const code = r.p('A').session.snapshot.securityCode;
      const hostId = r.pid('Host');
      r.onTap = (name, text) => {
        const m = parseTapped(text) as { type?: string; participantId?: string | null };
        if (m.type === 'leader' && m.participantId !== hostId) r.watch.openAfterThisMessage(name);
      };
      const swapped = joiner(r, 'Swapped');
      r.watch.open('Swapped');
      await swapped.join();
      await waitFor(
        () => names.every((n) => r.alarms(n).includes('e2ee.leader_rejected')),
        'everyone refusing the new leader',
        LONG,
      );
      await waitFor(() => names.every((n) => r.p(n).session.snapshot.shield === 'partial'), 'partial', LONG);
      await sleep(500);
      attack.on = false;
      r.watch.closeAll();
      expectNeverE2ee(r, [...names, 'Swapped']);
      // The swapped-in participant leaves; the relay names the host again; all secure, same code.
      await swapped.leave();
      await waitFor(() => allSecure(names.map((n) => r.p(n))), 'secure with the real leader', LONG);
      expect(r.p('A').session.snapshot.securityCode).toBe(code);
      compared.record(plane, 'after a leader swap', screens(names.map((n) => r.p(n))));
    });
  },
);

it('every screen reads the same on both media planes', () => {
  expect(compared.size).toBe(8);
  expect(compared.differences()).toEqual([]);
});
