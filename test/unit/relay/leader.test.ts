// Leader assignment: docs/protocol.md §Leader (host if present, else longest-present E2EE participant).
import { describe, expect, it } from 'vitest';
import { chooseLeader } from '../../../src/relay/leader.ts';

const p = (participantId: string, seq: number, host = false, e2eeCapable = true) => ({
  participantId,
  seq,
  host,
  e2eeCapable,
});

describe('chooseLeader', () => {
  it('names the host when present', () => {
    expect(chooseLeader([p('1', 1), p('2', 2, true), p('3', 3)])).toEqual({
      participantId: '2',
      reason: 'host',
    });
  });

  it('otherwise names the longest-present E2EE-capable participant', () => {
    expect(chooseLeader([p('5', 5), p('3', 3), p('4', 4)])).toEqual({
      participantId: '3',
      reason: 'longest_present',
    });
    expect(chooseLeader([p('1', 1, false, false), p('2', 2)])).toEqual({
      participantId: '2',
      reason: 'longest_present',
    });
  });

  it('never names a host that cannot do E2EE', () => {
    expect(chooseLeader([p('1', 1, true, false), p('2', 2)])).toEqual({
      participantId: '2',
      reason: 'longest_present',
    });
  });

  it('names nobody when nobody qualifies', () => {
    expect(chooseLeader([p('1', 1, false, false)])).toEqual({ participantId: null, reason: 'none' });
    expect(chooseLeader([])).toEqual({ participantId: null, reason: 'none' });
  });
});
