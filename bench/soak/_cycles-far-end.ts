/**
 * The far end of the join/leave soak (bench/soak/cycles.ts): the demo's embedded relay, emulated
 * devices and synthetic far-end people in both booked meetings (DemoEnvironment), without the room
 * daemon, which runs in its own process (bench/soak/_cycles-room.ts) so that its memory is measured
 * alone. Prints one JSON line `{ready: …}` — the state directory the room daemon is to use (settings,
 * identity and device paths written there), the relay's address and the meetings — and answers each
 * `probe` line on stdin with `{probe: …}`: the relay's media worker (docs/decisions/0013-media-worker.md).
 * The room's credential on the relay goes to the file `room-token` in the state directory (mode 0600),
 * never to stdout. Stops on SIGTERM or when stdin closes.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { DemoEnvironment } from '../../demo/env.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { WorkerPeerConnectionFactory } from '../../src/transport/worker-peer.ts';
import { freePort } from '../../test/helpers/ports.ts';

const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-cycles-'));
const env = new DemoEnvironment({
  stateDir: dir,
  log: silentLogger(),
  relayPort: 0,
  kioskPort: await freePort(),
  adminPort: await freePort(),
  botMedia: 'synthetic',
});
await env.start();
await fsp.writeFile(path.join(dir, 'room-token'), env.roomToken, { mode: 0o600 });
const relayPeers = env.relay.peers;
const relayWorker = relayPeers instanceof WorkerPeerConnectionFactory ? relayPeers : null;
const meeting = (kind: 'e2ee' | 'enhanced') => {
  const m = env.meetings.find((x) => x.encryption === kind)!;
  return { id: m.id, passcode: m.passcode };
};

process.stdout.write(
  `${JSON.stringify({
    ready: {
      pid: process.pid,
      stateDir: dir,
      signalUrl: env.signalUrl,
      meetings: { e2ee: meeting('e2ee'), enhanced: meeting('enhanced') },
    },
  })}\n`,
);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void env
    .stop()
    .then(() => fsp.rm(dir, { recursive: true, force: true }))
    .then(() => process.exit(0));
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'probe') return;
  const w = relayWorker;
  const relay =
    w === null
      ? null
      : { pid: w.workerPid ?? null, open: w.openCount, counters: { ...w.counters }, lastDeath: w.lastDeath };
  process.stdout.write(`${JSON.stringify({ probe: { relay } })}\n`);
});
lines.on('close', stop);
process.once('SIGTERM', stop);
