/**
 * Prometheus metrics of a room (docs/admin.md §Health and metrics): meeting and shield state, E2EE
 * epoch and rekeys, per-stream-kind frame and keyframe-request counters, device states and
 * reconnects, and the process statistics of prom-client's default collectors — and a fastify
 * plugin that serves them as `GET /metrics` in the Prometheus text format.
 *
 * The app layer describes the room with a small `MetricsInput` snapshot (cumulative counts, the
 * way the media and device layers keep them) and either pushes it with `update()` or hands the
 * plugin a `snapshot()` function that is read at every scrape. Counters stay monotonic: a count
 * that goes down (a new session restarted its statistics) is read as a reset of the source.
 * `loopbackMetricsServer` serves the same on a plain-HTTP port on 127.0.0.1 only, for a scraper
 * running on the box itself.
 */
import Fastify, { type FastifyPluginAsync } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Module } from '../core/lifecycle.ts';
import { SHIELDS } from '../protocol/vocabulary.ts';
import { MEDIA_PATHS, type MediaPath } from '../transport/peer.ts';
import type { ReportedWorkerCounters } from '../transport/worker-counters.ts';
import { DEVICE_STATUSES, MEETING_STATUSES } from './schemas/state.ts';

/** Cumulative counts of one kind of stream (audio, video, screen share) since the source began. */
export interface StreamCounters {
  framesSent: number;
  framesReceived: number;
  framesLost: number;
  decryptFailures: number;
  bytesSent?: number;
  bytesReceived?: number;
  /** Delta frames not sent because a frame they depend on was not sent. */
  dependentFramesSkipped?: number;
  /** Times a frame that was not sent made the sender ask its own encoder for a keyframe. */
  keyframesAskedAfterDrop?: number;
  /** Keyframe requests the room's receivers sent to other participants (after a gap). */
  keyframeRequestsSent?: number;
  /** Keyframe requests other participants sent for the room's stream (each passed to its encoder). */
  keyframeRequestsReceived?: number;
  /** End-to-end latency percentiles over the source's recent window, when measured. */
  latencyP50Ms?: number | null;
  latencyP95Ms?: number | null;
}

export interface DeviceCounters {
  /** Stable device id (as the device manager names it). */
  id: string;
  /** camera, microphone, speaker, panel, … */
  kind: string;
  /** ok, degraded, missing */
  status: string;
  /** Reconnects since the daemon started. */
  reconnects: number;
}

export interface MetricsInput {
  /** The current meeting, or null when the room is idle. */
  meeting: {
    /** joining, waiting_for_host, in_meeting, leaving, ended */
    status: string;
    /** e2ee, enhanced, partial, verifying, none */
    shield: string;
    epoch: number;
    participants: number;
    /** How its media goes (transport/peer.ts MediaPath), null while there is no connection. */
    mediaPath?: MediaPath | null;
    /** Rate adaptation of its uplink (docs/decisions/0021-rate-adaptation.md), when on. */
    uplink?: UplinkGauges | null;
  } | null;
  /** E2EE rekeys (new epochs) since the daemon started. */
  rekeys: number;
  /** By stream kind. */
  streams: Record<string, StreamCounters>;
  devices: DeviceCounters[];
  /** True when the daemon runs in safe mode (invalid settings). */
  safeMode?: boolean;
  /** Input the room refused or caught on receive since the daemon started (docs/protocol.md §Validation). */
  refused?: RefusedCounters;
  /** The media worker's supervision (docs/decisions/0013-media-worker.md), when WebRTC runs in one. */
  mediaWorker?: MediaWorkerMetrics;
  /** Connections to the meeting service and TURN since the daemon started (docs/admin.md §Firewalls). */
  connections?: ConnectionCounters;
}

/** What rate adaptation knows of the room's uplink now. */
export interface UplinkGauges {
  /** The video bitrate it asks of the encoder, kbit/s. */
  videoTargetKbps: number;
  /** Queueing delay at the last report, ms. */
  queueMs: number;
  /** What the relay received per second lately, kbit/s (null: not known yet). */
  deliveredKbps: number | null;
}

