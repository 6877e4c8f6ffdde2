// What a link's organization means to the web client (web/src/trust-store.ts): nothing new without
// the person's word, the known key trusted, another key for a known organization refused; the list
// never replaces an organization's key and stays bounded.
import { describe, expect, it } from 'vitest';
import { CERT_LIMITS } from '../../../src/e2ee/certificate.ts';
import { anchorFingerprint, linkTrust, withAnchor } from '../../../web/src/trust-store.ts';

const acme = { org: 'Acme', publicKey: 'A'.repeat(43) };
const acmeOther = { org: 'Acme', publicKey: 'B'.repeat(43) };
const other = { org: 'Other', publicKey: 'C'.repeat(43) };

describe('linkTrust', () => {
  it('no organization in the link: nothing to decide', () => {
    expect(linkTrust(null, [acme])).toEqual({ kind: 'none' });
  });
  it('a new organization is only a proposal; a known one with its key is trusted', () => {
    expect(linkTrust(acme, [])).toEqual({ kind: 'new', anchor: acme });
    expect(linkTrust(acme, [other, acme])).toEqual({ kind: 'known', anchor: acme });
  });
  it('another key for a known organization is a conflict, never trusted', () => {
    expect(linkTrust(acmeOther, [acme])).toEqual({ kind: 'conflict', anchor: acmeOther, known: acme });
  });
});

describe('withAnchor', () => {
  it('adds a new organization, never replaces a known one’s key, stays bounded', () => {
    expect(withAnchor([], acme)).toEqual([acme]);
    expect(withAnchor([acme], acmeOther)).toEqual([acme]);
    const many = Array.from({ length: CERT_LIMITS.maxAnchors }, (_, i) => ({
      org: `O${i}`,
      publicKey: acme.publicKey,
    }));
    expect(withAnchor(many, other)).toHaveLength(CERT_LIMITS.maxAnchors);
  });
  it('fingerprints the anchor key as people compare it', () => {
    expect(anchorFingerprint(acme)).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
  });
});
