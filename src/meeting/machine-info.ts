/**
 * The state machine's check of a `meeting-info` (machine.ts; docs/protocol.md "Meeting policy"): is
 * it the meeting the room asked for, and is it protected at least as well as the room's minimum — the
 * strongest of its setting, the booking, the host-signed policy pinned for the meeting and a verified
 * policy in this meeting-info (policy-gate.ts) — and as well as it was before a reconnect? Pure.
 */
import { bareMeetingId, type MeetingPolicy } from '../e2ee/index.ts';
import { toBase64Url } from '../protocol/codec.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';
import type { MeetingError, MeetingMachineOptions } from './machine-types.ts';
import { belowMinimum, meetingMinimum, type RefusedPolicy } from './policy-gate.ts';

/** The room's identity key counts as a trusted host: a policy the room signed itself verifies. */
export type InfoCheckOptions = Pick<
  MeetingMachineOptions,
  'meetingId' | 'minimumEncryption' | 'bookedEncryption' | 'trust' | 'identity'
>;

export interface InfoVerdict {
  /** The offered policy verified: pin it. */
  pin: MeetingPolicy | null;
  /** The offered policy counted for nothing (forged, untrusted, malformed): count and log it. */
  ignored: RefusedPolicy | null;
  /** Why the room must leave (`counted`: a refused E2EE input), or null to go on. */
  refusal: (MeetingError & { counted: boolean }) | null;
}

/**
 * `wallNow`: the trusted wall clock (epoch ms); `pinned`: the policy pinned for the meeting now;
 * `firstMode`: the encryption the meeting showed first on this session, null before.
 */
export function checkMeetingInfo(
  o: InfoCheckOptions,
  m: ServerMessageOf<'meeting-info'>,
  wallNow: number,
  pinned: MeetingPolicy | undefined,
  firstMode: EncryptionMode | null,
): InfoVerdict {
  const none = { pin: null, ignored: null };
  if (bareMeetingId(m.meetingId) !== bareMeetingId(o.meetingId)) {
    // The relay put us into another meeting than the one we asked for: never key or show it.
    const message = `The meeting service answered for meeting ${m.meetingId} instead of ${o.meetingId}, so the room left.`;
    return { ...none, refusal: { code: 'meeting.wrong_meeting', message, counted: false } };
  }
  const decision = meetingMinimum({
    meetingId: o.meetingId,
    setting: o.minimumEncryption ?? 'enhanced',
    ...(o.bookedEncryption === undefined ? {} : { booked: o.bookedEncryption }),
    ...(pinned === undefined ? {} : { pinned }),
    ...(m.policy === undefined ? {} : { offered: m.policy }),
    trust: { anchors: o.trust?.anchors ?? [], wallNow, trustedHosts: [toBase64Url(o.identity.publicKey)] },
  });
  if (!decision.ok) {
    return { ...none, refusal: { code: decision.code, message: decision.message, counted: true } };
  }
  const verdict = { pin: decision.verified, ignored: decision.ignored };
  const refusal = belowMinimum(decision, m.encryption, firstMode !== null);
  if (refusal !== null) {
    return { ...verdict, refusal: { code: 'e2ee.downgrade', message: refusal, counted: false } };
  }
  if (firstMode === 'e2ee' && m.encryption !== 'e2ee') {
    // Same meeting, weaker encryption after a reconnect: the relay is downgrading us.
    const message =
      'The meeting service tried to turn off end-to-end encryption, so the room left the meeting.';
    return { ...verdict, refusal: { code: 'e2ee.downgrade', message, counted: false } };
  }
  return { ...verdict, refusal: null };
}
