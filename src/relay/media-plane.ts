/**
 * The seam between the meeting service and whatever carries its media (docs/decisions/0018-media-planes.md):
 * the relay's own fan-out (`embedded`, the default: one peer connection per participant with the
 * relay, session-media.ts and fanout.ts) or Janus VideoRoom data channels (`janus`, janus/plane.ts).
 * The meeting service (admission, roster, leader, E2EE envelopes) is the same for both; the chunk
 * format is the same for both (docs/protocol.md §Media chunks).
 */
import { RoomdError } from '../core/errors.ts';
import type { IceCandidate } from '../transport/peer.ts';
import type { LiveMeeting, Participant } from './live-meeting.ts';
import { answerOffer, type MediaHost } from './session-media.ts';

export type { MediaHost } from './session-media.ts';

/**
 * Which plane a relay uses (`createRelay({ mediaPlane })`, `roomd relay serve --media-plane`). The
 * Janus plane takes one instance (`url`) or several (`instances`): each meeting occurrence is placed
 * on one of them (janus/placement.ts).
 */
export type MediaPlaneChoice =
  | { kind: 'embedded' }
  | { kind: 'janus'; url: string }
  | { kind: 'janus'; instances: readonly string[] };

/** The Janus instances a choice names, in order. */
export function janusInstances(choice: MediaPlaneChoice): readonly string[] {
  if (choice.kind !== 'janus') return [];
  return 'instances' in choice ? choice.instances : [choice.url];
}

/** What a plane reports in the relay's `stats().mediaPlane`. */
export interface MediaPlaneStats {
  kind: MediaPlaneChoice['kind'];
  /** Janus plane only (null for the embedded one). */
  janus: JanusPlaneStats | null;
}

/** Totals over every instance, then each instance. */
export interface JanusPlaneStats extends JanusInstanceCounts {
  /** Instances now up (a Janus session open and not lost since). */
  instancesUp: number;
  /** Meeting occurrences taken off an instance that went down (each placed again by its next offer). */
  meetingsMoved: number;
  instances: JanusInstanceStats[];
}

export interface JanusInstanceStats extends JanusInstanceCounts {
  /** The instance's WebSocket API URL, as configured. */
  url: string;
  /** `up`: a session is open; `down`: lost or never reached, probed until it answers again. */
  health: 'up' | 'down';
  /** Meeting occurrences placed on this instance now. */
  meetings: number;
  /** Participants of the meetings placed here (the relay's count, which placement weighs). */
  participants: number;
  /** Times this instance went from up to down. */
  downs: number;
}

export interface JanusInstanceCounts {
  /** Whether a Janus session is up now (any instance, for the totals). */
  connected: boolean;
  /** VideoRoom rooms the relay holds (one per meeting occurrence with media). */
  rooms: number;
  /** Participants whose uplink Janus reported up (`webrtcup`). */
  publishers: number;
  /** Participants whose downlink was answered and started. */
  subscribers: number;
  /** Requests Janus refused, failed or did not answer, each costing one participant a media-lost. */
  requestsFailed: number;
  /** Janus sessions created after the first (each after a lost socket or session). */
  reconnects: number;
  /** Messages from Janus that failed to decode (dropped). */
  malformed: number;
}

export interface MediaPlane {
  readonly kind: MediaPlaneChoice['kind'];
  /** The participant's (uplink) offer; a new one replaces its media connection. */
  offer(host: MediaHost, p: Participant, sdp: string): void;
  /** A candidate the participant trickled for its uplink or (Janus plane) its downlink. */
  candidate(p: Participant, c: IceCandidate, pc: 'up' | 'down'): void;
  /** The participant's answer to a downlink offer (Janus plane only). */
  downAnswer(host: MediaHost, p: Participant, sdp: string): void;
  /** The participant left: its media connections go. */
  detach(p: Participant): void;
  /** The meeting occurrence ended (nobody left in it). */
  end(m: LiveMeeting): void;
  /**
   * Who a participant that is behind receives changed (its flag, or the meeting's most recent
   * speakers): Janus plane, its subscription follows; the embedded plane bounds each receiver's
   * queue itself and does nothing.
   */
  selectionChanged(m: LiveMeeting): void;
  stats(): MediaPlaneStats;
  /** The relay stops (after every participant was detached and every meeting ended). */
  close(): Promise<void>;
}

/** The relay's own fan-out: the participant's one peer connection is with the relay. */
export class EmbeddedMediaPlane implements MediaPlane {
  readonly kind = 'embedded' as const;

  offer(host: MediaHost, p: Participant, sdp: string): void {
    answerOffer(host, p, sdp).catch((error: unknown) => host.guardTrip('media', error));
  }

  candidate(p: Participant, c: IceCandidate, pc: 'up' | 'down'): void {
    if (pc === 'up') p.pc?.addIceCandidate(c).catch(() => {});
  }

  downAnswer(): void {
    throw new RoomdError('protocol.unexpected', { message: 'This relay sends no downlink offers.' });
  }

  detach(p: Participant): void {
    p.media?.close();
    p.pc?.close();
    p.media = undefined;
    p.pc = undefined;
  }

  end(): void {}

  selectionChanged(): void {}

  stats(): MediaPlaneStats {
    return { kind: 'embedded', janus: null };
  }

  async close(): Promise<void> {}
}
