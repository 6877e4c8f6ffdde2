/**
 * What a participant knows about the identities in a verified roster (docs/protocol.md "Identity
 * certificates"; decision record docs/decisions/0012-what-people-compare.md). The leader signs, per
 * roster entry, the identity key and certificate from the member's verified binding; every receiver
 * checks each certificate against the anchors *it* trusts and against its own pins. Signature checks
 * are cached per (key, certificate) so a heartbeat a second costs no Ed25519 work; the validity
 * period is applied afresh every time with the injected wall clock.
 */
import {
  type CertificateCheck,
  checkCertificate,
  type IdentityCertificate,
  type IdentityPinStore,
  type IdentityView,
  identityAt,
  keyFingerprint,
  MemoryIdentityPins,
  pinIdentity,
  type TrustAnchor,
} from './certificate.ts';
import { fromB64u } from './bytes.ts';
import type { RosterEntry } from './messages.ts';

/** What a participant does about members whose identity no trusted organization vouches for. */
export type UnverifiedPolicy = 'allow' | 'warn' | 'refuse';

export interface TrustOptions {
  /** Organizations whose certificates this participant accepts. Default: none. */
  anchors?: readonly TrustAnchor[];
  /** Our own certificate, published in our binding. */
  certificate?: IdentityCertificate;
  /** Keys seen before per (organization, name). Default: in memory for this session. */
  pins?: IdentityPinStore;
  /**
   * `allow`: the roster says who is unverified; the shield ignores it. `warn` (default): the shield
   * is not green (partial) while a member whose identity is not verified holds the meeting key.
   * `refuse`: as leader, keys only verified members (the others are listed, not keyed). Without any
   * trust anchor nobody can be verified: `warn` then means no green shield while anyone else holds
   * the key, and `refuse` acts as `warn`. Default: `warn` with anchors, `allow` without.
   */
  unverified?: UnverifiedPolicy;
  /** Wall-clock ms since the Unix epoch, for certificate validity (the protocol's `now` is monotonic). */
  wallClock?: () => number;
}

const CACHE_MAX = 4096;

export class RosterIdentities {
  readonly anchors: readonly TrustAnchor[];
  readonly pins: IdentityPinStore;
  readonly policy: UnverifiedPolicy;
  readonly #wall: () => number;
  readonly #cache = new Map<string, { check: CertificateCheck; fingerprint: string }>();

  constructor(trust: TrustOptions = {}) {
    this.anchors = trust.anchors ?? [];
    this.pins = trust.pins ?? new MemoryIdentityPins();
    // Without an anchor nobody can be verified: `warn` then keeps every shield that shares the key
    // with anyone else from green (the people compare codes aloud instead), and `refuse`, which would
    // key nobody, acts as `warn`. Unconfigured, a participant without anchors allows.
    const asked = trust.unverified ?? (this.anchors.length === 0 ? 'allow' : 'warn');
    this.policy = this.anchors.length === 0 && asked === 'refuse' ? 'warn' : asked;
    this.#wall = trust.wallClock ?? Date.now;
  }

  /** The identity behind a (validated) base64url key and optional certificate. */
  view(ivkB64: string, cert: IdentityCertificate | undefined): IdentityView {
    if (ivkB64 === '') return { status: 'none' };
    const k = cert === undefined ? ivkB64 : `${ivkB64}|${cert.sig}`;
    let hit = this.#cache.get(k);
    if (hit === undefined) {
      const ivk = fromB64u(ivkB64, 'ivk');
      hit = { check: checkCertificate(ivk, cert, this.anchors), fingerprint: keyFingerprint(ivk) };
      if (this.#cache.size >= CACHE_MAX) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.set(k, hit);
    }
    return pinIdentity(identityAt(hit.check, hit.fingerprint, this.#wall()), ivkB64, this.pins);
  }

  entry(e: RosterEntry): IdentityView {
    return this.view(e.ivk, e.cert);
  }

  /** Whether the policy lets a member with this identity hold the meeting key (leader side). */
  admits(v: IdentityView): boolean {
    return this.policy !== 'refuse' || v.status === 'verified';
  }

  /** Whether a keyed member with this identity keeps the shield from green (receiver side). */
  blocksShield(v: IdentityView): boolean {
    return this.policy !== 'allow' && v.status !== 'verified';
  }
}
