/**
 * In-memory meetings of 2, 5 and 50 participants through a scripted honest relay (docs/protocol.md
 * "Protocol"): same epoch and code for all, leavers and joiners cut off, leader change → new code and
 * epoch, and the blind-relay scan.
 */
import { describe, expect, it } from 'vitest';
import { ScriptedRelay, tryOpen } from './harness.ts';

function meeting(n: number): ScriptedRelay {
  const relay = new ScriptedRelay();
  for (let i = 0; i < n; i++) relay.join(`p${i}`);
  relay.pump();
  relay.advance(2500);
  return relay;
}

function agreed(relay: ScriptedRelay): { epoch: number; code: string } {
  const st = relay.sessions().map((s) => s.status(relay.now));
  const epochs = new Set(st.map((s) => s.sendEpoch));
  const codes = new Set(st.map((s) => s.securityCode));
  expect(epochs.size).toBe(1);
  expect(codes.size).toBe(1);
  const code = st[0]?.securityCode ?? '';
  expect(code).toMatch(/^\d{5}( \d{5}){7}$/);
  return { epoch: st[0]?.sendEpoch ?? 0, code };
}

describe.each([2, 5, 50])('meeting of %i participants', (n) => {
  it('all reach the same epoch, the same security code and the e2ee shield; frames flow', () => {
    const relay = meeting(n);
    const { epoch } = agreed(relay);
    expect(epoch).toBeGreaterThan(0);
    expect(Object.values(relay.shields()).every((s) => s === 'e2ee')).toBe(true);
    const sender = relay.session(`p${n - 1}`);
    const frame = sender.frames.seal('video', Buffer.from('hello world'));
    for (const s of relay.sessions()) {
      if (s === sender) continue;
      const opened = s.frames.open(frame, undefined, relay.now);
      expect(opened.senderId).toBe(`p${n - 1}`);
      expect(opened.stream).toBe('video');
      expect(Buffer.from(opened.payload).toString()).toBe('hello world');
    }
    for (const s of relay.sessions()) expect(s.status(relay.now).roster.length).toBe(n);
  });
});

describe('membership changes', () => {
  it('a leaver cannot decrypt frames sent after it left; a joiner cannot decrypt frames sent before it joined', () => {
    const relay = meeting(5);
    const before = agreed(relay);
    const early = relay.session('p1').frames.seal('audio', Buffer.from('before join'));
    const leaver = relay.session('p3');
    relay.peers.delete('p3');
    relay.broadcastRoster();
    relay.pump();
    relay.advance(500);
    const after = relay.session('p1').frames.seal('audio', Buffer.from('after leave'));
    expect(relay.session('p1').frames.sendEpoch).toBeGreaterThan(before.epoch);
    expect(tryOpen(leaver, after, relay.now)).toMatch(/^error:/);
    expect(tryOpen(relay.session('p2'), after, relay.now)).toBe('after leave');
    leaver.close();

    relay.join('p9');
    relay.pump();
    relay.advance(5000);
    const joined = agreed(relay);
    expect(joined.epoch).toBeGreaterThan(before.epoch);
    expect(joined.code).toBe(before.code);
    expect(tryOpen(relay.session('p9'), early, relay.now)).toMatch(/^error:/);
    const late = relay.session('p1').frames.seal('audio', Buffer.from('welcome'));
    expect(tryOpen(relay.session('p9'), late, relay.now)).toBe('welcome');
    expect(Object.values(relay.shields()).every((s) => s === 'e2ee')).toBe(true);
  });

  it('a join after a quiet spell is keyed at once; joins close behind it share the next epoch', () => {
    const relay = meeting(3);
    relay.advance(5000);
    const e0 = agreed(relay).epoch;
    relay.join('a');
    relay.pump();
    // Keyed without waiting for the coalescing window.
    expect(relay.session('a').status(relay.now).epoch).toBe(e0 + 1);
    relay.join('b');
    relay.join('c');
    relay.pump();
    relay.advance(5000);
    expect(agreed(relay).epoch).toBe(e0 + 2);
  });

  it('rekeys every 5 minutes; epochs only grow; old keys are dropped 10 s after', () => {
    const relay = meeting(2);
    const e0 = agreed(relay).epoch;
    const old = relay.session('p1').frames.seal('video', Buffer.from('old'));
    relay.advance(5 * 60_000 - 5000, 2000);
    expect(agreed(relay).epoch).toBe(e0);
    relay.advance(9000, 1000);
    const e1 = agreed(relay).epoch;
    expect(e1).toBe(e0 + 1);
    expect(tryOpen(relay.session('p0'), old, relay.now)).toBe('old');
    relay.advance(10_000, 1000);
    expect(tryOpen(relay.session('p0'), old, relay.now)).toMatch(/^error:e2ee\.unknown_key/);
    expect(relay.peers.get('p1')?.keyframes).toBeGreaterThanOrEqual(2);
  });

  it('leader change: new leader from the verified roster, new epoch, new code, said prominently', () => {
    const relay = meeting(4);
    const before = agreed(relay);
    relay.peers.delete('p0');
    relay.broadcastRoster();
    relay.pump();
    relay.advance(6000);
    const after = agreed(relay);
    expect(after.epoch).toBeGreaterThan(before.epoch);
    expect(after.code).not.toBe(before.code);
    for (const s of relay.sessions()) expect(s.status(relay.now).leaderId).toBe('p1');
    const facts = relay.peers.get('p2')?.facts ?? [];
    expect(facts.some((f) => f.type === 'security-code' && f.changed)).toBe(true);
    expect(facts.some((f) => f.type === 'leader-changed' && f.to === 'p1')).toBe(true);
    expect(Object.values(relay.shields()).every((s) => s === 'e2ee')).toBe(true);
    const frame = relay.session('p3').frames.seal('video', Buffer.from('x'));
    expect(tryOpen(relay.session('p1'), frame, relay.now)).toBe('x');
  });
});

