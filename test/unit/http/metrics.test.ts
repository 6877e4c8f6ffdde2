/**
 * src/http/metrics.ts (docs/admin.md §Health and metrics): the named series exist, move when the room's
 * state moves, counters stay monotonic across source resets, devices come and go, and the
 * fastify plugin serves the Prometheus text format.
 */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  loopbackMetricsServer,
  type MetricsInput,
  metricsPlugin,
  metricsRoutes,
  RoomMetrics,
} from '../../../src/http/metrics.ts';

/** Parses exposition text into "name{labels}" → value (labels sorted as prom-client prints them). */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function sample(m: RoomMetrics): Promise<Map<string, number>> {
  return parse(await m.metrics());
}

const idle: MetricsInput = { meeting: null, rekeys: 0, streams: {}, devices: [] };

function inMeeting(over: Partial<MetricsInput> = {}): MetricsInput {
  return {
    meeting: { status: 'in_meeting', shield: 'e2ee', epoch: 3, participants: 4, mediaPath: 'turn-tcp' },
    rekeys: 2,
    streams: {
      video: {
        framesSent: 300,
        framesReceived: 290,
        framesLost: 2,
        decryptFailures: 1,
        bytesSent: 90_000,
        dependentFramesSkipped: 7,
        keyframesAskedAfterDrop: 3,
        keyframeRequestsSent: 5,
        keyframeRequestsReceived: 4,
      },
      audio: { framesSent: 500, framesReceived: 499, framesLost: 0, decryptFailures: 0, latencyP95Ms: 42 },
    },
    devices: [
      { id: 'cam-1', kind: 'camera', status: 'ok', reconnects: 0 },
      { id: 'panel', kind: 'panel', status: 'degraded', reconnects: 1 },
    ],
    ...over,
  };
}

