/**
 * The appliance survives its WebRTC library (docs/decisions/0013-media-worker.md), at the level of
 * the whole daemon: the demo — the real room daemon with its kiosk, the embedded relay and far-end
 * people — in its E2EE meeting, the room sending small test video and audio. The ROOM's media worker
 * is killed with SIGSEGV. Throughout, the kiosk answers every poll of /api/v1/state; the room is
 * back to shield `e2ee` without rejoining, the far-end people decrypt its frames again, and /metrics
 * counts the death and the restart. Then the RELAY's media worker is killed: the relay tells each
 * participant (`media-lost`, docs/protocol.md §Session flow) and all of them have media again.
 * Recovery times are printed, not asserted (goals in docs/benchmarks.md "Media worker").
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoRun, startDemo } from '../../../demo/run.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import { WorkerPeerConnectionFactory } from '../../../src/transport/worker-peer.ts';
import { waitFor } from '../../helpers/meeting-harness.ts';
import { freePort } from '../../helpers/ports.ts';

let demo: DemoRun;
let dir: string;

/**
 * Polls the kiosk state every 100 ms until stopped (the kiosk allows 20 requests a second); every failed request is kept. A request may take
 * up to 10 s (a loaded test machine) before it counts as unanswered; the slowest answer is kept.
 */
class KioskPoller {
  polls = 0;
  slowestMs = 0;
  readonly failures: string[] = [];
  readonly shields = new Set<string>();
  last: RoomState | null = null;
  #running = true;
  readonly #done: Promise<void>;

