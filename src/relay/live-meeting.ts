/**
 * One occurrence of a meeting while people are in it (docs/protocol.md §Admission rules, §Leader): the
 * admitted participants in admission order, the connections waiting for the host, the roster
 * version, the named leader and, in enhanced meetings only, the meeting key the relay makes.
 * A new occurrence (new instance id) starts when someone joins an empty meeting.
 */
import { randomBytes } from 'node:crypto';
import type { TimerHandle } from '../core/clock.ts';
import type { ClientMessageOf, RosterEntry } from '../protocol/schemas.ts';
import type { MediaChannel } from '../transport/media-channel.ts';
import type { PeerConnection } from '../transport/peer.ts';
import type { OutgoingBody } from './hooks.ts';
import { chooseLeader, type LeaderChoice } from './leader.ts';
import type { MeetingRecord } from './registry.ts';
import { type SpeakerParams, SpeakerTracker } from './speakers.ts';
import type { UplinkState } from './uplink.ts';

export interface ParticipantStats {
  chunksIn: number;
  chunksForwarded: number;
  chunksDropped: number;
  framesDropped: number;
  malformed: number;
}

export interface Participant {
  id: string;
  seq: number;
  join: ClientMessageOf<'join'>;
  host: boolean;
  e2eeCapable: boolean;
  joinedAt: number;
  meeting: LiveMeeting;
  pc: PeerConnection | undefined;
  media: MediaChannel | undefined;
  /** Per sender stream, the frame number currently being dropped for this receiver. */
  dropping: Map<string, number>;
  /** Janus plane: its downlink said it is behind (`media-behind`); it receives the speakers only. */
  behind: boolean;
  /** When `behind` last changed (monotonic ms), what it last said, and the change held back. */
  behindChangedAt?: number;
  behindWanted?: boolean;
  behindTimer?: TimerHandle | undefined;
  /** Embedded plane, big meetings: whether its current audio frame is forwarded (fanout.ts). */
  audioGate?: { frame: number; forward: boolean };
  /** Embedded plane: how fast its media channel drained lately (fanout.ts). */
  drain?: { media: MediaChannel; at: number; drained: number; bytesPerMs: number | null };
  /** Embedded plane: its newest frames that arrived, for its uplink reports (uplink.ts). */
  uplink?: UplinkState;
  stats: ParticipantStats;
  /** Sends a signaling message to this participant's connection (through hooks and tap). */
  send: (body: OutgoingBody) => void;
}

export function newStats(): ParticipantStats {
  return { chunksIn: 0, chunksForwarded: 0, chunksDropped: 0, framesDropped: 0, malformed: 0 };
}

export class LiveMeeting {
  record: MeetingRecord;
  readonly instanceId = randomBytes(12).toString('base64url');
  readonly participants = new Map<string, Participant>();
  hostHasJoined = false;
  rosterVersion = 0;
  leader: LeaderChoice = { participantId: null, reason: 'none' };
  #seq = 0;
  /** Enhanced meetings: the relay's key and its id (grows on every rotation). */
  key: { keyId: number; key: Uint8Array } | undefined;
  /** Big meetings: who speaks, whose video is wanted full, whose audio is forwarded (speakers.ts). */
  readonly speakers: SpeakerTracker;

  constructor(record: MeetingRecord, speakers: Partial<SpeakerParams> = {}) {
    this.record = record;
    this.speakers = new SpeakerTracker(speakers);
  }

  nextSeq(): number {
    return ++this.#seq;
  }

  /** Participants in admission order. */
  ordered(): Participant[] {
    return [...this.participants.values()].sort((a, b) => a.seq - b.seq);
  }

  roster(): RosterEntry[] {
    return this.ordered().map((p) => ({
      participantId: p.id,
      displayName: p.join.displayName,
      client: p.join.client,
      protocol: p.join.protocol,
      deviceId: p.join.deviceId,
      identityKey: p.join.identityKey ?? null,
      host: p.host,
      e2eeCapable: p.e2eeCapable,
      joinedAt: p.joinedAt,
    }));
  }

  /**
   * The leader stays the leader while present (sticky): a host who joins or rejoins later is not
   * yet in the leader's signed roster, and clients refuse a new leader from outside it. A change
   * only happens when the leader leaves; then the host if present, else the longest present.
   */
  computeLeader(): LeaderChoice {
    const current =
      this.leader.participantId === null ? undefined : this.participants.get(this.leader.participantId);
    if (current?.e2eeCapable) return this.leader;
    return chooseLeader(
      this.ordered().map((p) => ({
        participantId: p.id,
        host: p.host,
        e2eeCapable: p.e2eeCapable,
        seq: p.seq,
      })),
    );
  }

  get hostPresent(): boolean {
    for (const p of this.participants.values()) if (p.host) return true;
    return false;
  }

  /** Makes a fresh relay key (enhanced meetings, or a misbehaving relay in tests). */
  rotateKey(): { keyId: number; key: Uint8Array } {
    const previous = this.key;
    if (previous !== undefined) previous.key.fill(0);
    this.key = { keyId: (previous?.keyId ?? 0) + 1, key: new Uint8Array(randomBytes(32)) };
    return this.key;
  }

  wipe(): void {
    this.key?.key.fill(0);
    this.key = undefined;
  }
}
