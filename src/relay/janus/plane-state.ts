/**
 * The Janus plane's decisions, as pure functions (docs/decisions/0018-media-planes.md):
 * which feeds a participant should receive, what to add to and remove from its subscription, the
 * feed map it is sent, and fresh feed and room ids. No sockets, no clock.
 */

/** A publisher of the meeting as the plane knows it. */
export interface FeedEntry {
  participantId: string;
  feed: number;
  /** Janus said `webrtcup` for it: its channel carries media. */
  live: boolean;
}

/**
 * The live feeds `self` should receive (everyone else's, or only those of the participants in
 * `only`: a receiver that is behind), in feed order.
 */
export function wantedFeeds(feeds: Iterable<FeedEntry>, self: string, only?: ReadonlySet<string>): number[] {
  const out: number[] = [];
  for (const f of feeds)
    if (f.live && f.participantId !== self && (only === undefined || only.has(f.participantId)))
      out.push(f.feed);
  return out.sort((a, b) => a - b);
}

/**
 * What a started subscription must change to match `wanted`. Feeds that left the room are not
 * unsubscribed: Janus drops a departed publisher from every subscription itself, and refuses to
 * unsubscribe a feed it no longer knows. `stillPublished` says which feeds are still in the room.
 */
export function subscriptionChanges(
  wanted: readonly number[],
  current: ReadonlySet<number>,
  stillPublished: (feed: number) => boolean,
): { subscribe: number[]; unsubscribe: number[]; departed: number[] } {
  const want = new Set(wanted);
  const subscribe = wanted.filter((f) => !current.has(f));
  const unsubscribe: number[] = [];
  const departed: number[] = [];
  for (const f of current) {
    if (want.has(f)) continue;
    if (stillPublished(f)) unsubscribe.push(f);
    else departed.push(f);
  }
  return { subscribe, unsubscribe, departed };
}

/** The feed map sent to `self`: Janus feed id ↔ participant id, for every live feed but its own. */
export function feedMap(feeds: Iterable<FeedEntry>, self: string): { feed: number; participantId: string }[] {
  const out: { feed: number; participantId: string }[] = [];
  for (const f of feeds)
    if (f.live && f.participantId !== self) out.push({ feed: f.feed, participantId: f.participantId });
  return out.sort((a, b) => a.feed - b.feed);
}

/**
 * A fresh id in [1, 2^31): feed ids are chosen by the relay (never by Janus) and never equal a
 * participant id in use, so a client that took a label for a participant id would be caught.
 * `random` returns a float in [0, 1).
 */
export function freshId(random: () => number, taken: (id: number) => boolean): number {
  for (;;) {
    const id = 1 + Math.floor(random() * 0x7fff_fffe);
    if (!taken(id)) return id;
  }
}
