/**
 * Identity certificates and meeting policies (src/e2ee/certificate.ts, src/e2ee/policy.ts;
 * docs/protocol.md "Identity certificates", "Meeting policy"): values a relay, a provisioning bundle or
 * another participant hands over. parseCertificate returns a certificate or throws e2ee.malformed;
 * checkIdentity and verifyMeetingPolicy are total (a typed result, never a throw). Invariants: a
 * genuine certificate and policy verify; what parses parses again to itself; a mutated signed value
 * never verifies as something its signer did not sign.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { toB64u } from '../../src/e2ee/bytes.ts';
import { checkIdentity, issueCertificate, parseCertificate } from '../../src/e2ee/certificate.ts';
import { signMeetingPolicy, verifyMeetingPolicy } from '../../src/e2ee/policy.ts';
import { mutatedJsonText } from '../lib/mutate.ts';
import { type FuzzTarget, invariant, sameValue, typed } from '../lib/target.ts';

const CONTRACT = ['e2ee.malformed'] as const;
const WALL = Date.UTC(2026, 10, 26);

// Fixed keys: the fuzz input is the value, not the keys.
const anchorSecret = new Uint8Array(32).fill(1);
const subjectSecret = new Uint8Array(32).fill(2);
const subject = ed25519.getPublicKey(subjectSecret);
const anchor = { org: 'Acme Corp', publicKey: toB64u(ed25519.getPublicKey(anchorSecret)) };
const cert = issueCertificate(
  {
    org: 'Acme Corp',
    name: 'Boardroom 4',
    kind: 'room',
    key: subject,
    notBefore: WALL - 1000,
    notAfter: WALL + 1000,
  },
  anchorSecret,
);
const policy = signMeetingPolicy(
  { meetingId: '123-456-789', encryption: 'e2ee', issuedAt: WALL, cert },
  { publicKey: subject, secretKey: subjectSecret },
);
const GENUINE = [JSON.stringify(cert), JSON.stringify(policy)];

function run(text: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return;
    throw error;
  }
  const c = typed(CONTRACT, () => parseCertificate(value));
  if (c.ok) {
    invariant(
      sameValue(parseCertificate(JSON.parse(JSON.stringify(c.value))), c.value),
      'certificate reparses differently',
    );
    const check = checkIdentity(subject, c.value, [anchor], WALL);
    // Only the genuine certificate (or one with an equal signed content) may verify.
    if (check.status === 'verified')
      invariant(
        check.org === cert.org && check.name === cert.name && check.kind === cert.kind,
        'a mutated certificate verified with other content',
      );
  }
  const p = verifyMeetingPolicy(value, { meetingId: '123456789', anchors: [anchor], wallNow: WALL });
  invariant(typeof p.ok === 'boolean', 'verifyMeetingPolicy gave no result');
  if (p.ok)
    invariant(
      p.encryption === 'e2ee' && p.policy.meetingId === policy.meetingId,
      'a mutated policy verified',
    );
}

export const identity: FuzzTarget<string> = {
  name: 'identity',
  about:
    'src/e2ee/certificate.ts and policy.ts: certificates and signed meeting policies from untrusted JSON',
  arbitrary: () =>
    fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(...GENUINE) },
      { weight: 8, arbitrary: mutatedJsonText(GENUINE.map((g) => JSON.parse(g) as unknown)) },
      { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
    ),
  run(input) {
    if (GENUINE.includes(input)) {
      const parsed = JSON.parse(input) as Record<string, unknown>;
      if ('sig' in parsed && 'org' in parsed)
        invariant(
          checkIdentity(subject, parseCertificate(parsed), [anchor], WALL).status === 'verified',
          'the genuine certificate did not verify',
        );
      else
        invariant(
          verifyMeetingPolicy(parsed, { meetingId: '123-456-789', anchors: [anchor], wallNow: WALL }).ok,
          'the genuine policy did not verify',
        );
    }
    run(input);
  },
  fromBytes: (bytes) => Buffer.from(bytes).toString('utf8'),
  seeds: () => [
    { note: 'genuine certificate', input: GENUINE[0] as string },
    { note: 'genuine policy', input: GENUINE[1] as string },
    { note: 'policy downgraded to enhanced', input: (GENUINE[1] as string).replace('"e2ee"', '"enhanced"') },
    { note: 'certificate renamed', input: (GENUINE[0] as string).replace('Boardroom 4', 'Boardroom 5') },
  ],
};
