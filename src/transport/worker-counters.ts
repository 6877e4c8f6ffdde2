/**
 * What the media worker's supervisor counts (worker-peer.ts, docs/decisions/0013-media-worker.md),
 * and the part of it the daemon's /metrics (http/metrics.ts) and the relay's `stats()` report.
 */

/** What the supervisor saw, since the factory was made (for /metrics and the stress benchmark). */
export interface MediaWorkerCounters {
  /** Workers started, in all. */
  starts: number;
  /** Of those, started to replace one that died. */
  restarts: number;
  /** Workers replaced after `recycleAfter` closed connections. */
  recycles: number;
  /** Workers that died unasked (crashed, killed, hung and killed, broken stream). */
  deaths: number;
  /** Workers killed for not answering a health ping or not starting in time. */
  hangs: number;
  /** Frames from a worker that failed to decode (dropped). */
  invalidMessages: number;
  /** Frames about a connection, channel or request already gone (dropped; normal after a close). */
  staleMessages: number;
  /** Unexpected errors in our listeners, caught by the last-resort guard (that connection closed). */
  guardTrips: number;
}

export function noWorkerCounters(): MediaWorkerCounters {
  return {
    starts: 0,
    restarts: 0,
    recycles: 0,
    deaths: 0,
    hangs: 0,
    invalidMessages: 0,
    staleMessages: 0,
    guardTrips: 0,
  };
}

/** What the last pong said (the worker's own view). */
export interface MediaWorkerHealth {
  pid: number | undefined;
  connections: number;
  channels: number;
  rssBytes: number;
  invalidFromRoomd: number;
}

/** A worker's health before its first report. */
export function freshHealth(pid: number | undefined): MediaWorkerHealth {
  return { pid, connections: 0, channels: 0, rssBytes: 0, invalidFromRoomd: 0 };
}

/** The counts reported outside the transport: /metrics and the relay's `stats().mediaWorker`. */
export type ReportedWorkerCounters = Pick<
  MediaWorkerCounters,
  'starts' | 'restarts' | 'deaths' | 'recycles' | 'hangs' | 'invalidMessages'
>;

export function reportedWorkerCounters(c: MediaWorkerCounters): ReportedWorkerCounters {
  return {
    starts: c.starts,
    restarts: c.restarts,
    deaths: c.deaths,
    recycles: c.recycles,
    hangs: c.hangs,
    invalidMessages: c.invalidMessages,
  };
}
