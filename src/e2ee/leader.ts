/**
 * Leader role (docs/protocol.md "Keys and bindings", "Protocol"): verifies bindings, keeps the roster and
 * its compact sender slots, makes a meeting key per epoch and wraps it for every E2EE member with the
 * cached hybrid pair secret, and signs a hash-chained heartbeat at least every interval. Pure: events in,
 * effects out; its own key goes to `installOwnKey`, its heartbeats to `onOwnHeartbeat`.
 */
import { RoomdError } from '../core/errors.ts';
import { fromB64u, toB64u, zeroize } from './bytes.ts';
import { type EphemeralKeys, type RandomSource, type VerifiedBinding, verifyBinding } from './binding.ts';
import { rosterHash, signHeartbeat } from './heartbeat.ts';
import type { AckMessage, BindingMessage, HeartbeatMessage, KeyMessage } from './messages.ts';
import { cleanDisplayName, cleanToken, isValidId } from './parse.ts';
import { leaderPairKeys, type PairKeys, verifyAckMac, wipePairKeys, wrapMeetingKey } from './pair.ts';
import { BindingPins } from './pins.ts';
import { RosterIdentities } from './roster-identity.ts';
import type { E2eeEffect, ParticipantId, ProtocolParams, RelayMember, RosterEntry } from './types.ts';

const MAX_UNLISTED_BINDINGS = 32;

interface Member {
  binding: VerifiedBinding;
  pair: PairKeys | null;
  acked: boolean;
  ackedEpoch: number;
  nonce: Uint8Array;
}

export interface LeaderOptions {
  meetingId: string;
  instanceId: string;
  selfId: ParticipantId;
  identitySecret: Uint8Array;
  self: VerifiedBinding;
  ephemeral: EphemeralKeys;
  params: ProtocolParams;
  random: RandomSource;
  /** First epoch this leader makes (greater than any epoch seen before). */
  firstEpoch: number;
  /** Slots from the last verified roster, kept so senders keep their KIDs across a leader change. */
  knownSlots: ReadonlyMap<ParticipantId, number>;
  /**
   * Binding pins of this meeting instance (pins.ts), shared with our participant role so a successor
   * leader starts from every pin seen in verified rosters. Default: a fresh set.
   */
  pins?: BindingPins;
  /** Identity checks and the unverified-participant policy (shared with our participant role). */
  identities?: RosterIdentities;
  installOwnKey(
    epoch: number,
    key: Uint8Array,
    slot: number,
    switchMode: 'immediate' | 'await',
    now: number,
  ): E2eeEffect[];
  onOwnHeartbeat(message: HeartbeatMessage, now: number, hash: Uint8Array): E2eeEffect[];
}

export class Leader {
  readonly #o: LeaderOptions;
  readonly #bindings = new Map<ParticipantId, Member>();
  /** Clients the relay says are E2EE but whose binding used a version we do not speak. */
  readonly #incapable = new Set<ParticipantId>();
  readonly #slots = new Map<ParticipantId, number>();
  readonly #pins: BindingPins;
  readonly #identities: RosterIdentities;
  #nextSlot = 0;
  #relay: readonly RelayMember[] = [];
  #roster: RosterEntry[] = [];
  #rosterVersion = 0;
  #epoch = 0;
  #key: Uint8Array | null = null;
  #sendEpoch = 0;
  #epochStartedAt = 0;
  #rekeyDueAt: number | null = null;
  /** When the last rekey for joiners happened: joins within `joinCoalesceMs` of it are batched. */
  #lastJoinRekeyAt = Number.NEGATIVE_INFINITY;
  #counter = 0;
  #prev = '';
  #lastHeartbeatAt = -Infinity;
  /** The roster changed: heartbeat at the next tick (many joins cost one heartbeat). */
  #dirty = false;
  #started = false;

  constructor(options: LeaderOptions) {
    this.#o = options;
    this.#pins = options.pins ?? new BindingPins();
    this.#identities = options.identities ?? new RosterIdentities();
    for (const [id, slot] of options.knownSlots) {
      this.#slots.set(id, slot);
      this.#nextSlot = Math.max(this.#nextSlot, slot + 1);
    }
  }

  get epoch(): number {
    return this.#epoch;
  }

  get roster(): readonly RosterEntry[] {
    return this.#roster;
  }