describe('RoomMetrics', () => {
  it('exposes the named series before any input, with the room idle', async () => {
    const m = new RoomMetrics({ version: '1.2.3' });
    const text = await m.metrics();
    for (const name of [
      'roomd_meeting_state',
      'roomd_shield_state',
      'roomd_e2ee_epoch',
      'roomd_e2ee_rekeys_total',
      'roomd_media_frames_sent_total',
      'roomd_media_frames_received_total',
      'roomd_media_frames_lost_total',
      'roomd_media_decrypt_failures_total',
      'roomd_media_dependent_frames_skipped_total',
      'roomd_media_encoder_keyframe_requests_after_unsent_frame_total',
      'roomd_media_keyframe_requests_sent_total',
      'roomd_media_keyframe_requests_received_total',
      'roomd_device_state',
      'roomd_device_reconnects_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    const s = parse(text);
    expect(s.get('roomd_info{version="1.2.3"}')).toBe(1);
    expect(s.get('roomd_meeting_state{state="idle"}')).toBe(1);
    expect(s.get('roomd_meeting_state{state="in_meeting"}')).toBe(0);
    expect(s.get('roomd_shield_state{state="none"}')).toBe(1);
    expect(s.get('roomd_media_path{path="direct-udp"}')).toBe(0);
    expect(s.get('roomd_e2ee_epoch')).toBe(0);
    expect(s.get('roomd_e2ee_rekeys_total')).toBe(0);
    expect(s.get('roomd_safe_mode')).toBe(0);
  });

  it('moves meeting, shield, epoch, frame and device series when a meeting runs', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    m.update(idle);
    m.update(inMeeting());
    let s = await sample(m);
    expect(s.get('roomd_meeting_state{state="idle"}')).toBe(0);
    expect(s.get('roomd_meeting_state{state="in_meeting"}')).toBe(1);
    expect(s.get('roomd_shield_state{state="e2ee"}')).toBe(1);
    expect(s.get('roomd_shield_state{state="none"}')).toBe(0);
    // The path the room's media takes: one series at 1, the others at 0.
    expect(s.get('roomd_media_path{path="turn-tcp"}')).toBe(1);
    expect(s.get('roomd_media_path{path="direct-udp"}')).toBe(0);
    expect(s.get('roomd_e2ee_epoch')).toBe(3);
    expect(s.get('roomd_meeting_participants')).toBe(4);
    expect(s.get('roomd_e2ee_rekeys_total')).toBe(2);
    expect(s.get('roomd_media_frames_sent_total{kind="video"}')).toBe(300);
    expect(s.get('roomd_media_frames_received_total{kind="audio"}')).toBe(499);
    expect(s.get('roomd_media_frames_lost_total{kind="video"}')).toBe(2);
    expect(s.get('roomd_media_decrypt_failures_total{kind="video"}')).toBe(1);
    expect(s.get('roomd_media_bytes_sent_total{kind="video"}')).toBe(90_000);
    expect(s.get('roomd_media_dependent_frames_skipped_total{kind="video"}')).toBe(7);
    expect(s.get('roomd_media_encoder_keyframe_requests_after_unsent_frame_total{kind="video"}')).toBe(3);
    expect(s.get('roomd_media_keyframe_requests_sent_total{kind="video"}')).toBe(5);
    expect(s.get('roomd_media_keyframe_requests_received_total{kind="video"}')).toBe(4);
    // A source that does not report them (audio here) gets no series.
    expect(s.has('roomd_media_keyframe_requests_sent_total{kind="audio"}')).toBe(false);
    expect(s.get('roomd_media_latency_seconds{kind="audio",quantile="0.95"}')).toBeCloseTo(0.042);
    expect(s.get('roomd_device_state{device="cam-1",kind="camera",state="ok"}')).toBe(1);
    expect(s.get('roomd_device_state{device="panel",kind="panel",state="degraded"}')).toBe(1);
    expect(s.get('roomd_device_state{device="panel",kind="panel",state="ok"}')).toBe(0);
    expect(s.get('roomd_device_reconnects_total{device="panel",kind="panel"}')).toBe(1);

    // A rekey, more frames, the camera unplugged and back (one reconnect), a leader change.
    m.update(
      inMeeting({
        meeting: { status: 'in_meeting', shield: 'verifying', epoch: 4, participants: 5 },
        rekeys: 3,
        streams: {
          video: {
            framesSent: 360,
            framesReceived: 350,
            framesLost: 2,
            decryptFailures: 1,
            dependentFramesSkipped: 9,
            keyframesAskedAfterDrop: 4,
            keyframeRequestsSent: 5,
            keyframeRequestsReceived: 6,
          },
        },
        devices: [
          { id: 'cam-1', kind: 'camera', status: 'missing', reconnects: 1 },
          { id: 'panel', kind: 'panel', status: 'ok', reconnects: 1 },
        ],
      }),
    );
    s = await sample(m);
    expect(s.get('roomd_e2ee_epoch')).toBe(4);
    expect(s.get('roomd_e2ee_rekeys_total')).toBe(3);
    expect(s.get('roomd_shield_state{state="verifying"}')).toBe(1);
    expect(s.get('roomd_shield_state{state="e2ee"}')).toBe(0);
    expect(s.get('roomd_media_frames_sent_total{kind="video"}')).toBe(360);
    expect(s.get('roomd_media_dependent_frames_skipped_total{kind="video"}')).toBe(9);
    expect(s.get('roomd_media_encoder_keyframe_requests_after_unsent_frame_total{kind="video"}')).toBe(4);
    expect(s.get('roomd_media_keyframe_requests_sent_total{kind="video"}')).toBe(5);
    expect(s.get('roomd_media_keyframe_requests_received_total{kind="video"}')).toBe(6);
    expect(s.get('roomd_device_state{device="cam-1",kind="camera",state="missing"}')).toBe(1);
    expect(s.get('roomd_device_state{device="cam-1",kind="camera",state="ok"}')).toBe(0);
    expect(s.get('roomd_device_reconnects_total{device="cam-1",kind="camera"}')).toBe(1);

    // The meeting ends: back to idle; counters keep their totals.
    m.update({ ...idle, rekeys: 3 });
    s = await sample(m);
    expect(s.get('roomd_meeting_state{state="idle"}')).toBe(1);
    expect(s.get('roomd_meeting_state{state="in_meeting"}')).toBe(0);
    expect(s.get('roomd_shield_state{state="none"}')).toBe(1);
    expect(s.get('roomd_e2ee_epoch')).toBe(0);
    expect(s.get('roomd_e2ee_rekeys_total')).toBe(3);
    expect(s.get('roomd_media_frames_sent_total{kind="video"}')).toBe(360);
  });

  it('keeps counters monotonic when a source restarts its counts', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    const frames = (n: number) => ({ framesSent: n, framesReceived: 0, framesLost: 0, decryptFailures: 0 });
    m.update({ ...idle, streams: { video: frames(100) } });
    m.update({ ...idle, streams: { video: frames(150) } });
    // A new session: the source starts again from zero and has sent 30 frames since.
    m.update({ ...idle, streams: { video: frames(30) } });
    expect((await sample(m)).get('roomd_media_frames_sent_total{kind="video"}')).toBe(180);
    // Nonsense (negative, NaN) is ignored rather than corrupting the series.
    m.update({ ...idle, streams: { video: frames(Number.NaN) } });
    m.update({ ...idle, streams: { video: frames(-5) } });
    expect((await sample(m)).get('roomd_media_frames_sent_total{kind="video"}')).toBe(180);
  });

  it('drops the series of a device that is no longer known, and shows states it does not know', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    m.update(inMeeting());
    m.update(inMeeting({ devices: [{ id: 'panel', kind: 'panel', status: 'rebooting', reconnects: 2 }] }));
    const s = await sample(m);
    expect([...s.keys()].some((k) => k.includes('device="cam-1"'))).toBe(false);
    expect(s.get('roomd_device_state{device="panel",kind="panel",state="rebooting"}')).toBe(1);
    expect(s.get('roomd_device_state{device="panel",kind="panel",state="degraded"}')).toBe(0);
    expect(s.get('roomd_device_reconnects_total{device="panel",kind="panel"}')).toBe(2);
  });

  it('reports safe mode', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    m.update({ ...idle, safeMode: true });
    expect((await sample(m)).get('roomd_safe_mode')).toBe(1);
  });
});

