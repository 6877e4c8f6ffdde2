/**
 * Test harness for the meeting state machine (src/meeting/machine.ts): one room's machine and the
 * E2EE sessions of other simulated participants, joined through a scripted in-memory relay that
 * sends the room what a real relay would (admission, meeting-info, roster, leader, routed e2ee
 * envelopes as JSON text) and names the leader like one (host, else longest present; docs/protocol.md
 * §Leader). It also plays the shell's part for the timer effects, on a FakeClock: `start-tick` ticks
 * the machine, `arm-join-deadline` delivers `join-deadline`. No sockets, no wrtc.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { FakeClock, type TimerHandle } from '../../../src/core/clock.ts';
import {
  createE2eeSession,
  type E2eeEffect,
  type E2eeSession,
  type ProtocolParams,
  type RelayMember,
} from '../../../src/e2ee/index.ts';
import { createMeetingMachine, type MeetingMachine } from '../../../src/meeting/machine.ts';
import type {
  MeetingEffect,
  MeetingEvent,
  MeetingMachineOptions,
} from '../../../src/meeting/machine-types.ts';
import type { SessionIdentity } from '../../../src/meeting/session-types.ts';
import type { MeetingSnapshot } from '../../../src/meeting/status.ts';
import type { ServerMessageOf } from '../../../src/protocol/schemas.ts';
import type { EncryptionMode } from '../../../src/protocol/vocabulary.ts';

export const MEETING_ID = '123-4567-8901';
export const INSTANCE_ID = 'inst-1';
/** Quick protocol timing so tests stay short (same shape as the defaults). */
export const PARAMS: Partial<ProtocolParams> = { joinCoalesceMs: 200, switchBoundMs: 600 };

export function identity(deviceId = 'dev-room'): SessionIdentity {
  const secretKey = ed25519.utils.randomSecretKey();
  return { deviceId, publicKey: ed25519.getPublicKey(secretKey), secretKey };
}

interface SimPeer {
  id: string;
  name: string;
  host: boolean;
  identity: SessionIdentity;
  session: E2eeSession | null;
}

interface Envelope {
  from: string;
  to: string;
  payload: string;
}

export class SimMeeting {
  readonly clock = new FakeClock();
  readonly room: MeetingMachine;
  /** Every effect the room's machine returned, in order. */
  readonly effects: MeetingEffect[] = [];
  /** The room's participant id while admitted on the current connection. */
  roomId: string | null = null;
  /** The encryption the relay reports in meeting-info. */
  mode: EncryptionMode;
  instanceId = INSTANCE_ID;
  /** Pin the leader the relay names (null: host, else longest present). */
  leaderOverride: string | null = null;
  readonly peers = new Map<string, SimPeer>();
  /** Presence order, for "longest present". */
  readonly #order: string[] = [];
  readonly #queue: Envelope[] = [];
  #rosterVersion = 0;
  #tick: TimerHandle | null = null;
  #deadline: TimerHandle | null = null;

  constructor(options: Partial<MeetingMachineOptions> & { mode?: EncryptionMode } = {}) {
    const { mode, ...rest } = options;
    this.mode = mode ?? 'e2ee';
    this.room = createMeetingMachine({
      meetingId: MEETING_ID,
      displayName: 'Huddle Room',
      clientType: 'room',
      identity: identity(),
      e2eeParams: PARAMS,
      ...rest,
    });
  }

  get snapshot(): MeetingSnapshot {
    return this.room.snapshot;
  }

  /** The statuses the room emitted, in order, without repeats. */
  statuses(): string[] {
    const out: string[] = [];
    for (const e of this.effects)
      if (e.type === 'state' && out[out.length - 1] !== e.snapshot.status) out.push(e.snapshot.status);
    return out;
  }

  of<T extends MeetingEffect['type']>(type: T): Extract<MeetingEffect, { type: T }>[] {
    return this.effects.filter((e): e is Extract<MeetingEffect, { type: T }> => e.type === type);
  }

