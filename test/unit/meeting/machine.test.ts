/**
 * The meeting client's state machine (src/meeting/machine.ts; docs/protocol.md §Session flow) without
 * sockets or wrtc: a room's machine in a scripted meeting with real E2EE sessions of other
 * participants (machine-harness.ts), time from a FakeClock.
 */
import { describe, expect, it } from 'vitest';
import { JOIN_ANSWER_TIMEOUT_MS } from '../../../src/meeting/machine-types.ts';
import { MEETING_ID, SimMeeting } from './machine-harness.ts';

const SECURITY_CODE = /^\d{5}( \d{5}){7}$/;

/** A room admitted as `roomId` into an E2EE meeting that Alice (the host, leader) and Bob are in. */
function secureMeeting(o: ConstructorParameters<typeof SimMeeting>[0] = {}, roomId = '30'): SimMeeting {
  const m = new SimMeeting(o);
  m.addPeer('10', 'Alice Moreau', { host: true });
  m.addPeer('20', 'Bongani Dlamini');
  m.join();
  m.admit(roomId);
  expect(m.until(() => m.snapshot.status === 'secure')).toBe(true);
  return m;
}

describe('joining', () => {
  it('join → connecting → admitted → keying → secure, with the leader’s security code', () => {
    const m = new SimMeeting();
    m.addPeer('10', 'Alice Moreau', { host: true });
    const started = m.join();
    expect(started.map((e) => e.type)).toEqual(['state', 'start-tick', 'arm-join-deadline', 'connect']);
    expect(m.snapshot.status).toBe('connecting');
    expect(m.of('arm-join-deadline')[0]?.afterMs).toBe(JOIN_ANSWER_TIMEOUT_MS);

    m.admit('30');
    const resolved = m.of('resolve-join');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.snapshot.status).toBe('keying');
    expect(resolved[0]?.snapshot.selfId).toBe('30');
    expect(m.snapshot.joinedAt).toBe(m.clock.now());

    expect(m.until(() => m.snapshot.status === 'secure')).toBe(true);
    expect(m.statuses()).toEqual(['connecting', 'keying', 'secure']);
    const snap = m.snapshot;
    expect(snap.shield).toBe('e2ee');
    expect(snap.encryption).toBe('e2ee');
    expect(snap.title).toBe('Weekly review');
    expect(snap.leader).toBe('10');
    expect(snap.securityCode).toMatch(SECURITY_CODE);
    expect(snap.securityCode).toBe(m.peerStatus('10').securityCode);
    expect(snap.epoch).toBeGreaterThan(0);
    expect(m.room.sendEpoch).toBe(snap.epoch);
    expect(snap.participants.map((p) => [p.id, p.name, p.keyed, p.self])).toEqual(
      expect.arrayContaining([
        ['10', 'Alice Moreau', true, false],
        ['30', 'Huddle Room', true, true],
      ]),
    );
    expect(snap.error).toBeNull();
    // The frame keys are the E2EE session's: a frame the room seals opens at Alice.
    const frame = m.room.frames?.seal('audio', new TextEncoder().encode('hello'));
    const opened = m.peers
      .get('10')
      ?.session?.frames.open(frame as Uint8Array, undefined, m.clock.monotonic());
    expect(new TextDecoder().decode(opened?.payload)).toBe('hello');
    // The join deadline was disarmed with the answer: it never fires.
    m.advance(JOIN_ANSWER_TIMEOUT_MS + 1000);
    expect(m.snapshot.status).toBe('secure');
    expect(m.of('end')).toHaveLength(0);
  });

  it('an enhanced meeting is secure with the relay’s key and shows no security code', () => {
    const m = new SimMeeting({ mode: 'enhanced' });
    m.join();
    m.admit('30');
    expect(m.snapshot.status).toBe('keying');
    m.feed({ type: 'meeting-key', keyId: 1, key: new Uint8Array(32).fill(7) });
    expect(m.of('key-switch')).toHaveLength(1);
    expect(m.snapshot.status).toBe('secure');
    expect(m.snapshot.shield).toBe('enhanced');
    expect(m.snapshot.securityCode).toBeNull();
  });

  it('waiting for the host resolves the join; admission later keys the meeting without a second answer', () => {
    const m = new SimMeeting();
    m.addPeer('10', 'Alice Moreau', { host: true });
    m.join();
    m.feed({
      type: 'admission',
      message: {
        v: 1,
        type: 'admission',
        status: 'waiting',
        reason: 'waiting_for_host',
        message: 'Waiting for the host.',
      },
      wallNow: m.clock.now(),
    });
    expect(m.snapshot.status).toBe('waiting-for-host');
    expect(m.of('resolve-join').map((e) => e.snapshot.status)).toEqual(['waiting-for-host']);
    expect(m.of('disarm-join-deadline')).toHaveLength(1);
    m.advance(JOIN_ANSWER_TIMEOUT_MS + 1000);
    expect(m.snapshot.status).toBe('waiting-for-host');

    m.admit('30');
    expect(m.until(() => m.snapshot.status === 'secure')).toBe(true);
    expect(m.of('resolve-join')).toHaveLength(1);
    expect(m.statuses()).toEqual(['connecting', 'waiting-for-host', 'keying', 'secure']);
  });

  it('a refusal rejects the join with the typed code and the service’s reason, and closes the relay', () => {
    const m = new SimMeeting();
    m.join();
    m.feed({
      type: 'admission',
      message: {
        v: 1,
        type: 'admission',
        status: 'refused',
        reason: 'bad_passcode',
        message: 'Wrong passcode.',
        attemptsLeft: 2,
      },
      wallNow: m.clock.now(),
    });
    expect(m.of('reject-join')).toEqual([
      {
        type: 'reject-join',
        code: 'relay.bad_passcode',
        message: 'Wrong passcode.',
        context: { reason: 'bad_passcode' },
      },
    ]);
    expect(m.snapshot.status).toBe('failed');
    expect(m.snapshot.error).toEqual({ code: 'relay.bad_passcode', message: 'Wrong passcode.' });
    expect(m.of('stop-tick')).toHaveLength(1);
    expect(m.of('end')).toEqual([
      { type: 'end', status: 'failed', error: { code: 'relay.bad_passcode', message: 'Wrong passcode.' } },
    ]);
    expect(m.of('resolve-join')).toHaveLength(0);
  });

  it('no answer within the deadline fails the join, in plain words', () => {
    const m = new SimMeeting({ joinAnswerTimeoutMs: 5000 });
    m.join();
    m.advance(4800);
    expect(m.snapshot.status).toBe('connecting');
    expect(m.of('reject-join')).toHaveLength(0);
    m.advance(400);
    expect(m.snapshot.status).toBe('failed');
    const [reject] = m.of('reject-join');
    expect(reject?.code).toBe('meeting.relay_unreachable');
    expect(reject?.message).toBe(
      'The meeting service did not answer within 5 seconds, so the room stopped joining.',
    );
    expect(m.of('end')[0]?.status).toBe('failed');
    // Over: nothing the relay says any more has an effect.
    expect(m.feed({ type: 'tick' })).toEqual([]);
  });

  it('a second join of one machine does nothing; a join after the session ended is refused at once', () => {
    const m = new SimMeeting();
    m.join();
    expect(m.join()).toEqual([]);
    const idle = new SimMeeting();
    idle.feed({ type: 'leave' });
    expect(idle.join()).toEqual([
      { type: 'reject-join', code: 'meeting.join_failed', message: expect.any(String), context: {} },
    ]);
  });
});

