/**
 * network-adapt's room (docs/benchmarks.md §network-adapt), run in the room's network namespace: the
 * room's meeting core (`Room`, as the daemon runs it) with its camera — ffmpeg's test picture,
 * 720p30 VP8 at 2.5 Mbit/s, the settings' defaults — and its test-tone microphone, joined to
 * `--meeting` on `--signal`. Prints `{"secure":true}` once the meeting is end-to-end encrypted, then
 * every 500 ms what its encoder made in the last second and what rate adaptation knows
 * (`{"tick":…}`). Ends on SIGTERM.
 */
import { parseArgs } from 'node:util';
import { ephemeralIdentity } from '../../src/app/bot.ts';
import { SystemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { MuteState } from '../../src/devices/mute.ts';
import type { MediaFrame } from '../../src/media/types.ts';
import { Room } from '../../src/meeting/room.ts';
import { NodeProcessRunner } from '../../src/system/process.ts';
import { WorkerPeerConnectionFactory } from '../../src/transport/worker-peer.ts';

const { values } = parseArgs({ options: { signal: { type: 'string' }, meeting: { type: 'string' } } });
if (values.signal === undefined || values.meeting === undefined) {
  console.error('usage: room.ts --signal URL --meeting ID');
  process.exit(2);
}
const log = silentLogger();
const peers = new WorkerPeerConnectionFactory({ logger: log });
const signal = values.signal;
const room = new Room({
  roomName: () => 'Bench room',
  relayUrl: () => signal,
  minimumEncryption: () => 'e2ee',
  identity: ephemeralIdentity('room'),
  clock: new SystemClock(),
  log,
  peers,
  runner: new NodeProcessRunner(),
  mute: new MuteState(false),
  camera: () => null,
  schedule: { list: async () => [] },
  volume: 50,
  media: {
    video: { type: 'test', fontFile: null },
    encode: {
      codec: 'vp8',
      width: 1280,
      height: 720,
      framerate: 30,
      bitrateKbps: 2500,
      keyframeIntervalMs: 2000,
    },
    audio: { type: 'test' },
    audioBitrateKbps: 32,
    playbackDevice: null,
  },
});

/** Encoded video frames of the last second: (time, bytes). */
const recent: { at: number; bytes: number }[] = [];
let attached: unknown = null;
await room.join(values.meeting);
let secure = false;
const tick = setInterval(() => {
  const video = room.captures.video;
  if (video !== null && video !== attached) {
    attached = video;
    video.onFrame((f: MediaFrame) => recent.push({ at: performance.now(), bytes: f.data.byteLength }));
  }
  const now = performance.now();
  while (recent.length > 0 && recent[0]!.at < now - 1000) recent.shift();
  if (!secure && room.meeting()?.shield === 'e2ee') {
    secure = true;
    console.log(JSON.stringify({ secure: true }));
  }
  const rate = room.link?.rate;
  const out = (video as { output?: { width: number; height: number; framerate: number } } | null)?.output;
  console.log(
    JSON.stringify({
      tick: {
        at: Date.now(),
        encoderKbps: (recent.reduce((n, r) => n + r.bytes, 0) * 8) / 1000,
        encoderFps: recent.length,
        targetKbps: rate?.estimate.targetKbps ?? null,
        queueMs: rate?.estimate.queueMs ?? null,
        deliveredKbps: rate?.estimate.deliveredKbps ?? null,
        output: out === undefined ? null : `${out.width}x${out.height}@${out.framerate}`,
        keyframeRequests: room.link?.sendStats('video').keyframeRequests ?? 0,
        keyframesAskedAfterDrop: room.link?.sendStats('video').keyframesAskedAfterDrop ?? 0,
      },
    }),
  );
}, 500);

process.on('SIGTERM', () => {
  clearInterval(tick);
  void room.leave().finally(() => process.exit(0));
});