  /** Hand the room one event at the clock's time; plays the shell's timers; routes its envelopes. */
  feed(event: MeetingEvent): MeetingEffect[] {
    const out = this.room.handle(event, this.clock.monotonic());
    this.effects.push(...out);
    for (const e of out) {
      if (e.type === 'send-e2ee') this.#route(this.roomId ?? '?', e.to, e.payload);
      else if (e.type === 'start-tick')
        this.#tick = this.clock.setInterval(() => this.feed({ type: 'tick' }), e.everyMs);
      else if (e.type === 'stop-tick' && this.#tick !== null) this.clock.clear(this.#tick);
      else if (e.type === 'arm-join-deadline')
        this.#deadline = this.clock.setTimeout(() => this.feed({ type: 'join-deadline' }), e.afterMs);
      else if (e.type === 'disarm-join-deadline' && this.#deadline !== null) this.clock.clear(this.#deadline);
    }
    return out;
  }

  join(): MeetingEffect[] {
    return this.feed({ type: 'join' });
  }

  /** A participant with a real E2EE session (or, `e2ee: false`, a client without one). */
  addPeer(id: string, name: string, o: { host?: boolean; e2ee?: boolean } = {}): void {
    const ident = identity(`dev-${id}`);
    const session =
      o.e2ee === false
        ? null
        : createE2eeSession({
            mode: this.mode,
            meetingId: MEETING_ID,
            instanceId: this.instanceId,
            participantId: id,
            deviceId: ident.deviceId,
            displayName: name,
            client: 'desktop',
            identity: ident,
            params: PARAMS,
          });
    const peer: SimPeer = { id, name, host: o.host ?? false, identity: ident, session };
    this.peers.set(id, peer);
    this.#order.push(id);
    if (session) this.#applyPeer(peer, session.start(this.clock.monotonic()));
    this.broadcastRoster();
    this.pump();
  }

  removePeer(id: string): void {
    this.peers.get(id)?.session?.close();
    this.peers.delete(id);
    this.#order.splice(this.#order.indexOf(id), 1);
    this.broadcastRoster();
    this.pump();
  }

  /** The relay admits the room as `id`, then sends meeting-info, roster and leader. */
  admit(id: string, info: Partial<ServerMessageOf<'meeting-info'>> = {}): void {
    this.roomId = id;
    this.#order.push(id);
    this.feed({
      type: 'admission',
      message: {
        v: 1,
        type: 'admission',
        status: 'admitted',
        participantId: id,
        instanceId: this.instanceId,
        host: false,
      },
      wallNow: this.clock.now(),
    });
    this.meetingInfo(info);
    this.broadcastRoster();
    this.pump();
  }

  meetingInfo(info: Partial<ServerMessageOf<'meeting-info'>> = {}): MeetingEffect[] {
    return this.feed({
      type: 'meeting-info',
      message: {
        v: 1,
        type: 'meeting-info',
        meetingId: MEETING_ID,
        instanceId: this.instanceId,
        title: 'Weekly review',
        encryption: this.mode,
        disabledFeatures: [],
        hostPresent: true,
        ...info,
      },
      wallNow: this.clock.now(),
      pinned: undefined,
    });
  }

  /** The socket drops: the relay forgets the room's participant; the room may reconnect. */
  disconnect(willReconnect: boolean): void {
    const id = this.roomId;
    this.roomId = null;
    if (id !== null) this.#order.splice(this.#order.indexOf(id), 1);
    this.feed({ type: 'disconnected', willReconnect });
    this.broadcastRoster();
    this.pump();
  }

  leaderId(): string | null {
    if (this.leaderOverride !== null) return this.leaderOverride;
    for (const p of this.peers.values()) if (p.host) return p.id;
    return this.#order[0] ?? null;
  }

  /** The relay's roster and leader, to the room (while admitted) and to every peer session. */
  broadcastRoster(): void {
    const leaderId = this.leaderId();
    const members: RelayMember[] = this.#order.map((id) => ({
      participantId: id,
      displayName: this.peers.get(id)?.name ?? 'Huddle Room',
      client: id === this.roomId ? 'room' : 'desktop',
      e2ee: id === this.roomId || this.peers.get(id)?.session != null,
      slot: Number(id) & 0xffff,
    }));
    if (this.roomId !== null) {
      this.feed({
        type: 'roster',
        message: {
          v: 1,
          type: 'roster',
          version: ++this.#rosterVersion,
          participants: members.map((m) => ({
            participantId: m.participantId,
            displayName: m.displayName,
            client: m.participantId === this.roomId ? 'room' : 'desktop',
            protocol: 1,
            deviceId: this.peers.get(m.participantId)?.identity.deviceId ?? 'dev-room',
            identityKey: null,
            host: this.peers.get(m.participantId)?.host ?? false,
            e2eeCapable: m.e2ee,
            joinedAt: this.clock.now(),
          })),
        },
      });
      this.feed({
        type: 'leader',
        message: {
          v: 1,
          type: 'leader',
          participantId: leaderId,
          reason: leaderId === null ? 'none' : 'longest_present',
        },
      });
    }
    if (leaderId === null) return;
    for (const p of [...this.peers.values()])
      if (p.session)
        this.#applyPeer(
          p,
          p.session.handle({ type: 'relay-roster', leaderId, members }, this.clock.monotonic()),
        );
  }

  /** Deliver routed envelopes until quiet. */
  pump(): void {
    for (let n = 0; this.#queue.length > 0 && n < 100_000; n++) {
      const env = this.#queue.shift() as Envelope;
      if (env.to === this.roomId) this.feed({ type: 'e2ee', from: env.from, payload: env.payload });
      else {
        const p = this.peers.get(env.to);
        const message: unknown = JSON.parse(env.payload);
        if (p?.session)
          this.#applyPeer(
            p,
            p.session.handle({ type: 'message', from: env.from, message }, this.clock.monotonic()),
          );
      }
    }
  }

  /** Let time pass in steps: the room ticks through its timer, the peers here; envelopes flow. */
  advance(ms: number, step = 200): void {
    for (let t = 0; t < ms; t += step) {
      this.clock.advance(step);
      for (const p of [...this.peers.values()])
        if (p.session) this.#applyPeer(p, p.session.handle({ type: 'tick' }, this.clock.monotonic()));
      this.pump();
    }
  }

  /** Advance until `done()` or `ms` passed; returns whether it happened. */
  until(done: () => boolean, ms = 10_000): boolean {
    for (let t = 0; t < ms && !done(); t += 200) this.advance(200);
    return done();
  }

  peerStatus(id: string) {
    const s = this.peers.get(id)?.session;
    if (!s) throw new Error(`no session for ${id}`);
    return s.status(this.clock.monotonic());
  }

  #route(from: string, to: string, payload: string): void {
    const targets =
      to === 'all'
        ? [...this.#order].filter((id) => id !== from)
        : to === 'leader'
          ? [this.leaderId() ?? '']
          : [to];
    for (const t of targets) this.#queue.push({ from, to: t, payload });
  }

  #applyPeer(peer: SimPeer, effects: E2eeEffect[]): void {
    for (const e of effects) if (e.type === 'send') this.#route(peer.id, e.to, JSON.stringify(e.message));
  }
}
