/**
 * E2EE meetings as people leave, drop and come back, on both of the relay's media planes
 * (docs/decisions/0018-media-planes.md; docs/protocol.md §Session flow): a leave rekeys and the
 * leaver decrypts nothing after it, a leader change gives a new code, a dropped participant comes
 * back with a new id. Every screen reads the same whichever plane carries the media.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  allSecure,
  framesFlow,
  type Harness,
  mediaPlaneProblem,
  PLANES,
  PlaneComparison,
  screens,
  sleep,
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

describe.each(PLANES)('E2EE meetings as people come and go (%s media plane)', (plane) => {
  it('a leaver cannot decrypt what is sent after the rekey; the others carry on without its media', async () => {
    h = await startHarness({ plane });
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
    await framesFlow([host, stay], 5, 'frames after the rekey');
    await waitFor(() => mediaPlaneProblem(h!, 2) === null, 'the leaver gone from the media plane');
    const fromLeaver = host.okFrom(leaverSession.participantId ?? '');
    await framesFlow([host, stay], 5);
    expect(afterLeaveOk).toBe(0);
    expect(host.okFrom(leaverSession.participantId ?? '')).toBe(fromLeaver);
    expect(host.badTotal() + stay.badTotal()).toBe(0);
    expect(host.session.relay.downlinkCounters.unmappedChunks).toBe(0);
    expect(leaverSession.snapshot.status).toBe('left');
    compared.record(plane, 'after a leave', screens([host, stay]));
  });

  it('the host leaving makes a new leader, a new epoch and a new code, and says so', async () => {
    h = await startHarness({ plane });
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
    compared.record(plane, 'after the host left', screens([a, b]));
  });

  it('a host who drops and rejoins gets back in securely, and the leader (and code) stay put', async () => {
    h = await startHarness({ plane });
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
    compared.record(plane, 'after the host came back', screens([back, a, b]));
  });

  it('a participant whose connection drops comes back with a new id and media both ways', async () => {
    h = await startHarness({ plane });
    const id = await h.meeting();
    const people = [
      h.participant(id, 'Host', { identity: h.host, client: 'room' }),
      h.participant(id, 'A'),
      h.participant(id, 'B'),
    ];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(() => allSecure(people), 'three secure', 30_000);
    const a = people[1]!;
    const old = a.session.participantId!;
    for (const conn of h.relay.core.connections)
      if (conn.participant?.id === old) conn.terminate(1011, 'test');
    await waitFor(
      () => a.session.participantId !== undefined && a.session.participantId !== old,
      'A back with a new id',
      20_000,
    );
    await waitFor(() => allSecure(people), 'three secure again', 30_000);
    await framesFlow(people, 5, 'frames both ways after the reconnect');
    expect(a.session.counters.reconnects).toBeGreaterThanOrEqual(1);
    expect(people.reduce((n, p) => n + p.badTotal(), 0)).toBe(0);
    await waitFor(() => mediaPlaneProblem(h!, 3) === null, 'three publishers');
    compared.record(plane, 'after a reconnect', screens(people));
  });

  it('an enhanced meeting shows enhanced and no security code', async () => {
    h = await startHarness({ plane });
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
    compared.record(plane, 'an enhanced meeting', screens(people));
  });
});

it('every screen reads the same on both media planes', () => {
  expect(compared.size).toBe(5);
  expect(compared.differences()).toEqual([]);
});