  constructor(url: string) {
    this.#done = this.#loop(url);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }

  async #loop(url: string): Promise<void> {
    while (this.#running) {
      this.polls++;
      const t0 = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        if (res.status !== 200) this.failures.push(`HTTP ${res.status}`);
        else {
          this.last = (await res.json()) as RoomState;
          this.shields.add(this.last.meeting?.shield ?? 'none');
        }
      } catch (error) {
        this.failures.push((error as Error).message);
      }
      this.slowestMs = Math.max(this.slowestMs, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Frames from `sender` each far-end person decrypted (all kinds), counted from now on. */
function decryptedFrom(bots: HeadlessParticipant[], sender: () => string | null): number[] {
  const counts = bots.map(() => 0);
  bots.forEach((bot, i) => {
    bot.media.onFrame((f) => {
      if (f.participantId === sender()) counts[i]!++;
    });
  });
  return counts;
}

async function metric(series: string): Promise<number> {
  const { token } = await demo.app.http.auth.createToken(`scraper-${series}`);
  const res = await demo.app.http.admin.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.statusCode).toBe(200);
  return Number(new RegExp(`^${series}\\s+([0-9.e+]+)$`, 'm').exec(res.body)?.[1] ?? Number.NaN);
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-demo-worker-'));
  demo = await startDemo({
    stateDir: dir,
    log: silentLogger(),
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: 'synthetic',
    // The room sends real (small) frames, so the far end has something of it to decrypt.
    roomMedia: {
      video: { type: 'test', fontFile: null, label: 'room' },
      encode: { codec: 'vp8', width: 160, height: 90, framerate: 5, bitrateKbps: 100 },
      audio: { type: 'test' },
      audioBitrateKbps: 16,
      playbackDevice: null,
    },
  });
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('the room daemon when a media worker dies', () => {
  it("the room's worker dies of SIGSEGV: the kiosk never stops answering, e2ee again, the far end decrypts the room again", async () => {
    const kiosk = demo.kioskUrl.replace(/\/$/, '');
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    const worker = demo.app.mediaWorker!;
    expect(worker).toBeInstanceOf(WorkerPeerConnectionFactory);
    const roomId = () => demo.app.room?.session?.participantId ?? null;
    const fromRoom = decryptedFrom(e2ee.bots, roomId);

    const join = await fetch(`${kiosk}/api/v1/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ meetingId: e2ee.id }),
    });
    expect(join.status).toBe(200);
    const poller = new KioskPoller(`${kiosk}/api/v1/state`);
    try {
      await waitFor(() => poller.last?.meeting?.shield === 'e2ee', 'the kiosk shows e2ee', 60_000);
      await waitFor(() => fromRoom.every((n) => n > 10), 'the far end decrypts the room', 30_000);
      const session = demo.app.room!.session!;
      const participantId = session.participantId;
      const pid = worker.workerPid!;
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(process.pid);
      // From here on: what the kiosk did while the worker died and came back.
      poller.shields.clear();
      poller.slowestMs = 0;

      const t0 = performance.now();
      process.kill(pid, 'SIGSEGV');
      await waitFor(() => worker.counters.deaths === 1, 'the death noticed', 10_000);
      const noticedMs = performance.now() - t0;
      // Nothing more leaves the dead worker; frames already on their way are far fewer than these.
      const base = [...fromRoom];
      await waitFor(
        () =>
          worker.counters.restarts === 1 &&
          poller.last?.meeting?.shield === 'e2ee' &&
          fromRoom.every((n, i) => n > base[i]! + 25),
        'e2ee again, and every far-end person decrypting the room again',
        60_000,
      );
      const recoveredMs = performance.now() - t0;
      const polls = poller.polls;
      await waitFor(() => poller.polls > polls + 2, 'a few more polls', 5000);
      await poller.stop();
      process.stdout.write(
        `[media-worker] the room's worker ${pid} got SIGSEGV: death noticed after ${noticedMs.toFixed(0)} ms, ` +
          `e2ee with the far end decrypting the room again after ${recoveredMs.toFixed(0)} ms ` +
          `(new worker ${worker.workerPid}); kiosk polls ${poller.polls}, failed ${poller.failures.length}, ` +
          `slowest ${poller.slowestMs.toFixed(0)} ms, shields seen ${[...poller.shields].join(',')}\n`,
      );

      expect(poller.failures).toEqual([]);
      // The same participant, never rejoined: the crash stayed below the E2EE session.
      expect(session.participantId).toBe(participantId);
      expect(demo.app.room!.session).toBe(session);
      expect(session.counters.reconnects).toBe(0);
      expect(worker.workerPid).not.toBe(pid);
      expect(worker.counters).toMatchObject({ deaths: 1, restarts: 1, invalidMessages: 0, hangs: 0 });
      expect(await metric('roomd_media_worker_deaths_total')).toBe(1);
      expect(await metric('roomd_media_worker_restarts_total')).toBe(1);
      expect(await metric('roomd_media_worker_hangs_total')).toBe(0);
    } finally {
      await poller.stop();
    }
  }, 150_000);

  it("the relay's worker dies: every participant is told at once and has media again", async () => {
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    const relayWorker = demo.env.relay.peers as WorkerPeerConnectionFactory;
    const kiosk = demo.kioskUrl.replace(/\/$/, '');
    const roomId = () => demo.app.room?.session?.participantId ?? null;
    const fromRoom = decryptedFrom(e2ee.bots, roomId);
    const bot = e2ee.bots[0]!;
    const botId = bot.session.participantId!;
    let atRoom = 0;
    demo.app.room!.link!.onFrame((f) => {
      if (f.participantId === botId) atRoom++;
    });
    await waitFor(() => fromRoom.every((n) => n > 10) && atRoom > 10, 'media both ways', 30_000);
    const lostBefore = demo.env.relay.stats().mediaConnectionsLost;
    const poller = new KioskPoller(`${kiosk}/api/v1/state`);
    try {
      const pid = relayWorker.workerPid!;
      const t0 = performance.now();
      process.kill(pid, 'SIGSEGV');
      await waitFor(() => relayWorker.counters.deaths === 1, "the relay's worker death noticed", 10_000);
      const base = [...fromRoom];
      const baseAtRoom = atRoom;
      await waitFor(
        () =>
          poller.last?.meeting?.shield === 'e2ee' &&
          fromRoom.every((n, i) => n > base[i]! + 25) &&
          atRoom > baseAtRoom + 25,
        'media both ways through the new relay worker',
        60_000,
      );
      const recoveredMs = performance.now() - t0;
      await poller.stop();
      const stats = demo.env.relay.stats();
      process.stdout.write(
        `[media-worker] the relay's worker ${pid} got SIGSEGV: media both ways again after ` +
          `${recoveredMs.toFixed(0)} ms; ${stats.mediaConnectionsLost - lostBefore} participants told ` +
          `(media-lost); kiosk polls ${poller.polls}, failed ${poller.failures.length}, ` +
          `slowest ${poller.slowestMs.toFixed(0)} ms, shields seen ${[...poller.shields].join(',')}\n`,
      );
      expect(poller.failures).toEqual([]);
      // Everyone connected through the relay was told: the room and every far-end person in both meetings.
      const participants = demo.env.relay.stats().participants;
      expect(stats.mediaConnectionsLost - lostBefore).toBe(participants);
      expect(stats.mediaWorker).toMatchObject({ deaths: 1, restarts: 1 });
      expect(bot.session.counters.reconnects).toBe(0);
    } finally {
      await poller.stop();
    }
  }, 120_000);
});
