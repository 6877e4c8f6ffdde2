/**
 * Where meetings go when a relay has several Janus instances (docs/decisions/0018-media-planes.md,
 * "Several instances"), as pure functions: which instance a new meeting occurrence is placed on, and
 * what an instance's health becomes on what its client reports. No sockets, no clock.
 *
 * Load is what the relay itself knows (participants of the meetings placed on an instance, then its
 * rooms): the Janus configuration roomd generates turns the admin API off, and Janus's public `info`
 * carries no load figures.
 */

/** One instance as placement sees it. */
export interface InstanceLoad {
  /** Whether the instance is up (a session open and not lost since). */
  up: boolean;
  /** Participants of the meetings placed on it. */
  participants: number;
  /** Rooms (meeting occurrences with media) it holds. */
  rooms: number;
}

/**
 * The instance a new meeting occurrence goes on (its index), or undefined when there is none.
 * Among the instances that are up: fewest participants, then fewest rooms, then the first listed.
 * When none is up, the least loaded of all: its participants' setup fails, they are told
 * `media-lost` and offer again, and whichever instance answers first wins the meeting back.
 */
export function placeMeeting(loads: readonly InstanceLoad[]): number | undefined {
  const anyUp = loads.some((l) => l.up);
  let best: number | undefined;
  for (let i = 0; i < loads.length; i++) {
    const l = loads[i]!;
    if (anyUp && !l.up) continue;
    if (best === undefined) {
      best = i;
      continue;
    }
    const b = loads[best]!;
    if (l.participants < b.participants || (l.participants === b.participants && l.rooms < b.rooms)) best = i;
  }
  return best;
}

/** An instance's health: `down` until its first session, and again from a lost one until the next. */
export type InstanceHealth = 'up' | 'down';

/** What an instance's client reported. */
export type HealthReport = 'session-opened' | 'session-lost';

/**
 * The instance's next health, and whether the meetings placed on it must move: a lost session takes
 * every handle and room with it (Janus ends a session whose WebSocket closes), so its meetings are
 * set up again wherever placement puts them, and nothing is gained by waiting for the same instance.
 */
export function nextHealth(
  health: InstanceHealth,
  report: HealthReport,
): { health: InstanceHealth; evacuate: boolean; wentDown: boolean } {
  if (report === 'session-opened') return { health: 'up', evacuate: false, wentDown: false };
  return { health: 'down', evacuate: true, wentDown: health === 'up' };
}
