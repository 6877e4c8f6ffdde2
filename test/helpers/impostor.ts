/**
 * What a malicious relay can make on its own: a binding in a victim's name, signed with a key the
 * relay generated (bindings are self-signed; docs/protocol.md "Binding pinning", "Identity
 * certificates"). Used by the attack tests, pure and over the real relay.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { makeEphemeralKeys, signBinding } from '../../src/e2ee/binding.ts';
import type { BindingMessage } from '../../src/e2ee/messages.ts';

/**
 * The victim's binding re-signed with fresh attacker keys: same ids, names and capabilities, the
 * relay's own identity and ephemeral keys. `keepCert` copies the victim's certificate into it (which
 * names the victim's key, not the attacker's).
 */
export function impostorOf(
  victim: BindingMessage,
  o: { keepCert?: boolean; nonceFill?: number } = {},
): BindingMessage {
  const b = victim.binding;
  const secret = ed25519.utils.randomSecretKey();
  return signBinding({
    meetingId: b.meetingId,
    instanceId: b.instanceId,
    participantId: b.participantId,
    deviceId: b.deviceId,
    displayName: b.displayName,
    client: b.client,
    caps: b.caps,
    identityPublic: ed25519.getPublicKey(secret),
    identitySecret: secret,
    keys: makeEphemeralKeys(),
    nonce: new Uint8Array(16).fill(o.nonceFill ?? 1),
    ...(o.keepCert === true && b.cert !== undefined ? { cert: b.cert } : {}),
  });
}
