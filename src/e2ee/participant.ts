/**
 * Participant role (docs/protocol.md "Protocol", "Shield (fail-closed)"): accepts a
 * leader only as the protocol allows, verifies heartbeats (signature, roster hash, counter, hash chain,
 * our own binding in the roster), installs wrapped meeting keys bound to our liveness nonces, switches
 * senders when the heartbeat says so, and computes the shield inputs. Pure: events in, effects out.
 *
 * Options and limits are in `participant-options.ts`; the heartbeat's fork, leader-entry, pin and
 * identity checks in `participant-checks.ts`; key unwrapping and acknowledgement in
 * `participant-keys.ts`.
 */
import { RoomdError } from '../core/errors.ts';
import { equalBytes, fromB64u, toB64u, zeroize } from './bytes.ts';
import { bindingHash, verifyBinding } from './binding.ts';
import { checkHeartbeatSequence, verifyHeartbeat } from './heartbeat.ts';
import type { HeartbeatMessage, KeyMessage } from './messages.ts';
import { type PairKeys, recipientPairKeys, wipePairKeys } from './pair.ts';
import { checkLeaderEntry, identityChanges, isFork, pinConflicts } from './participant-checks.ts';
import { ackEffect, unwrapDelivery } from './participant-keys.ts';
import {
  type AcceptedLeader,
  type AlarmCode,
  BINDING_RETRY_MS,
  FORK_MEMORY,
  NONCE_HISTORY,
  PENDING_KEYS,
  type ParticipantOptions,
} from './participant-options.ts';
import { RosterWatch } from './roster-watch.ts';
import { securityCode } from './security-code.ts';
import type { E2eeEffect, ParticipantId, RelayMember, RosterEntry, ShieldInput } from './types.ts';