describe('what the relay says about the meeting', () => {
  it('another meeting than the one asked for: the room fails without keying or showing it', () => {
    const m = new SimMeeting();
    m.addPeer('10', 'Alice Moreau', { host: true });
    m.join();
    m.admit('30', { meetingId: '999-0000-1111', title: 'Someone else’s meeting' });
    expect(m.snapshot.status).toBe('failed');
    expect(m.snapshot.error?.code).toBe('meeting.wrong_meeting');
    expect(m.snapshot.error?.message).toContain('999-0000-1111');
    expect(m.snapshot.title).toBe('');
    expect(m.room.frames).toBeNull();
    expect(m.of('send-e2ee')).toHaveLength(0);
    expect(m.of('end')[0]).toMatchObject({ status: 'failed' });
  });

  it('the same meeting id written without dashes is the meeting asked for', () => {
    const m = new SimMeeting();
    m.addPeer('10', 'Alice Moreau', { host: true });
    m.join();
    m.admit('30', { meetingId: MEETING_ID.replaceAll('-', '') });
    expect(m.snapshot.status).toBe('keying');
    expect(m.snapshot.encryption).toBe('e2ee');
    expect(m.room.frames).not.toBeNull();
  });

  it('a meeting weaker than the room’s minimum is refused before joining it', () => {
    const m = new SimMeeting({ mode: 'enhanced', minimumEncryption: 'e2ee' });
    expect(m.snapshot.expectedEncryption).toBe('e2ee');
    m.join();
    m.admit('30');
    expect(m.snapshot.status).toBe('failed');
    expect(m.snapshot.error).toEqual({
      code: 'e2ee.downgrade',
      message: 'This room only joins end-to-end encrypted meetings, and this meeting is not one.',
    });
    expect(m.snapshot.encryption).toBeNull();
    expect(m.room.frames).toBeNull();
  });

  it('a booking as e2ee makes e2ee the minimum, whatever the room’s setting', () => {
    const m = new SimMeeting({ mode: 'enhanced', bookedEncryption: 'e2ee' });
    m.join();
    m.admit('30');
    expect(m.snapshot.error?.code).toBe('e2ee.downgrade');
    expect(m.snapshot.error?.message).toMatch(/^This meeting was booked as end-to-end encrypted/);
  });

  it('e2ee before a reconnect and enhanced after it is a downgrade: the room leaves', () => {
    const m = secureMeeting();
    m.disconnect(true);
    m.mode = 'enhanced';
    m.admit('31');
    expect(m.snapshot.status).toBe('failed');
    expect(m.snapshot.shield).toBe('none');
    expect(m.snapshot.error).toEqual({
      code: 'e2ee.downgrade',
      message: 'The meeting service tried to turn off end-to-end encryption, so the room left the meeting.',
    });
    expect(m.of('end')).toHaveLength(1);
  });

  it('the relay’s meeting key in an E2EE meeting is a downgrade the E2EE session refuses', () => {
    const m = secureMeeting();
    m.feed({ type: 'meeting-key', keyId: 9, key: new Uint8Array(32) });
    expect(m.snapshot.status).toBe('failed');
    expect(m.snapshot.error?.code).toBe('e2ee.downgrade');
    expect(m.room.frames).toBeNull();
  });

  it('a payload that is not JSON is dropped with a warning; a forged one is counted as rejected', () => {
    const m = secureMeeting();
    const before = m.snapshot;
    m.feed({ type: 'e2ee', from: '10', payload: '{not json' });
    expect(m.of('warn').at(-1)).toEqual({
      type: 'warn',
      fields: { from: '10' },
      message: 'unparseable E2EE payload dropped',
    });
    expect(m.snapshot).toBe(before);
    m.feed({ type: 'e2ee', from: '10', payload: JSON.stringify({ t: 'e2ee.key', v: 1 }) });
    expect(m.room.counters.e2eeRejected).toBe(1);
    expect(m.of('warn').at(-1)?.message).toBe('e2ee input rejected');
  });

  it('the same refused input repeated is counted every time but logged once a minute per sender', () => {
    const m = secureMeeting();
    const forged = JSON.stringify({ t: 'e2ee.key', v: 1 });
    const logged = () => m.of('warn').filter((w) => w.message === 'e2ee input rejected');
    for (let i = 0; i < 50; i++) m.feed({ type: 'e2ee', from: '10', payload: forged });
    m.feed({ type: 'e2ee', from: '11', payload: forged });
    expect(m.room.counters.e2eeRejected).toBe(51);
    expect(logged().map((w) => w.fields['from'])).toEqual(['10', '11']);
    m.advance(60_000);
    m.feed({ type: 'e2ee', from: '10', payload: forged });
    expect(logged()).toHaveLength(3);
    expect(logged().at(-1)?.fields).toMatchObject({ from: '10', leftOut: 49 });
  });
});

