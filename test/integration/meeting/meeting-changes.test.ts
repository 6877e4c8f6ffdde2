import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, type Harness, sleep, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('E2EE meetings as people come and go', () => {
  it('a leaver cannot decrypt what is sent after the rekey', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { identity: h.host });
    const stay = h.participant(id, 'Stays');
    const leaver = h.participant(id, 'Leaves');
    await Promise.all([host.join(), stay.join(), leaver.join()]);
    await waitFor(() => allSecure([host, stay, leaver]), 'three secure');
    const epochBefore = host.session.sendEpoch;
    // Keep the leaver's keys: a malicious ex-participant that stays connected to the relay's media.
    const leaverSession = leaver.session;
    let afterLeaveOk = 0;
    let leftAt = Number.POSITIVE_INFINITY;
    leaver.media.onFrame((f) => {
      if (f.epoch > epochBefore && Date.now() > leftAt) afterLeaveOk++;
    });
    leftAt = Date.now();
    await leaver.leave();
    await waitFor(
      () => host.session.sendEpoch > epochBefore && stay.session.sendEpoch > epochBefore,
      'rekey after leave',
    );
    await waitFor(() => allSecure([host, stay]), 'two secure after leave');
    expect(afterLeaveOk).toBe(0);
    expect(leaverSession.snapshot.status).toBe('left');
  });

  it('the host leaving makes a new leader, a new epoch and a new code, and says so', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { identity: h.host });
    const a = h.participant(id, 'A');
    const b = h.participant(id, 'B');
    await host.join();
    await sleep(50);
    await a.join();
    await sleep(50);
    await b.join();
    await waitFor(() => allSecure([host, a, b]), 'three secure');
    const oldCode = a.session.snapshot.securityCode;
    const oldEpoch = a.session.snapshot.epoch;
    expect(a.session.snapshot.leader).toBe(host.session.participantId);
    await host.leave();
    await waitFor(
      () => allSecure([a, b]) && a.session.snapshot.securityCode !== oldCode,
      'new leader secure',
    );
    expect(a.session.snapshot.leader).toBe(a.session.participantId); // longest present
    expect(a.session.snapshot.epoch).toBeGreaterThan(oldEpoch);
    expect(b.session.snapshot.securityCodeChanged).toBe(true);
    expect(b.session.snapshot.securityCode).toBe(a.session.snapshot.securityCode);
  });

  it('a host who drops and rejoins gets back in securely, and the leader (and code) stay put', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { identity: h.host });
    const a = h.participant(id, 'A');
    const b = h.participant(id, 'B');
    await host.join();
    await a.join();
    await b.join();
    await waitFor(() => allSecure([host, a, b]), 'three secure');
    await host.leave();
    await waitFor(() => allSecure([a, b]), 'secure without the host');
    const code = a.session.snapshot.securityCode;
    const back = h.participant(id, 'Host again', { identity: h.host });
    await back.join();
    await waitFor(() => allSecure([back, a, b]), 'secure with the host back');
    expect(back.session.snapshot.leader).toBe(a.session.participantId);
    expect(back.session.snapshot.securityCode).toBe(code);
  });

  it('an enhanced meeting shows enhanced and no security code', async () => {
    h = await startHarness();
    const id = await h.meeting({ encryption: 'enhanced' });
    const people = [h.participant(id, 'Host', { identity: h.host }), h.participant(id, 'Guest')];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(
      () =>
        people.every(
          (p) => p.session.snapshot.shield === 'enhanced' && p.session.snapshot.status === 'secure',
        ),
      'enhanced shield',
    );
    await waitFor(
      () => people[0]!.okFrom(people[1]!.session.participantId!) > 3,
      'frames in enhanced meeting',
    );
    for (const p of people) {
      expect(p.session.snapshot.securityCode).toBeNull();
      expect(p.session.snapshot.encryption).toBe('enhanced');
    }
  });
});
