/**
 * The weakest encryption the room accepts for one meeting (docs/protocol.md "Meeting policy"), as a
 * pure function of what it knows: the room's setting `encryption.minimum`, the encryption its
 * schedule lists, the verified policy it pinned for the meeting, and the policy the relay sent in
 * `meeting-info`. The strongest of them wins (under the `booked` setting only a verified `enhanced`
 * booking by a host the room trusts allows less than E2EE); a policy counts only once it verified
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

/**
 * The room's setting `encryption.minimum`: `e2ee` only; `booked` (default) E2EE unless a host the
 * room trusts signed the meeting's booking as `enhanced`; `enhanced` joins either.
 */
export type MinimumSetting = EncryptionMode | 'booked';

/** What a setting asks before anything about the meeting is known. */
export function settingFloor(setting: MinimumSetting | undefined): EncryptionMode {
  return setting === undefined ? 'enhanced' : setting === 'booked' ? 'e2ee' : setting;
}

export interface MinimumInputs {
  /** The meeting the room asked for. */
  meetingId: string;
  /** The room's setting `encryption.minimum`. */
  setting: MinimumSetting;
  /** The encryption the room's schedule lists for the meeting, if it is booked. */
  booked?: EncryptionMode;
  /** A verified policy pinned earlier for this meeting. */
  pinned?: MeetingPolicy;
  /** The (unverified) policy in `meeting-info`, if any. */
  offered?: unknown;
  /** Anchors, wall clock and keys trusted outright, to verify `offered`. */
  trust: Omit<PolicyExpectation, 'meetingId'>;
}

/**
 * Why the minimum is what it is: the most specific source that asks for it (`unsigned`: the
 * `booked` setting, with no signed `enhanced` booking from a trusted host).
 */
export type MinimumSource = 'setting' | 'booking' | 'policy' | 'unsigned';

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
  // `booked`: a host the room trusts (its own key, or one certified by an organization it trusts)
  // booking the meeting `enhanced`, signed, is the one thing that lets the room join with less than
  // E2EE. Nothing the relay says unsigned can.
  const signedEnhanced =
    !signedE2ee && (i.pinned?.encryption === 'enhanced' || verified?.encryption === 'enhanced');
  const floor: EncryptionMode = i.setting === 'booked' ? (signedEnhanced ? 'enhanced' : 'e2ee') : i.setting;
  const minimum: EncryptionMode = signedE2ee ? 'e2ee' : strongerMode(floor, i.booked);
  const source: MinimumSource = signedE2ee
    ? 'policy'
    : i.booked === 'e2ee'
      ? 'booking'
      : i.setting === 'booked'
        ? 'unsigned'
        : 'setting';
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
  } else if (d.source === 'unsigned' && !joined) {
    text =
      'This meeting is not end-to-end encrypted, and no host this room trusts booked it that way, so the room did not join.';
  } else {
    text = joined
      ? 'The meeting service tried to turn off end-to-end encryption, so the room left the meeting.'
      : 'This room only joins end-to-end encrypted meetings, and this meeting is not one.';
  }
  return d.ignored === null ? text : `${text} (${d.ignored.message})`;
}
