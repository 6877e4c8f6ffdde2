/**
 * Attacks by a relay (and by participants through an honest relay) on bindings, key deliveries,
 * leader changes, retired keys and heartbeats (docs/protocol.md "# E2EE protocol": "Binding
 * pinning", "Messages", "Protocol"). Each test runs the attack through the scripted relay and shows it
 * failing: the victims alarm, and no participant reads 'e2ee' while an attacker's key could hold a
 * meeting key. Time is the harness's fake clock (`relay.now`).
 */
import { describe, expect, it } from 'vitest';
import { bindingHash } from '../../../src/e2ee/binding.ts';
import { toB64u } from '../../../src/e2ee/bytes.ts';
import { CONTEXT } from '../../../src/e2ee/context.ts';
import { FrameKeys } from '../../../src/e2ee/frames.ts';
import { signHeartbeat } from '../../../src/e2ee/heartbeat.ts';
import { type E2eeSession, DEFAULT_PARAMS } from '../../../src/e2ee/index.ts';
import type {
  AckMessage,
  BindingMessage,
  HeartbeatBody,
  HeartbeatMessage,
  KeyMessage,
} from '../../../src/e2ee/messages.ts';
import { impostorOf } from '../../helpers/impostor.ts';
import { type Envelope, type Peer, ScriptedRelay, tryOpen } from './harness.ts';

function meeting(n: number): ScriptedRelay {
  const relay = new ScriptedRelay();
  for (let i = 0; i < n; i++) relay.join(`p${i}`);
  relay.pump();
  relay.advance(2500);
  for (const s of relay.sessions()) expect(s.shield(relay.now)).toBe('e2ee');
  return relay;
}

const is = (t: string) => (env: Envelope) => (env.message as { t?: string }).t === t;
const alarmCodes = (s: E2eeSession, now: number) => s.status(now).alarms.map((a) => a.code);
const rejectedCodes = (p: Peer | undefined) =>
  (p?.facts ?? []).flatMap((f) => (f.type === 'rejected' ? [f.code] : []));
const neverE2ee = (relay: ScriptedRelay, ids: string[]) => () => {
  for (const id of ids) expect(relay.session(id).shield(relay.now), `${id} at ${relay.now}`).not.toBe('e2ee');
};
const allE2ee = (relay: ScriptedRelay) => Object.values(relay.shields()).every((s) => s === 'e2ee');

/** A binding for `victim`'s id with the relay's own identity and ephemeral keys (self-signed). */
const impostorBinding = (relay: ScriptedRelay, victim: string): BindingMessage =>
  impostorOf(relay.session(victim).binding as BindingMessage);

