/**
 * The participant role's side of a key delivery (`participant.ts`; docs/protocol.md "Protocol",
 * "Messages"): unwrapping the meeting key bound to the delivery's context, and the acknowledgement
 * that binds our next liveness nonce.
 */
import type { VerifiedBinding } from './binding.ts';
import { fromB64u, toB64u } from './bytes.ts';
import type { KeyMessage } from './messages.ts';
import { ackMac, type PairKeys, unwrapMeetingKey, wipePairKeys } from './pair.ts';
import type { ParticipantOptions } from './participant-options.ts';
import type { E2eeEffect, ParticipantId } from './types.ts';

/**
 * The meeting key of `msg`, unwrapped under `pair` with the delivery's full context (`lb`: the
 * leader's binding, `self`: ours). `candidate` is a pair secret from this delivery's KEM ciphertext
 * that is not adopted yet: when the delivery does not authenticate under it, it is wiped and the
 * error thrown on.
 */
export function unwrapDelivery(
  msg: KeyMessage,
  nonce: Uint8Array,
  pair: PairKeys,
  candidate: PairKeys | null,
  lb: VerifiedBinding,
  self: VerifiedBinding,
): Uint8Array {
  const ctx = {
    meetingId: msg.meetingId,
    instanceId: msg.instanceId,
    leaderId: msg.leaderId,
    recipientId: msg.recipientId,
    epoch: msg.epoch,
    slot: msg.slot,
    switchMode: msg.switch,
    nonce,
    leaderHash: lb.hash,
    recipientHash: self.hash,
  };
  let key: Uint8Array;
  try {
    key = unwrapMeetingKey(pair.wrapKey, fromB64u(msg.iv), ctx, fromB64u(msg.box));
  } catch (err) {
    if (candidate !== null) wipePairKeys(candidate);
    throw err;
  }
  return key;
}

/** The `e2ee.ack` to the leader for `epoch`, carrying our next liveness nonce `next`. */
export function ackEffect(
  o: ParticipantOptions,
  leaderId: ParticipantId,
  epoch: number,
  next: Uint8Array,
  pair: PairKeys,
): E2eeEffect {
  const ctx = {
    meetingId: o.meetingId,
    instanceId: o.instanceId,
    leaderId,
    participantId: o.selfId,
    epoch,
    nonce: next,
  };
  return {
    type: 'send',
    to: leaderId,
    message: {
      t: 'e2ee.ack',
      v: 1,
      ...ctx,
      nonce: toB64u(next),
      mac: toB64u(ackMac(pair.ackKey, ctx)),
    },
  };
}
