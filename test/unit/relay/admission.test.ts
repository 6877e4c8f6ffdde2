// Admission rules and wrong-passcode budgets: docs/protocol.md §Admission rules, §Wrong passcodes.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import type { ClientMessageOf } from '../../../src/protocol/index.ts';
import {
  type AdmissionContext,
  type AdmissionDecision,
  budgetWaitMs,
  DEFAULT_LOCKOUT_POLICY,
  decideAdmission,
  type PasscodeAttempt,
  PasscodeLockout,
} from '../../../src/relay/admission.ts';
import type { MeetingRecord } from '../../../src/relay/registry.ts';

const meeting: MeetingRecord = {
  id: '111-2222-3333',
  title: 'Board',
  account: 'default',
  hostIdentityKey: 'A'.repeat(43),
  passcode: 'secret',
  start: null,
  end: null,
  room: null,
  encryption: 'e2ee',
  joinBeforeHost: false,
  createdAt: '2026-01-01T00:00:00.000Z',
};

const join = (over: Partial<ClientMessageOf<'join'>> = {}): ClientMessageOf<'join'> => ({
  v: 1,
  type: 'join',
  meetingId: meeting.id,
  passcode: 'secret',
  displayName: 'Room',
  client: 'room',
  protocol: 1,
  deviceId: 'd1',
  ...over,
});

function ctx(over: Partial<AdmissionContext> = {}): AdmissionContext {
  return {
    now: Date.UTC(2026, 0, 1),
    meeting,
    account: { id: 'default', allowE2ee: true, defaultEncryption: 'e2ee' },
    hostProven: false,
    hostProofFailed: false,
    hostHasJoined: true,
    identityProofFailed: false,
    lockout: { retryAfterMs: 0, attemptsLeft: 10 },
    recordFailure: () => ({ retryAfterMs: 0, attemptsLeft: 9 }),
    ...over,
  };
}

