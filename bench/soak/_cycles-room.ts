/**
 * The room daemon of the join/leave soak (bench/soak/cycles.ts), in its own process as on an
 * appliance: the daemon `roomd demo` runs (src/app/demo.ts), on the state directory the far end
 * prepared (bench/soak/_cycles-far-end.ts), without its own camera and microphone (the soak is about
 * connections, not encoders). The meeting service's address and the room's credential come in the
 * environment (ROOMD_MEETING_SERVICE_URL, ROOMD_MEETING_SERVICE_TOKEN). Prints `{ready: …}` with the
 * kiosk URL, then answers each `probe` line on stdin with `{probe: …}`: the room's media worker
 * (docs/decisions/0013-media-worker.md) and, run with `--expose-gc`, the daemon's heap after a full
 * collection (so that memory read right after a probe is what the daemon holds, not garbage not yet
 * collected). Stops on SIGTERM or when stdin closes.
 */
import { createInterface } from 'node:readline';
import { Daemon } from '../../src/app/daemon.ts';
import { daemonModules } from '../../src/app/modules.ts';
import type { RoomApp } from '../../src/app/room/index.ts';
import { LogRing } from '../../src/app/room/admin.ts';
import { silentLogger } from '../../src/core/logger.ts';

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error('usage: _cycles-room.ts STATE_DIR');
let app: RoomApp | null = null;
const daemon = new Daemon({
  stateDir,
  log: silentLogger(),
  env: process.env,
  modules: daemonModules({ logRing: new LogRing(), media: null }, (a) => {
    app = a;
  }),
});
await daemon.start();
const built = app as unknown as RoomApp;
process.stdout.write(
  `${JSON.stringify({ ready: { pid: process.pid, kiosk: built.http.urls().kiosk.replace(/\/$/, '') } })}\n`,
);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void daemon.stop().then(() => process.exit(0));
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'probe') return;
  const w = built.mediaWorker;
  const room =
    w === null
      ? null
      : { pid: w.workerPid ?? null, open: w.openCount, counters: { ...w.counters }, lastDeath: w.lastDeath };
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapUsedKb = gc === undefined ? null : Math.round(process.memoryUsage().heapUsed / 1024);
  process.stdout.write(`${JSON.stringify({ probe: { room, heapUsedKb } })}\n`);
});
lines.on('close', stop);
process.once('SIGTERM', stop);
