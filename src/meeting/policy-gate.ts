/**
 * The weakest encryption the room accepts for one meeting (docs/protocol.md "Meeting policy"), as a
 * pure function of what it knows: the room's setting `encryption.minimum`, the encryption its
 * schedule lists, the verified policy it pinned for the meeting, and the policy the relay sent in
 * `meeting-info`. The strongest of them wins; a policy counts only once it verified
 * (`verifyMeetingPolicy`), so the relay can add strength but never take it away.
 */
import {
  type MeetingPolicy,
  type PolicyCheck,
  type PolicyExpectation,
  strongerMode,
  verifyMeetingPolicy,
} from '../e2ee/index.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';

export interface MinimumInputs {
  /** The meeting the room asked for. */
  meetingId: string;
  /** The room's setting `encryption.minimum`. */
  setting: EncryptionMode;
  /** The encryption the room's schedule lists for the meeting, if it is booked. */
  booked?: EncryptionMode;
  /** A verified policy pinned earlier for this meeting. */
  pinned?: MeetingPolicy;
  /** The (unverified) policy in `meeting-info`, if any. */
  offered?: unknown;
  /** Anchors, wall clock and keys trusted outright, to verify `offered`. */
  trust: Omit<PolicyExpectation, 'meetingId'>;
}

/** Why the minimum is what it is: the most specific source that asks for it. */
export type MinimumSource = 'setting' | 'booking' | 'policy';

export type RefusedPolicy = Extract<PolicyCheck, { ok: false }>;

export type MinimumDecision =
  | {
      ok: true;
      minimum: EncryptionMode;
      source: MinimumSource;
      /** The offered policy, verified: pin it. */
      verified: MeetingPolicy | null;
      /** The offered policy, refused as counting for nothing (forged, untrusted, malformed). */
      ignored: RefusedPolicy | null;
    }
  /** The relay sent the genuine policy of another meeting: refuse the meeting. */
  | { ok: false; code: 'e2ee.policy_mismatch'; message: string; check: RefusedPolicy };

export function meetingMinimum(i: MinimumInputs): MinimumDecision {
  let verified: MeetingPolicy | null = null;
  let ignored: RefusedPolicy | null = null;
  if (i.offered !== undefined) {
    const check = verifyMeetingPolicy(i.offered, { ...i.trust, meetingId: i.meetingId });
    if (check.ok) verified = check.policy;
    else if (check.reason === 'wrong_meeting') {
      return {
        ok: false,
        code: 'e2ee.policy_mismatch',
        message: `The meeting service sent the signed encryption policy of meeting ${check.meetingId ?? '?'} for meeting ${i.meetingId}, so the room left.`,
        check,
      };
    } else ignored = check;
  }
  const signedE2ee = i.pinned?.encryption === 'e2ee' || verified?.encryption === 'e2ee';
  const minimum: EncryptionMode = signedE2ee ? 'e2ee' : strongerMode(i.setting, i.booked);
  const source: MinimumSource = signedE2ee ? 'policy' : i.booked === 'e2ee' ? 'booking' : 'setting';
  return { ok: true, minimum, source, verified, ignored };
}

/**
 * The refusal when the relay offers the meeting with less than the minimum, in words for the room
 * screen; null when the offer is acceptable. `joined`: the room was already in the meeting.
 */
export function belowMinimum(
  d: Extract<MinimumDecision, { ok: true }>,
  offered: EncryptionMode,
  joined: boolean,
): string | null {
  if (d.minimum !== 'e2ee' || offered === 'e2ee') return null;
  const action = joined ? 'so the room left the meeting' : 'so the room did not join';
  let text: string;
  if (d.source === 'policy') {
    text = `This meeting's host signed it as end-to-end encrypted, but the meeting service offered it with weaker encryption, ${action}.`;
  } else if (d.source === 'booking') {
    text = `This meeting was booked as end-to-end encrypted, but the meeting service offered it with weaker encryption, ${action}.`;
  } else {
    text = joined
      ? 'The meeting service tried to turn off end-to-end encryption, so the room left the meeting.'
      : 'This room only joins end-to-end encrypted meetings, and this meeting is not one.';
  }
  return d.ignored === null ? text : `${text} (${d.ignored.message})`;
}
