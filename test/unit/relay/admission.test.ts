// Admission rules and wrong-passcode lockout: product brief (E2EE rules), issue 4 "Admission".
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import type { ClientMessageOf } from '../../../src/protocol/index.ts';
import { type AdmissionContext, decideAdmission, PasscodeLockout } from '../../../src/relay/admission.ts';
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
    lockout: { lockedForMs: 0, attemptsLeft: 10 },
    recordFailure: () => ({ lockedForMs: 0, attemptsLeft: 9 }),
    ...over,
  };
}

describe('decideAdmission', () => {
  it('admits native clients of protocol >= 1 to an E2EE meeting once the host has joined', () => {
    for (const client of ['room', 'desktop', 'mobile'] as const) {
      expect(decideAdmission(join({ client }), ctx())).toEqual({ kind: 'admitted', host: false });
    }
  });

  it.each(['phone', 'sip', 'h323', 'web'] as const)(
    'refuses a %s client from an E2EE meeting with a sentence',
    (client) => {
      const d = decideAdmission(join({ client }), ctx());
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
    const c = ctx({ recordFailure: () => ({ lockedForMs: 0, attemptsLeft: 10 - ++failures }) });
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

  it('refuses a locked-out client even with the right passcode', () => {
    const d = decideAdmission(join(), ctx({ lockout: { lockedForMs: 60_000, attemptsLeft: 0 } }));
    expect(d).toMatchObject({ kind: 'refused', reason: 'locked_out', retryAfterSeconds: 60 });
  });
});

describe('PasscodeLockout', () => {
  it('locks a device out of one meeting for 30 minutes after 10 failures', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    for (let i = 0; i < 9; i++) expect(l.recordFailure('m1', 'dev', '10.0.0.1').lockedForMs).toBe(0);
    const after = l.recordFailure('m1', 'dev', '10.0.0.1');
    expect(after.lockedForMs).toBe(30 * 60_000);
    expect(l.status('m1', 'dev', '10.0.0.2').lockedForMs).toBe(30 * 60_000);
    expect(l.status('m2', 'dev', '10.0.0.1').lockedForMs).toBe(0);
    expect(l.status('m1', 'other', '10.0.0.1').lockedForMs).toBe(0);
    clock.advance(30 * 60_000 - 1);
    expect(l.status('m1', 'dev', '10.0.0.1').lockedForMs).toBe(1);
    clock.advance(1);
    expect(l.status('m1', 'dev', '10.0.0.1')).toEqual({ lockedForMs: 0, attemptsLeft: 10 });
  });

  it('locks an address that rotates device ids, at the address bound', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock, addressThreshold: 15 });
    for (let i = 0; i < 15; i++) l.recordFailure('m1', `dev${i}`, '10.0.0.9');
    expect(l.status('m1', 'fresh-device', '10.0.0.9').lockedForMs).toBe(30 * 60_000);
  });

  it('a success clears the device count before the lock', () => {
    const clock = new FakeClock();
    const l = new PasscodeLockout({ clock });
    for (let i = 0; i < 9; i++) l.recordFailure('m1', 'dev', 'a');
    l.recordSuccess('m1', 'dev');
    expect(l.recordFailure('m1', 'dev', 'b').lockedForMs).toBe(0);
  });
});
