/**
 * What `/metrics` reports, read from the room: meeting and shield state, epoch and rekeys, frames
 * and keyframe requests per stream kind (totals survive meetings), device states, input refused from the meeting
 * service (docs/protocol.md §Validation), and the media worker's supervision counters
 * (docs/decisions/0013-media-worker.md). Counts only; no identities.
 */
import type { DeviceStatus } from '../../devices/status.ts';
import type {
  MediaWorkerMetrics,
  MetricsInput,
  RefusedCounters,
  StreamCounters,
} from '../../http/metrics.ts';
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

export class RoomMetricsSource {
  readonly #room: Room;
  readonly #devices: () => readonly DeviceStatus[];
  readonly #safeMode: boolean;
  /** Totals of meetings that ended, so counters never go backwards. */
  readonly #done: Record<string, StreamCounters> = {};
  #doneRekeys = 0;
  readonly #doneRefused = noneRefused();
  #lastRefused = noneRefused();
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
            },
      rekeys: this.#doneRekeys + this.#last.rekeys,
      streams,
      devices: this.#devices().map((d) => {
        const info = deviceInfo(d);
        return { id: d.id, kind: info.kind, status: info.status, reconnects: d.reconnects };
      }),
      safeMode: this.#safeMode,
      refused,
      ...(this.#worker === null ? {} : { mediaWorker: mediaWorkerMetrics(this.#worker) }),
    };
  }
}

/** The supervisor's counters (cumulative since the daemon started) and the running worker's memory. */
export function mediaWorkerMetrics(f: WorkerPeerConnectionFactory): MediaWorkerMetrics {
  return {
    ...reportedWorkerCounters(f.counters),
    guardTrips: f.counters.guardTrips,
    rssBytes: f.workerRssBytes ?? null,
  };
}
