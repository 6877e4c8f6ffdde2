// The room screen's choices (docs/decisions/0015-the-screen-follows-the-meeting.md): whenever the
// room is joining or in a meeting its screen shows that meeting, claimed or not; what the joining
// screen says before the meeting service confirmed the encryption; who reads the code aloud.
import { describe, expect, it } from 'vitest';
import type { MeetingState, RoomState } from '../../../src/http/schemas/state.ts';
import { chooseScreen, upcomingMeetings } from '../../../kiosk-ui/src/screens/choose.ts';
import { codeChangedText, codeLabel, joiningLead } from '../../../kiosk-ui/src/components/wording.ts';

const meeting = (m: Partial<MeetingState>): MeetingState => ({
  id: '12345678901',
  status: 'in_meeting',
  encryption: 'e2ee',
  shield: 'e2ee',
  securityCode: null,
  securityCodeChanged: false,
  epoch: 1,
  leader: null,
  participants: [],
  disabledFeatures: [],
  ...m,
});

const room = (provisioned: boolean, m: MeetingState | null): Pick<RoomState, 'room' | 'meeting'> => ({
  room: { name: 'Huddle Room 3', provisioned },
  meeting: m,
});

describe('chooseScreen', () => {
  it('an unclaimed room in or joining a meeting shows the meeting, never the setup screen', () => {
    expect(chooseScreen(room(false, meeting({ status: 'joining' })))).toBe('joining');
    expect(chooseScreen(room(false, meeting({ status: 'waiting_for_host' })))).toBe('waiting');
    expect(chooseScreen(room(false, meeting({ status: 'in_meeting' })))).toBe('meeting');
    expect(chooseScreen(room(false, meeting({ status: 'leaving' })))).toBe('meeting');
  });

  it('without a meeting: setup until claimed, then idle', () => {
    expect(chooseScreen(room(false, null))).toBe('setup');
    expect(chooseScreen(room(false, meeting({ status: 'ended' })))).toBe('setup');
    expect(chooseScreen(room(true, null))).toBe('idle');
    expect(chooseScreen(room(true, meeting({ status: 'ended' })))).toBe('idle');
    expect(chooseScreen(room(true, meeting({ status: 'in_meeting' })))).toBe('meeting');
  });
});

describe('wording', () => {
  const people = [
    {
      id: '2',
      name: 'Bongani Dlamini',
      clientType: 'mobile',
      verified: true,
      keyed: true,
      identity: { status: 'none' as const },
    },
    {
      id: '5',
      name: 'Huddle Room 3',
      clientType: 'room',
      verified: true,
      keyed: true,
      identity: { status: 'none' as const },
      self: true,
    },
  ];

  it('the joining screen claims no encryption before the service confirmed it', () => {
    const lead = joiningLead({ encryption: 'e2ee', encryptionConfirmed: false });
    expect(lead).not.toMatch(/encrypted/i);
    expect(joiningLead({ encryption: 'e2ee', encryptionConfirmed: true })).toMatch(/^End-to-end encrypted/);
    expect(joiningLead({ encryption: 'enhanced', encryptionConfirmed: true })).toMatch(
      /service holds the keys/,
    );
  });

  it('the code label names whoever holds the keys, or this room', () => {
    expect(codeLabel({ leader: '2', participants: people })).toContain('Bongani Dlamini holds the keys');
    expect(codeLabel({ leader: '5', participants: people })).toContain(
      'this room holds the keys: read it aloud',
    );
    expect(codeLabel({ leader: null, participants: people })).not.toContain('host');
  });

  it('the banner uses the room’s sentence, and without one never asks "the host"', () => {
    const message = 'The host, Alice Moreau, left. Bongani Dlamini now holds the meeting keys: …';
    const change = {
      previousLeader: 'Alice Moreau',
      previousLeaderHost: true,
      previousLeaderLeft: true,
      leader: 'Bongani Dlamini',
      leaderIsSelf: false,
      message,
    };
    expect(codeChangedText({ codeChange: change, leader: '2', participants: people })).toBe(message);
    expect(codeChangedText({ leader: '5', participants: people })).toMatch(
      /^This room now holds the meeting keys/,
    );
    expect(codeChangedText({ leader: '2', participants: people })).not.toMatch(/the host/i);
  });
});

describe('the meetings the idle screen lists', () => {
  const at = (iso: string) => Date.parse(iso);
  const m = (title: string, start: string, end: string) => ({ title, start, end });
  it('late in the evening, the meeting after midnight is listed; ended and far-off ones are not', () => {
    const schedule = [
      m('after midnight', '2026-11-27T00:15:00Z', '2026-11-27T01:15:00Z'),
      m('running', '2026-11-26T23:00:00Z', '2026-11-26T23:45:00Z'),
      m('over', '2026-11-26T21:00:00Z', '2026-11-26T22:00:00Z'),
      m('tomorrow afternoon', '2026-11-27T14:00:00Z', '2026-11-27T15:00:00Z'),
    ];
    expect(upcomingMeetings(schedule, at('2026-11-26T23:30:00Z')).map((x) => x.title)).toEqual([
      'running',
      'after midnight',
    ]);
  });
});