describe('the leader changes', () => {
  it('the host leaves: a new code, the banner, and who held and who holds the keys', () => {
    const m = secureMeeting({ codeChangeBannerMs: 30_000 });
    const before = m.snapshot.securityCode;
    expect(m.snapshot.securityCodeChanged).toBe(false);
    expect(m.snapshot.codeChange).toBeNull();
    m.removePeer('10');
    expect(m.until(() => m.snapshot.leader === '20' && m.snapshot.status === 'secure')).toBe(true);
    expect(m.snapshot.securityCode).toMatch(SECURITY_CODE);
    expect(m.snapshot.securityCode).not.toBe(before);
    expect(m.snapshot.securityCode).toBe(m.peerStatus('20').securityCode);
    expect(m.snapshot.securityCodeChanged).toBe(true);
    expect(m.snapshot.codeChange).toEqual({
      previousLeader: 'Alice Moreau',
      previousLeaderHost: true,
      previousLeaderLeft: true,
      leader: 'Bongani Dlamini',
      leaderIsSelf: false,
    });
    expect(m.room.counters.rekeys).toBeGreaterThan(0);
    // The banner goes away by itself; the facts stay for the screen.
    m.advance(30_000);
    expect(m.snapshot.securityCodeChanged).toBe(false);
    expect(m.snapshot.codeChange?.leader).toBe('Bongani Dlamini');
  });

  it('this room becomes the key holder: leaderIsSelf, and dismissing the banner takes it down', () => {
    const m = new SimMeeting();
    m.addPeer('10', 'Alice Moreau');
    m.join();
    m.admit('30');
    expect(m.until(() => m.snapshot.status === 'secure')).toBe(true);
    m.removePeer('10');
    m.addPeer('20', 'Bongani Dlamini');
    expect(m.until(() => m.snapshot.leader === '30' && m.snapshot.codeChange !== null)).toBe(true);
    expect(m.snapshot.codeChange).toEqual({
      previousLeader: 'Alice Moreau',
      previousLeaderHost: false,
      previousLeaderLeft: true,
      leader: 'Huddle Room',
      leaderIsSelf: true,
    });
    expect(m.snapshot.securityCodeChanged).toBe(true);
    m.feed({ type: 'acknowledge-code-change' });
    expect(m.snapshot.securityCodeChanged).toBe(false);
  });
});

