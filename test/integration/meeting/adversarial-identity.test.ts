/**
 * Identity certificates end to end (docs/protocol.md "Identity certificates", "Roster code";
 * docs/decisions/0012-what-people-compare.md): real relay with its test hooks, real wrtc on loopback,
 * the client session. Everyone is certified by one organization they all trust. The relay swaps a
 * joiner's binding from its very first message — the one attack binding pinning cannot see — and the
 * test checks what every honest screen shows: the joiner "Not verified", no green padlock anywhere
 * while the impostor holds the key, the victim alarmed, and the victim's roster code differing from
 * everyone else's. The attack needs no media, so it runs on both of the relay's media planes
 * (docs/decisions/0018-media-planes.md) and every screen must read the same on both.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { toB64u } from '../../../src/e2ee/bytes.ts';
import { issueCertificate, type TrustOptions } from '../../../src/e2ee/index.ts';
import type { BindingMessage } from '../../../src/e2ee/messages.ts';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import { impostorOf } from '../../helpers/impostor.ts';
import {
  type Harness,
  PLANES,
  PlaneComparison,
  screens,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';
import { e2eePayload, withPayload } from './adversary.ts';

const LONG = 30_000;
const orgSecret = ed25519.utils.randomSecretKey();
const anchor = { org: 'Acme Corp', publicKey: toB64u(ed25519.getPublicKey(orgSecret)) };

function certified(
  name: string,
  identity = ephemeralIdentity(),
): { identity: typeof identity; trust: TrustOptions } {
  const now = Date.now();
  return {
    identity,
    trust: {
      anchors: [anchor],
      certificate: issueCertificate(
        {
          org: anchor.org,
          name,
          kind: 'person',
          key: identity.publicKey,
          notBefore: now - 60_000,
          notAfter: now + 3_600_000,
        },
        orgSecret,
      ),
      unverified: 'warn',
    },
  };
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(stopSharedJanus);

const compared = new PlaneComparison();

describe.each(PLANES)('certified identities over the real relay (%s media plane)', (plane) => {
  it('a joiner’s binding swapped from its first message: honest screens show it unverified and never the padlock; the victim alarms; roster codes differ', async () => {
    const impostors = new Map<string, BindingMessage>();
    h = await startHarness({
      plane,
      hooks: {
        outgoing(body) {
          const m = e2eePayload(body);
          if (m?.t !== 'e2ee.binding' || body.type !== 'e2ee') return body;
          const b = (m as unknown as BindingMessage).binding;
          if (b.displayName !== 'Victim') return body;
          // One impostor per victim id, always the same (so the pins see nothing).
          let fake = impostors.get(b.participantId);
          if (fake === undefined) {
            fake = impostorOf(m as unknown as BindingMessage, { keepCert: true, nonceFill: 5 });
            impostors.set(b.participantId, fake);
          }
          return withPayload(body, fake);
        },
      },
    });
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { client: 'room', ...certified('Boardroom', h.host) });
    const a = h.participant(id, 'A', certified('Alice Smith'));
    await host.join();
    await a.join();
    await waitFor(
      () => [host, a].every((p) => p.session.snapshot.shield === 'e2ee'),
      'host and A secure, certified',
      LONG,
    );
    const honest: HeadlessParticipant[] = [host, a];
    for (const p of honest)
      expect(p.session.snapshot.participants.every((x) => x.identity.status === 'verified')).toBe(true);

    const victim = h.participant(id, 'Victim', certified('Victor Jones'));
    await victim.join();
    const victimOn = (p: HeadlessParticipant) =>
      p.session.snapshot.participants.find((x) => x.name === 'Victim');
    await waitFor(
      () => honest.every((p) => victimOn(p)?.keyed === true),
      'the impostor listed and keyed on honest screens',
      LONG,
    );
    // From here on the impostor holds the meeting key: sample every screen for a while.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      for (const p of [...honest, victim]) expect(p.session.snapshot.shield).not.toBe('e2ee');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const p of honest) {
      expect(victimOn(p)?.identity).toMatchObject({
        status: 'unverified',
        reason: 'certificate is for another key',
      });
      expect(victimOn(p)?.verified).toBe(false);
      expect(p.session.snapshot.shield).toBe('partial');
    }
    await waitFor(() => victim.session.snapshot.alarms.length > 0, 'the victim alarms', LONG);
    const codes = honest.map((p) => p.session.snapshot.rosterCode);
    expect(codes[0]).toMatch(/^\d{5}( \d{5}){3}$/);
    expect(codes[1]).toBe(codes[0]);
    await waitFor(() => victim.session.snapshot.rosterCode !== null, 'the victim has a roster code', LONG);
    expect(victim.session.snapshot.rosterCode).not.toBe(codes[0]);
    compared.record(plane, 'an impostor from the first binding', screens([...honest, victim]));
  });
});

it('every screen reads the same on both media planes', () => {
  expect(compared.size).toBe(1);
  expect(compared.differences()).toEqual([]);
});
