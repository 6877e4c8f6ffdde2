/**
 * Identity certificates and the roster code (docs/protocol.md "Identity certificates", "Roster code";
 * docs/decisions/0012-what-people-compare.md). The certificate primitives first, then meetings where
 * the relay swaps, strips or forges identities and what every honest screen shows.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toB64u } from '../../../src/e2ee/bytes.ts';
import { verifyEd25519 } from '../../../src/e2ee/ed25519.ts';
import {
  checkIdentity,
  type IdentityCertificate,
  issueCertificate,
  keyFingerprint,
  MemoryIdentityPins,
  parseCertificate,
  type TrustAnchor,
  type TrustOptions,
  type UnverifiedPolicy,
} from '../../../src/e2ee/index.ts';
import { signHeartbeat, rosterHash } from '../../../src/e2ee/heartbeat.ts';
import { bindingHash } from '../../../src/e2ee/binding.ts';
import type { BindingMessage, HeartbeatMessage, KeyMessage } from '../../../src/e2ee/messages.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { impostorOf } from '../../helpers/impostor.ts';
import { type Envelope, identity, ScriptedRelay } from './harness.ts';

const DAY = 86_400_000;
/** Wall-clock time at the harness's `now` = 0 (certificates need wall time; the protocol's is monotonic). */
const WALL0 = Date.UTC(2026, 10, 26);

interface Org {
  anchor: TrustAnchor;
  secret: Uint8Array;
  issue(
    name: string,
    key: Uint8Array,
    o?: { kind?: 'room' | 'person' | 'bot'; from?: number; days?: number },
  ): IdentityCertificate;
}

function org(name = 'Acme Corp'): Org {
  const secret = ed25519.utils.randomSecretKey();
  return {
    anchor: { org: name, publicKey: toB64u(ed25519.getPublicKey(secret)) },
    secret,
    issue: (certName, key, o = {}) =>
      issueCertificate(
        {
          org: name,
          name: certName,
          kind: o.kind ?? 'person',
          key,
          notBefore: o.from ?? WALL0 - DAY,
          notAfter: (o.from ?? WALL0 - DAY) + (o.days ?? 365) * DAY,
        },
        secret,
      ),
  };
}

describe('Ed25519 on node:crypto agrees with @noble/curves (strict)', () => {
  it('valid, mutated and garbage signatures and keys get the same verdict from both', () => {
    const msg = new Uint8Array(48).fill(9);
    let agreedValid = 0;
    for (let i = 0; i < 300; i++) {
      const sk = ed25519.utils.randomSecretKey();
      let pk = ed25519.getPublicKey(sk);
      let sig = ed25519.sign(msg, sk);
      if (i % 3 === 1) {
        sig = sig.slice();
        sig[i % 64] = (sig[i % 64] ?? 0) ^ (1 << (i % 8));
      } else if (i % 3 === 2) {
        pk = randomBytes(32);
        if (i % 2 === 0) sig = randomBytes(64);
      }
      let noble = false;
      try {
        noble = ed25519.verify(sig, msg, pk, { zip215: false });
      } catch {
        noble = false;
      }
      expect(verifyEd25519(sig, msg, pk), `case ${i}`).toBe(noble);
      if (noble) agreedValid++;
    }
    expect(agreedValid).toBeGreaterThanOrEqual(100);
    // Non-canonical S (S + L) is refused by both.
    const sk = ed25519.utils.randomSecretKey();
    const sig = ed25519.sign(msg, sk);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) + BigInt(sig[32 + i] ?? 0);
    const big = s + L;
    const bad = sig.slice();
    for (let i = 0; i < 32; i++) bad[32 + i] = Number((big >> BigInt(8 * i)) & 0xffn);
    expect(verifyEd25519(bad, msg, ed25519.getPublicKey(sk))).toBe(false);
  });
});

