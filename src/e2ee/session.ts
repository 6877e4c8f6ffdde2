/**
 * One meeting session of the E2EE core (docs/protocol.md "# E2EE protocol"): composes the participant role,
 * the leader role (while the relay names us leader), media frame keys and the shield. Validates every
 * routed payload; malformed or hostile input becomes a 'rejected' UI fact, never a crash. Enhanced
 * meetings take the relay's key on the same frame path. See index.ts for how to drive it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { type ErrorCode, RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger-types.ts';
import type { EncryptionMode, Shield } from '../protocol/vocabulary.ts';
import {
  defaultRandom,
  type EphemeralKeys,
  makeEphemeralKeys,
  type RandomSource,
  signBinding,
  type VerifiedBinding,
  verifyBinding,
  wipeEphemeralKeys,
} from './binding.ts';
import { CONTEXT } from './context.ts';
import { type DirectCrypto, DirectKeys } from './direct.ts';
import { type FrameCrypto, FrameKeys } from './frames.ts';
import { Leader } from './leader.ts';
import type { E2eeMessage, RosterEntry } from './messages.ts';
import { isBindingShaped, isRelayMember, parseE2eeMessage } from './parse.ts';
import { Participant } from './participant.ts';
import { BindingPins } from './pins.ts';
import { RosterIdentities, type TrustOptions } from './roster-identity.ts';
import { rosterCode } from './security-code.ts';
import { shieldState } from './shield.ts';
import {
  DEFAULT_PARAMS,
  type E2eeEffect,
  type E2eeEvent,
  type E2eeStatus,
  type ParticipantId,
  type ProtocolParams,
  type RelayMember,
  type RosterView,
} from './types.ts';

/** Ed25519 device identity: `secretKey` is the 32-byte seed, `publicKey` the 32-byte IVK. */
export interface Identity {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface E2eeSessionOptions {
  mode: EncryptionMode;
  meetingId: string;
  instanceId: string;
  participantId: ParticipantId;
  deviceId: string;
  displayName: string;
  identity: Identity;
  /** Client kind published in our binding (default 'roomd'). */
  client?: string;
  params?: Partial<ProtocolParams>;
  /** Identity certificates: anchors we trust, our certificate, key pins, the unverified policy. */
  trust?: TrustOptions;
  /** Randomness (tests inject a seeded source); default: the platform CSPRNG. */
  random?: RandomSource;
  logger?: Logger;
  /**
   * Called when a media frame raises the integrity alarm (tampered, replayed or relabelled), so the
   * screen can drop the shield at once rather than at its next refresh.
   */
  onFrameAlarm?: () => void;
}

export interface E2eeSession {
  readonly participantId: ParticipantId;
  readonly mode: EncryptionMode;
  /** Our signed binding message (E2EE mode), e.g. for the relay's bulletin board. */
  readonly binding: E2eeMessage | null;
  readonly frames: FrameCrypto;
  /** One-to-one keys with other members (E2EE meetings; null in enhanced ones). */
  readonly direct: DirectCrypto | null;
  start(now: number): E2eeEffect[];
  handle(event: E2eeEvent, now: number): E2eeEffect[];
  shield(now: number): Shield;
  status(now: number): E2eeStatus;
  /** Leave: wipe every secret (ephemeral keys, pair secrets, meeting keys). */
  close(): void;
}

const RANK: Record<EncryptionMode | 'none', number> = { none: 0, enhanced: 1, e2ee: 2 };

/** Key deliveries and heartbeats must come from the leader they name (the relay attests the sender). */
function notFromLeader(leaderId: string): RoomdError {
  return new RoomdError('e2ee.unexpected', {
    message: 'A leader message came from someone else than the leader it names.',
    context: { leader: leaderId },
  });
}

class Session implements E2eeSession {
  readonly participantId: ParticipantId;
  readonly mode: EncryptionMode;
  readonly binding: E2eeMessage | null;
  readonly #o: E2eeSessionOptions;
  readonly #params: ProtocolParams;
  readonly #random: RandomSource;
  readonly #frames: FrameKeys;
  readonly #ephemeral: EphemeralKeys | null;
  readonly #self: VerifiedBinding | null;
  readonly #participant: Participant | null;
  readonly #direct: DirectKeys | null;
  /** One binding per participant id for this meeting instance (pins.ts), for both roles. */
  readonly #pins = new BindingPins();
  readonly #identities: RosterIdentities;
  /** Identity views and roster code of the last verified roster (recomputed when it changes). */
  #view: { roster: readonly RosterEntry[]; entries: RosterView[]; code: string | null } | null = null;
  #leader: Leader | null = null;
  #left = false;
  #modeNow: EncryptionMode | 'none';
  #enhancedEpoch = 0;
  #relayLeader: ParticipantId | null = null;
  #lastShield: Shield | null = null;
  readonly #alarms = new Map<ErrorCode, string>();

