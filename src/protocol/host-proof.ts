/**
 * The bytes a host signs to prove to the relay that it holds the meeting's host identity key
 * (docs/protocol.md "# Wire protocol" §Host proof). Binds the relay's per-connection nonce and the
 * meeting id so a proof cannot be replayed on another connection or meeting.
 */

export const HOST_PROOF_CONTEXT = 'roomd wire v1 host proof';

export function hostProofMessage(nonce: Uint8Array, meetingId: string): Uint8Array {
  const ctx = Buffer.from(HOST_PROOF_CONTEXT, 'utf8');
  const id = Buffer.from(meetingId, 'utf8');
  const out = new Uint8Array(ctx.length + 1 + nonce.length + id.length);
  out.set(ctx, 0);
  out[ctx.length] = 0;
  out.set(nonce, ctx.length + 1);
  out.set(id, ctx.length + 1 + nonce.length);
  return out;
}
