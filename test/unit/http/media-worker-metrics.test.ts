/**
 * The media worker's supervision in the room's /metrics (docs/admin.md §Health and metrics): the
 * series exist from the start, follow the supervisor's counters (a death, its restart, a recycle),
 * stay monotonic, and the worker's resident memory is the running worker's last health report.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mediaWorkerMetrics } from '../../../src/app/room/metrics.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { type MediaWorkerMetrics, type MetricsInput, RoomMetrics } from '../../../src/http/metrics.ts';
import { WorkerPeerConnectionFactory } from '../../../src/transport/worker-peer.ts';
import { inProcessLauncher } from '../transport/in-process-worker.ts';

function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await tick();
  if (!cond()) throw new Error(`never happened: ${what}`);
}

const SERIES = [
  'roomd_media_worker_starts_total',
  'roomd_media_worker_restarts_total',
  'roomd_media_worker_deaths_total',
  'roomd_media_worker_recycles_total',
  'roomd_media_worker_hangs_total',
  'roomd_media_worker_frames_rejected_total',
  'roomd_media_worker_guard_trips_total',
  'roomd_media_worker_resident_memory_bytes',
];

const input = (mediaWorker: MediaWorkerMetrics): MetricsInput => ({
  meeting: null,
  rekeys: 0,
  streams: {},
  devices: [],
  mediaWorker,
});

const zero: MediaWorkerMetrics = {
  starts: 0,
  restarts: 0,
  deaths: 0,
  recycles: 0,
  hangs: 0,
  invalidMessages: 0,
  guardTrips: 0,
  rssBytes: null,
};

describe('media worker series', () => {
  it('exist at zero before any input, follow the counts and never go backwards', async () => {
    const m = new RoomMetrics({ defaultMetrics: false });
    let s = parse(await m.metrics());
    for (const name of SERIES) expect(s.get(name), name).toBe(0);
    m.update(input({ ...zero, starts: 3, restarts: 1, deaths: 1, recycles: 1, rssBytes: 70e6 }));
    s = parse(await m.metrics());
    expect(s.get('roomd_media_worker_starts_total')).toBe(3);
    expect(s.get('roomd_media_worker_deaths_total')).toBe(1);
    expect(s.get('roomd_media_worker_restarts_total')).toBe(1);
    expect(s.get('roomd_media_worker_recycles_total')).toBe(1);
    expect(s.get('roomd_media_worker_resident_memory_bytes')).toBe(70e6);
    // Between workers there is no memory to report; the counters stay where they were.
    m.update(input({ ...zero, starts: 3, restarts: 1, deaths: 1, recycles: 1, rssBytes: null }));
    s = parse(await m.metrics());
    expect(s.get('roomd_media_worker_resident_memory_bytes')).toBe(0);
    expect(s.get('roomd_media_worker_deaths_total')).toBe(1);
  });

  it("read from the room's factory: a death and its restart, the running worker's memory", async () => {
    const clock = new FakeClock();
    const { launcher, workers } = inProcessLauncher();
    const f = new WorkerPeerConnectionFactory({ clock, launcher });
    expect(mediaWorkerMetrics(f)).toEqual(zero);
    await f.ready();
    f.create();
    workers[0]!.kill('SIGSEGV');
    await until(() => f.counters.deaths === 1, 'the death');
    await f.ready();
    // A health ping answered by the new worker gives its memory (the in-process one reports 0 bytes).
    clock.advance(2000);
    await until(() => f.health.pid === f.workerPid, 'a pong from the new worker');
    const w = mediaWorkerMetrics(f);
    expect(w).toEqual({ ...zero, starts: 2, restarts: 1, deaths: 1, rssBytes: 0 });
    const m = new RoomMetrics({ defaultMetrics: false });
    m.update(input(w));
    const s = parse(await m.metrics());
    expect(s.get('roomd_media_worker_deaths_total')).toBe(1);
    expect(s.get('roomd_media_worker_restarts_total')).toBe(1);
    await f.close();
  });
});
