/**
 * Meetings end to end over real wrtc on loopback: the relay, the client session and the E2EE
 * protocol together (issue 4 "Done when").
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, type Harness, sleep, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

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
      expect(roster.every((r) => r.verified)).toBe(true);
    });
  }

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
    leaverSession.events.on('frame', (f) => {
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

describe('admission', () => {
  for (const client of ['phone', 'sip', 'web'] as const) {
    it(`a ${client} client is refused from an E2EE meeting with a reason and admitted to an enhanced one`, async () => {
      h = await startHarness();
      const e2ee = await h.meeting();
      const enhanced = await h.meeting({ encryption: 'enhanced' });
      const host = h.participant(e2ee, 'Host', { identity: h.host });
      await host.join();
      const refused = h.participant(e2ee, `Caller ${client}`, { client });
      const err = await refused.join().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'relay.client_not_allowed' });
      expect(refused.session.snapshot.status).toBe('failed');
      expect(refused.session.snapshot.error?.message).toMatch(/end-to-end/i);
      const host2 = h.participant(enhanced, 'Host', { identity: h.host });
      await host2.join();
      const ok = h.participant(enhanced, `Caller ${client}`, { client });
      await ok.join();
      await waitFor(() => ok.session.snapshot.shield === 'enhanced', 'admitted to enhanced');
    });
  }

  it('an old-protocol client is refused from an E2EE meeting', async () => {
    h = await startHarness();
    const id = await h.meeting();
    await h.participant(id, 'Host', { identity: h.host }).join();
    const old = h.participant(id, 'Old app', { protocolVersion: 0 });
    await expect(old.join()).rejects.toMatchObject({ code: 'relay.client_not_allowed' });
  });

  it('others wait for the host, see that they wait, and get in when the host comes', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const early = h.participant(id, 'Early');
    await early.join();
    expect(early.session.snapshot.status).toBe('waiting-for-host');
    await sleep(300);
    expect(early.session.snapshot.status).toBe('waiting-for-host');
    const host = h.participant(id, 'Host', { identity: h.host });
    await host.join();
    await waitFor(() => allSecure([early, host]), 'both secure once the host joined');
  });

  it('locks a client out after 10 wrong passcodes', async () => {
    h = await startHarness();
    const id = await h.meeting({ passcode: '424242' });
    const identity = (await import('../../../src/app/bot.ts')).ephemeralIdentity();
    const codes: unknown[] = [];
    for (let i = 0; i < 11; i++) {
      const p = h.participant(id, 'Guesser', { passcode: `00000${i}`, identity });
      codes.push(((await p.join().catch((e: unknown) => e)) as { code?: string }).code);
    }
    // Nine refusals say the passcode is wrong; the tenth failure locks the client out and says so.
    expect(codes.slice(0, 9)).toEqual(Array(9).fill('relay.bad_passcode'));
    expect(codes.slice(9)).toEqual(['relay.locked_out', 'relay.locked_out']);
    // Even the right passcode is refused while locked out.
    const right = h.participant(id, 'Guesser', { passcode: '424242', identity });
    await expect(right.join()).rejects.toMatchObject({ code: 'relay.locked_out' });
  });
});