describe('binding pinning: one binding per participant id and meeting instance', () => {
  it('a second binding for a present member is refused, never keyed, and every screen alarms', () => {
    const relay = meeting(4);
    const victimBinding = relay.session('p2').binding as BindingMessage;
    const toVictim: KeyMessage[] = [];
    relay.intercept = (env) => {
      if (is('e2ee.key')(env) && env.to === 'p2') toVictim.push(env.message as KeyMessage);
      return [env];
    };
    // The relay offers the leader its own keys in p2's name (as if p2 had sent them).
    relay.deliver({ from: 'p2', to: 'p0', message: impostorBinding(relay, 'p2') });
    relay.pump();
    const all = ['p0', 'p1', 'p2', 'p3'];
    neverE2ee(relay, all)();
    // Then replays p2's own binding, hoping to restore the victim before anyone notices.
    relay.deliver({ from: 'p2', to: 'p0', message: victimBinding });
    relay.pump();
    relay.advance(DEFAULT_PARAMS.rekeyIntervalMs + 5000, 2000, neverE2ee(relay, all));
    // Nobody was ever keyed for the id again: not the impostor, not the replayed binding.
    expect(toVictim).toEqual([]);
    expect(rejectedCodes(relay.peers.get('p0'))).toContain('e2ee.binding_conflict');
    for (const id of all) {
      expect(alarmCodes(relay.session(id), relay.now), id).toContain('e2ee.binding_conflict');
      expect(relay.session(id).shield(relay.now), id).toBe('partial');
    }
    const entry = relay
      .session('p1')
      .status(relay.now)
      .roster.find((e) => e.participantId === 'p2');
    expect(entry).toMatchObject({ e2ee: false, bindingHash: toB64u(bindingHash(victimBinding.binding)) });
    // The epoch that followed the refusal is not held by the quarantined id.
    expect(relay.session('p2').status(relay.now).epoch).toBeLessThan(
      relay.session('p1').status(relay.now).epoch,
    );
  });

  it('the same on a joiner, and the relay cannot get its impostor named leader', () => {
    const relay = meeting(3);
    relay.join('p9');
    relay.pump();
    relay.advance(2000);
    expect(allE2ee(relay)).toBe(true);
    relay.deliver({ from: 'p9', to: 'p0', message: impostorBinding(relay, 'p9') });
    relay.pump();
    const all = ['p0', 'p1', 'p2', 'p9'];
    neverE2ee(relay, all)();
    relay.leaderOverride = 'p9';
    relay.broadcastRoster();
    relay.pump();
    relay.advance(5000, 250, neverE2ee(relay, all));
    for (const id of ['p1', 'p2']) {
      expect(alarmCodes(relay.session(id), relay.now)).toContain('e2ee.binding_conflict');
      expect(alarmCodes(relay.session(id), relay.now)).toContain('e2ee.leader_rejected');
    }
    expect(alarmCodes(relay.session('p9'), relay.now)).toContain('e2ee.binding_conflict');
  });

  it('a successor leader keeps the pins: substituting a binding on its way to the new leader alarms all', () => {
    const relay = meeting(4);
    const fake = impostorBinding(relay, 'p2');
    relay.intercept = (env) =>
      is('e2ee.binding')(env) && env.from === 'p2' && env.to === 'p1' ? [{ ...env, message: fake }] : [env];
    relay.leave('p0');
    relay.pump();
    const rest = ['p1', 'p2', 'p3'];
    relay.advance(3000, 250);
    relay.advance(5000, 250, neverE2ee(relay, rest));
    for (const id of rest)
      expect(alarmCodes(relay.session(id), relay.now), id).toContain('e2ee.binding_conflict');
  });

  it('a participant cannot offer a binding in another’s name through an honest relay', () => {
    const relay = meeting(4);
    // p3 signs a binding claiming p2's id with p3's own identity: the relay attests from = p3.
    relay.deliver({ from: 'p3', to: 'p0', message: impostorBinding(relay, 'p2') });
    relay.pump();
    relay.advance(3000);
    expect(rejectedCodes(relay.peers.get('p0'))).toContain('e2ee.unexpected');
    expect(allE2ee(relay)).toBe(true);
    for (const s of relay.sessions()) expect(s.status(relay.now).alarms).toEqual([]);
    // Key deliveries and heartbeats likewise must come from the leader they name.
    const hb = relay.carried.map((t) => JSON.parse(t)).find((m) => m.t === 'e2ee.heartbeat');
    relay.deliver({ from: 'p3', to: 'p1', message: hb });
    expect(rejectedCodes(relay.peers.get('p1'))).toContain('e2ee.unexpected');
    expect(relay.session('p1').shield(relay.now)).toBe('e2ee');
  });
});

describe('key deliveries and leader changes', () => {
  it('a forged delivery with a made-up KEM ciphertext changes nothing: the next rekey still arrives', () => {
    const relay = meeting(3);
    let lastAck: AckMessage | null = null;
    relay.intercept = (env) => {
      if (is('e2ee.ack')(env) && env.from === 'p1') lastAck = env.message as AckMessage;
      return [env];
    };
    relay.join('p3');
    relay.pump();
    relay.advance(2000);
    expect(lastAck).not.toBeNull();
    const ack = lastAck as unknown as AckMessage;
    const status = relay.session('p1').status(relay.now);
    const forged: KeyMessage = {
      t: 'e2ee.key',
      v: 1,
      meetingId: relay.meetingId,
      instanceId: relay.instanceId,
      leaderId: 'p0',
      recipientId: 'p1',
      epoch: status.epoch + 1,
      slot: 1,
      switch: 'immediate',
      nonce: ack.nonce,
      kem: toB64u(new Uint8Array(1088).fill(3)),
      iv: toB64u(new Uint8Array(24)),
      box: toB64u(new Uint8Array(48)),
    };
    relay.deliver({ from: 'p0', to: 'p1', message: forged });
    expect(rejectedCodes(relay.peers.get('p1'))).toContain('e2ee.decrypt_failed');
    expect(relay.session('p1').status(relay.now).epoch).toBe(status.epoch);
    // Later deliveries carry no KEM ciphertext (p1 acknowledged): they must still open.
    relay.leave('p3');
    relay.pump();
    relay.advance(500);
    expect(relay.session('p1').status(relay.now).epoch).toBeGreaterThan(status.epoch);
    expect(allE2ee(relay)).toBe(true);
  });

  it('a leader change after many rekeys strands nobody (the new leader binds to the binding nonce)', () => {
    const relay = new ScriptedRelay('mtg-42', 'inst-1', 'e2ee', { rekeyIntervalMs: 20_000 });
    for (let i = 0; i < 4; i++) relay.join(`p${i}`);
    relay.pump();
    relay.advance(2500);
    // Six rekeys: the binding's nonce is far out of the last-four window.
    for (let i = 0; i < 6; i++) relay.advance(20_000, 1000);
    const before = relay.session('p3').status(relay.now);
    relay.leave('p0');
    relay.pump();
    relay.advance(2000, 250);
    expect(relay.shields()).toEqual({ p1: 'e2ee', p2: 'e2ee', p3: 'e2ee' });
    const after = relay.session('p3').status(relay.now);
    expect(after.leaderId).toBe('p1');
    expect(after.epoch).toBeGreaterThan(before.epoch);
    const frame = relay.session('p2').frames.seal('audio', Buffer.from('after'));
    expect(tryOpen(relay.session('p3'), frame, relay.now)).toBe('after');
  });
});

