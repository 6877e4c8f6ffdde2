import { afterEach, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import type { RosterEntry } from '../../../src/protocol/schemas.ts';
import { allSecure, sleep, waitFor } from '../../helpers/meeting-harness.ts';
import { bareClient, parseTapped, ShieldWatch } from './adversary.ts';
import { closeRoom, expectNeverE2ee, LONG, secureRoom } from './adversary-room.ts';

afterEach(closeRoom);

describe('the relay is the adversary: downgrades and non-E2EE clients', () => {
  it('a downgrade to enhanced mid-meeting: the room leaves and says why', async () => {
    const r = await secureRoom({}, ['Host', 'Victim']);
    r.onTap = (name, text) => {
      const m = parseTapped(text);
      if (m.type === 'meeting-info' && m.encryption === 'enhanced') r.watch.openAfterThisMessage(name);
    };
    const live = r.h.relay.core.liveFor(r.id)!;
    const info = r.h.relay.core.meetingInfo(live, undefined);
    expect(r.h.relay.inject(r.pid('Victim'), { ...info, encryption: 'enhanced', disabledFeatures: [] })).toBe(
      true,
    );
    const victim = r.p('Victim').session;
    await waitFor(() => victim.snapshot.status === 'failed', 'the room leaving', LONG);
    expect(victim.snapshot.error?.code).toBe('e2ee.downgrade');
    expect(victim.snapshot.error?.message).toMatch(/end-to-end encryption/);
    expect(victim.snapshot.shield).toBe('none');
    await waitFor(() => live.participants.size === 1, 'the relay seeing it go', LONG);
    await sleep(300);
    r.watch.closeAll();
    expectNeverE2ee(r, ['Victim']);
  });

  it('a downgrade to enhanced at a reconnect: the room leaves and says why', async () => {
    const attack = { on: false };
    const r = await secureRoom(
      {
        meetingInfo: (info) => (attack.on ? { ...info, encryption: 'enhanced', disabledFeatures: [] } : info),
      },
      ['Host', 'Victim'],
    );
    r.onTap = (name, text) => {
      const m = parseTapped(text);
      if (m.type === 'meeting-info' && m.encryption === 'enhanced') r.watch.openAfterThisMessage(name);
    };
    const victimId = r.pid('Victim');
    attack.on = true;
    for (const c of r.h.relay.core.connections) {
      if (c.participant?.id === victimId) c.terminate(1011, 'relay restarting');
    }
    const victim = r.p('Victim').session;
    await waitFor(() => victim.snapshot.status === 'failed', 'the room leaving', LONG);
    expect(victim.counters.reconnects).toBeGreaterThanOrEqual(1);
    expect(victim.snapshot.error?.code).toBe('e2ee.downgrade');
    expect(victim.snapshot.error?.message).toMatch(/end-to-end encryption/);
    await sleep(300);
    r.watch.closeAll();
    expectNeverE2ee(r, ['Victim']);
  });

  it('a meeting key made by the relay mid-meeting: refused as a downgrade, the room leaves', async () => {
    const r = await secureRoom({}, ['Host', 'Victim']);
    r.onTap = (name, text) => {
      if (parseTapped(text).type === 'meeting-key') r.watch.openAfterThisMessage(name);
    };
    const key = new Uint8Array(32).fill(7);
    expect(r.h.relay.inject(r.pid('Victim'), { type: 'meeting-key', keyId: 9, key: toBase64Url(key) })).toBe(
      true,
    );
    const victim = r.p('Victim').session;
    await waitFor(() => victim.snapshot.status === 'failed', 'the room leaving', LONG);
    expect(victim.snapshot.error?.code).toBe('e2ee.downgrade');
    expect(victim.snapshot.error?.message).toMatch(/own meeting key/);
    expect(victim.sendEpoch).toBe(0);
    await sleep(300);
    r.watch.closeAll();
    expectNeverE2ee(r, ['Victim']);
  });

  it('a relay that makes its own key for an E2EE meeting from the start: nobody ever reads e2ee', async () => {
    const r = await secureRoom({ serverKeyInE2ee: () => true }, []);
    const host = r.add('Host', true);
    const guest = r.add('Guest');
    r.watch.open('Host');
    r.watch.open('Guest');
    // Each is told to leave as soon as the relay's key arrives (join may settle either way first).
    await Promise.all([host.join().catch(() => {}), guest.join().catch(() => {})]);
    await waitFor(
      () => [host, guest].every((p) => p.session.snapshot.status === 'failed'),
      'both leaving',
      LONG,
    );
    for (const p of [host, guest]) {
      expect(p.session.snapshot.error?.code).toBe('e2ee.downgrade');
      expect(p.session.snapshot.error?.message).toMatch(/own meeting key/);
      expect(p.sent.video + p.sent.audio).toBe(0);
      expect(p.session.sendEpoch).toBe(0);
    }
    await sleep(300);
    r.watch.closeAll();
    expectNeverE2ee(r, ['Host', 'Guest']);
  });

  it('phone, SIP, web and old-protocol clients admitted against the rules: partial for everyone, never e2ee', async () => {
    let overridden = 0;
    const r = await secureRoom(
      {
        admission(decision) {
          if (
            decision.kind === 'refused' &&
            (decision.reason === 'client_not_allowed' || decision.reason === 'protocol_too_old')
          ) {
            overridden++;
            return { kind: 'admitted', host: false };
          }
          return decision;
        },
      },
      ['Host', 'A'],
    );
    const names = ['Host', 'A'];
    const cases = [
      { client: 'phone', protocol: 0 },
      { client: 'sip', protocol: 0 },
      { client: 'web', protocol: 0 },
      { client: 'desktop', protocol: 0 },
    ] as const;
    for (const [i, c] of cases.entries()) {
      const label = `Caller ${c.client}/${c.protocol}`;
      r.watch.stop();
      r.watch = new ShieldWatch(names.map((n) => r.p(n)));
      r.onTap = (name, text) => {
        const m = parseTapped(text) as { type?: string; participants?: RosterEntry[] };
        if (m.type === 'roster' && m.participants?.some((e) => e.displayName === label))
          r.watch.openAfterThisMessage(name);
      };
      const bare = await bareClient(r.h, r.id, label, c.client, c.protocol);
      expect(overridden).toBe(i + 1);
      await waitFor(
        () =>
          names.every(
            (n) =>
              r.p(n).session.snapshot.shield === 'partial' &&
              r.p(n).session.snapshot.participants.some((p) => p.name === label && !p.verified),
          ),
        `partial with ${label} listed unverified`,
        LONG,
      );
      await sleep(300);
      r.watch.closeAll();
      await bare.leave();
      expectNeverE2ee(r, names);
      await waitFor(() => allSecure(names.map((n) => r.p(n))), `secure after ${label} left`, LONG);
    }
  });
});