describe('reconnecting', () => {
  it('a lost socket: reconnecting with the shield verifying, then a fresh E2EE session and secure again', () => {
    const m = secureMeeting();
    const firstFrames = m.room.frames;
    m.disconnect(true);
    expect(m.snapshot.status).toBe('reconnecting');
    expect(m.snapshot.shield).toBe('verifying');
    expect(m.snapshot.error?.code).toBe('meeting.relay_unreachable');
    expect(m.room.frames).toBeNull();
    expect(m.room.counters.reconnects).toBe(1);
    m.feed({ type: 'reconnecting' });
    expect(m.snapshot.status).toBe('reconnecting');

    m.admit('31');
    expect(m.until(() => m.snapshot.status === 'secure')).toBe(true);
    expect(m.room.frames).not.toBeNull();
    expect(m.room.frames).not.toBe(firstFrames);
    expect(m.snapshot.selfId).toBe('31');
    expect(m.snapshot.shield).toBe('e2ee');
    expect(m.snapshot.error).toBeNull();
    expect(m.snapshot.participants.filter((p) => p.self).map((p) => p.id)).toEqual(['31']);
    // The join was answered once, on the first admission.
    expect(m.of('resolve-join')).toHaveLength(1);
    // Secure before: keying again on the new connection reads as rekeying until the keys are in.
    expect(m.statuses().slice(-4)).toEqual(['reconnecting', 'keying', 'rekeying', 'secure']);
  });

  it('a new instance of the meeting starts a new E2EE session on the same connection', () => {
    const m = new SimMeeting({ mode: 'enhanced' });
    m.join();
    m.admit('30');
    const first = m.room.frames;
    m.instanceId = 'inst-2';
    m.meetingInfo();
    expect(m.room.frames).not.toBeNull();
    expect(m.room.frames).not.toBe(first);
  });
});

describe('leaving', () => {
  it('leave: left, shield none, no code, the relay left politely; later events change nothing', () => {
    const m = secureMeeting();
    const effects = m.feed({ type: 'leave' });
    expect(effects.map((e) => e.type)).toEqual(['stop-tick', 'disarm-join-deadline', 'state', 'end']);
    expect(m.snapshot.status).toBe('left');
    expect(m.snapshot.shield).toBe('none');
    expect(m.snapshot.securityCode).toBeNull();
    expect(m.snapshot.error).toBeNull();
    expect(effects.at(-1)).toEqual({ type: 'end', status: 'left', error: null });
    expect(m.room.frames).toBeNull();
    expect(m.feed({ type: 'leave' })).toEqual([]);
    expect(m.feed({ type: 'disconnected', willReconnect: true })).toEqual([]);
    expect(m.room.counters.reconnects).toBe(0);
  });

  it('a leave while joining rejects the join', () => {
    const m = new SimMeeting();
    m.join();
    m.feed({ type: 'leave' });
    expect(m.of('reject-join')[0]?.code).toBe('meeting.join_failed');
    expect(m.of('end')[0]).toEqual({ type: 'end', status: 'left', error: null });
  });
});