/** Cumulative counts of the room's connections to the meeting service and its TURN bridge. */
export interface ConnectionCounters {
  /** Signaling connections that could not be opened, by error code (`transport.tls_untrusted`, …). */
  signalingFailures: Record<string, number>;
  /** TURN bridge (transport/turn-bridge.ts): connections piped, refused over the bound, failed by code, bytes. */
  bridgeConnections: number;
  bridgeRefused: number;
  bridgeFailures: Record<string, number>;
  bridgeBytesUp: number;
  bridgeBytesDown: number;
}

/**
 * Cumulative counts of the media worker's supervisor since the daemon started (the counts are
 * described in transport/worker-counters.ts MediaWorkerCounters).
 */
export interface MediaWorkerMetrics extends ReportedWorkerCounters {
  /** Errors in the daemon's own handling of a worker event, caught; that connection was closed. */
  guardTrips: number;
  /** The running worker's resident memory at its last health report, or null (none running yet). */
  rssBytes: number | null;
}

/** Cumulative counts of refused input and last-resort receive guard trips. */
export interface RefusedCounters {
  /** Signaling messages from the meeting service that failed validation (binary frames included). */
  relayMessages: number;
  /** Media chunks dropped for a bad header or over the reassembly caps. */
  mediaChunks: number;
  /** Unexpected errors caught by a receive guard (signaling or media); that input was dropped. */
  guardTrips: number;
}

type WorkerCounterKey = Exclude<keyof MediaWorkerMetrics, 'rssBytes'>;

type KeyframeCounterKey =
  | 'dependentFramesSkipped'
  | 'keyframesAskedAfterDrop'
  | 'keyframeRequestsSent'
  | 'keyframeRequestsReceived';

export const MEETING_STATES = ['idle', ...MEETING_STATUSES] as const;

export interface RoomMetricsOptions {
  version?: string;
  /** Collect prom-client's process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
}

/** Keeps a prom-client counter in step with a cumulative count read from elsewhere. */
class CounterFeed {
  readonly #last = new Map<string, number>();
  constructor(private readonly counter: Counter<string>) {}

  set(labels: Record<string, string>, total: number): void {
    if (!Number.isFinite(total) || total < 0) return;
    const key = JSON.stringify(labels);
    const last = this.#last.get(key);
    const delta = last === undefined || total < last ? total : total - last;
    this.#last.set(key, total);
    if (delta > 0) this.counter.inc(labels, delta);
    else if (last === undefined) this.counter.inc(labels, 0);
  }

  forget(labels: Record<string, string>): void {
    this.#last.delete(JSON.stringify(labels));
    this.counter.remove(labels);
  }
}

/** Sets one series per state to 1 for the current state and 0 for the others. */
function setStateSet(
  gauge: Gauge<string>,
  known: readonly string[],
  current: string,
  extra: Record<string, string> = {},
) {
  const states = known.includes(current) ? known : [...known, current];
  for (const state of states) gauge.set({ ...extra, state }, state === current ? 1 : 0);
}

export class RoomMetrics {
  readonly registry = new Registry();
  readonly #meetingState: Gauge<string>;
  readonly #shieldState: Gauge<string>;
  readonly #mediaPath: Gauge<string>;
  readonly #uplink: Record<'target' | 'queue' | 'delivered', Gauge<string>>;
  readonly #epoch: Gauge<string>;
  readonly #participants: Gauge<string>;
  readonly #rekeys: CounterFeed;
  readonly #frames: Record<'sent' | 'received' | 'lost' | 'decryptFailures', CounterFeed>;
  readonly #bytes: Record<'sent' | 'received', CounterFeed>;
  readonly #keyframes: Record<KeyframeCounterKey, CounterFeed>;
  readonly #latency: Gauge<string>;
  readonly #deviceState: Gauge<string>;
  readonly #deviceReconnects: CounterFeed;
  readonly #safeMode: Gauge<string>;
  readonly #refused: Record<keyof RefusedCounters, CounterFeed>;
  readonly #worker: Record<WorkerCounterKey, CounterFeed>;
  readonly #workerRss: Gauge<string>;
  readonly #connections: {
    signalingFailures: CounterFeed;
    bridgeConnections: CounterFeed;
    bridgeRefused: CounterFeed;
    bridgeFailures: CounterFeed;
    bridgeBytes: CounterFeed;
  };
  #devices = new Map<string, { id: string; kind: string; status: string }>();
  #meetingStateNow = 'idle';
  #shieldNow = 'none';

