/**
 * Test harness: an in-memory scripted relay that runs N E2EE sessions, routes their opaque messages
 * (JSON round-tripped, as on the wire), names the leader like the relay (host, else longest present;
 * docs/protocol.md "Leader"), and lets a test tamper with traffic through `intercept`.
 */
import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  createE2eeSession,
  type E2eeEffect,
  type E2eeSession,
  type ProtocolParams,
  type RelayMember,
  type TrustOptions,
  type UiFact,
} from '../../../src/e2ee/index.ts';
import type { EncryptionMode } from '../../../src/protocol/vocabulary.ts';

export interface Envelope {
  from: string;
  to: string;
  message: unknown;
}

export interface Peer {
  id: string;
  session: E2eeSession | null;
  member: RelayMember;
  facts: UiFact[];
  left: { code: string; reason: string } | null;
  keyframes: number;
}

export function identity(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = ed25519.utils.randomSecretKey();
  return { publicKey: ed25519.getPublicKey(secretKey), secretKey };
}

export class ScriptedRelay {
  now = 1_000_000;
  readonly peers = new Map<string, Peer>();
  readonly queue: Envelope[] = [];
  /** Everything the relay carried, for the blind-relay scan. */
  readonly carried: string[] = [];
  /** Return the envelopes to deliver instead (empty = drop). Default: deliver as is. */
  intercept: (env: Envelope) => Envelope[] = (env) => [env];
  /** Override the leader the relay names (malicious tests). */
  leaderOverride: string | null = null;
  hostId: string | null = null;
  /** Every secret-sized random value the sessions drew (32 B keys, 64 B seeds), for the blind-relay scan. */
  readonly secrets: Uint8Array[] = [];
  /** Every peer's identity key pair, so attack tests can sign as a (compromised) leader. */
  readonly identities = new Map<string, { publicKey: Uint8Array; secretKey: Uint8Array }>();
  readonly #random = (n: number): Uint8Array => {
    const b = new Uint8Array(randomBytes(n));
    if (n === 32 || n === 64) this.secrets.push(b.slice());
    return b;
  };

  constructor(
    readonly meetingId = 'mtg-42',
    readonly instanceId = 'inst-1',
    readonly mode: EncryptionMode = 'e2ee',
    readonly params: Partial<ProtocolParams> = {},
  ) {}

  leaderId(): string {
    if (this.leaderOverride) return this.leaderOverride;
    if (this.hostId && this.peers.has(this.hostId)) return this.hostId;
    for (const p of this.peers.values()) if (p.member.e2ee) return p.id;
    return '';
  }

  members(): RelayMember[] {
    return [...this.peers.values()].map((p) => p.member);
  }

  join(
    id: string,
    opts: {
      client?: string;
      e2ee?: boolean;
      session?: boolean;
      displayName?: string;
      /** Identity certificates for this peer's session (anchors, own certificate, pins, policy). */
      trust?: (identity: { publicKey: Uint8Array; secretKey: Uint8Array }) => TrustOptions;
      /** Reuse an identity key pair (a device joining again). */
      identity?: { publicKey: Uint8Array; secretKey: Uint8Array };
    } = {},
  ): Peer {
    const e2ee = opts.e2ee ?? true;
    const member: RelayMember = {
      participantId: id,
      displayName: opts.displayName ?? `Room ${id}`,
      client: opts.client ?? 'roomd',
      e2ee,
      slot: this.peers.size,
    };
    const id_ = opts.identity ?? identity();
    this.identities.set(id, id_);
    const session =
      opts.session === false
        ? null
        : createE2eeSession({
            mode: this.mode,
            meetingId: this.meetingId,
            instanceId: this.instanceId,
            participantId: id,
            deviceId: `dev-${id}`,
            displayName: member.displayName,
            identity: id_,
            params: this.params,
            random: this.#random,
            ...(opts.trust === undefined ? {} : { trust: opts.trust(id_) }),
          });
    const peer: Peer = { id, session, member, facts: [], left: null, keyframes: 0 };
    this.peers.set(id, peer);
    if (session) this.apply(peer, session.start(this.now));
    this.broadcastRoster();
    return peer;
  }

  leave(id: string): void {
    const p = this.peers.get(id);
    this.peers.delete(id);
    p?.session?.close();
    this.broadcastRoster();
  }

  broadcastRoster(): void {
    const leaderId = this.leaderId();
    const members = this.members();
    for (const p of [...this.peers.values()]) {
      if (p.session) this.apply(p, p.session.handle({ type: 'relay-roster', leaderId, members }, this.now));
    }
  }

  apply(peer: Peer, effects: E2eeEffect[]): void {
    for (const e of effects) {
      if (e.type === 'send') {
        const targets = e.to === 'all' ? [...this.peers.keys()].filter((id) => id !== peer.id) : [e.to];
        for (const to of targets) this.queue.push({ from: peer.id, to, message: e.message });
      } else if (e.type === 'ui') peer.facts.push(e.fact);
      else if (e.type === 'leave') peer.left = { code: e.code, reason: e.reason };
      else if (e.type === 'keyframe') peer.keyframes++;
    }
  }

  /** Deliver queued messages (through `intercept`) until quiet. */
  pump(max = 1_000_000): void {
    let n = 0;
    while (this.queue.length > 0 && n++ < max) {
      const env = this.queue.shift() as Envelope;
      const text = JSON.stringify(env.message);
      this.carried.push(text);
      for (const out of this.intercept({ ...env, message: JSON.parse(text) })) this.deliver(out);
    }
  }

  deliver(env: Envelope): void {
    const p = this.peers.get(env.to);
    if (p?.session)
      this.apply(p, p.session.handle({ type: 'message', from: env.from, message: env.message }, this.now));
  }

  /** Let time pass in `step` ms ticks, pumping messages after each. */
  advance(ms: number, step = 250, check?: () => void): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + step);
      for (const p of [...this.peers.values()])
        if (p.session) this.apply(p, p.session.handle({ type: 'tick' }, this.now));
      this.pump();
      check?.();
    }
  }

  sessions(): E2eeSession[] {
    return [...this.peers.values()].flatMap((p) => (p.session ? [p.session] : []));
  }

  session(id: string): E2eeSession {
    const s = this.peers.get(id)?.session;
    if (!s) throw new Error(`no session ${id}`);
    return s;
  }

  /** Everyone's shields now. */
  shields(): Record<string, string> {
    return Object.fromEntries(
      [...this.peers.values()].flatMap((p) => (p.session ? [[p.id, p.session.shield(this.now)]] : [])),
    );
  }
}

/** Try to open a frame; returns the payload or the error code. */
export function tryOpen(s: E2eeSession, frame: Uint8Array, now: number): string {
  try {
    return Buffer.from(s.frames.open(frame, undefined, now).payload).toString('utf8');
  } catch (err) {
    return `error:${(err as { code?: string }).code ?? String(err)}`;
  }
}