describe('resilience', () => {
  it('a lost key delivery is asked for again and the participant recovers', () => {
    const relay = meeting(3);
    let dropped = 0;
    relay.intercept = (env) => {
      if ((env.message as { t?: string }).t === 'e2ee.key' && env.to === 'p2' && dropped === 0) {
        dropped++;
        return [];
      }
      return [env];
    };
    relay.join('p3');
    relay.pump();
    relay.advance(2000);
    expect(dropped).toBe(1);
    relay.advance(4000);
    expect(Object.values(relay.shields()).every((s) => s === 'e2ee')).toBe(true);
    agreed(relay);
  });

  it('a key delivery that overtakes the leader’s first heartbeat is held, then used', () => {
    const relay = new ScriptedRelay();
    relay.join('p0');
    relay.join('p1');
    const held: { from: string; to: string; message: unknown }[] = [];
    relay.intercept = (env) => {
      if ((env.message as { t?: string }).t === 'e2ee.heartbeat' && held.length < 3) {
        held.push(env);
        return [];
      }
      return [env];
    };
    relay.pump();
    relay.advance(1500);
    relay.intercept = (env) => [env];
    for (const env of held) relay.deliver(env);
    relay.advance(1500);
    expect(relay.shields()).toEqual({ p0: 'e2ee', p1: 'e2ee' });
  });
});

describe('blind relay', () => {
  it('everything the relay carried has no plaintext frame and no meeting key', () => {
    const relay = meeting(3);
    const secret = 'PLAINTEXT-MARKER-9f2c';
    const frame = relay.session('p1').frames.seal('video', Buffer.from(secret));
    relay.carried.push(Buffer.from(frame).toString('latin1'));
    const all = relay.carried.join('\n');
    expect(all.includes(secret)).toBe(false);
    expect(all.includes(Buffer.from(secret).toString('base64url'))).toBe(false);
    expect(relay.carried.some((t) => t.includes('e2ee.key'))).toBe(true);
    // Meeting keys, X25519 secrets and ML-KEM seeds: none appears in any encoding.
    expect(relay.secrets.length).toBeGreaterThan(6);
    for (const k of relay.secrets) {
      const buf = Buffer.from(k);
      for (const enc of [
        buf.toString('base64url'),
        buf.toString('base64'),
        buf.toString('hex'),
        buf.toString('latin1'),
      ]) {
        expect(all.includes(enc)).toBe(false);
      }
      expect(all.includes(buf.subarray(0, 12).toString('base64url'))).toBe(false);
    }
    expect(all).not.toMatch(/"(key|mk|secret|secretKey)"/);
  });
});
