/**
 * Active-speaker selection for big meetings (docs/decisions/0018-media-planes.md §Consequences,
 * last-N), as a pure reducer: events in, `video-layer` effects out, time passed in as `now`.
 *
 * Input is audio levels in RFC 6464 form (−dBov, integer 0 = loudest … 127 = silence), either from
 * each audio chunk's cleartext header (every 20–40 ms per sender, silence included) or from a
 * participant's own report (every 250 ms while it speaks, nothing while silent). Every rule below
 * is written in milliseconds, never in observations, so both shapes give the same decisions.
 *
 * - Video. While the meeting has at most `lastN` participants everyone is at the full layer. Above
 *   that, the `lastN` participants that spoke most recently are full and the others small; those
 *   who never spoke rank after those who did, in join order, so the first `lastN` joiners start
 *   full. Speech starts (onset) at a loud level (≤ `speakingAtOrBelow`) that follows another loud
 *   level by 100 ms to 1 s, so one click or cough moves nothing, and goes on while loud levels
 *   come within `heldMs` of each other. Layers change only on join, leave and the onset of a small
 *   participant, which is promoted and demotes the least recent full one; a full participant's
 *   speech keeps it recent.
 * - Audio (embedded plane). In a small meeting every sender is forwarded. In a big one a sender is
 *   forwarded while it was loud within `heldMs` and is among the `loudest` such senders by a
 *   smoothed level; its first loud level already counts, so no syllable is lost.
 *
 * State is a few numbers per participant; nothing grows with time or traffic.
 */
import { RoomdError } from '../core/errors.ts';
import { AUDIO_LEVEL_SILENT } from '../protocol/media-header.ts';

export interface SpeakerParams {
  /** Video senders kept at the full layer once the meeting is bigger than this. */
  lastN: number;
  /** Audio senders forwarded at once in a big meeting. */
  loudest: number;
  /** A level at or below this (−dBov) counts as speech. */
  speakingAtOrBelow: number;
  /** A speaker stays speaking, and its audio eligible, this long after its last loud level. */
  heldMs: number;
}

export const DEFAULT_SPEAKER_PARAMS: Readonly<SpeakerParams> = {
  lastN: 4,
  loudest: 3,
  speakingAtOrBelow: 50,
  heldMs: 1000,
};

export type SpeakerEvent =
  | { type: 'joined'; participant: string }
  | { type: 'left'; participant: string }
  | { type: 'level'; participant: string; level: number }
  | { type: 'tick' };

export type VideoLayer = 'full' | 'small';

export type SpeakerEffect = { type: 'video-layer'; participant: string; layer: VideoLayer };

/** Onset needs two loud levels at least this far apart… */
export const ONSET_MIN_GAP_MS = 100;
/** …and at most this far apart. */
export const ONSET_WINDOW_MS = 1000;
/** Time constant of the smoothed level that ranks audio senders. */
export const SMOOTHING_MS = 200;
/**
 * Observations further apart than this mean the sender was silent in between: reports come every
 * 250 ms while a participant speaks and stop while it is silent; chunk headers come far more often.
 */
export const SILENT_GAP_MS = 300;

interface Member {
  /** Join order, for ranking those who never spoke. */
  readonly joinSeq: number;
  layer: VideoLayer;
  /** Order of the latest speech; 0 = never spoke. */
  spokeSeq: number;
  /** Speech continues without a new onset until this time. */
  speakingUntil: number | undefined;
  /** Latest loud level's time. */
  lastLoudAt: number | undefined;
  /** An earlier loud level's time in the current onset window. */
  anchorAt: number | undefined;
  /** Smoothed level (lower = louder) and the time of the observation it includes last. */
  smoothed: number;
  smoothedAt: number | undefined;
}

export class SpeakerTracker {
  readonly #params: SpeakerParams;
  readonly #members = new Map<string, Member>();
  #joinSeq = 0;
  #speechSeq = 0;
  #ignored = 0;
  #unknown = 0;

  constructor(params: Partial<SpeakerParams> = {}) {
    const p = { ...DEFAULT_SPEAKER_PARAMS, ...params };
    const bad = (what: string): never => {
      throw new RoomdError('core.invalid_argument', {
        message: `Speaker selection: ${what}.`,
        context: { ...p },
      });
    };
    if (!Number.isSafeInteger(p.lastN) || p.lastN < 0) bad('lastN must be a whole number ≥ 0');
    if (!Number.isSafeInteger(p.loudest) || p.loudest < 0) bad('loudest must be a whole number ≥ 0');
    if (!Number.isInteger(p.speakingAtOrBelow) || p.speakingAtOrBelow < 0 || p.speakingAtOrBelow > 127) {
      bad('speakingAtOrBelow must be a whole number from 0 to 127');
    }
    if (!Number.isFinite(p.heldMs) || p.heldMs < 0) bad('heldMs must be a finite number ≥ 0');
    this.#params = p;
  }