  constructor(options: RoomMetricsOptions = {}) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, labelNames: string[] = []) =>
      new CounterFeed(new Counter({ name, help, labelNames, registers }));

    gauge('roomd_info', 'Build of the running daemon (always 1).', ['version']).set(
      { version: options.version ?? 'unknown' },
      1,
    );
    this.#safeMode = gauge(
      'roomd_safe_mode',
      '1 while the daemon runs in safe mode because its settings are invalid.',
    );
    this.#meetingState = gauge(
      'roomd_meeting_state',
      'Meeting state: 1 for the current state, 0 for the others.',
      ['state'],
    );
    this.#shieldState = gauge(
      'roomd_shield_state',
      'Encryption shield shown in the room: 1 for the current state, 0 for the others.',
      ['state'],
    );
    this.#mediaPath = gauge(
      'roomd_media_path',
      'How the meeting media goes (direct or through TURN, by transport; -proxy: through the HTTP proxy): 1 for the current path, 0 for the others (all 0 without a connection).',
      ['path'],
    );
    this.#uplink = {
      target: gauge(
        'roomd_uplink_video_target_kbps',
        "The video bitrate rate adaptation asks of the room's encoder, kbit/s (absent without a meeting).",
      ),
      queue: gauge(
        'roomd_uplink_queue_ms',
        "Queueing delay on the room's uplink at the relay's last report, ms.",
      ),
      delivered: gauge(
        'roomd_uplink_delivered_kbps',
        'What the relay received from the room per second lately, kbit/s (absent until known).',
      ),
    };
    this.#epoch = gauge('roomd_e2ee_epoch', 'Current E2EE key epoch of the meeting (0 when idle).');
    this.#participants = gauge('roomd_meeting_participants', 'Participants in the current meeting.');
    this.#rekeys = counter(
      'roomd_e2ee_rekeys_total',
      'E2EE rekeys (new key epochs) since the daemon started.',
    );
    this.#frames = {
      sent: counter('roomd_media_frames_sent_total', 'Media frames encrypted and sent.', ['kind']),
      received: counter('roomd_media_frames_received_total', 'Media frames received whole.', ['kind']),
      lost: counter('roomd_media_frames_lost_total', 'Media frames that never arrived whole.', ['kind']),
      decryptFailures: counter(
        'roomd_media_decrypt_failures_total',
        'Media frames that failed SFrame decryption.',
        ['kind'],
      ),
    };
    this.#bytes = {
      sent: counter('roomd_media_bytes_sent_total', 'Encrypted media bytes sent.', ['kind']),
      received: counter('roomd_media_bytes_received_total', 'Encrypted media bytes received.', ['kind']),
    };
    this.#keyframes = {
      dependentFramesSkipped: counter(
        'roomd_media_dependent_frames_skipped_total',
        'Delta frames not sent because a frame they depend on was not sent.',
        ['kind'],
      ),
      keyframesAskedAfterDrop: counter(
        'roomd_media_encoder_keyframe_requests_after_unsent_frame_total',
        'Keyframes the sender asked its own encoder for because a frame was not sent (no key or channel yet, congestion, send key used up).',
        ['kind'],
      ),
      keyframeRequestsSent: counter(
        'roomd_media_keyframe_requests_sent_total',
        'Keyframe requests sent to other participants after a gap in a stream received from them.',
        ['kind'],
      ),
      keyframeRequestsReceived: counter(
        'roomd_media_keyframe_requests_received_total',
        "Keyframe requests received from other participants for the room's own stream.",
        ['kind'],
      ),
    };
    this.#latency = gauge(
      'roomd_media_latency_seconds',
      'End-to-end media latency percentiles over a recent window.',
      ['kind', 'quantile'],
    );
    this.#deviceState = gauge(
      'roomd_device_state',
      'Room device state: 1 for the current state, 0 for the others.',
      ['device', 'kind', 'state'],
    );
    this.#deviceReconnects = counter(
      'roomd_device_reconnects_total',
      'Device reconnects since the daemon started.',
      ['device', 'kind'],
    );

    this.#refused = {
      relayMessages: counter(
        'roomd_relay_messages_rejected_total',
        'Signaling messages from the meeting service that failed validation and were dropped.',
      ),
      mediaChunks: counter(
        'roomd_media_chunks_rejected_total',
        'Media chunks dropped for a bad header or for exceeding the reassembly limits.',
      ),
      guardTrips: counter(
        'roomd_receive_guard_trips_total',
        'Unexpected errors caught by a last-resort receive guard; the input was dropped.',
      ),
    };

    this.#worker = {
      starts: counter(
        'roomd_media_worker_starts_total',
        'Media worker processes started (WebRTC runs in one), the first one included.',
      ),
      restarts: counter(
        'roomd_media_worker_restarts_total',
        'Media worker processes started to replace one that died.',
      ),
      deaths: counter(
        'roomd_media_worker_deaths_total',
        'Media worker processes that died unasked (crashed, killed, or killed for hanging); their connections failed and were replaced.',
      ),
      recycles: counter(
        'roomd_media_worker_recycles_total',
        'Media worker processes replaced on purpose, while idle, after a number of closed connections.',
      ),
      hangs: counter(
        'roomd_media_worker_hangs_total',
        'Media worker processes killed for not answering a health ping or not starting in time (also counted as deaths).',
      ),
      invalidMessages: counter(
        'roomd_media_worker_frames_rejected_total',
        'Frames from the media worker that failed to decode and were dropped.',
      ),
      guardTrips: counter(
        'roomd_media_worker_guard_trips_total',
        'Unexpected errors while handling a media worker event, caught; that media connection was closed.',
      ),
    };
    this.#workerRss = gauge(
      'roomd_media_worker_resident_memory_bytes',
      'Resident memory of the running media worker process at its last health report (0 while none runs).',
    );

    this.#connections = {
      signalingFailures: counter(
        'roomd_meeting_service_connect_failures_total',
        'Connections to the meeting service that could not be opened, by error code (docs/admin.md §Firewalls).',
        ['code'],
      ),
      bridgeConnections: counter(
        'roomd_turn_bridge_connections_total',
        "Connections the room's TURN bridge carried to a TURN server (over TLS, or through the HTTP proxy).",
      ),
      bridgeRefused: counter(
        'roomd_turn_bridge_refused_total',
        "Connections the room's TURN bridge refused because a listener had its maximum open.",
      ),
      bridgeFailures: counter(
        'roomd_turn_bridge_failures_total',
        "Connections the room's TURN bridge could not open to the TURN server, by error code.",
        ['code'],
      ),
      bridgeBytes: counter(
        'roomd_turn_bridge_bytes_total',
        "Bytes the room's TURN bridge carried, by direction (up: to the TURN server).",
        ['direction'],
      ),
    };

    this.#safeMode.set(0);
    for (const feed of Object.values(this.#refused)) feed.set({}, 0);
    setStateSet(this.#meetingState, MEETING_STATES, 'idle');
    setStateSet(this.#shieldState, SHIELDS, 'none');
    for (const path of MEDIA_PATHS) this.#mediaPath.set({ path }, 0);
    this.#epoch.set(0);
    this.#participants.set(0);
    this.#rekeys.set({}, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Brings every series in line with the room's current state. */
  update(input: MetricsInput): void {
    this.#safeMode.set(input.safeMode === true ? 1 : 0);
    const meeting = input.meeting;
    this.#setMeetingState(meeting?.status ?? 'idle');
    this.#setShield(meeting?.shield ?? 'none');
    const path = meeting?.mediaPath ?? null;
    for (const p of MEDIA_PATHS) this.#mediaPath.set({ path: p }, p === path ? 1 : 0);
    const up = meeting?.uplink ?? null;
    if (up === null) for (const g of Object.values(this.#uplink)) g.reset();
    else {
      this.#uplink.target.set(up.videoTargetKbps);
      this.#uplink.queue.set(up.queueMs);
      if (up.deliveredKbps === null) this.#uplink.delivered.reset();
      else this.#uplink.delivered.set(Math.round(up.deliveredKbps));
    }
    this.#epoch.set(meeting?.epoch ?? 0);
    this.#participants.set(meeting?.participants ?? 0);
    this.#rekeys.set({}, input.rekeys);
    if (input.refused !== undefined) {
      for (const k of Object.keys(this.#refused) as (keyof RefusedCounters)[])
        this.#refused[k].set({}, input.refused[k]);
    }
    const c = input.connections;
    if (c !== undefined) {
      for (const [code, n] of Object.entries(c.signalingFailures))
        this.#connections.signalingFailures.set({ code }, n);
      for (const [code, n] of Object.entries(c.bridgeFailures))
        this.#connections.bridgeFailures.set({ code }, n);
      this.#connections.bridgeConnections.set({}, c.bridgeConnections);
      this.#connections.bridgeRefused.set({}, c.bridgeRefused);
      this.#connections.bridgeBytes.set({ direction: 'up' }, c.bridgeBytesUp);
      this.#connections.bridgeBytes.set({ direction: 'down' }, c.bridgeBytesDown);
    }
    const worker = input.mediaWorker;
    if (worker !== undefined) {
      for (const k of Object.keys(this.#worker) as WorkerCounterKey[]) this.#worker[k].set({}, worker[k]);
      if (worker.rssBytes === null) this.#workerRss.reset();
      else this.#workerRss.set(worker.rssBytes);
    }

    for (const [kind, s] of Object.entries(input.streams)) {
      const labels = { kind };
      this.#frames.sent.set(labels, s.framesSent);
      this.#frames.received.set(labels, s.framesReceived);
      this.#frames.lost.set(labels, s.framesLost);
      this.#frames.decryptFailures.set(labels, s.decryptFailures);
      if (s.bytesSent !== undefined) this.#bytes.sent.set(labels, s.bytesSent);
      if (s.bytesReceived !== undefined) this.#bytes.received.set(labels, s.bytesReceived);
      for (const k of Object.keys(this.#keyframes) as KeyframeCounterKey[]) {
        const total = s[k];
        if (total !== undefined) this.#keyframes[k].set(labels, total);
      }
      this.#setLatency(kind, '0.5', s.latencyP50Ms);
      this.#setLatency(kind, '0.95', s.latencyP95Ms);
    }
    this.#updateDevices(input.devices);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #setMeetingState(state: string): void {
    if (state === this.#meetingStateNow) return;
    if (!(MEETING_STATES as readonly string[]).includes(this.#meetingStateNow)) {
      this.#meetingState.remove({ state: this.#meetingStateNow });
    }
    this.#meetingStateNow = state;
    setStateSet(this.#meetingState, MEETING_STATES, state);
  }

  #setShield(state: string): void {
    if (state === this.#shieldNow) return;
    if (!(SHIELDS as readonly string[]).includes(this.#shieldNow))
      this.#shieldState.remove({ state: this.#shieldNow });
    this.#shieldNow = state;
    setStateSet(this.#shieldState, SHIELDS, state);
  }

  #setLatency(kind: string, quantile: string, ms: number | null | undefined): void {
    if (ms === undefined) return;
    if (ms === null || !Number.isFinite(ms)) this.#latency.remove({ kind, quantile });
    else this.#latency.set({ kind, quantile }, ms / 1000);
  }

  #updateDevices(devices: DeviceCounters[]): void {
    const seen = new Map<string, { id: string; kind: string; status: string }>();
    for (const d of devices) {
      const key = `${d.kind}\u0000${d.id}`;
      seen.set(key, { id: d.id, kind: d.kind, status: d.status });
      const before = this.#devices.get(key);
      if (before !== undefined && before.status !== d.status && !isKnownDeviceState(before.status)) {
        this.#deviceState.remove({ device: d.id, kind: d.kind, state: before.status });
      }
      setStateSet(this.#deviceState, DEVICE_STATUSES, d.status, { device: d.id, kind: d.kind });
      this.#deviceReconnects.set({ device: d.id, kind: d.kind }, d.reconnects);
    }
    for (const [key, gone] of this.#devices) {
      if (seen.has(key)) continue;
      const states = isKnownDeviceState(gone.status) ? DEVICE_STATUSES : [...DEVICE_STATUSES, gone.status];
      for (const state of states) this.#deviceState.remove({ device: gone.id, kind: gone.kind, state });
      this.#deviceReconnects.forget({ device: gone.id, kind: gone.kind });
    }
    this.#devices = seen;
  }
}

function isKnownDeviceState(state: string): boolean {
  return (DEVICE_STATUSES as readonly string[]).includes(state);
}

export interface MetricsPluginOptions {
  metrics: RoomMetrics;
  /** Read at every scrape, so the figures are those of the moment (optional). */
  snapshot?: () => MetricsInput;
  /** Route path (default /metrics). */
  path?: string;
}

/**
 * `GET /metrics` for the context it is registered in (the admin context, behind its auth; or a
 * loopback-only listener). A failing snapshot still serves the last figures.
 */
export const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, opts) => {
  app.get(
    opts.path ?? '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics of the room',
        description: 'Meeting, shield, E2EE epoch and rekeys, media frame counters, devices, process.',
        response: { 200: { type: 'string' } },
      },
    },
    async (request, reply) => {
      if (opts.snapshot !== undefined) {
        try {
          opts.metrics.update(opts.snapshot());
        } catch (err) {
          request.log.warn({ err }, 'metrics snapshot failed; serving the last figures');
        }
      }
      const body = await opts.metrics.metrics();
      return reply
        .header('content-type', opts.metrics.contentType)
        .header('cache-control', 'no-store')
        .send(body);
    },
  );
};

/** The plugin with its options bound, for `authenticatedPlugins` of the admin context. */
export function metricsRoutes(opts: MetricsPluginOptions): FastifyPluginAsync {
  return async (app) => {
    await app.register(metricsPlugin, opts);
  };
}

export interface LoopbackMetricsOptions extends MetricsPluginOptions {
  port: number;
}

/**
 * A plain-HTTP `/metrics` listener bound to 127.0.0.1 (never another address: it has no
 * authentication), as a lifecycle Module. `url()` tells where it listens once started.
 */
export function loopbackMetricsServer(opts: LoopbackMetricsOptions): Module & { url(): string } {
  const app = Fastify({ logger: false });
  let listening = false;
  return {
    name: 'metrics',
    async start() {
      await app.register(metricsPlugin, opts);
      await app.listen({ host: '127.0.0.1', port: opts.port });
      listening = true;
    },
    async stop() {
      await app.close();
      listening = false;
    },
    url() {
      const a = app.server.address();
      if (!listening || a === null || typeof a === 'string') return '';
      return `http://127.0.0.1:${a.port}${opts.path ?? '/metrics'}`;
    },
  };
}
