/**
 * The room's connections in /metrics (src/http/metrics.ts, docs/admin.md §Health and metrics):
 * signaling connections that could not be opened and the TURN bridge's counts, by error code and
 * direction; the bridged media paths are label values of roomd_media_path.
 */
import { describe, expect, it } from 'vitest';
import { type MetricsInput, RoomMetrics } from '../../../src/http/metrics.ts';

const idle: MetricsInput = { meeting: null, rekeys: 0, streams: {}, devices: [] };

function line(text: string, series: string): number | undefined {
  const m = new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : Number(m[1]);
}

describe('connection metrics', () => {
  it('reports connect failures and the TURN bridge, cumulatively', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    const connections = {
      signalingFailures: { 'transport.tls_untrusted': 2 },
      bridgeConnections: 3,
      bridgeRefused: 0,
      bridgeFailures: { 'transport.proxy_auth': 1 },
      bridgeBytesUp: 1000,
      bridgeBytesDown: 5000,
    };
    m.update({ ...idle, connections });
    m.update({
      ...idle,
      connections: { ...connections, bridgeConnections: 5, bridgeBytesDown: 7000, signalingFailures: {} },
    });
    const text = await m.metrics();
    expect(line(text, 'roomd_meeting_service_connect_failures_total{code="transport.tls_untrusted"}')).toBe(
      2,
    );
    expect(line(text, 'roomd_turn_bridge_connections_total')).toBe(5);
    expect(line(text, 'roomd_turn_bridge_refused_total')).toBe(0);
    expect(line(text, 'roomd_turn_bridge_failures_total{code="transport.proxy_auth"}')).toBe(1);
    expect(line(text, 'roomd_turn_bridge_bytes_total{direction="up"}')).toBe(1000);
    expect(line(text, 'roomd_turn_bridge_bytes_total{direction="down"}')).toBe(7000);
  });

  it('names the bridged media paths', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    m.update({
      ...idle,
      meeting: {
        status: 'in_meeting',
        shield: 'e2ee',
        epoch: 1,
        participants: 2,
        mediaPath: 'turn-tls-proxy',
      },
    });
    const text = await m.metrics();
    expect(line(text, 'roomd_media_path{path="turn-tls-proxy"}')).toBe(1);
    expect(line(text, 'roomd_media_path{path="turn-tcp-proxy"}')).toBe(0);
    expect(line(text, 'roomd_media_path{path="turn-tls"}')).toBe(0);
  });
});