  get params(): Readonly<SpeakerParams> {
    return this.#params;
  }

  /**
   * Whose media a receiver that is behind still gets (docs/protocol.md §Big meetings): the `loudest`
   * most recent speakers.
   */
  behindFeeds(self?: string): ReadonlySet<string> {
    return new Set(
      this.order()
        .filter((id) => id !== self)
        .slice(0, this.#params.loudest),
    );
  }

  /** What `behindFeeds` depends on for anyone: the `loudest` + 1 most recent speakers, as a set key. */
  behindKey(): string {
    return this.order()
      .slice(0, this.#params.loudest + 1)
      .sort()
      .join();
  }

  /** More participants than `lastN`: video layers and audio are selected. */
  get big(): boolean {
    return this.#members.size > this.#params.lastN;
  }

  /** Levels dropped for being out of range or not whole numbers. */
  get ignoredLevels(): number {
    return this.#ignored;
  }

  /** Levels dropped because their participant is not in the meeting. */
  get unknownLevels(): number {
    return this.#unknown;
  }

  get size(): number {
    return this.#members.size;
  }

  handle(event: SpeakerEvent, now: number): SpeakerEffect[] {
    switch (event.type) {
      case 'joined': {
        if (this.#members.has(event.participant)) return [];
        const before = this.#layers();
        this.#members.set(event.participant, {
          joinSeq: ++this.#joinSeq,
          layer: 'full',
          spokeSeq: 0,
          speakingUntil: undefined,
          lastLoudAt: undefined,
          anchorAt: undefined,
          smoothed: AUDIO_LEVEL_SILENT,
          smoothedAt: undefined,
        });
        // A joiner's recorded layer is the default (full); the diff reports it only if it is small.
        before.set(event.participant, 'full');
        return this.#relayer(before);
      }
      case 'left': {
        if (!this.#members.delete(event.participant)) return [];
        return this.#relayer(this.#layers());
      }
      case 'level':
        return this.#level(event.participant, event.level, now);
      case 'tick':
        for (const m of this.#members.values()) this.#expire(m, now);
        return [];
    }
  }

  /** This participant's video layer, or undefined when it is not in the meeting. */
  layerOf(participant: string): VideoLayer | undefined {
    return this.#members.get(participant)?.layer;
  }

  /** Participants by recency of speech, most recent first, then those who never spoke in join order. */
  order(): readonly string[] {
    return [...this.#members.entries()].sort(([, a], [, b]) => compareRecency(a, b)).map(([id]) => id);
  }

  /** Whether the relay forwards this participant's audio now (embedded plane). */
  audioForwarded(participant: string, now: number): boolean {
    if (!this.big) return true;
    const m = this.#members.get(participant);
    if (m === undefined || !this.#loudWithinHeld(m, now)) return false;
    const level = this.#effectiveLevel(m, now);
    let ahead = 0;
    for (const other of this.#members.values()) {
      if (other === m || !this.#loudWithinHeld(other, now)) continue;
      const l = this.#effectiveLevel(other, now);
      if (louder(l, other, level, m) && ++ahead >= this.#params.loudest) return false;
    }
    return ahead < this.#params.loudest;
  }

  #level(participant: string, level: number, now: number): SpeakerEffect[] {
    if (!Number.isInteger(level) || level < 0 || level > AUDIO_LEVEL_SILENT) {
      this.#ignored++;
      return [];
    }
    const m = this.#members.get(participant);
    if (m === undefined) {
      this.#unknown++;
      return [];
    }
    const loud = level <= this.#params.speakingAtOrBelow;
    this.#smooth(m, level, loud, now);
    if (!loud) return [];

    const within = (at: number | undefined) =>
      at !== undefined && now - at >= ONSET_MIN_GAP_MS && now - at <= ONSET_WINDOW_MS;
    const speaking = m.speakingUntil !== undefined && now <= m.speakingUntil;
    const onset = !speaking && (within(m.anchorAt) || within(m.lastLoudAt));
    // The anchor is the earliest loud level still in the window; when it ages out, the latest
    // loud level in the window (if any) takes its place.
    if (m.anchorAt === undefined || now < m.anchorAt || now - m.anchorAt > ONSET_WINDOW_MS) {
      const last = m.lastLoudAt;
      m.anchorAt = last !== undefined && now >= last && now - last <= ONSET_WINDOW_MS ? last : now;
    }
    m.lastLoudAt = now;
    if (!speaking && !onset) return [];

    m.speakingUntil = now + this.#params.heldMs;
    // A full speaker's every loud level keeps it recent (only the full ones are reordered). A small
    // one moves only at its onset, a promotion; demoted while still speaking, it stays small until
    // its next onset, so more simultaneous speakers than lastN do not swap layers at every level.
    if (m.layer === 'full') {
      m.spokeSeq = ++this.#speechSeq;
      return [];
    }
    if (!onset) return [];
    m.spokeSeq = ++this.#speechSeq;
    return this.#relayer(this.#layers());
  }

  /**
   * Time-based exponential average of the levels, so 20 ms and 250 ms observations weigh alike. A
   * gap longer than SILENT_GAP_MS counts as silence; a loud level after held silence starts afresh.
   */
  #smooth(m: Member, level: number, loud: boolean, now: number): void {
    if (m.smoothedAt === undefined || (loud && !this.#loudWithinHeld(m, now))) {
      m.smoothed = level;
    } else {
      const dt = Math.max(0, now - m.smoothedAt);
      const base = this.#effectiveLevel(m, now);
      m.smoothed = base + (1 - Math.exp(-Math.min(dt, SILENT_GAP_MS) / SMOOTHING_MS)) * (level - base);
    }
    m.smoothedAt = now;
  }

  /** The smoothed level, decayed toward silence for the time beyond SILENT_GAP_MS without a level. */
  #effectiveLevel(m: Member, now: number): number {
    if (m.smoothedAt === undefined) return AUDIO_LEVEL_SILENT;
    const silentMs = now - m.smoothedAt - SILENT_GAP_MS;
    if (silentMs <= 0) return m.smoothed;
    return AUDIO_LEVEL_SILENT - (AUDIO_LEVEL_SILENT - m.smoothed) * Math.exp(-silentMs / SMOOTHING_MS);
  }

  #loudWithinHeld(m: Member, now: number): boolean {
    return m.lastLoudAt !== undefined && now >= m.lastLoudAt && now - m.lastLoudAt <= this.#params.heldMs;
  }

  /** Forgets what has expired (held speech, the onset anchor); changes no decision. */
  #expire(m: Member, now: number): void {
    if (m.speakingUntil !== undefined && now > m.speakingUntil) m.speakingUntil = undefined;
    if (m.anchorAt !== undefined && now - m.anchorAt > ONSET_WINDOW_MS) m.anchorAt = undefined;
    const horizon = Math.max(this.#params.heldMs, ONSET_WINDOW_MS);
    if (m.lastLoudAt !== undefined && now - m.lastLoudAt > horizon) m.lastLoudAt = undefined;
  }

  #layers(): Map<string, VideoLayer> {
    return new Map([...this.#members].map(([id, m]) => [id, m.layer]));
  }

  /** Sets every layer from the ranking and returns the changes from `before`: promotions first. */
  #relayer(before: Map<string, VideoLayer>): SpeakerEffect[] {
    const up: SpeakerEffect[] = [];
    const down: SpeakerEffect[] = [];
    const big = this.big;
    this.order().forEach((id, rank) => {
      const m = this.#members.get(id)!;
      m.layer = !big || rank < this.#params.lastN ? 'full' : 'small';
      if (before.get(id) !== m.layer) {
        (m.layer === 'full' ? up : down).push({ type: 'video-layer', participant: id, layer: m.layer });
      }
    });
    return [...up, ...down];
  }
}

/** Whether `a` (smoothed level `la`) ranks before `b` for audio: louder, then loud more recently, then joined earlier. */
function louder(la: number, a: Member, lb: number, b: Member): boolean {
  if (la !== lb) return la < lb;
  if (a.lastLoudAt !== b.lastLoudAt) return (a.lastLoudAt ?? 0) > (b.lastLoudAt ?? 0);
  return a.joinSeq < b.joinSeq;
}

function compareRecency(a: Member, b: Member): number {
  if (a.spokeSeq !== b.spokeSeq) return b.spokeSeq - a.spokeSeq;
  return a.joinSeq - b.joinSeq;
}
