/**
 * What `/metrics` reports, read from the room: meeting and shield state, epoch and rekeys, frames
 * and keyframe requests per stream kind (totals survive meetings), device states, input refused from the meeting
 * service (docs/protocol.md §Validation), the media worker's supervision counters
 * (docs/decisions/0013-media-worker.md), and the connections to the meeting service and the TURN
 * bridge (docs/admin.md §Firewalls). Counts only; no identities.
 */
import type { DeviceStatus } from '../../devices/status.ts';
import type {
  ConnectionCounters,
  MediaWorkerMetrics,
  MetricsInput,
  RefusedCounters,
  StreamCounters,
  UplinkGauges,
} from '../../http/metrics.ts';
import type { MeetingMediaLink } from '../../meeting/media-link.ts';
import type { Room } from '../../meeting/room.ts';
import { reportedWorkerCounters } from '../../transport/worker-counters.ts';
import type { WorkerPeerConnectionFactory } from '../../transport/worker-peer.ts';
import { deviceInfo, meetingState } from './snapshot.ts';

// The media kinds /metrics reports (docs/admin.md §Health and metrics); data frames (chat, control) are not media.
const KINDS = ['audio', 'video', 'screen'] as const;

/** The optional keyframe counts of `StreamCounters`, summed like the frame counts. */
const KEYFRAME_COUNTS = [
  'dependentFramesSkipped',
  'keyframesAskedAfterDrop',
  'keyframeRequestsSent',
  'keyframeRequestsReceived',
] as const;

const noneRefused = (): RefusedCounters => ({ relayMessages: 0, mediaChunks: 0, guardTrips: 0 });
const noConnections = (): ConnectionCounters => ({
  signalingFailures: {},
  bridgeConnections: 0,
  bridgeRefused: 0,
  bridgeFailures: {},
  bridgeBytesUp: 0,
  bridgeBytesDown: 0,
});

/** a + b, by field (the by-code records by code). */
function addConnections(a: ConnectionCounters, b: ConnectionCounters): ConnectionCounters {
  const byCode = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, n] of Object.entries(y)) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  return {
    signalingFailures: byCode(a.signalingFailures, b.signalingFailures),
    bridgeConnections: a.bridgeConnections + b.bridgeConnections,
    bridgeRefused: a.bridgeRefused + b.bridgeRefused,
    bridgeFailures: byCode(a.bridgeFailures, b.bridgeFailures),
    bridgeBytesUp: a.bridgeBytesUp + b.bridgeBytesUp,
    bridgeBytesDown: a.bridgeBytesDown + b.bridgeBytesDown,
  };
}

export class RoomMetricsSource {
  readonly #room: Room;
  readonly #devices: () => readonly DeviceStatus[];
  readonly #safeMode: boolean;
  /** Totals of meetings that ended, so counters never go backwards. */
  readonly #done: Record<string, StreamCounters> = {};
  #doneRekeys = 0;
  readonly #doneRefused = noneRefused();
  #lastRefused = noneRefused();
  /** Connections of meetings that ended, and of the current one (its relay client's counters). */
  #doneConnections = noConnections();
  #lastConnections = noConnections();
  #lastSession: unknown = null;
  #lastLink: unknown = null;
  #last: { streams: Record<string, StreamCounters>; rekeys: number } = { streams: {}, rekeys: 0 };

  readonly #worker: WorkerPeerConnectionFactory | null;