export class Participant {
  readonly #o: ParticipantOptions;
  #nonces: Uint8Array[];
  /** Leader the relay names now. */
  leaderId: ParticipantId | null = null;
  /** Binding hash the next leader must present (from the last verified roster); null = first contact. */
  #expectedLeaderHash: string | null = null;
  #leaderRejected = false;
  leader: AcceptedLeader | null = null;
  #lastCode: string | null = null;
  #minNewLeaderEpoch = 1;
  #hb: {
    counter: number;
    hash: string;
    time: number;
    epoch: number;
    rosterVersion: number;
    receivedAt: number;
  } | null = null;
  /** Chain hash by counter of the current leader's recent heartbeats (fork detection). */
  readonly #recent = new Map<number, string>();
  /** Epoch of the first heartbeat accepted from the current leader: older ones belong to another tenure. */
  #tenureEpoch = 0;
  roster: RosterEntry[] | null = null;
  #pair: PairKeys | null = null;
  #pending: KeyMessage[] = [];
  readonly #watch: RosterWatch;
  #heartbeatLostReported = false;
  #bindingSentAt = 0;
  /** Under the `warn` or `refuse` policy: a member whose identity is not verified holds the meeting key. */
  #unverifiedKeyed = false;
  /** Persistent alarms by code (MITM, rejected leader...). */
  readonly alarms = new Map<string, string>();

  constructor(options: ParticipantOptions) {
    this.#o = options;
    this.#nonces = [options.self.nonce.slice()];
    this.#watch = new RosterWatch(options.selfId, options.params.rosterGraceMs);
  }

  #alarm(code: AlarmCode, reason: string): E2eeEffect[] {
    if (this.alarms.has(code)) return [];
    this.alarms.set(code, reason);
    return [{ type: 'ui', fact: { type: 'alarm', code, reason } }];
  }

  /** The relay's roster: leader naming and the claim we compare with the verified roster. */
  onRelayRoster(leaderId: ParticipantId, members: readonly RelayMember[], now: number): E2eeEffect[] {
    this.#watch.relay(members.map((m) => m.participantId));
    const effects: E2eeEffect[] = [];
    // An empty leader id means the relay names no leader (yet): nothing to accept.
    if (leaderId !== '' && leaderId !== this.leaderId) effects.push(...this.#leaderNamed(leaderId, now));
    this.#watch.verified(this.roster ?? [], now);
    return effects;
  }

  #leaderNamed(leaderId: ParticipantId, now: number): E2eeEffect[] {
    const previous = this.leaderId;
    this.leaderId = leaderId;
    this.leader = null;
    this.#hb = null;
    this.#recent.clear();
    this.#tenureEpoch = 0;
    this.#pending = this.#pending.filter((k) => k.leaderId === leaderId);
    // The liveness-nonce chain belongs to one leader tenure (docs/protocol.md "Messages"): a new
    // leader knows only the nonce in our binding, so its first delivery is bound to that one.
    for (const n of this.#nonces) zeroize(n);
    this.#nonces = [this.#o.self.nonce.slice()];
    this.#bindingSentAt = now;
    if (this.#pair) wipePairKeys(this.#pair);
    this.#pair = null;
    this.#minNewLeaderEpoch = Math.max(this.#minNewLeaderEpoch, this.#o.frames.highestEpoch + 1);
    const effects: E2eeEffect[] = [];
    if (this.roster !== null) {
      const entry = this.roster.find((e) => e.participantId === leaderId);
      if (entry === undefined || !entry.e2ee || entry.bindingHash === '') {
        this.#leaderRejected = true;
        effects.push(
          ...this.#alarm(
            'e2ee.leader_rejected',
            `The meeting service named ${leaderId} as leader, who is not in the verified roster.`,
          ),
        );
        return effects;
      }
      this.#expectedLeaderHash = entry.bindingHash;
    } else {
      this.#expectedLeaderHash = null;
    }
    this.#leaderRejected = false;
    this.alarms.delete('e2ee.leader_rejected');
    if (previous !== null)
      effects.push({ type: 'ui', fact: { type: 'leader-changed', from: previous, to: leaderId } });
    if (leaderId !== this.#o.selfId)
      effects.push({ type: 'send', to: leaderId, message: this.#o.self.message });
    return effects;
  }

  /** Verify and apply a heartbeat. Throws RoomdError when it must be rejected. */
  onHeartbeat(msg: HeartbeatMessage, now: number, ownHash?: Uint8Array): E2eeEffect[] {
    const b = msg.body;
    if (this.#leaderRejected || this.leaderId === null || b.leaderId !== this.leaderId) {
      throw new RoomdError('e2ee.unexpected', {
        message: 'A heartbeat came from someone who is not the leader.',
        context: { leader: b.leaderId },
      });
    }
    if (b.meetingId !== this.#o.meetingId || b.instanceId !== this.#o.instanceId) {
      throw new RoomdError('e2ee.unexpected', { message: 'A heartbeat names another meeting.' });
    }
    const effects: E2eeEffect[] = [];
    let leader = this.leader;
    if (leader === null) {
      const lb = verifyBinding(msg.leader, {
        meetingId: this.#o.meetingId,
        instanceId: this.#o.instanceId,
        participantId: b.leaderId,
      });
      if (this.#expectedLeaderHash !== null && lb.hashB64 !== this.#expectedLeaderHash) {
        throw new RoomdError('e2ee.leader_rejected', {
          message: 'The new leader’s keys are not the ones in the verified roster.',
        });
      }
      if (b.epoch < this.#minNewLeaderEpoch)
        throw new RoomdError('e2ee.stale_epoch', { context: { epoch: b.epoch } });
      leader = { id: b.leaderId, binding: lb, code: '' };
    } else if (!equalBytes(leader.binding.hash, bindingHash(msg.leader.binding))) {
      throw new RoomdError('e2ee.leader_rejected', {
        message: 'The leader’s keys changed within its tenure.',
      });
    }
    // Our own heartbeat (we are the leader) needs no signature check: we just made it.
    const hash = toB64u(ownHash ?? verifyHeartbeat(msg, leader.binding.ivk, leader.binding.hash));
    const last = this.#hb;
    if (last !== null) {
      if (isFork(this.#recent, this.#tenureEpoch, last, b, hash)) {
        // Validly signed by the leader yet contradicting what it signed before: equivocation.
        return [
          ...this.#alarm(
            'e2ee.leader_equivocated',
            `The leader ${b.leaderId} signed two different versions of the meeting state.`,
          ),
          {
            type: 'ui',
            fact: { type: 'rejected', code: 'e2ee.leader_equivocated', from: b.leaderId, what: msg.t },
          },
        ];
      }
      checkHeartbeatSequence(last, b);
    }
    checkLeaderEntry(b, leader);
    if (this.leader === null) {
      const code = securityCode(this.#o.meetingId, leader.binding.ivk).text;
      leader.code = code;
      this.leader = leader;
      effects.push({
        type: 'ui',
        fact: {
          type: 'security-code',
          code,
          leaderId: leader.id,
          changed: this.#lastCode !== null && this.#lastCode !== code,
        },
      });
      this.#lastCode = code;
    }
    const rosterChanged = last === null || b.rosterVersion !== last.rosterVersion;
    this.#hb = {
      counter: b.counter,
      hash,
      time: b.time,
      epoch: b.epoch,
      rosterVersion: b.rosterVersion,
      receivedAt: now,
    };
    if (last === null) this.#tenureEpoch = b.epoch;
    this.#recent.set(b.counter, hash);
    if (this.#recent.size > FORK_MEMORY) this.#recent.delete(this.#recent.keys().next().value as number);
    this.#heartbeatLostReported = false;
    this.roster = b.roster;
    const mine = b.roster.find((e) => e.participantId === this.#o.selfId);
    // Listed with our identity but no binding hash: the leader's policy does not key us (not an attack).
    const refusedUs = mine !== undefined && mine.bindingHash === '' && mine.ivk === this.#o.self.body.ivk;
    if (mine !== undefined && mine.bindingHash !== this.#o.self.hashB64 && !refusedUs) {
      effects.push(
        ...this.#alarm(
          'e2ee.binding_mismatch',
          'The leader holds different keys for this room than the ones it published.',
        ),
      );
    }
    effects.push(...this.#checkPins(b.roster));
    effects.push(...this.#checkIdentities(b.roster));
    this.#o.frames.setSlots(b.roster.filter((e) => e.e2ee));
    if (rosterChanged) effects.push({ type: 'ui', fact: { type: 'roster', roster: b.roster } });
    this.#watch.verified(this.roster ?? [], now);
    const pending = this.#pending;
    this.#pending = [];
    for (const k of pending) {
      try {
        effects.push(...this.onKey(k, now));
      } catch (err) {
        if (!(err instanceof RoomdError)) throw err;
        effects.push({ type: 'ui', fact: { type: 'rejected', code: err.code, from: k.leaderId, what: k.t } });
      }
    }
    effects.push(...this.#maybeSwitch(b.sendEpoch));
    return effects;
  }

  /**
   * Binding pinning (docs/protocol.md "Binding pinning"): a verified roster may not give a known id
   * another binding, and a quarantined entry (`e2ee: false` with a binding hash) is the leader
   * telling everyone that it refused a second binding for that id.
   */
  #checkPins(roster: readonly RosterEntry[]): E2eeEffect[] {
    const conflicted = pinConflicts(this.#o.pins, roster);
    if (conflicted.length === 0) return [];
    const self = conflicted.includes(this.#o.selfId);
    return this.#alarm(
      'e2ee.binding_conflict',
      self
        ? 'The meeting service offered other encryption keys in our name; the leader stopped keying us.'
        : `The meeting service offered two different encryption keys for ${conflicted.join(', ')}.`,
    );
  }

  /**
   * Identity certificates (docs/protocol.md "Identity certificates"): every entry's certificate is
   * checked against our anchors and our pins per (organization, name); a changed key for a known name
   * is an alarm for the rest of the session.
   */
  #checkIdentities(roster: readonly RosterEntry[]): E2eeEffect[] {
    const { changed, unverifiedKeyed } = identityChanges(this.#o.identities, this.#o.selfId, roster);
    this.#unverifiedKeyed = unverifiedKeyed;
    if (changed.length === 0) return [];
    return this.#alarm(
      'e2ee.identity_key_changed',
      `${changed.join(', ')} joined with another identity key than the one this room has seen for that name.`,
    );
  }

  #maybeSwitch(epoch: number): E2eeEffect[] {
    const f = this.#o.frames;
    if (epoch > f.sendEpoch && f.holds(epoch) && f.selfSlot !== null) {
      f.setSendEpoch(epoch);
      return [
        { type: 'install-keys', epoch, role: 'send' },
        { type: 'keyframe', epoch },
        { type: 'ui', fact: { type: 'epoch', epoch, sending: true } },
      ];
    }
    return [];
  }

  /** A key delivery addressed to us. Throws RoomdError when it must be rejected. */
  onKey(msg: KeyMessage, now: number): E2eeEffect[] {
    if (
      msg.meetingId !== this.#o.meetingId ||
      msg.instanceId !== this.#o.instanceId ||
      msg.recipientId !== this.#o.selfId
    ) {
      throw new RoomdError('e2ee.unexpected', { message: 'A key delivery is addressed elsewhere.' });
    }
    if (this.leaderId === null || (this.leader === null && !this.#leaderRejected)) {
      // Not yet able to check it (no leader named, or its heartbeat not verified yet): hold a few.
      if (this.#pending.length >= PENDING_KEYS) this.#pending.shift();
      this.#pending.push(msg);
      return [];
    }
    if (this.#leaderRejected || msg.leaderId !== this.leaderId) {
      throw new RoomdError('e2ee.unexpected', {
        message: 'A key delivery did not come from the leader.',
        context: { leader: msg.leaderId },
      });
    }
    const lb = (this.leader as AcceptedLeader).binding;
    if (msg.epoch <= this.#o.frames.highestEpoch || msg.epoch < this.#minNewLeaderEpoch) {
      throw new RoomdError('e2ee.stale_epoch', { context: { epoch: msg.epoch } });
    }
    const nonce = fromB64u(msg.nonce);
    if (!this.#nonces.some((n) => equalBytes(n, nonce))) {
      throw new RoomdError('e2ee.stale_epoch', {
        message: 'A key delivery is bound to an old liveness nonce.',
        context: { epoch: msg.epoch },
      });
    }
    // A new KEM ciphertext gives a candidate pair secret; it replaces ours only once the delivery
    // authenticated under it, so a forged delivery changes nothing.
    let pair = this.#pair;
    let candidate: PairKeys | null = null;
    if (msg.kem !== undefined) {
      const kemCt = fromB64u(msg.kem);
      if (pair === null || !equalBytes(pair.kemCiphertext, kemCt)) {
        candidate = recipientPairKeys(this.#o.ephemeral, this.#o.self.hash, lb.x25519, lb.hash, kemCt);
        pair = candidate;
      }
    }
    if (pair === null)
      throw new RoomdError('e2ee.unexpected', { message: 'A key delivery came without the key exchange.' });
    const key = unwrapDelivery(msg, nonce, pair, candidate, lb, this.#o.self);
    if (candidate !== null) {
      if (this.#pair) wipePairKeys(this.#pair);
      this.#pair = candidate;
    }
    try {
      if (key.length !== 32)
        throw new RoomdError('e2ee.malformed', { message: 'A meeting key has the wrong length.' });
      return this.#installed(msg.epoch, key, msg.slot, msg.switch, now, true);
    } finally {
      zeroize(key);
    }
  }

  /** Our own key when we are the leader. */
  installOwn(
    epoch: number,
    key: Uint8Array,
    slot: number,
    switchMode: 'immediate' | 'await',
    now: number,
  ): E2eeEffect[] {
    return this.#installed(epoch, key, slot, switchMode, now, false);
  }

  #installed(
    epoch: number,
    key: Uint8Array,
    slot: number,
    switchMode: 'immediate' | 'await',
    now: number,
    ack: boolean,
  ): E2eeEffect[] {
    const f = this.#o.frames;
    // After a leave (immediate switch) the old key is known to the leaver: keep it only briefly
    // (docs/protocol.md "Protocol", old keys).
    const retention =
      switchMode === 'immediate' ? this.#o.params.leaveKeyRetentionMs : this.#o.params.oldKeyRetentionMs;
    f.install(epoch, key, now, retention);
    f.setSelfSlot(slot);
    const effects: E2eeEffect[] = [
      { type: 'install-keys', epoch, role: 'receive' },
      { type: 'ui', fact: { type: 'epoch', epoch, sending: false } },
    ];
    if (ack && this.#pair !== null && this.leaderId !== null) {
      const next = this.#o.random(16);
      this.#nonces.push(next);
      if (this.#nonces.length > NONCE_HISTORY) zeroize(this.#nonces.shift());
      effects.push(ackEffect(this.#o, this.leaderId, epoch, next, this.#pair));
    }
    if (switchMode === 'immediate') effects.push(...this.#maybeSwitch(epoch));
    return effects;
  }

  tick(now: number): E2eeEffect[] {
    const effects: E2eeEffect[] = [];
    // Lost binding or key delivery: ask the leader again (it re-delivers the current key).
    const waiting = this.#hb === null || !this.#o.frames.holds(this.#hb.epoch);
    if (
      waiting &&
      this.leaderId !== null &&
      this.leaderId !== this.#o.selfId &&
      !this.#leaderRejected &&
      now - this.#bindingSentAt >= BINDING_RETRY_MS
    ) {
      this.#bindingSentAt = now;
      effects.push({ type: 'send', to: this.leaderId, message: this.#o.self.message });
    }
    if (this.#watch.reportDue(now)) {
      effects.push({
        type: 'ui',
        fact: {
          type: 'alarm',
          code: 'e2ee.roster_mismatch',
          reason: 'The meeting service lists people the leader has not verified.',
        },
      });
    }
    const age = this.heartbeatAge(now);
    if (
      this.leaderId !== null &&
      !this.#heartbeatLostReported &&
      (age === null ? false : age > this.#o.params.heartbeatTimeoutMs)
    ) {
      this.#heartbeatLostReported = true;
      effects.push({
        type: 'ui',
        fact: {
          type: 'alarm',
          code: 'e2ee.heartbeat_missing',
          reason: 'No verified heartbeat from the leader.',
        },
      });
    }
    return effects;
  }

  heartbeatAge(now: number): number | null {
    return this.#hb === null ? null : now - this.#hb.receivedAt;
  }

  get currentEpoch(): number {
    return this.#hb?.epoch ?? 0;
  }

  shieldInput(now: number): Omit<ShieldInput, 'mode' | 'left' | 'alarms'> {
    const roster = this.roster ?? [];
    const mine = roster.find((e) => e.participantId === this.#o.selfId);
    return {
      leaderVerified: this.leader !== null && !this.#leaderRejected,
      heartbeatAgeMs: this.heartbeatAge(now),
      heartbeatTimeoutMs: this.#o.params.heartbeatTimeoutMs,
      holdsCurrentKey: this.#hb !== null && this.#o.frames.holds(this.#hb.epoch),
      selfInRoster: mine !== undefined && mine.bindingHash === this.#o.self.hashB64,
      allCapable: roster.length > 0 && roster.every((e) => e.e2ee),
      unverifiedKeyed: this.#unverifiedKeyed,
      rosterMismatch: this.#watch.state(now),
    };
  }

  /** Last verified roster slots, for a successor leader. */
  knownSlots(): Map<ParticipantId, number> {
    return new Map((this.roster ?? []).map((e) => [e.participantId, e.slot]));
  }

  destroy(): void {
    if (this.#pair) wipePairKeys(this.#pair);
    this.#pair = null;
    for (const n of this.#nonces) zeroize(n);
  }
}
