/**
 * The relay is the adversary (docs/threat-model.md): each misbehaviour in its own test. Every test checks
 * that the attacked participants' shield never reads 'e2ee' once the attack is in effect (for attacks
 * that can only be noticed by absence, after the shield's detection window, docs/protocol.md
 * "Shield (fail-closed)").
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { signBinding, makeEphemeralKeys } from '../../../src/e2ee/binding.ts';
import { toB64u } from '../../../src/e2ee/bytes.ts';
import { DEFAULT_PARAMS, type E2eeSession } from '../../../src/e2ee/index.ts';
import type { BindingMessage, HeartbeatMessage, KeyMessage } from '../../../src/e2ee/messages.ts';
import { type Envelope, identity, type Peer, ScriptedRelay, tryOpen } from './harness.ts';

function meeting(n: number): ScriptedRelay {
  const relay = new ScriptedRelay();
  for (let i = 0; i < n; i++) relay.join(`p${i}`);
  relay.pump();
  relay.advance(2500);
  for (const s of relay.sessions()) expect(s.shield(relay.now)).toBe('e2ee');
  return relay;
}

const is = (t: string) => (env: Envelope) => (env.message as { t?: string }).t === t;
const neverE2ee = (relay: ScriptedRelay, ids: string[]) => () => {
  for (const id of ids) expect(relay.session(id).shield(relay.now), `${id} at ${relay.now}`).not.toBe('e2ee');
};
const facts = (p: Peer | undefined) => p?.facts ?? [];
const rejectedCodes = (p: Peer | undefined) =>
  facts(p).flatMap((f) => (f.type === 'rejected' ? [f.code] : []));
const alarmCodes = (s: E2eeSession, now: number) => s.status(now).alarms.map((a) => a.code);

describe('malicious relay', () => {
  it('swapped ephemeral key (MITM of a binding): the leader rejects it and the joiner never reads e2ee', () => {
    const relay = meeting(3);
    relay.intercept = (env) => {
      if (is('e2ee.binding')(env) && env.from === 'p9') {
        const m = env.message as BindingMessage;
        return [
          {
            ...env,
            message: {
              ...m,
              binding: { ...m.binding, x25519: toB64u(x25519.getPublicKey(x25519.utils.randomSecretKey())) },
            },
          },
        ];
      }
      return [env];
    };
    relay.join('p9');
    neverE2ee(relay, ['p9'])();
    relay.pump();
    neverE2ee(relay, ['p9'])();
    relay.advance(DEFAULT_PARAMS.rosterGraceMs + 2000, 250, neverE2ee(relay, ['p9']));
    expect(rejectedCodes(relay.peers.get('p0'))).toContain('e2ee.bad_signature');
    // Everyone else sees the relay claim someone the leader has not verified.
    for (const id of ['p0', 'p1', 'p2']) expect(relay.session(id).shield(relay.now)).toBe('partial');
  });

  it('MITM re-signing a binding with its own identity: the victim sees its keys changed and alarms', () => {
    const relay = meeting(3);
    const attacker = identity();
    const keys = makeEphemeralKeys();
    relay.intercept = (env) => {
      if (is('e2ee.binding')(env) && env.from === 'p9') {
        const b = (env.message as BindingMessage).binding;
        const forged = signBinding({
          ...b,
          identityPublic: attacker.publicKey,
          identitySecret: attacker.secretKey,
          keys,
          nonce: new Uint8Array(16),
        });
        return [{ ...env, message: forged }];
      }
      return [env];
    };
    relay.join('p9');
    relay.pump();
    relay.advance(4000, 250, neverE2ee(relay, ['p9']));
    expect(alarmCodes(relay.session('p9'), relay.now)).toContain('e2ee.binding_mismatch');
    expect(relay.session('p9').shield(relay.now)).toBe('partial');
  });

  it('replayed old key delivery instead of the new one: refused, the victim never reads e2ee', () => {
    const relay = meeting(3);
    const old: Envelope[] = [];
    relay.intercept = (env) => {
      if (is('e2ee.key')(env) && env.to === 'p2') old.push(env);
      return [env];
    };
    // Capture a delivery (epoch e+1) by forcing a rekey, then withhold the next one and replay the captured.
    relay.join('p3');
    relay.pump();
    relay.advance(2500);
    expect(old.length).toBe(1);
    expect(relay.session('p2').shield(relay.now)).toBe('e2ee');
    relay.intercept = (env) => (is('e2ee.key')(env) && env.to === 'p2' ? [old[0] as Envelope] : [env]);
    relay.peers.delete('p3');
    relay.broadcastRoster();
    relay.pump();
    neverE2ee(relay, ['p2'])();
    relay.advance(3000, 250, neverE2ee(relay, ['p2']));
    expect(rejectedCodes(relay.peers.get('p2'))).toContain('e2ee.stale_epoch');
  });

  it('injected participant absent from the leader’s roster: verifying, then partial; never e2ee', () => {
    const relay = meeting(3);
    relay.join('mallory', { session: false });
    neverE2ee(relay, ['p0', 'p1', 'p2'])();
    relay.advance(DEFAULT_PARAMS.rosterGraceMs + 1000, 250, neverE2ee(relay, ['p0', 'p1', 'p2']));
    for (const s of relay.sessions()) {
      expect(s.shield(relay.now)).toBe('partial');
      expect(s.status(relay.now).roster.map((e) => e.participantId)).not.toContain('mallory');
    }
  });

  it('dropped heartbeats: the secure state ends within the timeout', () => {
    const relay = meeting(3);
    relay.intercept = (env) => (is('e2ee.heartbeat')(env) ? [] : [env]);
    relay.advance(DEFAULT_PARAMS.heartbeatTimeoutMs + 250);
    relay.advance(5000, 250, neverE2ee(relay, ['p1', 'p2']));
    for (const id of ['p1', 'p2']) {
      expect(relay.session(id).shield(relay.now)).toBe('verifying');
      expect(
        facts(relay.peers.get(id)).some((f) => f.type === 'alarm' && f.code === 'e2ee.heartbeat_missing'),
      ).toBe(true);
    }
  });

  it('forged heartbeats (relay-signed, or altered roster) are rejected; secure state ends', () => {
    const relay = meeting(3);
    const fake = identity();
    let n = 0;
    relay.intercept = (env) => {
      if (!is('e2ee.heartbeat')(env)) return [env];
      const hb = env.message as HeartbeatMessage;
      n++;
      if (n % 2 === 0) {
        // Altered roster, original signature.
        const roster = [
          ...hb.body.roster,
          {
            participantId: 'mallory',
            slot: 99,
            bindingHash: '',
            displayName: 'M',
            client: 'web',
            e2ee: true,
          },
        ];
        return [
          { ...env, message: { ...hb, body: { ...hb.body, roster, counter: hb.body.counter + 1000 } } },
        ];
      }
      // Re-signed by the relay with its own key, pretending to be the leader.
      const sig = ed25519.sign(new Uint8Array(64), fake.secretKey);
      return [
        {
          ...env,
          message: { ...hb, body: { ...hb.body, counter: hb.body.counter + 1000 }, sig: toB64u(sig) },
        },
      ];
    };
    relay.advance(DEFAULT_PARAMS.heartbeatTimeoutMs + 250);
    relay.advance(3000, 250, neverE2ee(relay, ['p1', 'p2']));
    expect(rejectedCodes(relay.peers.get('p1'))).toContain('e2ee.bad_signature');
  });

  it('replayed heartbeats are rejected; the secure state ends when only replays arrive', () => {
    const relay = meeting(3);
    const seen: Envelope[] = [];
    relay.intercept = (env) => {
      if (!is('e2ee.heartbeat')(env) || env.to !== 'p2') return [env];
      seen.push(env);
      // The first one passes; from then on the relay only replays it.
      return [seen[0] as Envelope];
    };
    relay.advance(DEFAULT_PARAMS.heartbeatTimeoutMs + DEFAULT_PARAMS.heartbeatIntervalMs + 250);
    relay.advance(2000, 250, neverE2ee(relay, ['p2']));
    expect(rejectedCodes(relay.peers.get('p2'))).toContain('e2ee.stale_epoch');
  });

  it('tampered frames are rejected and raise the integrity alarm', () => {
    const relay = meeting(3);
    const frame = relay.session('p1').frames.seal('video', Buffer.from('frame'));
    const bad = frame.slice();
    bad[bad.length - 3] = (bad[bad.length - 3] ?? 0) ^ 0x10;
    expect(tryOpen(relay.session('p2'), bad, relay.now)).toBe('error:e2ee.decrypt_failed');
    neverE2ee(relay, ['p2'])();
    relay.advance(DEFAULT_PARAMS.integrityAlarmMs - 500, 500, neverE2ee(relay, ['p2']));
    expect(alarmCodes(relay.session('p2'), relay.now)).toContain('e2ee.frame_tampered');
  });

  it('replayed frames are rejected and raise the integrity alarm', () => {
    const relay = meeting(3);
    const frame = relay.session('p1').frames.seal('audio', Buffer.from('once'));
    expect(tryOpen(relay.session('p2'), frame, relay.now)).toBe('once');
    expect(tryOpen(relay.session('p2'), frame, relay.now)).toBe('error:e2ee.replay');
    neverE2ee(relay, ['p2'])();
    relay.advance(DEFAULT_PARAMS.integrityAlarmMs - 500, 500, neverE2ee(relay, ['p2']));
  });

  it('leader swap to someone not in the verified roster is refused', () => {
    const relay = meeting(3);
    relay.join('mallory', { session: false });
    relay.leaderOverride = 'mallory';
    relay.broadcastRoster();
    neverE2ee(relay, ['p1', 'p2'])();
    relay.advance(3000, 250, neverE2ee(relay, ['p1', 'p2']));
    for (const id of ['p1', 'p2']) {
      expect(alarmCodes(relay.session(id), relay.now)).toContain('e2ee.leader_rejected');
      expect(relay.session(id).shield(relay.now)).toBe('partial');
    }
  });

  it('downgrade to enhanced: roomd leaves and says why', () => {
    const relay = meeting(2);
    const p1 = relay.peers.get('p1') as Peer;
    relay.apply(p1, relay.session('p1').handle({ type: 'mode', mode: 'enhanced' }, relay.now));
    expect(p1.left?.code).toBe('e2ee.downgrade');
    expect(relay.session('p1').shield(relay.now)).toBe('none');
    expect(() => relay.session('p1').frames.seal('video', Buffer.from('x'))).toThrow();
  });

  it('server-made key in an E2EE meeting: refused as a downgrade; forged deliveries do not install', () => {
    const relay = meeting(2);
    // A delivery the relay made up, claiming to come from the leader.
    const p1 = relay.peers.get('p1') as Peer;
    const forged: KeyMessage = {
      t: 'e2ee.key',
      v: 1,
      meetingId: relay.meetingId,
      instanceId: relay.instanceId,
      leaderId: 'p0',
      recipientId: 'p1',
      epoch: 99,
      slot: 1,
      switch: 'immediate',
      nonce: toB64u(new Uint8Array(16)),
      iv: toB64u(new Uint8Array(24)),
      box: toB64u(new Uint8Array(48)),
    };
    relay.deliver({ from: 'p0', to: 'p1', message: forged });
    expect(relay.session('p1').status(relay.now).epoch).toBeLessThan(99);
    expect(rejectedCodes(p1).length).toBeGreaterThan(0);
    // The relay hands out its own meeting key.
    relay.apply(
      p1,
      relay
        .session('p1')
        .handle({ type: 'enhanced-key', epoch: 100, key: new Uint8Array(32).fill(7) }, relay.now),
    );
    expect(p1.left?.code).toBe('e2ee.downgrade');
    expect(relay.session('p1').shield(relay.now)).toBe('none');
  });

  it.each(['phone', 'sip', 'web'])(
    'a %s client admitted to an E2EE meeting makes the shield partial',
    (client) => {
      const relay = meeting(3);
      relay.join(`${client}-1`, { client, e2ee: false, session: false });
      relay.advance(3000, 250);
      relay.advance(2000, 250, neverE2ee(relay, ['p0', 'p1', 'p2']));
      for (const s of relay.sessions()) {
        expect(s.shield(relay.now)).toBe('partial');
        expect(s.status(relay.now).roster.find((e) => e.participantId === `${client}-1`)?.e2ee).toBe(false);
      }
    },
  );

  it('relay-given names and client kinds of non-E2EE clients are made safe for the signed roster', () => {
    const relay = meeting(2);
    relay.join('dial-in', {
      client: 'PSTN Phone',
      e2ee: false,
      session: false,
      displayName: 'Caller\u0007 +1 555',
    });
    relay.advance(1500, 250);
    const entry = relay
      .session('p1')
      .status(relay.now)
      .roster.find((e) => e.participantId === 'dial-in');
    expect(entry).toMatchObject({ client: 'pstnphone', displayName: 'Caller  +1 555', e2ee: false });
    expect(relay.session('p1').shield(relay.now)).toBe('partial');
  });

  it('an old-protocol client admitted to an E2EE meeting makes the shield partial', () => {
    const relay = meeting(3);
    relay.join('old-1', { session: false });
    const b = (relay.session('p1').binding as BindingMessage).binding;
    relay.deliver({
      from: 'old-1',
      to: 'p0',
      message: { t: 'e2ee.binding', v: 0, binding: { ...b, v: 0, participantId: 'old-1' }, sig: 'AA' },
    });
    relay.advance(2000, 250);
    relay.advance(2000, 250, neverE2ee(relay, ['p0', 'p1', 'p2']));
    for (const s of relay.sessions()) expect(s.shield(relay.now)).toBe('partial');
    expect(
      relay
        .session('p1')
        .status(relay.now)
        .roster.find((e) => e.participantId === 'old-1')?.e2ee,
    ).toBe(false);
  });
});