  constructor(o: E2eeSessionOptions) {
    this.#o = o;
    this.participantId = o.participantId;
    this.mode = o.mode;
    this.#modeNow = o.mode;
    this.#params = { ...DEFAULT_PARAMS, ...o.params };
    this.#random = o.random ?? defaultRandom;
    this.#identities = new RosterIdentities(o.trust);
    this.#frames = new FrameKeys({
      meetingId: o.meetingId,
      instanceId: o.instanceId,
      selfId: o.participantId,
      label: o.mode === 'e2ee' ? CONTEXT.media : CONTEXT.enhanced,
      ...(o.onFrameAlarm === undefined ? {} : { onAlarm: o.onFrameAlarm }),
    });
    if (o.mode === 'e2ee') {
      if (o.identity.secretKey.length !== 32 || o.identity.publicKey.length !== 32)
        throw new RangeError('Ed25519 identity keys must be 32 bytes');
      const derived = ed25519.getPublicKey(o.identity.secretKey);
      if (derived.some((b, i) => b !== o.identity.publicKey[i]))
        throw new RangeError('Ed25519 identity public key does not match the secret key');
      this.#ephemeral = makeEphemeralKeys(this.#random);
      const msg = signBinding({
        meetingId: o.meetingId,
        instanceId: o.instanceId,
        participantId: o.participantId,
        deviceId: o.deviceId,
        displayName: o.displayName,
        client: o.client ?? 'roomd',
        caps: ['e2ee-v1', 'sframe-5'],
        identityPublic: o.identity.publicKey,
        identitySecret: o.identity.secretKey,
        keys: this.#ephemeral,
        nonce: this.#random(16),
        ...(o.trust?.certificate === undefined ? {} : { cert: o.trust.certificate }),
      });
      this.#self = verifyBinding(msg, {
        meetingId: o.meetingId,
        instanceId: o.instanceId,
        participantId: o.participantId,
      });
      this.binding = msg;
      this.#participant = new Participant({
        meetingId: o.meetingId,
        instanceId: o.instanceId,
        selfId: o.participantId,
        identityPublic: o.identity.publicKey,
        self: this.#self,
        ephemeral: this.#ephemeral,
        params: this.#params,
        random: this.#random,
        frames: this.#frames,
        pins: this.#pins,
        identities: this.#identities,
      });
      const participant = this.#participant;
      this.#direct = new DirectKeys({
        meetingId: o.meetingId,
        instanceId: o.instanceId,
        selfId: o.participantId,
        self: this.#ephemeral,
        binding: msg,
        bindingHash: this.#self.hashB64,
        rosterHash: (id) => {
          const entry = participant.roster?.find((e) => e.participantId === id);
          return entry === undefined || !entry.e2ee || entry.bindingHash === ''
            ? undefined
            : entry.bindingHash;
        },
        random: this.#random,
      });
    } else {
      this.#ephemeral = null;
      this.#self = null;
      this.binding = null;
      this.#participant = null;
      this.#direct = null;
    }
  }

  get frames(): FrameCrypto {
    return this.#frames;
  }

  get direct(): DirectCrypto | null {
    return this.#direct;
  }

  start(now: number): E2eeEffect[] {
    return this.#withShield([], now);
  }

  handle(event: E2eeEvent, now: number): E2eeEffect[] {
    if (this.#left) return [];
    let effects: E2eeEffect[];
    try {
      effects = this.#dispatch(event, now);
    } catch (err) {
      const e = err instanceof RoomdError ? err : new RoomdError('e2ee.malformed', { cause: err });
      this.#o.logger?.warn({ code: e.code, event: event.type, ...e.context }, 'e2ee input rejected');
      effects = [
        {
          type: 'ui',
          fact: {
            type: 'rejected',
            code: e.code,
            from: event.type === 'message' ? String(event.from).slice(0, 128) : 'relay',
            what: event.type,
          },
        },
      ];
    }
    return this.#withShield(effects, now);
  }

  #withShield(effects: E2eeEffect[], now: number): E2eeEffect[] {
    const s = this.shield(now);
    if (s !== this.#lastShield) {
      this.#lastShield = s;
      effects.push({ type: 'ui', fact: { type: 'shield', shield: s } });
    }
    return effects;
  }

  #dispatch(event: E2eeEvent, now: number): E2eeEffect[] {
    switch (event.type) {
      case 'tick': {
        this.#frames.prune(now);
        const out = this.#leader?.tick(now) ?? [];
        if (this.#participant) out.push(...this.#participant.tick(now));
        return out;
      }
      case 'mode':
        if (RANK[event.mode] < RANK[this.mode])
          return this.#downgrade(`The meeting service switched the meeting to ${event.mode}.`);
        return [];
      case 'enhanced-key':
        if (this.mode === 'e2ee') return this.#downgrade('The meeting service sent its own meeting key.');
        return this.#enhancedKey(event.epoch, event.key, now);
      case 'relay-roster':
        return this.#relayRoster(event.leaderId, event.members, now);
      case 'message':
        return this.#message(event.from, event.message, now);
      case 'direct-request': {
        const hello = this.#direct?.hello(event.peer, now) ?? null;
        return hello === null ? [] : [{ type: 'send', to: event.peer, message: hello }];
      }
    }
  }

  #downgrade(reason: string): E2eeEffect[] {
    this.#alarms.set('e2ee.downgrade', reason);
    this.#left = true;
    this.#modeNow = 'none';
    this.#wipe();
    return [
      { type: 'ui', fact: { type: 'alarm', code: 'e2ee.downgrade', reason } },
      { type: 'leave', code: 'e2ee.downgrade', reason },
    ];
  }

  #enhancedKey(epoch: number, key: Uint8Array, now: number): E2eeEffect[] {
    if (
      !Number.isSafeInteger(epoch) ||
      epoch < 1 ||
      epoch > 0xffff_ffff ||
      !(key instanceof Uint8Array) ||
      key.length !== 32
    ) {
      throw new RoomdError('e2ee.malformed', { message: 'The enhanced meeting key is malformed.' });
    }
    this.#frames.install(epoch, key, now, this.#params.oldKeyRetentionMs);
    this.#frames.setSendEpoch(epoch);
    this.#enhancedEpoch = epoch;
    return [
      { type: 'install-keys', epoch, role: 'receive' },
      { type: 'install-keys', epoch, role: 'send' },
      { type: 'keyframe', epoch },
      { type: 'ui', fact: { type: 'epoch', epoch, sending: true } },
    ];
  }

  #relayRoster(leaderId: ParticipantId, members: readonly RelayMember[], now: number): E2eeEffect[] {
    if (!Array.isArray(members) || typeof leaderId !== 'string' || !members.every(isRelayMember)) {
      throw new RoomdError('e2ee.malformed', { message: 'The relay roster is malformed.' });
    }
    if (this.mode === 'enhanced') {
      this.#frames.setSlots(
        members
          .filter((m) => typeof m.slot === 'number')
          .map((m) => ({ participantId: m.participantId, slot: m.slot as number })),
      );
      const mine = members.find((m) => m.participantId === this.participantId);
      if (mine?.slot !== undefined) this.#frames.setSelfSlot(mine.slot);
      return [];
    }
    const p = this.#participant as Participant;
    const effects: E2eeEffect[] = [];
    const changed = leaderId !== this.#relayLeader;
    this.#relayLeader = leaderId;
    if (changed && this.#leader) {
      this.#leader.destroy();
      this.#leader = null;
    }
    effects.push(...p.onRelayRoster(leaderId, members, now));
    if (
      changed &&
      leaderId === this.participantId &&
      p.leaderId === leaderId &&
      !p.alarms.has('e2ee.leader_rejected')
    ) {
      this.#leader = new Leader({
        meetingId: this.#o.meetingId,
        instanceId: this.#o.instanceId,
        selfId: this.participantId,
        identitySecret: this.#o.identity.secretKey,
        self: this.#self as VerifiedBinding,
        ephemeral: this.#ephemeral as EphemeralKeys,
        params: this.#params,
        random: this.#random,
        firstEpoch: Math.max(this.#frames.highestEpoch, p.currentEpoch) + 1,
        knownSlots: p.knownSlots(),
        pins: this.#pins,
        identities: this.#identities,
        installOwnKey: (epoch, key, slot, sw, t) => p.installOwn(epoch, key, slot, sw, t),
        onOwnHeartbeat: (msg, t, hash) => p.onHeartbeat(msg, t, hash),
      });
      this.#leader.onRelayRoster(members, now);
      effects.push(...this.#leader.start(now));
      return effects;
    }
    if (this.#leader) effects.push(...this.#leader.onRelayRoster(members, now));
    return effects;
  }

  #message(from: ParticipantId, raw: unknown, now: number): E2eeEffect[] {
    if (from === this.participantId) return [];
    if (this.mode !== 'e2ee')
      throw new RoomdError('e2ee.unexpected', { message: 'E2EE messages in an enhanced meeting.' });
    const p = this.#participant as Participant;
    let msg: E2eeMessage;
    try {
      msg = parseE2eeMessage(raw);
    } catch (err) {
      // An old-protocol client: the leader lists it as not E2EE-capable (shield partial for everyone).
      if (
        err instanceof RoomdError &&
        err.code === 'e2ee.unsupported_version' &&
        this.#leader &&
        isBindingShaped(raw)
      ) {
        return this.#leader.markIncapable(from, now);
      }
      throw err;
    }
    switch (msg.t) {
      case 'e2ee.binding':
        if (!this.#leader)
          throw new RoomdError('e2ee.unexpected', {
            message: 'A binding was sent to someone who is not the leader.',
          });
        return this.#leader.onBinding(msg, now, from);
      case 'e2ee.ack':
        if (!this.#leader)
          throw new RoomdError('e2ee.unexpected', {
            message: 'A key acknowledgement was sent to someone who is not the leader.',
          });
        return this.#leader.onAck(msg, now, from);
      case 'e2ee.key':
        if (msg.leaderId !== from) throw notFromLeader(msg.leaderId);
        return p.onKey(msg, now);
      case 'e2ee.heartbeat':
        if (msg.body.leaderId !== from) throw notFromLeader(msg.body.leaderId);
        return p.onHeartbeat(msg, now);
      case 'e2ee.direct-hello': {
        const reply = (this.#direct as DirectKeys).onHello(msg, from);
        return reply === null ? [] : [{ type: 'send', to: from, message: reply }];
      }
      case 'e2ee.direct-reply':
        (this.#direct as DirectKeys).onReply(msg, from);
        return [];
    }
  }

  shield(now: number): Shield {
    const alarms = this.#alarmList(now).length;
    if (this.mode === 'enhanced') {
      return shieldState({
        mode: this.#modeNow,
        left: this.#left,
        leaderVerified: false,
        heartbeatAgeMs: null,
        heartbeatTimeoutMs: this.#params.heartbeatTimeoutMs,
        holdsCurrentKey: this.#enhancedEpoch > 0 && this.#frames.holds(this.#enhancedEpoch),
        selfInRoster: false,
        allCapable: false,
        rosterMismatch: 'none',
        alarms,
      });
    }
    const p = this.#participant as Participant;
    return shieldState({ mode: this.#modeNow, left: this.#left, alarms, ...p.shieldInput(now) });
  }

  #alarmList(now: number): { code: ErrorCode; reason: string }[] {
    const list = [...this.#alarms].map(([code, reason]) => ({ code, reason }));
    if (this.#participant)
      for (const [code, reason] of this.#participant.alarms) list.push({ code: code as ErrorCode, reason });
    const f = this.#frames.lastIntegrityFailureAt;
    if (f !== null && now - f < this.#params.integrityAlarmMs) {
      list.push({ code: 'e2ee.frame_tampered', reason: 'Media frames arrived altered or replayed.' });
    }
    const r = this.#frames.lastRelabelledAt;
    if (r !== null && now - r < this.#params.integrityAlarmMs) {
      list.push({
        code: 'e2ee.frame_relabelled',
        reason: 'Media frames arrived labelled with the wrong sender and were dropped.',
      });
    }
    return list;
  }

  status(now: number): E2eeStatus {
    const p = this.#participant;
    return {
      mode: this.mode,
      shield: this.shield(now),
      participantId: this.participantId,
      leaderId: p?.leaderId ?? null,
      isLeader: this.#leader !== null,
      securityCode: p?.leader?.code ?? null,
      epoch: this.#frames.highestEpoch,
      sendEpoch: this.#frames.sendEpoch,
      ...this.#rosterView(),
      identityPolicy: this.#identities.policy,
      alarms: this.#alarmList(now),
    };
  }

  #rosterView(): { roster: RosterView[]; rosterCode: string | null } {
    const roster = this.#participant?.roster ?? null;
    const self = this.#self;
    if (roster === null || self === null) return { roster: [], rosterCode: null };
    if (this.#view?.roster !== roster) {
      const entries = roster.map((e) => ({ ...e, identity: this.#identities.entry(e) }));
      const code = rosterCode(this.#o.meetingId, this.#o.instanceId, roster, {
        participantId: this.participantId,
        bindingHash: self.hashB64,
        ivk: self.body.ivk,
        e2ee: true,
      });
      this.#view = { roster, entries, code };
    }
    return { roster: this.#view.entries, rosterCode: this.#view.code };
  }

  #wipe(): void {
    this.#leader?.destroy();
    this.#leader = null;
    this.#participant?.destroy();
    this.#direct?.destroy();
    this.#pins.clear();
    this.#frames.destroy();
    if (this.#ephemeral) wipeEphemeralKeys(this.#ephemeral);
  }

  close(): void {
    this.#left = true;
    this.#wipe();
  }
}

export function createE2eeSession(options: E2eeSessionOptions): E2eeSession {
  return new Session(options);
}
