/**
 * The relay's side of big meetings (docs/protocol.md §Big meetings, docs/decisions/0019-big-meetings.md):
 * each meeting occurrence's speaker tracker fed with levels, `video-layer` sent to whoever's wanted
 * layer changed, and receivers that said they are behind (Janus plane) followed by the plane.
 */
import type { Clock } from '../core/clock.ts';
import { SPEAKING_LEVEL } from '../protocol/schemas.ts';
import type { LiveMeeting, Participant } from './live-meeting.ts';
import type { MediaPlane } from './media-plane.ts';
import type { SpeakerEvent, SpeakerParams } from './speakers.ts';

/** docs/protocol.md §Big meetings. */
export interface BigMeetingSettings {
  /** Participants whose video is wanted full; past this many people, the others send small (default 9). */
  lastN?: number;
  /** Embedded plane, big meetings: speakers whose audio is forwarded at once (default 3). */
  loudest?: number;
}

/** Least time between two changes of a participant's `behind`. */
export const BEHIND_MIN_INTERVAL_MS = 1000;

export class BigMeetings {
  /** `video-layer` messages sent. */
  videoLayerChanges = 0;
  /** Janus plane: times a participant said its downlink fell behind (`media-behind`). */
  downlinksBehind = 0;
  /** `media-behind` changes held back to a second after the previous one. */
  behindDeferred = 0;
  /** What each new meeting occurrence's tracker is made with. */
  readonly speakerParams: Partial<SpeakerParams>;
  readonly #clock: Clock;
  readonly #plane: MediaPlane;

  constructor(clock: Clock, plane: MediaPlane, settings: BigMeetingSettings = {}) {
    this.#clock = clock;
    this.#plane = plane;
    this.speakerParams = {
      lastN: settings.lastN ?? 9,
      loudest: settings.loudest ?? 3,
      speakingAtOrBelow: SPEAKING_LEVEL,
    };
  }

  /**
   * Feeds the meeting's speaker tracker and tells each participant whose wanted video layer changed;
   * the plane hears when the speakers a receiver that is behind gets have changed.
   */
  speakerEvent(m: LiveMeeting, event: SpeakerEvent): void {
    // Only the Janus plane has receivers that are behind (setBehind); this runs per audio chunk on
    // the embedded one, so it does not look for them there.
    const watched = this.#plane.kind === 'janus' && anyBehind(m) ? m.speakers.behindKey() : undefined;
    for (const effect of m.speakers.handle(event, this.#clock.monotonic())) {
      const p = m.participants.get(effect.participant);
      if (p === undefined) continue;
      this.videoLayerChanges++;
      p.send({ type: 'video-layer', layer: effect.layer });
    }
    if (watched !== undefined && m.speakers.behindKey() !== watched) this.#plane.selectionChanged(m);
  }

  /** An audio chunk's level on the embedded plane: whether it is forwarded. */
  audioLevel(from: Participant, level: number): boolean {
    this.speakerEvent(from.meeting, { type: 'level', participant: from.id, level });
    return from.meeting.speakers.audioForwarded(from.id, this.#clock.monotonic());
  }

  /** A participant's downlink fell behind or caught up (`media-behind`). */
  setBehind(p: Participant, behind: boolean): void {
    // Only the Janus plane queues without bound; the embedded one bounds each receiver itself.
    if (this.#plane.kind !== 'janus') return;
    p.behindWanted = behind;
    if (p.behindTimer !== undefined) return; // it applies the latest word when it fires
    // At most one change a second, the latest word winning: nobody makes the plane resubscribe in
    // a loop, and nobody is left in a state it no longer claims.
    const wait =
      (p.behindChangedAt ?? Number.NEGATIVE_INFINITY) + BEHIND_MIN_INTERVAL_MS - this.#clock.monotonic();
    if (wait <= 0) {
      this.#applyBehind(p);
      return;
    }
    this.behindDeferred++;
    p.behindTimer = this.#clock.setTimeout(() => {
      p.behindTimer = undefined;
      this.#applyBehind(p);
    }, wait);
  }

  /** The participant left: a change it had pending goes with it. */
  left(p: Participant): void {
    if (p.behindTimer !== undefined) this.#clock.clear(p.behindTimer);
    p.behindTimer = undefined;
  }

  #applyBehind(p: Participant): void {
    const behind = p.behindWanted ?? false;
    if (p.behind === behind || !p.meeting.participants.has(p.id)) return;
    p.behindChangedAt = this.#clock.monotonic();
    p.behind = behind;
    if (behind) this.downlinksBehind++;
    this.#plane.selectionChanged(p.meeting);
  }
}

function anyBehind(m: LiveMeeting): boolean {
  for (const p of m.participants.values()) if (p.behind) return true;
  return false;
}
