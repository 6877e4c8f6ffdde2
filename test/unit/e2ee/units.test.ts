/**
 * Unit tests of the E2EE core's small parts: security code vectors (also in docs/protocol.md) checked
 * against an independent node:crypto computation, the shield truth table, KID layout, message
 * validators, canonical encoding, and enhanced mode end to end.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/core/errors.ts';
import { encodeFields, fromB64u } from '../../../src/e2ee/bytes.ts';
import { CONTEXT } from '../../../src/e2ee/context.ts';
import {
  createE2eeSession,
  decodeKid,
  encodeKid,
  parseE2eeMessage,
  type ShieldInput,
  securityCode,
  shieldState,
} from '../../../src/e2ee/index.ts';
import { identity, ScriptedRelay, tryOpen } from './harness.ts';

const seq = Uint8Array.from({ length: 32 }, (_, i) => i);

describe('security code', () => {
  it.each([
    ['mtg-42', new Uint8Array(32), '64173 86522 93904 86128 63774 02104 62108 77350'],
    ['123-456-789', seq, '90372 31944 01972 43859 88634 88277 22298 95895'],
    ['Réunion ☕', seq, '91392 79096 16530 53272 60142 75570 91298 01435'],
    [
      '123-456-789',
      new Uint8Array(Buffer.from('3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29', 'hex')),
      '44708 10938 75358 40837 67913 69147 50599 54675',
    ],
  ])('vector: meeting %s', (meeting, ivk, text) => {
    const code = securityCode(meeting, ivk);
    expect(code.text).toBe(text);
    expect(code.digits).toMatch(/^\d{40}$/);
    expect(code.groups).toHaveLength(8);
  });

  it('matches an independent computation of the documented formula', () => {
    const sha = (alg: string, ...parts: Uint8Array[]) => {
      const h = createHash(alg);
      for (const p of parts) h.update(p);
      return h.digest();
    };
    const ivk = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
    const h = sha(
      'sha512',
      sha('sha256', Buffer.from(CONTEXT.securityCode)),
      sha('sha256', Buffer.from('m-1'), ivk),
    );
    const groups = Array.from({ length: 8 }, (_, i) =>
      String(Number(h.readBigUInt64BE(i * 5) >> 24n) % 100000).padStart(5, '0'),
    );
    expect(securityCode('m-1', ivk).groups).toEqual(groups);
  });

  it('depends on meeting and leader key only', () => {
    expect(securityCode('a', seq).text).not.toBe(securityCode('b', seq).text);
    expect(securityCode('a', seq).text).not.toBe(securityCode('a', new Uint8Array(32)).text);
  });
});

describe('shield', () => {
  const good: ShieldInput = {
    mode: 'e2ee',
    left: false,
    leaderVerified: true,
    heartbeatAgeMs: 100,
    heartbeatTimeoutMs: 6000,
    holdsCurrentKey: true,
    selfInRoster: true,
    allCapable: true,
    rosterMismatch: 'none',
    alarms: 0,
  };
  it('is e2ee only when everything holds', () => expect(shieldState(good)).toBe('e2ee'));
  it.each<[Partial<ShieldInput>, string]>([
    [{ leaderVerified: false }, 'verifying'],
    [{ heartbeatAgeMs: null }, 'verifying'],
    [{ heartbeatAgeMs: 6001 }, 'verifying'],
    [{ heartbeatAgeMs: -1 }, 'verifying'],
    [{ heartbeatAgeMs: Number.NaN }, 'verifying'],
    [{ holdsCurrentKey: false }, 'verifying'],
    [{ selfInRoster: false }, 'verifying'],
    [{ rosterMismatch: 'pending' }, 'verifying'],
    [{ rosterMismatch: 'persistent' }, 'partial'],
    [{ allCapable: false }, 'partial'],
    [{ alarms: 1 }, 'partial'],
    [{ left: true }, 'none'],
    [{ mode: 'none' }, 'none'],
    [{ mode: 'enhanced' }, 'enhanced'],
    [{ mode: 'enhanced', holdsCurrentKey: false }, 'verifying'],
    [{ mode: 'bogus' as 'e2ee' }, 'none'],
  ])('%o -> %s', (change, expected) => expect(shieldState({ ...good, ...change })).toBe(expected));
});

describe('KID layout', () => {
  it('round-trips and stays one byte for slots 0..15', () => {
    for (const slot of [0, 1, 15, 16, 1000, 2 ** 40]) {
      for (const stream of ['audio', 'video', 'screen', 'data'] as const) {
        const kid = encodeKid(slot, 7, stream);
        expect(decodeKid(kid)).toEqual({ slot, epochRing: 3, stream });
        if (slot <= 15) expect(kid).toBeLessThan(256n);
      }
    }
    expect(() => encodeKid(-1, 1, 'audio')).toThrow();
    expect(() => encodeKid(2 ** 41, 1, 'audio')).toThrow();
  });
});

describe('messages', () => {
  const s = createE2eeSession({
    mode: 'e2ee',
    meetingId: 'm',
    instanceId: 'i',
    participantId: 'p',
    deviceId: 'd',
    displayName: 'D',
    identity: identity(),
  });
  const binding = JSON.parse(JSON.stringify(s.binding)) as { binding: Record<string, unknown> } & Record<
    string,
    unknown
  >;

  it('accepts a real binding and rejects unknown versions, extra fields and wrong lengths with typed errors', () => {
    expect(parseE2eeMessage(binding)).toEqual(binding);
    const code = (v: unknown) => {
      try {
        parseE2eeMessage(v);
        return 'ok';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code({ ...binding, v: 2 })).toBe('e2ee.unsupported_version');
    expect(code({ ...binding, binding: { ...binding.binding, v: 0 } })).toBe('e2ee.unsupported_version');
    expect(code({ ...binding, extra: 1 })).toBe('e2ee.malformed');
    expect(code({ ...binding, sig: 'AAAA' })).toBe('e2ee.malformed');
    expect(code({ ...binding, binding: { ...binding.binding, ivk: `${binding.binding['ivk']}=` } })).toBe(
      'e2ee.malformed',
    );
    expect(code({ ...binding, binding: { ...binding.binding, displayName: 'a\u0000b' } })).toBe(
      'e2ee.malformed',
    );
    expect(code({ t: 'e2ee.nope', v: 1 })).toBe('e2ee.malformed');
    expect(code(null)).toBe('e2ee.malformed');
    expect(code('x')).toBe('e2ee.malformed');
  });

  it('a binding with a bad signature is refused by the leader', () => {
    const relay = new ScriptedRelay();
    relay.join('p0');
    relay.pump();
    relay.advance(1000);
    const b = JSON.parse(JSON.stringify(s.binding)) as { binding: Record<string, unknown>; sig: string };
    const forged = {
      ...b,
      binding: {
        ...b.binding,
        meetingId: relay.meetingId,
        instanceId: relay.instanceId,
        participantId: 'p7',
      },
    };
    const effects = relay.session('p0').handle({ type: 'message', from: 'p7', message: forged }, relay.now);
    expect(
      effects.some(
        (e) => e.type === 'ui' && e.fact.type === 'rejected' && e.fact.code === 'e2ee.bad_signature',
      ),
    ).toBe(true);
  });

  it('canonical encoding is length-prefixed and unambiguous', () => {
    expect(Buffer.from(encodeFields(['ab', 'c'])).equals(Buffer.from(encodeFields(['a', 'bc'])))).toBe(false);
    expect(Buffer.from(encodeFields([1, true, Uint8Array.of(9)])).toString('hex')).toBe(
      '000000080000000000000001000000010100000001' + '09',
    );
    expect(() => fromB64u('A')).toThrow();
  });
});

describe('enhanced mode', () => {
  it('relay-made key, same frame path, shield enhanced, no security code', () => {
    const relay = new ScriptedRelay('mtg-e', 'inst-e', 'enhanced');
    relay.join('a');
    relay.join('b');
    const key = new Uint8Array(32).fill(5);
    for (const s of relay.sessions()) expect(s.shield(relay.now)).toBe('verifying');
    for (const s of relay.sessions()) s.handle({ type: 'enhanced-key', epoch: 1, key }, relay.now);
    for (const s of relay.sessions()) {
      expect(s.shield(relay.now)).toBe('enhanced');
      expect(s.status(relay.now).securityCode).toBeNull();
    }
    const f = relay.session('a').frames.seal('video', Buffer.from('hi'));
    expect(tryOpen(relay.session('b'), f, relay.now)).toBe('hi');
    const stale = relay.session('b').handle({ type: 'enhanced-key', epoch: 1, key }, relay.now);
    expect(
      stale.some((e) => e.type === 'ui' && e.fact.type === 'rejected' && e.fact.code === 'e2ee.stale_epoch'),
    ).toBe(true);
    const down = relay.session('b').handle({ type: 'mode', mode: 'none' }, relay.now);
    expect(down.some((e) => e.type === 'leave')).toBe(true);
  });
});

describe('session', () => {
  it('refuses an identity whose halves do not match', () => {
    const a = identity();
    const b = identity();
    expect(() =>
      createE2eeSession({
        mode: 'e2ee',
        meetingId: 'm',
        instanceId: 'i',
        participantId: 'p',
        deviceId: 'd',
        displayName: 'D',
        identity: { publicKey: b.publicKey, secretKey: a.secretKey },
      }),
    ).toThrow(RangeError);
  });

  it('cannot send before keys, and close() wipes them', () => {
    const relay = new ScriptedRelay();
    relay.join('a');
    relay.join('b');
    let err: unknown;
    try {
      relay.session('b').frames.seal('audio', Uint8Array.of(1));
    } catch (e) {
      err = e;
    }
    expect(hasCode(err, 'e2ee.unknown_key')).toBe(true);
    relay.pump();
    relay.advance(2500);
    relay.session('b').frames.seal('audio', Uint8Array.of(1));
    relay.session('b').close();
    expect(() => relay.session('b').frames.seal('audio', Uint8Array.of(1))).toThrow();
    expect(relay.session('b').shield(relay.now)).toBe('none');
  });
});
