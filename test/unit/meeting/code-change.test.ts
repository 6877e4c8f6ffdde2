// What the "security code changed" banner says (docs/kiosk-and-admin-api.md §Room screen): who left
// if that is why, and who holds the meeting keys now — never "the host" for someone else.
import { describe, expect, it } from 'vitest';
import { type CodeChange, codeChangeText } from '../../../src/meeting/status.ts';

const change = (c: Partial<CodeChange>): CodeChange => ({
  previousLeader: 'Alice Moreau',
  previousLeaderHost: true,
  previousLeaderLeft: true,
  leader: 'Bongani Dlamini',
  leaderIsSelf: false,
  ...c,
});

describe('codeChangeText', () => {
  it('the host left and someone else holds the keys: ask them', () => {
    expect(codeChangeText(change({}), 'Huddle Room 3')).toBe(
      'The host, Alice Moreau, left. Bongani Dlamini now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.',
    );
  });

  it('the host left and this room holds the keys: the room reads the code aloud', () => {
    const text = codeChangeText(change({ leader: 'Huddle Room 3', leaderIsSelf: true }), 'Huddle Room 3');
    expect(text).toBe(
      'The host, Alice Moreau, left. This room, Huddle Room 3, now holds the meeting keys: read the new code aloud and ask everyone to check that theirs matches.',
    );
    expect(text).not.toContain('Ask the host');
  });

  it('a key holder who was not the host left: named, never called the host', () => {
    const text = codeChangeText(
      change({ previousLeader: 'Bongani Dlamini', previousLeaderHost: false, leader: 'Chen Wei' }),
      'R',
    );
    expect(text).toBe(
      'Bongani Dlamini, who held the meeting keys, left. Chen Wei now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.',
    );
    expect(text).not.toContain('host');
  });

  it('the key holder is still there (the service named another one): no one is said to have left', () => {
    const text = codeChangeText(change({ previousLeaderLeft: false }), 'R');
    expect(text).toBe(
      'Bongani Dlamini now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.',
    );
  });

  it('an unknown previous key holder is not named', () => {
    expect(codeChangeText(change({ previousLeader: null, previousLeaderHost: false }), 'R')).toMatch(
      /^The participant who held the meeting keys left\. Bongani Dlamini now holds/,
    );
    expect(codeChangeText(change({ previousLeader: null }), 'R')).toMatch(/^The host left\. /);
  });
});