describe('decideAdmission', () => {
  it('admits native and web clients of protocol >= 1 to an E2EE meeting once the host has joined', () => {
    for (const client of ['room', 'desktop', 'mobile', 'web'] as const) {
      expect(decideAdmission(join({ client }), ctx())).toEqual({ kind: 'admitted', host: false });
    }
  });

  it.each([
    ['phone', 1],
    ['sip', 1],
    ['h323', 1],
    ['web', 0],
  ] as const)(
    'refuses a %s client (protocol %i) from an E2EE meeting with a sentence',
    (client, protocol) => {
      const d = decideAdmission(join({ client, protocol }), ctx());
      expect(d.kind).toBe('refused');
      if (d.kind === 'refused') {
        expect(d.reason).toBe('client_not_allowed');
        expect(d.message).toMatch(/cannot join end-to-end encrypted meetings/);
      }
    },
  );

  it('refuses an old native client (protocol 0) from an E2EE meeting', () => {
    const d = decideAdmission(join({ protocol: 0 }), ctx());
    expect(d).toMatchObject({ kind: 'refused', reason: 'protocol_too_old' });
  });

  it('admits a phone to an enhanced meeting', () => {
    const d = decideAdmission(
      join({ client: 'phone', protocol: 0 }),
      ctx({ meeting: { ...meeting, encryption: 'enhanced' } }),
    );
    expect(d).toEqual({ kind: 'admitted', host: false });
  });

  it('makes everyone but the proven host wait until the host has joined', () => {
    expect(decideAdmission(join(), ctx({ hostHasJoined: false }))).toEqual({ kind: 'waiting' });
    expect(decideAdmission(join(), ctx({ hostHasJoined: false, hostProven: true }))).toEqual({
      kind: 'admitted',
      host: true,
    });
  });

  it('never lets an E2EE meeting join before host, even if the record says so', () => {
    const d = decideAdmission(
      join(),
      ctx({ hostHasJoined: false, meeting: { ...meeting, joinBeforeHost: true } }),
    );
    expect(d).toEqual({ kind: 'waiting' });
    const enhanced = { ...meeting, encryption: 'enhanced' as const, joinBeforeHost: true };
    expect(decideAdmission(join(), ctx({ hostHasJoined: false, meeting: enhanced }))).toEqual({
      kind: 'admitted',
      host: false,
    });
  });

  it('refuses a host claim whose proof fails', () => {
    expect(decideAdmission(join(), ctx({ hostProofFailed: true }))).toMatchObject({
      kind: 'refused',
      reason: 'bad_host_proof',
    });
  });

  it('refuses when the account no longer allows E2EE', () => {
    const d = decideAdmission(
      join(),
      ctx({ account: { id: 'default', allowE2ee: false, defaultEncryption: 'enhanced' } }),
    );
    expect(d).toMatchObject({ kind: 'refused', reason: 'e2ee_not_allowed' });
  });

  it('refuses unknown and ended meetings', () => {
    expect(decideAdmission(join(), ctx({ meeting: undefined }))).toMatchObject({
      reason: 'meeting_not_found',
    });
    const ended = { ...meeting, end: '2025-12-31T23:00:00Z' };
    expect(decideAdmission(join(), ctx({ meeting: ended }))).toMatchObject({ reason: 'meeting_ended' });
  });

  it('counts a wrong or missing passcode and reports attempts left', () => {
    let failures = 0;
    const c = ctx({ recordFailure: () => ({ retryAfterMs: 0, attemptsLeft: 10 - ++failures }) });
    expect(decideAdmission(join({ passcode: 'nope' }), c)).toMatchObject({
      reason: 'bad_passcode',
      attemptsLeft: 9,
    });
    const { passcode: _p, ...noPass } = join();
    expect(decideAdmission(noPass as ClientMessageOf<'join'>, c)).toMatchObject({
      reason: 'bad_passcode',
      attemptsLeft: 8,
    });
    expect(failures).toBe(2);
  });

  it('checks the passcode before saying anything about the meeting', () => {
    const d = decideAdmission(join({ passcode: 'nope', client: 'phone' }), ctx());
    expect(d).toMatchObject({ reason: 'bad_passcode' });
  });

  it('holds back a throttled join before comparing its passcode, even the right one', () => {
    let counted = 0;
    const d = decideAdmission(
      join(),
      ctx({
        lockout: { retryAfterMs: 60_000, attemptsLeft: 0 },
        recordFailure: () => ({ retryAfterMs: 0, attemptsLeft: counted++ }),
      }),
    );
    expect(d).toMatchObject({ kind: 'refused', reason: 'locked_out', retryAfterSeconds: 60 });
    expect(counted).toBe(0);
  });

  it('says when a wrong passcode starts a wait', () => {
    const d = decideAdmission(
      join({ passcode: 'nope' }),
      ctx({ recordFailure: () => ({ retryAfterMs: 2000, attemptsLeft: 0 }) }),
    );
    expect(d).toMatchObject({ reason: 'bad_passcode', retryAfterSeconds: 2, attemptsLeft: 0 });
    if (d.kind === 'refused') expect(d.message).toMatch(/try again in 2 seconds/);
  });

  it('refuses an identity proof that does not verify, before the passcode counts', () => {
    let counted = 0;
    const d = decideAdmission(
      join({ passcode: 'nope' }),
      ctx({
        identityProofFailed: true,
        recordFailure: () => ({ retryAfterMs: 0, attemptsLeft: counted++ }),
      }),
    );
    expect(d).toMatchObject({ kind: 'refused', reason: 'bad_identity_proof' });
    expect(counted).toBe(0);
  });
});

// ---- wrong-passcode budgets ----------------------------------------------------------------------

const MEETING = meeting.id;
const ROOM_KEY = 'R'.repeat(43);
const OWNER_KEY = 'O'.repeat(43);