describe('identity certificates', () => {
  const acme = org();
  const alice = identity();
  const cert = acme.issue('Alice Smith', alice.publicKey);

  it('a certificate from a trusted organization verifies for its key and period only', () => {
    expect(checkIdentity(alice.publicKey, cert, [acme.anchor], WALL0)).toMatchObject({
      status: 'verified',
      org: 'Acme Corp',
      name: 'Alice Smith',
      kind: 'person',
      fingerprint: keyFingerprint(alice.publicKey),
    });
    const reason = (r: ReturnType<typeof checkIdentity>) => (r.status === 'verified' ? 'verified' : r.reason);
    expect(reason(checkIdentity(alice.publicKey, undefined, [acme.anchor], WALL0))).toBe('no_certificate');
    expect(reason(checkIdentity(alice.publicKey, cert, [], WALL0))).toBe('unknown_organization');
    // An anchor of the same name but another key is another organization.
    expect(reason(checkIdentity(alice.publicKey, cert, [org('Acme Corp').anchor], WALL0))).toBe(
      'unknown_organization',
    );
    expect(reason(checkIdentity(identity().publicKey, cert, [acme.anchor], WALL0))).toBe('wrong_key');
    expect(
      reason(checkIdentity(alice.publicKey, { ...cert, name: 'Alice Smyth' }, [acme.anchor], WALL0)),
    ).toBe('bad_signature');
    expect(reason(checkIdentity(alice.publicKey, { ...cert, kind: 'room' }, [acme.anchor], WALL0))).toBe(
      'bad_signature',
    );
    expect(reason(checkIdentity(alice.publicKey, cert, [acme.anchor], WALL0 - 2 * DAY))).toBe(
      'not_yet_valid',
    );
    expect(reason(checkIdentity(alice.publicKey, cert, [acme.anchor], WALL0 + 400 * DAY))).toBe('expired');
  });

  it('the parser is total: mutated certificates give typed errors, never anything else', () => {
    const base = JSON.parse(JSON.stringify(cert)) as Record<string, unknown>;
    const junk: unknown[] = [null, 1, 'x', [], {}, -1, 2 ** 60, 'a'.repeat(500), { a: 1 }, true, '\u0000'];
    let typed = 0;
    for (const k of [...Object.keys(base), 'extra']) {
      for (const v of junk) {
        try {
          const c = parseCertificate({ ...base, [k]: v });
          // Whatever parses must still check without throwing.
          checkIdentity(alice.publicKey, c, [acme.anchor], WALL0);
        } catch (err) {
          expect(err).toBeInstanceOf(RoomdError);
          expect((err as RoomdError).code).toBe('e2ee.malformed');
          typed++;
        }
      }
    }
    expect(typed).toBeGreaterThan(80);
    expect(() => parseCertificate({ ...base, notAfter: base['notBefore'] })).toThrow(RoomdError);
  });

  it('key pins: a first verified key is pinned per (organization, name); another key for the name is not the same person', () => {
    const pins = new MemoryIdentityPins();
    pins.pin('Acme Corp', 'Alice Smith', 'k1');
    pins.pin('Acme Corp', 'Alice Smith', 'k2');
    expect(pins.get('Acme Corp', 'Alice Smith')).toBe('k1');
    expect(pins.get('Other', 'Alice Smith')).toBeUndefined();
    expect(pins.forget('Acme Corp', 'Alice Smith')).toBe(true);
    const bounded = new MemoryIdentityPins([], 3);
    for (let i = 0; i < 10; i++) bounded.pin('o', `n${i}`, `k${i}`);
    expect(bounded.entries()).toHaveLength(3);
  });
});

// ---- meetings ------------------------------------------------------------------------------------

interface Member {
  id: string;
  name?: string;
  /** Certified name; null = no certificate. */
  cert?: string | null;
}

function trustFor(
  relay: ScriptedRelay,
  o: Org,
  certName: string | null,
  policy: UnverifiedPolicy,
  pins?: MemoryIdentityPins,
): (id: { publicKey: Uint8Array; secretKey: Uint8Array }) => TrustOptions {
  return (id) => ({
    anchors: [o.anchor],
    ...(certName === null ? {} : { certificate: o.issue(certName, id.publicKey) }),
    unverified: policy,
    ...(pins === undefined ? {} : { pins }),
    wallClock: () => WALL0 + relay.now,
  });
}

function orgMeeting(
  members: Member[],
  policy: UnverifiedPolicy = 'warn',
  o = org(),
): { relay: ScriptedRelay; acme: Org } {
  const relay = new ScriptedRelay();
  for (const m of members) {
    relay.join(m.id, {
      displayName: m.name ?? `Room ${m.id}`,
      trust: trustFor(relay, o, m.cert === undefined ? `Certified ${m.id}` : m.cert, policy),
    });
  }
  relay.pump();
  relay.advance(2500);
  return { relay, acme: o };
}

const identityOf = (relay: ScriptedRelay, viewer: string, subject: string) =>
  relay
    .session(viewer)
    .status(relay.now)
    .roster.find((e) => e.participantId === subject)?.identity;