describe('metricsPlugin', () => {
  const apps: { close(): Promise<unknown> }[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  it('serves GET /metrics in the Prometheus text format, read fresh at each scrape', async () => {
    const metrics = new RoomMetrics({ defaultMetrics: false });
    let input: MetricsInput = idle;
    const app = Fastify();
    apps.push(app);
    await app.register(metricsPlugin, { metrics, snapshot: () => input });

    let res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(parse(res.body).get('roomd_meeting_state{state="idle"}')).toBe(1);

    input = inMeeting();
    res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(parse(res.body).get('roomd_meeting_state{state="in_meeting"}')).toBe(1);
    expect(parse(res.body).get('roomd_e2ee_epoch')).toBe(3);
  });

  it('metricsRoutes binds the options, for contexts that take plugins without options', async () => {
    const metrics = new RoomMetrics({ defaultMetrics: false });
    const app = Fastify();
    apps.push(app);
    await app.register(metricsRoutes({ metrics, snapshot: () => inMeeting() }));
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(parse(res.body).get('roomd_meeting_participants')).toBe(4);
  });

  it('serves the last figures when the snapshot throws', async () => {
    const metrics = new RoomMetrics({ defaultMetrics: false });
    metrics.update(inMeeting());
    const app = Fastify();
    apps.push(app);
    await app.register(metricsPlugin, {
      metrics,
      path: '/custom-metrics',
      snapshot: () => {
        throw new Error('daemon state unavailable');
      },
    });
    const res = await app.inject({ method: 'GET', url: '/custom-metrics' });
    expect(res.statusCode).toBe(200);
    expect(parse(res.body).get('roomd_e2ee_epoch')).toBe(3);
  });
});

describe('loopbackMetricsServer', () => {
  it('serves /metrics on 127.0.0.1 while started, and stops listening when stopped', async () => {
    const metrics = new RoomMetrics({ defaultMetrics: false });
    const server = loopbackMetricsServer({ metrics, port: 0, snapshot: () => inMeeting() });
    expect(server.url()).toBe('');
    await server.start();
    try {
      const url = server.url();
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(parse(await res.text()).get('roomd_meeting_state{state="in_meeting"}')).toBe(1);
    } finally {
      await server.stop();
    }
    expect(server.url()).toBe('');
  });
});