/** The relay's join path over the pure pieces: budgets → decision → count (as src/relay/session.ts). */
function attemptJoin(
  l: PasscodeLockout,
  o: { passcode: string; address: string; identity?: string; trusted?: boolean; deviceId?: string },
): AdmissionDecision {
  const attempt: PasscodeAttempt = {
    meetingId: MEETING,
    address: o.address,
    provenIdentity: o.identity,
    trusted: o.trusted ?? false,
  };
  const d = decideAdmission(
    join({ passcode: o.passcode, deviceId: o.deviceId ?? 'whatever' }),
    ctx({ lockout: l.status(attempt), recordFailure: () => l.recordFailure(attempt) }),
  );
  if (d.kind !== 'refused') l.recordSuccess(attempt);
  return d;
}

const fresh = (i: number) => `fresh-identity-${i}`.padEnd(43, 'x');

describe('PasscodeLockout', () => {
  it('waits double after the free failures, up to the cap', () => {
    const b = DEFAULT_LOCKOUT_POLICY.meeting;
    expect(budgetWaitMs(b, b.free - 1)).toBe(0);
    expect(budgetWaitMs(b, b.free)).toBe(2_000);
    expect(budgetWaitMs(b, b.free + 1)).toBe(4_000);
    expect(budgetWaitMs(b, b.free + 7)).toBe(256_000);
    expect(budgetWaitMs(b, b.free + 8)).toBe(300_000);
    expect(budgetWaitMs(b, 10_000)).toBe(300_000);
  });

  it("10 wrong passcodes claiming the room's device id do not lock the room out", () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    for (let i = 0; i < 10; i++) {
      // Same address as the room (one office), the room's public device id, no proof.
      expect(
        attemptJoin(l, { passcode: `guess${i}`, address: '198.51.100.7', deviceId: 'room-device-id' }),
      ).toMatchObject({ reason: 'bad_passcode' });
    }
    // The real room (its key proven, never in this meeting before) gets straight in.
    expect(
      attemptJoin(l, {
        passcode: 'secret',
        address: '198.51.100.7',
        identity: ROOM_KEY,
        deviceId: 'room-device-id',
      }),
    ).toEqual({ kind: 'admitted', host: false });
  });

  it('30 failures from one address do not lock out a proven device admitted before', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    expect(attemptJoin(l, { passcode: 'secret', address: '203.0.113.5', identity: OWNER_KEY }).kind).toBe(
      'admitted',
    );
    for (let i = 0; i < 30; i++) {
      const d = attemptJoin(l, { passcode: `g${i}`, address: '203.0.113.5', identity: fresh(i) });
      expect(d.kind).toBe('refused');
    }
    // The address is waiting now for fresh identities...
    expect(attemptJoin(l, { passcode: 'secret', address: '203.0.113.5', identity: fresh(99) })).toMatchObject(
      {
        reason: 'locked_out',
      },
    );
    // ...but the device that got in before is exempt, from that very address.
    expect(attemptJoin(l, { passcode: 'secret', address: '203.0.113.5', identity: OWNER_KEY })).toEqual({
      kind: 'admitted',
      host: false,
    });
  });

  it('580 guesses from 20 addresses with fresh identities get few compared per hour; the room still gets in', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    let compared = 0;
    let admitted = 0;
    let n = 0;
    const guess = () => {
      const d = attemptJoin(l, {
        passcode: `wrong-${n}`,
        address: `127.0.0.${(n % 20) + 1}`,
        identity: fresh(n),
      });
      n++;
      if (d.kind !== 'refused') admitted++;
      else if (d.reason === 'bad_passcode') compared++;
      else expect(d.reason).toBe('locked_out');
    };
    // The burst the review measured: 580 attempts in 4.4 s.
    for (let i = 0; i < 580; i++) {
      guess();
      clock.advance(4400 / 580);
    }
    // 20 free comparisons, then one more after the 2 s wait; the next wait (4 s) outlasts the burst.
    expect(compared).toBe(DEFAULT_LOCKOUT_POLICY.meeting.free + 1);
    // Then keep it up for the rest of the hour, four attempts a second.
    while (clock.monotonic() < 3_600_000) {
      guess();
      clock.advance(250);
    }
    const firstHour = compared;
    expect(firstHour).toBeLessThanOrEqual(40);
    // A steady hour after that: one comparison per 5-minute wait.
    for (let t = 0; t < 3_600_000; t += 250) {
      guess();
      clock.advance(250);
    }
    expect(compared - firstHour).toBeLessThanOrEqual(13);
    expect(admitted).toBe(0);
    // During the attack: the booked room (trusted) and a participant admitted earlier get in at once,
    expect(
      attemptJoin(l, { passcode: 'secret', address: '127.0.0.1', identity: ROOM_KEY, trusted: true }),
    ).toEqual({
      kind: 'admitted',
      host: false,
    });
    expect(attemptJoin(l, { passcode: 'secret', address: '127.0.0.2', identity: ROOM_KEY })).toEqual({
      kind: 'admitted',
      host: false,
    });
    // while a fresh identity waits its turn like the attacker (its passcode is not even compared).
    expect(attemptJoin(l, { passcode: 'secret', address: '192.0.2.1', identity: fresh(-1) })).toMatchObject({
      reason: 'locked_out',
    });
  });

  it('a proven identity that keeps guessing waits on its own budget, whatever its exemptions', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    for (let i = 0; i < 5; i++) {
      const d = attemptJoin(l, { passcode: 'nope', address: 'a', identity: OWNER_KEY, trusted: true });
      expect(d).toMatchObject({ reason: 'bad_passcode', attemptsLeft: 4 - i });
    }
    expect(
      attemptJoin(l, { passcode: 'secret', address: 'b', identity: OWNER_KEY, trusted: true }),
    ).toMatchObject({
      reason: 'locked_out',
      retryAfterSeconds: 2,
    });
    clock.advance(2000);
    expect(
      attemptJoin(l, { passcode: 'secret', address: 'b', identity: OWNER_KEY, trusted: true }).kind,
    ).toBe('admitted');
    // The success cleared its count; the shared budgets never saw a trusted identity's failures.
    expect(l.status({ meetingId: MEETING, address: 'a', provenIdentity: undefined, trusted: false })).toEqual(
      {
        retryAfterMs: 0,
        attemptsLeft: DEFAULT_LOCKOUT_POLICY.address.free,
      },
    );
  });

  it('forgets a budget an hour after its last failure', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    for (let i = 0; i < 25; i++)
      l.recordFailure({ meetingId: MEETING, address: `x${i}`, provenIdentity: undefined, trusted: false });
    const a = { meetingId: MEETING, address: 'y', provenIdentity: undefined, trusted: false };
    expect(l.status(a).retryAfterMs).toBe(64_000);
    clock.advance(3_600_000);
    expect(l.status(a)).toEqual({ retryAfterMs: 0, attemptsLeft: DEFAULT_LOCKOUT_POLICY.meeting.free });
  });

  it('keeps its memory bounded and forgets a deleted meeting', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock, policy: { maxCounters: 50, rememberPerMeeting: 3 } });
    for (let i = 0; i < 500; i++) {
      l.recordFailure({ meetingId: MEETING, address: `a${i}`, provenIdentity: fresh(i), trusted: false });
    }
    // The oldest per-address budget was dropped; the meeting budget still holds everyone back.
    const first = { meetingId: MEETING, address: 'a0', provenIdentity: undefined, trusted: false };
    expect(l.status(first).retryAfterMs).toBe(300_000);
    for (let i = 0; i < 5; i++)
      l.recordSuccess({ meetingId: MEETING, address: 'z', provenIdentity: fresh(i), trusted: false });
    const remembered = (i: number) =>
      l.exempt({ meetingId: MEETING, address: 'z', provenIdentity: fresh(i), trusted: false });
    expect([0, 1, 2, 3, 4].map(remembered)).toEqual([false, false, true, true, true]);
    l.forgetMeeting(MEETING);
    expect(remembered(4)).toBe(false);
    expect(l.status(first).retryAfterMs).toBe(0);
  });
});