const codeOf = (relay: ScriptedRelay, id: string) => relay.session(id).status(relay.now).rosterCode;
const alarmCodes = (relay: ScriptedRelay, id: string) =>
  relay
    .session(id)
    .status(relay.now)
    .alarms.map((a) => a.code);
const is = (t: string) => (env: Envelope) => (env.message as { t?: string }).t === t;

/** A binding in `victim`'s name with the relay's own keys, carrying the victim's certificate (or none). */
const impostor = (relay: ScriptedRelay, victim: string, keepCert: boolean): BindingMessage =>
  impostorOf(relay.session(victim).binding as BindingMessage, { keepCert, nonceFill: 7 });

describe('meetings with organization identities', () => {
  it('every participant sees who is verified, by whom and as whom; the roster code agrees everywhere', () => {
    const { relay } = orgMeeting([
      { id: 'p0', cert: 'Boardroom 4' },
      { id: 'p1', name: 'The CEO', cert: 'Mallory Jones' },
      { id: 'p2', cert: 'Bob Jones' },
    ]);
    for (const viewer of ['p0', 'p1', 'p2']) {
      expect(identityOf(relay, viewer, 'p1')).toMatchObject({
        status: 'verified',
        org: 'Acme Corp',
        // The certified name, not the name the participant (or the relay) chose to display.
        name: 'Mallory Jones',
      });
      expect(relay.session(viewer).shield(relay.now)).toBe('e2ee');
    }
    const codes = new Set(['p0', 'p1', 'p2'].map((id) => codeOf(relay, id)));
    expect(codes.size).toBe(1);
    expect([...codes][0]).toMatch(/^\d{5}( \d{5}){3}$/);
    // Someone joins: a new roster code, again the same everywhere.
    const before = codeOf(relay, 'p0');
    relay.join('p3', { trust: trustFor(relay, org('Elsewhere'), 'Visitor', 'warn') });
    relay.pump();
    relay.advance(2500);
    expect(codeOf(relay, 'p0')).not.toBe(before);
    expect(new Set(['p0', 'p1', 'p2', 'p3'].map((id) => codeOf(relay, id))).size).toBe(1);
  });

  it('warn: an unverified member holding the key keeps every other shield from green; allow does not', () => {
    const warn = orgMeeting([{ id: 'p0' }, { id: 'p1' }, { id: 'p2', cert: null }], 'warn').relay;
    expect(identityOf(warn, 'p0', 'p2')).toMatchObject({ status: 'unverified', reason: 'no_certificate' });
    expect(warn.session('p0').shield(warn.now)).toBe('partial');
    expect(warn.session('p1').shield(warn.now)).toBe('partial');
    // p2 itself sees two verified people.
    expect(warn.session('p2').shield(warn.now)).toBe('e2ee');
    const allow = orgMeeting([{ id: 'p0' }, { id: 'p1' }, { id: 'p2', cert: null }], 'allow').relay;
    expect(allow.shields()).toEqual({ p0: 'e2ee', p1: 'e2ee', p2: 'e2ee' });
    expect(identityOf(allow, 'p0', 'p2')).toMatchObject({ status: 'unverified' });
  });

  it('refuse: the leader keys only verified members; the refused one is listed, not keyed, and not alarmed', () => {
    const { relay } = orgMeeting([{ id: 'p0' }, { id: 'p1' }, { id: 'p2', cert: null }], 'refuse');
    const entry = relay
      .session('p1')
      .status(relay.now)
      .roster.find((e) => e.participantId === 'p2');
    expect(entry).toMatchObject({ e2ee: false, bindingHash: '' });
    expect(entry?.ivk).not.toBe('');
    expect(relay.session('p2').status(relay.now).epoch).toBe(0);
    expect(alarmCodes(relay, 'p2')).toEqual([]);
    expect(relay.session('p2').shield(relay.now)).not.toBe('e2ee');
    // The others are encrypted to each other and say someone present cannot read.
    expect(relay.session('p1').shield(relay.now)).toBe('partial');
  });

  it('the relay swaps a joiner’s binding from its first message: the joiner alarms, everyone else sees it unverified, and the roster codes differ', () => {
    for (const keepCert of [false, true]) {
      const { relay, acme } = orgMeeting([{ id: 'p0' }, { id: 'p1' }, { id: 'p2' }]);
      let fake: BindingMessage | null = null;
      const toImpostor: KeyMessage[] = [];
      relay.intercept = (env) => {
        if (is('e2ee.binding')(env) && env.from === 'p9') {
          fake ??= impostor(relay, 'p9', keepCert);
          return [{ ...env, message: fake }];
        }
        if (is('e2ee.key')(env) && env.to === 'p9') toImpostor.push(env.message as KeyMessage);
        return [env];
      };
      relay.join('p9', { trust: trustFor(relay, acme, 'Joiner', 'warn') });
      relay.pump();
      relay.advance(6000, 250, () => {
        for (const id of ['p0', 'p1', 'p2', 'p9'])
          expect(relay.session(id).shield(relay.now), `${id} ${keepCert}`).not.toBe('e2ee');
      });
      // The impostor's keys were keyed (warn lets unverified in) but nobody shows a green padlock.
      expect(toImpostor.length).toBeGreaterThan(0);
      for (const id of ['p0', 'p1', 'p2']) {
        expect(identityOf(relay, id, 'p9')).toMatchObject({
          status: 'unverified',
          reason: keepCert ? 'wrong_key' : 'no_certificate',
        });
      }
      expect(alarmCodes(relay, 'p9')).toContain('e2ee.binding_mismatch');
      const honest = new Set(['p0', 'p1', 'p2'].map((id) => codeOf(relay, id)));
      expect(honest.size).toBe(1);
      expect(codeOf(relay, 'p9')).not.toBe([...honest][0]);
    }
  });

  it('without any organization the same swap still shows on the code people compare', () => {
    const relay = new ScriptedRelay();
    for (const id of ['p0', 'p1', 'p2']) relay.join(id);
    relay.pump();
    relay.advance(2500);
    let fake: BindingMessage | null = null;
    relay.intercept = (env) => {
      if (is('e2ee.binding')(env) && env.from === 'p9') {
        fake ??= impostor(relay, 'p9', false);
        return [{ ...env, message: fake }];
      }
      return [env];
    };
    relay.join('p9');
    relay.pump();
    relay.advance(4000);
    expect(alarmCodes(relay, 'p9')).toContain('e2ee.binding_mismatch');
    expect(relay.session('p9').shield(relay.now)).not.toBe('e2ee');
    expect(codeOf(relay, 'p0')).toBe(codeOf(relay, 'p1'));
    expect(codeOf(relay, 'p9')).not.toBe(codeOf(relay, 'p0'));
  });

  it('without any organization, under warn, no honest shield is green while the impostor holds the key', () => {
    const relay = new ScriptedRelay();
    const trust = () => ({ unverified: 'warn' as const });
    for (const id of ['p0', 'p1', 'p2']) relay.join(id, { trust });
    relay.pump();
    relay.advance(2500);
    // Before anyone unexpected arrives, still not green: nobody can be verified without an anchor.
    for (const id of ['p0', 'p1', 'p2']) expect(relay.session(id).shield(relay.now)).toBe('partial');
    let fake: BindingMessage | null = null;
    relay.intercept = (env) => {
      if (is('e2ee.binding')(env) && env.from === 'p9') {
        fake ??= impostor(relay, 'p9', false);
        return [{ ...env, message: fake }];
      }
      return [env];
    };
    relay.join('p9', { trust });
    relay.pump();
    relay.advance(4000);
    for (const id of ['p0', 'p1', 'p2', 'p9']) expect(relay.session(id).shield(relay.now)).not.toBe('e2ee');
    for (const id of ['p0', 'p1', 'p2'])
      expect(identityOf(relay, id, 'p9')).toMatchObject({ status: 'unverified', reason: 'no_certificate' });
    expect(codeOf(relay, 'p9')).not.toBe(codeOf(relay, 'p0'));
    // refuse without an anchor would key nobody: it acts as warn.
    const refusing = new ScriptedRelay();
    refusing.join('a', { trust: () => ({ unverified: 'refuse' }) });
    refusing.join('b', { trust: () => ({ unverified: 'refuse' }) });
    refusing.pump();
    refusing.advance(2500);
    expect(refusing.session('b').status(refusing.now).identityPolicy).toBe('warn');
    expect(refusing.session('b').frames.sendEpoch).toBeGreaterThan(0);
  });

  it('a certified name seen before with another key alarms, even with a valid certificate', () => {
    const acme = org();
    const relay = new ScriptedRelay();
    const pins = new MemoryIdentityPins();
    pins.pin('Acme Corp', 'Alice Smith', toB64u(identity().publicKey));
    relay.join('room', { trust: trustFor(relay, acme, 'Boardroom', 'warn', pins) });
    relay.join('alice', { trust: trustFor(relay, acme, 'Alice Smith', 'warn') });
    relay.pump();
    relay.advance(2500);
    expect(identityOf(relay, 'room', 'alice')).toMatchObject({ status: 'key-changed', name: 'Alice Smith' });
    expect(alarmCodes(relay, 'room')).toContain('e2ee.identity_key_changed');
    expect(relay.session('room').shield(relay.now)).toBe('partial');
    // A first sighting pins: the room now knows Boardroom's and nobody else's key changed.
    expect(pins.get('Acme Corp', 'Boardroom')).toBe(
      toB64u(relay.identities.get('room')?.publicKey as Uint8Array),
    );
  });

  it('the relay cannot strip or swap a certificate inside a binding: the binding signature covers it', () => {
    const { relay } = orgMeeting([{ id: 'p0' }, { id: 'p1' }]);
    const other = org().issue('Someone Else', identity().publicKey);
    relay.intercept = (env) => {
      if (is('e2ee.binding')(env) && env.from === 'p9') {
        const m = env.message as BindingMessage;
        const { cert: _drop, ...body } = m.binding;
        return [
          { ...env, message: { ...m, binding: relay.now % 2 === 0 ? body : { ...body, cert: other } } },
        ];
      }
      return [env];
    };
    relay.join('p9', { trust: trustFor(relay, org(), 'Joiner', 'warn') });
    relay.pump();
    relay.advance(8000);
    const rejected = relay.peers.get('p0')?.facts.flatMap((f) => (f.type === 'rejected' ? [f.code] : []));
    expect(rejected).toContain('e2ee.bad_signature');
    expect(
      relay
        .session('p1')
        .status(relay.now)
        .roster.some((e) => e.participantId === 'p9' && e.e2ee),
    ).toBe(false);
  });

  it('a certificate that expires during the meeting stops counting at the next heartbeat', () => {
    const acme = org();
    const relay = new ScriptedRelay();
    relay.join('p0', { trust: trustFor(relay, acme, 'Boardroom', 'warn') });
    relay.join('p1', {
      trust: (id) => ({
        anchors: [acme.anchor],
        certificate: issueCertificate(
          {
            org: 'Acme Corp',
            name: 'Short Lived',
            kind: 'bot',
            key: id.publicKey,
            notBefore: WALL0,
            notAfter: WALL0 + relay.now + 60_000,
          },
          acme.secret,
        ),
        wallClock: () => WALL0 + relay.now,
      }),
    });
    relay.pump();
    relay.advance(2500);
    expect(relay.session('p0').shield(relay.now)).toBe('e2ee');
    relay.advance(60_000);
    expect(identityOf(relay, 'p0', 'p1')).toMatchObject({ status: 'unverified', reason: 'expired' });
    expect(relay.session('p0').shield(relay.now)).toBe('partial');
  });

  it('a leader cannot list itself with another certificate than the one its binding carries', () => {
    const { relay, acme } = orgMeeting([{ id: 'p0', cert: 'Boardroom' }, { id: 'p1' }]);
    const leaderKey = relay.identities.get('p0') as { publicKey: Uint8Array; secretKey: Uint8Array };
    // The leader's key, certified a second time under a grander name (a careless issuer).
    const grand = acme.issue('Chief Executive', leaderKey.publicKey);
    relay.intercept = (env) => {
      if (!(is('e2ee.heartbeat')(env) && env.to === 'p9')) return [env];
      const hb = env.message as HeartbeatMessage;
      const roster = hb.body.roster.map((e) => (e.participantId === 'p0' ? { ...e, cert: grand } : e));
      const body = { ...hb.body, roster, rosterHash: toB64u(rosterHash(roster)) };
      const { message } = signHeartbeat(body, hb.leader, bindingHash(hb.leader.binding), leaderKey.secretKey);
      return [{ ...env, message }];
    };
    relay.join('p9', { trust: trustFor(relay, acme, 'Joiner', 'warn') });
    relay.pump();
    relay.advance(4000, 250, () => expect(relay.session('p9').shield(relay.now)).not.toBe('e2ee'));
    const rejected = relay.peers.get('p9')?.facts.flatMap((f) => (f.type === 'rejected' ? [f.code] : []));
    expect(rejected).toContain('e2ee.leader_rejected');
    expect(identityOf(relay, 'p9', 'p0')).toBeUndefined();
  });
});
