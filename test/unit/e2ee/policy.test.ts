// Meeting policies (docs/protocol.md "Meeting policy"): signed by the host, verified only when the
// signature holds AND the host is trusted (its certificate checks against the anchors, or its key
// is trusted outright). Every way a relay could cheat must come back as a typed refusal, never a throw.
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  issueCertificate,
  type MeetingPolicy,
  parseMeetingPolicy,
  signMeetingPolicy,
  strongerMode,
  type TrustAnchor,
  verifyMeetingPolicy,
} from '../../../src/e2ee/index.ts';
import { policyBytes } from '../../../src/e2ee/policy.ts';
import { fromBase64Url, toBase64Url } from '../../../src/protocol/codec.ts';

const NOW = Date.UTC(2026, 2, 1, 9);
const DAY = 86_400_000;

function keyPair() {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

const org = keyPair();
const anchors: TrustAnchor[] = [{ org: 'Acme Corp', publicKey: toBase64Url(org.publicKey) }];
const host = keyPair();
const hostCert = issueCertificate(
  {
    org: 'Acme Corp',
    name: 'Board room',
    kind: 'room',
    key: host.publicKey,
    notBefore: NOW - DAY,
    notAfter: NOW + 30 * DAY,
  },
  org.secretKey,
);
const MEETING = '123-4567-8901';

function signed(over: Partial<{ meetingId: string; encryption: 'e2ee' | 'enhanced' }> = {}): MeetingPolicy {
  return signMeetingPolicy(
    { meetingId: MEETING, encryption: 'e2ee', issuedAt: NOW, cert: hostCert, ...over },
    host,
  );
}

const expectation = { meetingId: MEETING, anchors, wallNow: NOW };

describe('meeting policy: signing and verifying', () => {
  it('a policy signed by a certified host verifies, naming who vouches for the host', () => {
    const check = verifyMeetingPolicy(signed(), expectation);
    expect(check).toMatchObject({
      ok: true,
      encryption: 'e2ee',
      host: { trust: 'certificate', org: 'Acme Corp', name: 'Board room' },
    });
  });

  it('survives the trip through JSON, as the relay stores and returns it', () => {
    const wire = JSON.parse(JSON.stringify(signed())) as unknown;
    expect(verifyMeetingPolicy(wire, expectation).ok).toBe(true);
  });

  it('the signature is plain Ed25519 over H(ctx_policy) ‖ H(P): noble verifies it too', () => {
    const p = signed();
    const { sig, ...unsigned } = p;
    const message = new Uint8Array([
      ...sha256(new TextEncoder().encode('roomd-e2ee v1 meeting policy')),
      ...sha256(policyBytes(unsigned)),
    ]);
    expect(ed25519.verify(fromBase64Url(sig), message, host.publicKey, { zip215: false })).toBe(true);
  });

  it("a room's own key verifies without any certificate or anchor", () => {
    const own = signMeetingPolicy({ meetingId: MEETING, encryption: 'e2ee', issuedAt: NOW }, host);
    expect(verifyMeetingPolicy(own, { ...expectation, anchors: [] })).toMatchObject({
      ok: false,
      reason: 'untrusted_host',
      identity: 'no_certificate',
    });
    expect(
      verifyMeetingPolicy(own, { ...expectation, anchors: [], trustedHosts: [toBase64Url(host.publicKey)] }),
    ).toMatchObject({ ok: true, host: { trust: 'key' } });
  });

  it('meeting ids compare without their dashes', () => {
    expect(verifyMeetingPolicy(signed(), { ...expectation, meetingId: '12345678901' }).ok).toBe(true);
    const bare = signed({ meetingId: '12345678901' });
    expect(verifyMeetingPolicy(bare, expectation).ok).toBe(true);
  });

  it('strongerMode: e2ee wins', () => {
    expect(strongerMode('enhanced', 'e2ee')).toBe('e2ee');
    expect(strongerMode('e2ee', undefined)).toBe('e2ee');
    expect(strongerMode('enhanced', null)).toBe('enhanced');
  });
});

describe('meeting policy: what the relay cannot do', () => {
  it('forge one with a key it made: it counts for nothing, with or without a certificate it made', () => {
    const relay = keyPair();
    const bare = signMeetingPolicy({ meetingId: MEETING, encryption: 'enhanced', issuedAt: NOW }, relay);
    const check = verifyMeetingPolicy(bare, expectation);
    expect(check).toMatchObject({ ok: false, reason: 'untrusted_host', identity: 'no_certificate' });
    if (!check.ok) expect(check.message).toMatch(/key this room does not trust \(no certificate\)/);

    // Its own "organization" with the same name: not the anchor the room trusts.
    const fakeOrg = keyPair();
    const fakeCert = issueCertificate(
      { ...hostCert, key: relay.publicKey, notBefore: NOW - DAY, notAfter: NOW + DAY },
      fakeOrg.secretKey,
    );
    const dressed = signMeetingPolicy(
      { meetingId: MEETING, encryption: 'enhanced', issuedAt: NOW, cert: fakeCert },
      relay,
    );
    expect(verifyMeetingPolicy(dressed, expectation)).toMatchObject({
      ok: false,
      reason: 'untrusted_host',
      identity: 'unknown_organization',
    });

    // The host's real certificate next to the relay's key: the certificate is for another key.
    const borrowed = signMeetingPolicy(
      { meetingId: MEETING, encryption: 'enhanced', issuedAt: NOW, cert: hostCert },
      relay,
    );
    expect(verifyMeetingPolicy(borrowed, expectation)).toMatchObject({
      ok: false,
      reason: 'untrusted_host',
      identity: 'wrong_key',
    });
  });

  it('serve the policy of another meeting: wrong_meeting, naming it', () => {
    const other = signed({ meetingId: '999-0000-1111' });
    const check = verifyMeetingPolicy(other, expectation);
    expect(check).toMatchObject({ ok: false, reason: 'wrong_meeting', meetingId: '999-0000-1111' });
    if (!check.ok) expect(check.message).toContain('999-0000-1111');
  });

  it('tamper with any field: the signature no longer verifies', () => {
    const p = signed();
    const tampered: unknown[] = [
      { ...p, encryption: 'enhanced' },
      { ...p, meetingId: '123-4567-8902' },
      { ...p, issuedAt: p.issuedAt + 1 },
      { ...p, host: toBase64Url(keyPair().publicKey) },
      { ...p, cert: { ...hostCert, name: 'Lobby' } },
    ];
    const { cert: _cert, ...withoutCert } = p;
    tampered.push(withoutCert);
    for (const t of tampered) {
      const check = verifyMeetingPolicy(t, expectation);
      expect(check.ok).toBe(false);
      // A changed certificate name also breaks the certificate itself; either way it is refused.
      if (!check.ok) expect(['bad_signature', 'untrusted_host']).toContain(check.reason);
    }
    expect(verifyMeetingPolicy({ ...p, encryption: 'enhanced' }, expectation)).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('an expired (or not yet valid) host certificate: the host is not trusted', () => {
    const expired = issueCertificate(
      { ...hostCert, key: host.publicKey, notBefore: NOW - 10 * DAY, notAfter: NOW - DAY },
      org.secretKey,
    );
    const p = signMeetingPolicy(
      { meetingId: MEETING, encryption: 'e2ee', issuedAt: NOW, cert: expired },
      host,
    );
    expect(verifyMeetingPolicy(p, expectation)).toMatchObject({
      ok: false,
      reason: 'untrusted_host',
      identity: 'expired',
    });
    expect(verifyMeetingPolicy(signed(), { ...expectation, wallNow: NOW - 2 * DAY })).toMatchObject({
      ok: false,
      identity: 'not_yet_valid',
    });
  });

  it('the signature covers the context string: bytes signed in another role never verify as a policy', () => {
    const p = signed();
    const { sig: _sig, ...unsigned } = p;
    // The raw canonical bytes, signed without the policy context prefix.
    const wrongRole = toBase64Url(ed25519.sign(policyBytes(unsigned), host.secretKey));
    expect(verifyMeetingPolicy({ ...p, sig: wrongRole }, expectation)).toMatchObject({
      reason: 'bad_signature',
    });
  });
});

describe('meeting policy: a total parser with bounds', () => {
  const p = signed();
  const cases: [string, unknown][] = [
    ['null', null],
    ['a string', 'policy'],
    ['an array', [p]],
    ['an unknown field', { ...p, extra: 1 }],
    ['too many fields', { ...p, a: 1, b: 2, c: 3, d: 4 }],
    ['another version', { ...p, v: 2 }],
    ['a meeting id too long', { ...p, meetingId: '1'.repeat(65) }],
    ['a meeting id with spaces', { ...p, meetingId: '123 456' }],
    ['an unknown encryption', { ...p, encryption: 'none' }],
    ['a short host key', { ...p, host: 'AAAA' }],
    ['a host key that is not base64url', { ...p, host: '!'.repeat(43) }],
    ['a huge host string', { ...p, host: 'A'.repeat(1_000_000) }],
    ['a negative time', { ...p, issuedAt: -1 }],
    ['a fractional time', { ...p, issuedAt: 1.5 }],
    ['an unsafe time', { ...p, issuedAt: 2 ** 60 }],
    ['a short signature', { ...p, sig: 'AAAA' }],
    ['a certificate with an unknown field', { ...p, cert: { ...hostCert, extra: true } }],
    ['a certificate that is not an object', { ...p, cert: 'cert' }],
    ['a deep certificate', { ...p, cert: JSON.parse(`${'['.repeat(5000)}${']'.repeat(5000)}`) }],
  ];
  for (const [what, value] of cases) {
    it(`refuses ${what} as malformed`, () => {
      expect(parseMeetingPolicy(value).ok).toBe(false);
      const check = verifyMeetingPolicy(value, expectation);
      expect(check).toMatchObject({ ok: false, reason: 'malformed' });
      if (!check.ok) expect(check.message.length).toBeLessThan(300);
    });
  }

  it('never throws on any JSON value (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(verifyMeetingPolicy(v, expectation).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on a policy with any one field replaced (property)', () => {
    const keys = ['v', 'meetingId', 'encryption', 'host', 'cert', 'issuedAt', 'sig'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (k, v) => {
        const check = verifyMeetingPolicy({ ...p, [k]: v }, expectation);
        if (check.ok) expect(check.policy[k]).toEqual(p[k]);
      }),
      { numRuns: 500 },
    );
  });
});
