/**
 * The bytes a joiner signs to prove to the relay that it holds an identity key (docs/protocol.md
 * "# Wire protocol" §Host proof): the host proof names the meeting's host key, the identity proof any
 * device's own key. Both bind the relay's per-connection nonce and the meeting id, so a proof cannot
 * be replayed on another connection or meeting; their context strings differ, so one is never the
 * other.
 */
import { utf8Encode } from '../core/encoding.ts';

export const HOST_PROOF_CONTEXT = 'roomd wire v1 host proof';
export const IDENTITY_PROOF_CONTEXT = 'roomd wire v1 identity proof';

function proofMessage(context: string, nonce: Uint8Array, meetingId: string): Uint8Array {
  const ctx = utf8Encode(context);
  const id = utf8Encode(meetingId);
  const out = new Uint8Array(ctx.length + 1 + nonce.length + id.length);
  out.set(ctx, 0);
  out[ctx.length] = 0;
  out.set(nonce, ctx.length + 1);
  out.set(id, ctx.length + 1 + nonce.length);
  return out;
}

/** `UTF-8("roomd wire v1 host proof") ‖ 0x00 ‖ nonce ‖ UTF-8(meetingId)` */
export function hostProofMessage(nonce: Uint8Array, meetingId: string): Uint8Array {
  return proofMessage(HOST_PROOF_CONTEXT, nonce, meetingId);
}

/** `UTF-8("roomd wire v1 identity proof") ‖ 0x00 ‖ nonce ‖ UTF-8(meetingId)` */
export function identityProofMessage(nonce: Uint8Array, meetingId: string): Uint8Array {
  return proofMessage(IDENTITY_PROOF_CONTEXT, nonce, meetingId);
}
