/**
 * Sentences the room screen derives from the state (docs/kiosk-and-admin-api.md §Room screen),
 * kept apart from the components so they are tested without a browser: who reads the security
 * code aloud, what the code-changed banner says, what the joining screen may claim.
 */
import type { MeetingState } from '../../../src/http/schemas/state.ts';

type Meeting = Pick<
  MeetingState,
  'leader' | 'participants' | 'codeChange' | 'encryption' | 'encryptionConfirmed' | 'status'
>;

/** The name of whoever holds the meeting keys (the leader), and whether it is this room. */
export function keyHolder(
  m: Pick<Meeting, 'leader' | 'participants'>,
): { name: string; self: boolean } | null {
  const p = m.leader === null ? undefined : m.participants.find((x) => x.id === m.leader);
  return p === undefined ? null : { name: p.name, self: p.self === true };
}

/** The label over the security code: who reads it aloud. */
export function codeLabel(m: Pick<Meeting, 'leader' | 'participants'>): string {
  const holder = keyHolder(m);
  if (holder === null) return 'Security code — check that yours matches the one read aloud';
  if (holder.self) return 'Security code — this room holds the keys: read it aloud; everyone checks theirs';
  return `Security code — ${holder.name} holds the keys and reads it aloud; check that yours matches`;
}

/** The code-changed banner's sentence after its bold "The security code has changed." */
export function codeChangedText(m: Pick<Meeting, 'codeChange' | 'leader' | 'participants'>): string {
  if (m.codeChange !== undefined && m.codeChange !== null) return m.codeChange.message;
  const holder = keyHolder(m);
  if (holder?.self === true)
    return 'This room now holds the meeting keys: read the new code aloud and ask everyone to check that theirs matches.';
  if (holder !== null)
    return `${holder.name} now holds the meeting keys: ask them to read the new code aloud and check that it matches yours.`;
  return 'Someone else now holds the meeting keys: check the new code with the others.';
}

/**
 * The joining screen's line about encryption: nothing until the meeting service has said how the
 * meeting is protected (a wrong meeting ID is not "end-to-end encrypted").
 */
export function joiningLead(m: Pick<Meeting, 'encryption' | 'encryptionConfirmed'>): string {
  if (m.encryptionConfirmed === false) return 'Asking the meeting service for this meeting…';
  return m.encryption === 'e2ee'
    ? 'End-to-end encrypted: the security code appears once every participant’s keys are checked.'
    : 'Encrypted in transit; the meeting service holds the keys.';
}
