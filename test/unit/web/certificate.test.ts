// A certificate pasted into the web client (web/src/certificate.ts): taken when it is one, for this
// browser's key and not expired; anything else gets a sentence saying what is wrong.
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../../src/e2ee/certificate.ts';
import { certificateFor } from '../../../web/src/certificate.ts';

const NOW = Date.UTC(2026, 10, 27);
const orgSecret = ed25519.utils.randomSecretKey();
const browserKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
const otherKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
const issue = (key: Uint8Array, notAfter = NOW + 86_400_000) =>
  issueCertificate(
    { org: 'Acme', name: 'Dana', kind: 'person', key, notBefore: NOW - 60_000, notAfter },
    orgSecret,
  );

describe('certificateFor', () => {
  it('takes a certificate for this browser’s key', () => {
    const cert = issue(browserKey);
    expect(certificateFor(JSON.stringify(cert), browserKey, NOW)).toEqual({ ok: true, cert });
  });

  it('refuses, in words: another key, expired, not JSON, too long, not a certificate', () => {
    const refused = (text: string) => {
      const r = certificateFor(text, browserKey, NOW);
      return r.ok ? 'taken' : r.message;
    };
    expect(refused(JSON.stringify(issue(otherKey)))).toContain('another key');
    expect(refused(JSON.stringify(issue(browserKey, NOW - 1)))).toContain('expired');
    expect(refused('{"v":1,')).toContain('not JSON');
    expect(refused(' '.repeat(5000))).toContain('too long');
    expect(refused(JSON.stringify({ ...issue(browserKey), extra: 1 }))).toContain('not a certificate');
    expect(refused('[]')).toContain('not a certificate');
    // A name changed after signing, or a certificate not yet valid.
    expect(refused(JSON.stringify({ ...issue(browserKey), name: 'CEO' }))).toContain('not signed');
    const early = issueCertificate(
      {
        org: 'Acme',
        name: 'Dana',
        kind: 'person',
        key: browserKey,
        notBefore: NOW + 60_000,
        notAfter: NOW + 120_000,
      },
      orgSecret,
    );
    expect(refused(JSON.stringify(early))).toContain('not valid yet');
  });
});