  #slotOf(id: ParticipantId): number {
    let s = this.#slots.get(id);
    if (s === undefined) {
      s = this.#nextSlot++;
      this.#slots.set(id, s);
    }
    return s;
  }

  /** Rebuild the roster from the relay's members and verified bindings; returns ids added and removed. */
  #rebuild(): { added: ParticipantId[]; removed: ParticipantId[] } {
    const next: RosterEntry[] = [];
    const self = this.#o.self.body;
    next.push({
      participantId: this.#o.selfId,
      slot: this.#slotOf(this.#o.selfId),
      bindingHash: this.#o.self.hashB64,
      displayName: self.displayName,
      client: self.client,
      e2ee: true,
      ivk: self.ivk,
      ...(self.cert === undefined ? {} : { cert: self.cert }),
    });
    this.#pins.offer(this.#o.selfId, this.#o.self.hashB64);
    for (const m of this.#relay) {
      if (m.participantId === this.#o.selfId) continue;
      let b = this.#bindings.get(m.participantId);
      if (b !== undefined && this.#pins.offer(m.participantId, b.binding.hashB64) === 'conflict') {
        if (b.pair) wipePairKeys(b.pair);
        this.#bindings.delete(m.participantId);
        b = undefined;
      }
      if (this.#pins.isConflicted(m.participantId) && isValidId(m.participantId)) {
        // Quarantined (docs/protocol.md "Binding pinning"): listed with the pinned hash and
        // `e2ee: false`, keyed for nobody; every receiver of this roster raises the alarm.
        next.push({
          participantId: m.participantId,
          slot: this.#slotOf(m.participantId),
          bindingHash: this.#pins.get(m.participantId) ?? '',
          displayName: cleanDisplayName(m.displayName),
          client: cleanToken(m.client),
          e2ee: false,
          ivk: '',
        });
      } else if (b !== undefined) {
        const body = b.binding.body;
        // Under the `refuse` policy an unverified member is listed with its identity but no binding
        // hash and is keyed by nobody (docs/protocol.md "Identity certificates").
        const admitted = this.#identities.admits(this.#identities.view(body.ivk, body.cert));
        next.push({
          participantId: m.participantId,
          slot: this.#slotOf(m.participantId),
          bindingHash: admitted ? b.binding.hashB64 : '',
          displayName: body.displayName,
          client: body.client,
          e2ee: admitted,
          ivk: body.ivk,
          ...(body.cert === undefined ? {} : { cert: body.cert }),
        });
      } else if ((!m.e2ee || this.#incapable.has(m.participantId)) && isValidId(m.participantId)) {
        next.push({
          participantId: m.participantId,
          slot: this.#slotOf(m.participantId),
          bindingHash: '',
          displayName: cleanDisplayName(m.displayName),
          client: cleanToken(m.client),
          e2ee: false,
          ivk: '',
        });
      }
    }
    next.sort((a, b) => a.slot - b.slot);
    // An entry that loses its keys (left, new binding, quarantined) counts as removed: rekey at once.
    const keyOf = (e: RosterEntry) => `${e.bindingHash}|${e.e2ee}`;
    const before = new Map(this.#roster.map((e) => [e.participantId, keyOf(e)]));
    const after = new Map(next.map((e) => [e.participantId, keyOf(e)]));
    const added = [...after].filter(([id, h]) => before.get(id) !== h).map(([id]) => id);
    const removed = [...before].filter(([id, h]) => after.get(id) !== h).map(([id]) => id);
    if (
      added.length > 0 ||
      removed.length > 0 ||
      next.some((e, i) => JSON.stringify(e) !== JSON.stringify(this.#roster[i]))
    ) {
      this.#roster = next;
      this.#rosterVersion++;
    }
    return { added, removed };
  }

  start(now: number): E2eeEffect[] {
    this.#started = true;
    this.#rebuild();
    return this.#rekey(now, 'await');
  }

  onRelayRoster(members: readonly RelayMember[], now: number): E2eeEffect[] {
    this.#relay = members;
    const present = new Set(members.map((m) => m.participantId));
    for (const [id, b] of this.#bindings) {
      if (!present.has(id)) {
        if (b.pair) wipePairKeys(b.pair);
        this.#bindings.delete(id);
      }
    }
    return this.#afterChange(now);
  }

  #afterChange(now: number): E2eeEffect[] {
    if (!this.#started) return [];
    const { added, removed } = this.#rebuild();
    if (removed.length > 0) return this.#rekey(now, 'immediate');
    const e2eeAdded = added.filter((id) => this.#bindings.has(id));
    if (added.length > 0) this.#dirty = true;
    if (e2eeAdded.length > 0 && this.#rekeyDueAt === null) {
      // Leading edge: a join after a quiet spell is keyed at once (a join faster than a blink);
      // joins that follow within the window share the next epoch.
      const earliest = this.#lastJoinRekeyAt + this.#o.params.joinCoalesceMs;
      if (now >= earliest) {
        this.#lastJoinRekeyAt = now;
        return this.#rekey(now, 'await');
      }
      this.#rekeyDueAt = earliest;
    }
    return [];
  }

  /**
   * A binding sent to us (validated message) by `from`, the sender the relay attests. Throws
   * RoomdError when it does not verify or names someone else than its sender.
   */
  onBinding(msg: BindingMessage, now: number, from: ParticipantId = msg.binding.participantId): E2eeEffect[] {
    // A participant speaks only for itself (docs/protocol.md "Binding pinning"): with an honest relay
    // nobody can offer a binding for someone else's id.
    if (msg.binding.participantId !== from) {
      throw new RoomdError('e2ee.unexpected', {
        message: 'A binding names another participant than its sender.',
        context: { participant: msg.binding.participantId },
      });
    }
    // Bindings may arrive before the relay lists their sender, but only a few: a hostile relay must
    // not make us verify and store without bound.
    const listed = new Set(this.#relay.map((m) => m.participantId));
    if (!listed.has(msg.binding.participantId)) {
      let outsiders = 0;
      for (const k of this.#bindings.keys()) if (!listed.has(k)) outsiders++;
      if (outsiders >= MAX_UNLISTED_BINDINGS) {
        throw new RoomdError('e2ee.not_in_roster', { context: { participant: msg.binding.participantId } });
      }
    }
    const v = verifyBinding(msg, { meetingId: this.#o.meetingId, instanceId: this.#o.instanceId });
    const id = v.body.participantId;
    if (id === this.#o.selfId)
      throw new RoomdError('e2ee.unexpected', { message: 'A binding claims to be ours.' });
    if (this.#pins.isConflicted(id)) {
      throw new RoomdError('e2ee.binding_conflict', { context: { participant: id } });
    }
    const pinned = this.#pins.get(id);
    if (pinned !== undefined && pinned !== v.hashB64) {
      // A second binding for an id of this instance: refuse it, stop keying the id altogether (we
      // cannot tell which binding is the impostor) and rekey at once; the signed roster tells all.
      this.#pins.markConflict(id);
      const held = this.#bindings.get(id);
      if (held?.pair) wipePairKeys(held.pair);
      this.#bindings.delete(id);
      this.#dirty = true;
      return this.#afterChange(now);
    }
    const existing = this.#bindings.get(id);
    if (existing !== undefined && existing.binding.hashB64 === v.hashB64) {
      // Asked again: the participant lost our delivery. Re-deliver the current key (fresh IV).
      if (this.#key === null || existing.ackedEpoch >= this.#epoch) return [];
      return this.wrapAll(this.#epoch, this.#key, 'await', id);
    }
    if (existing?.pair) wipePairKeys(existing.pair);
    this.#incapable.delete(id);
    this.#bindings.set(id, { binding: v, pair: null, acked: false, ackedEpoch: 0, nonce: v.nonce });
    return this.#afterChange(now);
  }

  /** A participant the relay lists sent a binding in a protocol version we do not speak. */
  markIncapable(id: ParticipantId, now: number): E2eeEffect[] {
    if (id === this.#o.selfId || this.#bindings.has(id)) return [];
    this.#incapable.add(id);
    return this.#afterChange(now);
  }

  onAck(msg: AckMessage, now: number, from: ParticipantId = msg.participantId): E2eeEffect[] {
    const m = this.#bindings.get(msg.participantId);
    if (
      m === undefined ||
      msg.participantId !== from ||
      m.pair === null ||
      msg.leaderId !== this.#o.selfId ||
      msg.meetingId !== this.#o.meetingId ||
      msg.instanceId !== this.#o.instanceId
    ) {
      throw new RoomdError('e2ee.unexpected', {
        message: 'A key acknowledgement does not match.',
        context: { participant: msg.participantId },
      });
    }
    const nonce = fromB64u(msg.nonce);
    const ctx = {
      meetingId: msg.meetingId,
      instanceId: msg.instanceId,
      leaderId: msg.leaderId,
      participantId: msg.participantId,
      epoch: msg.epoch,
      nonce,
    };
    if (!verifyAckMac(m.pair.ackKey, ctx, fromB64u(msg.mac)))
      throw new RoomdError('e2ee.bad_signature', {
        context: { what: 'ack', participant: msg.participantId },
      });
    if (msg.epoch > this.#epoch || msg.epoch < m.ackedEpoch) return [];
    m.acked = true;
    m.ackedEpoch = msg.epoch;
    m.nonce = nonce;
    if (this.#sendEpoch < this.#epoch && this.#allAcked()) {
      this.#sendEpoch = this.#epoch;
      return this.#heartbeat(now);
    }
    return [];
  }

  #allAcked(): boolean {
    for (const e of this.#roster) {
      if (!e.e2ee || e.participantId === this.#o.selfId) continue;
      const m = this.#bindings.get(e.participantId);
      if (m === undefined || m.ackedEpoch < this.#epoch) return false;
    }
    return true;
  }

  tick(now: number): E2eeEffect[] {
    if (!this.#started) return [];
    if (this.#rekeyDueAt !== null && now >= this.#rekeyDueAt) {
      this.#lastJoinRekeyAt = now;
      return this.#rekey(now, 'await');
    }
    if (now - this.#epochStartedAt >= this.#o.params.rekeyIntervalMs) return this.#rekey(now, 'await');
    if (this.#sendEpoch < this.#epoch && now - this.#epochStartedAt >= this.#o.params.switchBoundMs) {
      this.#sendEpoch = this.#epoch;
      return this.#heartbeat(now);
    }
    if (this.#dirty || now - this.#lastHeartbeatAt >= this.#o.params.heartbeatIntervalMs)
      return this.#heartbeat(now);
    return [];
  }

  /** New epoch: wrap a fresh meeting key for every E2EE member of the roster, then a heartbeat. */
  #rekey(now: number, switchMode: 'immediate' | 'await'): E2eeEffect[] {
    const epoch = Math.max(this.#epoch + 1, this.#o.firstEpoch);
    if (epoch > 0xffff_ffff)
      throw new RoomdError('e2ee.counter_exhausted', { message: 'The epoch counter is used up.' });
    this.#rekeyDueAt = null;
    if (this.#key) zeroize(this.#key);
    const key = this.#o.random(32);
    this.#key = key;
    this.#epoch = epoch;
    this.#epochStartedAt = now;
    const effects = this.wrapAll(epoch, key, switchMode);
    const selfSlot = this.#slotOf(this.#o.selfId);
    effects.push(...this.#o.installOwnKey(epoch, key, selfSlot, switchMode, now));
    if (switchMode === 'immediate' || this.#allAcked()) this.#sendEpoch = epoch;
    effects.push(...this.#heartbeat(now));
    return effects;
  }

  /** Produce one key delivery per E2EE member (exposed for the rekey benchmark). */
  wrapAll(
    epoch: number,
    key: Uint8Array,
    switchMode: 'immediate' | 'await',
    only?: ParticipantId,
  ): E2eeEffect[] {
    const out: E2eeEffect[] = [];
    const self = this.#o.self;
    // One draw of randomness for all IVs: a rekey of n members is n small AEADs and little else.
    const ivs = this.#o.random(24 * this.#roster.length);
    let ivi = 0;
    for (const e of this.#roster) {
      if (!e.e2ee || e.participantId === this.#o.selfId || (only !== undefined && e.participantId !== only))
        continue;
      const m = this.#bindings.get(e.participantId);
      if (m === undefined) continue;
      m.pair ??= leaderPairKeys(
        this.#o.ephemeral,
        self.hash,
        m.binding.x25519,
        m.binding.mlkem,
        m.binding.hash,
      );
      const iv = ivs.subarray(ivi, ivi + 24);
      ivi += 24;
      const ctx = {
        meetingId: this.#o.meetingId,
        instanceId: this.#o.instanceId,
        leaderId: this.#o.selfId,
        recipientId: e.participantId,
        epoch,
        slot: e.slot,
        switchMode,
        nonce: m.nonce,
        leaderHash: self.hash,
        recipientHash: m.binding.hash,
      };
      const message: KeyMessage = {
        t: 'e2ee.key',
        v: 1,
        meetingId: ctx.meetingId,
        instanceId: ctx.instanceId,
        leaderId: ctx.leaderId,
        recipientId: ctx.recipientId,
        epoch,
        slot: e.slot,
        switch: switchMode,
        nonce: toB64u(m.nonce),
        iv: toB64u(iv),
        box: toB64u(wrapMeetingKey(m.pair.wrapKey, iv, ctx, key)),
      };
      if (!m.acked) message.kem = toB64u(m.pair.kemCiphertext);
      out.push({ type: 'send', to: e.participantId, message });
    }
    return out;
  }

  #heartbeat(now: number): E2eeEffect[] {
    this.#lastHeartbeatAt = now;
    this.#dirty = false;
    const body = {
      meetingId: this.#o.meetingId,
      instanceId: this.#o.instanceId,
      leaderId: this.#o.selfId,
      epoch: this.#epoch,
      sendEpoch: this.#sendEpoch,
      rosterVersion: this.#rosterVersion,
      counter: this.#counter++,
      time: Math.max(0, Math.floor(now)),
      rosterHash: toB64u(rosterHash(this.#roster)),
      prev: this.#prev,
      roster: this.#roster.map((e) => ({ ...e })),
    };
    const { message, hash } = signHeartbeat(
      body,
      this.#o.self.message,
      this.#o.self.hash,
      this.#o.identitySecret,
    );
    this.#prev = toB64u(hash);
    return [{ type: 'send', to: 'all', message }, ...this.#o.onOwnHeartbeat(message, now, hash)];
  }

  destroy(): void {
    if (this.#key) zeroize(this.#key);
    this.#key = null;
    for (const m of this.#bindings.values()) if (m.pair) wipePairKeys(m.pair);
    this.#bindings.clear();
  }
}