/** The leaver's copy of the meeting key of `epoch`, found among the keys the sessions drew. */
function leakedKey(relay: ScriptedRelay, leaver: E2eeSession, epoch: number, slotOf: number): Uint8Array {
  for (const k of relay.secrets) {
    if (k.length !== 32) continue;
    const f = forger(relay, 'p1', slotOf, epoch, k);
    if (tryOpen(leaver, f.seal('audio', Buffer.from('probe')), relay.now) === 'probe') return k;
  }
  throw new Error('meeting key not found');
}

function forger(relay: ScriptedRelay, as: string, slot: number, epoch: number, key: Uint8Array): FrameKeys {
  const f = new FrameKeys({
    meetingId: relay.meetingId,
    instanceId: relay.instanceId,
    selfId: as,
    label: CONTEXT.media,
  });
  f.install(epoch, key, relay.now, 60_000);
  f.setSelfSlot(slot);
  f.setSendEpoch(epoch);
  return f;
}

describe('retired keys after a leave', () => {
  it('a leaver cannot forge media as any member once the leave rekey is installed', () => {
    const relay = meeting(5);
    const st = relay.session('p2').status(relay.now);
    const old = st.epoch;
    const slot = (id: string) => st.roster.find((e) => e.participantId === id)?.slot ?? -1;
    const leaver = relay.session('p4');
    const mk = leakedKey(relay, leaver, old, slot('p1'));
    relay.peers.delete('p4');
    relay.broadcastRoster();
    relay.pump();
    expect(relay.session('p2').frames.sendEpoch).toBeGreaterThan(old);
    // p1 moved on: its next frame is in the new epoch.
    const real = relay.session('p1').frames.seal('audio', Buffer.from('real'));
    expect(tryOpen(relay.session('p2'), real, relay.now)).toBe('real');
    // The leaver forges p1 under the old key: refused at once (p1 already sends in the new epoch).
    const asP1 = forger(relay, 'p1', slot('p1'), old, mk).seal('audio', Buffer.from('forged'));
    expect(tryOpen(relay.session('p2'), asP1, relay.now)).toBe('error:e2ee.unknown_key');
    // p3 has sent nothing since the leave: its old key is gone too, the moment the new one was
    // installed (no grace after a leave: the leaver knows the old key).
    const asP3 = forger(relay, 'p3', slot('p3'), old, mk);
    expect(DEFAULT_PARAMS.leaveKeyRetentionMs).toBe(0);
    expect(tryOpen(relay.session('p2'), asP3.seal('audio', Buffer.from('in flight')), relay.now)).toBe(
      'error:e2ee.unknown_key',
    );
    // p3 itself, in the new epoch, still gets through.
    const p3real = relay.session('p3').frames.seal('audio', Buffer.from('p3 real'));
    expect(tryOpen(relay.session('p2'), p3real, relay.now)).toBe('p3 real');
    expect(relay.session('p2').shield(relay.now)).toBe('e2ee');
  });
});