  constructor(
    room: Room,
    devices: () => readonly DeviceStatus[],
    safeMode = false,
    worker: WorkerPeerConnectionFactory | null = null,
  ) {
    this.#room = room;
    this.#devices = devices;
    this.#safeMode = safeMode;
    this.#worker = worker;
    for (const k of KINDS)
      this.#done[k] = {
        framesSent: 0,
        framesReceived: 0,
        framesLost: 0,
        decryptFailures: 0,
        bytesSent: 0,
        bytesReceived: 0,
        dependentFramesSkipped: 0,
        keyframesAskedAfterDrop: 0,
        keyframeRequestsSent: 0,
        keyframeRequestsReceived: 0,
      };
  }

  snapshot(): MetricsInput {
    const link = this.#room.link;
    const session = this.#room.session;
    if (link !== this.#lastLink) {
      // The previous meeting's figures become part of the running totals.
      for (const k of KINDS) {
        const d = this.#done[k]!;
        const l = this.#last.streams[k];
        if (l !== undefined) {
          d.framesSent += l.framesSent;
          d.framesReceived += l.framesReceived;
          d.framesLost += l.framesLost;
          d.decryptFailures += l.decryptFailures;
          d.bytesSent = (d.bytesSent ?? 0) + (l.bytesSent ?? 0);
          d.bytesReceived = (d.bytesReceived ?? 0) + (l.bytesReceived ?? 0);
          for (const f of KEYFRAME_COUNTS) d[f] = (d[f] ?? 0) + (l[f] ?? 0);
        }
      }
      this.#doneRekeys += this.#last.rekeys;
      this.#last = { streams: {}, rekeys: 0 };
      for (const k of Object.keys(this.#doneRefused) as (keyof RefusedCounters)[])
        this.#doneRefused[k] += this.#lastRefused[k];
      this.#lastRefused = noneRefused();
      this.#lastLink = link;
    }
    const current: Record<string, StreamCounters> = {};
    for (const k of KINDS) {
      const sent = link?.sendStats(k).snapshot();
      const c: StreamCounters = {
        framesSent: sent?.framesSent ?? 0,
        bytesSent: sent?.bytesSent ?? 0,
        framesReceived: 0,
        bytesReceived: 0,
        framesLost: 0,
        decryptFailures: link?.decryptFailures[k] ?? 0,
        dependentFramesSkipped: sent?.dependentFramesSkipped ?? 0,
        keyframesAskedAfterDrop: sent?.keyframesAskedAfterDrop ?? 0,
        keyframeRequestsSent: 0,
        keyframeRequestsReceived: sent?.keyframeRequests ?? 0,
      };
      const p50: number[] = [];
      const p95: number[] = [];
      for (const key of link?.receiver.streams() ?? []) {
        if (key.kind !== k) continue;
        const r = link!.receiver.stats(key).snapshot();
        c.framesReceived += r.framesReceived;
        c.bytesReceived = (c.bytesReceived ?? 0) + r.bytesReceived;
        c.framesLost += r.framesLost;
        c.keyframeRequestsSent = (c.keyframeRequestsSent ?? 0) + r.keyframeRequests;
        if (r.latency.p50Ms !== null) p50.push(r.latency.p50Ms);
        if (r.latency.p95Ms !== null) p95.push(r.latency.p95Ms);
      }
      if (p50.length > 0) c.latencyP50Ms = Math.max(...p50);
      if (p95.length > 0) c.latencyP95Ms = Math.max(...p95);
      current[k] = c;
    }
    this.#last = { streams: current, rekeys: session?.counters.rekeys ?? 0 };
    if (session !== this.#lastSession) {
      this.#doneConnections = addConnections(this.#doneConnections, this.#lastConnections);
      this.#lastConnections = noConnections();
      this.#lastSession = session;
    }
    if (session !== null) {
      const b = session.relay.bridgeCounters;
      this.#lastConnections = {
        signalingFailures: { ...session.relay.signaling.openFailures },
        bridgeConnections: b.connections,
        bridgeRefused: b.refused,
        bridgeFailures: { ...b.failures },
        bridgeBytesUp: b.bytesUp,
        bridgeBytesDown: b.bytesDown,
      };
    }
    const relay = session?.relayCounters;
    const rx = link?.receiver;
    this.#lastRefused = {
      relayMessages: relay?.messagesRejected ?? 0,
      mediaChunks: (rx?.malformedChunks ?? 0) + (rx?.refusedChunks ?? 0) + (link?.control.malformed ?? 0),
      guardTrips: (relay?.guardTrips ?? 0) + (rx?.guardTrips ?? 0),
    };
    const refused = noneRefused();
    for (const k of Object.keys(refused) as (keyof RefusedCounters)[])
      refused[k] = this.#doneRefused[k] + this.#lastRefused[k];
    const streams: Record<string, StreamCounters> = {};
    for (const k of KINDS) {
      const d = this.#done[k]!;
      const c = current[k]!;
      const s: StreamCounters = {
        framesSent: d.framesSent + c.framesSent,
        framesReceived: d.framesReceived + c.framesReceived,
        framesLost: d.framesLost + c.framesLost,
        decryptFailures: d.decryptFailures + c.decryptFailures,
        bytesSent: (d.bytesSent ?? 0) + (c.bytesSent ?? 0),
        bytesReceived: (d.bytesReceived ?? 0) + (c.bytesReceived ?? 0),
        ...(c.latencyP50Ms === undefined ? {} : { latencyP50Ms: c.latencyP50Ms }),
        ...(c.latencyP95Ms === undefined ? {} : { latencyP95Ms: c.latencyP95Ms }),
      };
      for (const f of KEYFRAME_COUNTS) s[f] = (d[f] ?? 0) + (c[f] ?? 0);
      streams[k] = s;
    }
    const m = this.#room.meeting();
    const ms = m === null || session === null ? null : meetingState(m);
    return {
      meeting:
        ms === null
          ? null
          : {
              status: ms.status,
              shield: ms.shield,
              epoch: ms.epoch,
              participants: ms.participants.length,
              mediaPath: ms.mediaPath ?? null,
              uplink: uplinkGauges(this.#room.link?.rate),
            },
      rekeys: this.#doneRekeys + this.#last.rekeys,
      streams,
      devices: this.#devices().map((d) => {
        const info = deviceInfo(d);
        return { id: d.id, kind: info.kind, status: info.status, reconnects: d.reconnects };
      }),
      safeMode: this.#safeMode,
      refused,
      connections: addConnections(this.#doneConnections, this.#lastConnections),
      ...(this.#worker === null ? {} : { mediaWorker: mediaWorkerMetrics(this.#worker) }),
    };
  }
}

/** Rate adaptation's view of the uplink, for /metrics (null without it). */
function uplinkGauges(rate: MeetingMediaLink['rate'] | undefined): UplinkGauges | null {
  if (rate === undefined) return null;
  return {
    videoTargetKbps: rate.estimate.targetKbps,
    queueMs: rate.estimate.queueMs,
    deliveredKbps: rate.estimate.deliveredKbps,
  };
}

/** The supervisor's counters (cumulative since the daemon started) and the running worker's memory. */
export function mediaWorkerMetrics(f: WorkerPeerConnectionFactory): MediaWorkerMetrics {
  return {
    ...reportedWorkerCounters(f.counters),
    guardTrips: f.counters.guardTrips,
    rssBytes: f.workerRssBytes ?? null,
  };
}
