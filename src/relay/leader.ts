/**
 * Leader assignment (docs/protocol.md §Leader: the relay names the leader): the host when present and
 * E2EE-capable, otherwise the longest-present E2EE-capable participant; none if nobody qualifies.
 */

export interface LeaderCandidate {
  participantId: string;
  host: boolean;
  e2eeCapable: boolean;
  /** Admission order within the meeting occurrence (lower = longer present). */
  seq: number;
}

export interface LeaderChoice {
  participantId: string | null;
  reason: 'host' | 'longest_present' | 'none';
}

export function chooseLeader(candidates: readonly LeaderCandidate[]): LeaderChoice {
  const capable = candidates.filter((c) => c.e2eeCapable);
  const host = capable.filter((c) => c.host).sort((a, b) => a.seq - b.seq)[0];
  if (host !== undefined) return { participantId: host.participantId, reason: 'host' };
  const oldest = [...capable].sort((a, b) => a.seq - b.seq)[0];
  if (oldest !== undefined) return { participantId: oldest.participantId, reason: 'longest_present' };
  return { participantId: null, reason: 'none' };
}