describe('leader equivocation', () => {
  function fork(
    relay: ScriptedRelay,
    leader: string,
    hb: HeartbeatMessage,
    body: HeartbeatBody,
  ): HeartbeatMessage {
    const ivk = relay.identities.get(leader);
    if (!ivk) throw new Error('no identity');
    const lb = hb.leader.binding;
    return signHeartbeat(body, hb.leader, bindingHash(lb), ivk.secretKey).message;
  }

  it('a validly signed fork of the heartbeat chain raises an alarm (shield partial), a replay does not', () => {
    const relay = meeting(3);
    const seen: HeartbeatMessage[] = [];
    relay.intercept = (env) => {
      if (is('e2ee.heartbeat')(env) && env.to === 'p2') seen.push(env.message as HeartbeatMessage);
      return [env];
    };
    relay.advance(3000);
    const last = seen.at(-1) as HeartbeatMessage;
    // A plain replay: rejected, no alarm.
    relay.deliver({ from: 'p0', to: 'p2', message: last });
    expect(rejectedCodes(relay.peers.get('p2'))).toContain('e2ee.stale_epoch');
    expect(relay.session('p2').shield(relay.now)).toBe('e2ee');
    // The leader signs a second heartbeat with the same counter and another roster version.
    const twin = fork(relay, 'p0', last, { ...last.body, rosterVersion: last.body.rosterVersion + 1 });
    relay.deliver({ from: 'p0', to: 'p2', message: twin });
    expect(alarmCodes(relay.session('p2'), relay.now)).toContain('e2ee.leader_equivocated');
    relay.advance(5000, 250, neverE2ee(relay, ['p2']));
    // A next heartbeat whose chain does not continue the one p1 holds: also a fork.
    const p1Last = seen.at(-1) as HeartbeatMessage;
    const broken = fork(relay, 'p0', p1Last, {
      ...p1Last.body,
      counter: p1Last.body.counter + 1,
      prev: toB64u(new Uint8Array(32)),
    });
    relay.intercept = (env) => [env];
    relay.deliver({ from: 'p0', to: 'p1', message: broken });
    expect(alarmCodes(relay.session('p1'), relay.now)).toContain('e2ee.leader_equivocated');
    expect(relay.session('p1').shield(relay.now)).toBe('partial');
  });

  it('heartbeats of a leader’s earlier tenure replayed later are refused without a false alarm', () => {
    const relay = meeting(3);
    const early: Envelope[] = [];
    relay.intercept = (env) => {
      if (is('e2ee.heartbeat')(env) && env.to === 'p2') early.push(env);
      return [env];
    };
    relay.advance(2000);
    relay.intercept = (env) => [env];
    // The relay names p1, then p0 again: p0 leads a second tenure, its counter starts over.
    relay.leaderOverride = 'p1';
    relay.broadcastRoster();
    relay.pump();
    relay.advance(2000);
    relay.leaderOverride = 'p0';
    relay.broadcastRoster();
    relay.pump();
    relay.advance(3000);
    expect(allE2ee(relay)).toBe(true);
    for (const env of early) relay.deliver(env);
    expect(alarmCodes(relay.session('p2'), relay.now)).not.toContain('e2ee.leader_equivocated');
    expect(relay.session('p2').shield(relay.now)).toBe('e2ee');
    expect(early.length).toBeGreaterThan(0);
    expect(rejectedCodes(relay.peers.get('p2'))).toContain('e2ee.stale_epoch');
  });
});

describe('a 60-minute meeting', () => {
  it('12 periodic rekeys and three leader changes: everyone remaining is e2ee within 2 s of each change', () => {
    const relay = new ScriptedRelay();
    for (let i = 0; i < 6; i++) relay.join(`p${i}`);
    relay.pump();
    relay.advance(2000, 250);
    expect(allE2ee(relay)).toBe(true);
    const start = relay.now;
    const watcher = 'p5';
    let lastEpoch = relay.session(watcher).status(relay.now).epoch;
    let changeAt = Number.NEGATIVE_INFINITY;
    let periodic = 0;
    let changes = 0;
    const count = () => {
      const e = relay.session(watcher).status(relay.now).epoch;
      // Epochs made within 3 s of a leader change belong to it (the new leader's first epochs).
      if (e > lastEpoch && relay.now - changeAt > 3000) periodic += e - lastEpoch;
      lastEpoch = e;
    };
    // Each leader keeps the meeting for three periodic rekeys (so every member's binding nonce has
    // long left its last-four window), then leaves.
    const tenure = () => {
      const target = periodic + 3;
      const limit = relay.now + 16 * 60_000;
      while (periodic < target && relay.now < limit) relay.advance(2000, 2000, count);
    };
    for (const leaving of ['p0', 'p1', 'p2']) {
      tenure();
      relay.leave(leaving);
      relay.pump();
      changeAt = relay.now;
      changes++;
      relay.advance(2000, 250, count);
      expect(relay.shields(), `${changes} change(s), ${(relay.now - start) / 60_000} min`).toEqual(
        Object.fromEntries([...relay.peers.keys()].map((id) => [id, 'e2ee'])),
      );
      const leaders = new Set(relay.sessions().map((s) => s.status(relay.now).leaderId));
      expect(leaders).toEqual(new Set([relay.leaderId()]));
    }
    tenure();
    expect(changes).toBe(3);
    expect(periodic).toBe(12);
    expect(relay.now - start).toBeLessThanOrEqual(61 * 60_000);
    expect(allE2ee(relay)).toBe(true);
    const codes = new Set(relay.sessions().map((s) => s.status(relay.now).securityCode));
    expect(codes.size).toBe(1);
    const frame = relay.session('p3').frames.seal('video', Buffer.from('still here'));
    expect(tryOpen(relay.session('p5'), frame, relay.now)).toBe('still here');
  }, 120_000);
});
