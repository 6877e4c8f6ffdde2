/**
 * media-cpu (docs/benchmarks.md): CPU of roomd's own media path while sending 720p30 VP8 from a
 * real ffmpeg (testsrc2 with the clock overlay) and receiving two streams, with ffmpeg's CPU reported
 * separately. The send path is parse → StreamSender (envelope → seal → chunks); the receive path (fed
 * with the same chunks as two remote senders) is StreamReceiver (reassemble → order → open →
 * envelope) → kiosk VideoFeed. No encryption here: seal and open are identity functions (SFrame has
 * its own benchmarks, sframe-overhead and sframe-throughput); the meeting-level figure including wrtc
 * is the lead's.
 *
 * Figures: process CPU % (everything Node did, pipes included), the synchronous media path's CPU %,
 * ffmpeg's CPU %, the frame rate achieved, and the path's cost per frame projected to 30 fps (so the
 * figure means something even when a loaded machine's libvpx falls behind). CPU % is of one core.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SystemClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/logger.ts';
import { createVideoCapture } from '../src/media/capture.ts';
import type { StreamKeys } from '../src/media/stream/frame.ts';
import { StreamReceiver } from '../src/media/stream/receiver.ts';
import { StreamSender } from '../src/media/stream/sender.ts';
import { VideoFeed } from '../src/media/video-feed.ts';
import { setChunkSender } from '../src/protocol/media-header.ts';
import { STREAM_ID, type StreamKind } from '../src/protocol/vocabulary.ts';
import { NodeProcessRunner } from '../src/system/process.ts';

/** Frame keys that do not encrypt: seal and open hand the bytes back unchanged. */
const identityKeys: StreamKeys = {
  sendEpoch: 1,
  seal: (_stream: StreamKind, payload: Uint8Array) => payload,
  openAs: (sender: string, stream: StreamKind, frame: Uint8Array) => ({
    senderId: sender,
    slot: 0,
    stream,
    epoch: 1,
    ctr: 0n,
    payload: frame,
  }),
};

const SECONDS = Number(process.env['MEDIA_CPU_SECONDS'] ?? 20);
const WARMUP_MS = 2000;
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
const params = {
  width: 1280,
  height: 720,
  framerate: 30,
  codec: 'vp8',
  bitrateKbps: 2500,
  receiveStreams: 2,
  seconds: SECONDS,
};

function ticksOf(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks (100 per second here).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function main(): Promise<void> {
  const clock = new SystemClock();
  const capture = createVideoCapture(
    { type: 'test', fontFile: existsSync(FONT) ? FONT : null, label: 'bench' },
    { codec: 'vp8', width: 1280, height: 720, framerate: 30, bitrateKbps: 2500 },
    { runner: new NodeProcessRunner(), clock, logger: silentLogger() },
  );
  const feed = new VideoFeed();
  let feedBytes = 0;
  feed.subscribe({ send: (m) => (feedBytes += m.length), bufferedBytes: () => 0 });
  const receiver = new StreamReceiver({
    clock,
    keys: () => identityKeys,
    onFrame: (f) => {
      if (f.kind !== 'video' || f.codec === 'opus' || f.codec === 'control') return;
      feed.publish({
        participantId: `p${f.participantId}`,
        streamId: STREAM_ID[f.kind],
        codec: f.codec,
        keyframe: f.keyframe,
        captureTs: f.captureTs,
        data: f.data,
      });
    },
    requestKeyframe: () => {},
  });
  const sender = new StreamSender({
    kind: 'video',
    keys: () => identityKeys,
    out: {
      mediaOpen: true,
      sendChunks: (chunks) => {
        // The relay's fan-out: every chunk to the receiver once per remote sender.
        for (const sid of [1, 2]) {
          for (const c of chunks) {
            const copy = c.slice();
            setChunkSender(copy, sid);
            receiver.push(copy);
          }
        }
        return true;
      },
    },
  });
  let measuring = false;
  let frames = 0;
  let pathMs = 0;
  let notSent = 0;
  capture.onFrame((frame) => {
    const t0 = performance.now();
    if (sender.send(frame, frame.keyframe) !== 'sent') notSent += 1;
    if (measuring) {
      pathMs += performance.now() - t0;
      frames += 1;
    }
  });
  capture.start();
  const t0 = Date.now();
  while (capture.status().state !== 'running' && Date.now() - t0 < 10_000)
    await new Promise((r) => setTimeout(r, 50));
  const pid = capture.status().pid;
  if (pid === null || capture.status().state !== 'running')
    throw new Error(`ffmpeg did not start: ${capture.status().stderrTail.join(' | ')}`);
  await new Promise((r) => setTimeout(r, WARMUP_MS));

  measuring = true;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const ff0 = ticksOf(pid);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const ff1 = ticksOf(pid);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  measuring = false;
  await capture.stop();
  receiver.close();
  if (notSent > 0) throw new Error(`${notSent} frames were not sent`);
  if (receiver.decryptFailures.video > 0 || receiver.guardTrips > 0)
    throw new Error('the receive path refused frames');

  const nodePct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  const out = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({ name, params: { ...params, ...extra }, value: Math.round(value * 100) / 100, unit }),
    );
  out('media-cpu', nodePct, '%', {
    what: 'roomd process CPU (send 720p30 + receive 2 streams + kiosk feed)',
  });
  out('media-cpu.path', (pathMs / wallMs) * 100, '%', {
    what: 'synchronous send (envelope+chunk) + receive (reassemble+order+envelope) + feed path only',
  });
  out('media-cpu.ffmpeg', ((ff1 - ff0) / 100 / (wallMs / 1000)) * 100, '%', {
    what: 'ffmpeg testsrc2+drawtext+libvpx',
  });
  const fps = (frames / wallMs) * 1000;
  out('media-cpu.fps', fps, 'frames/s', {
    what: 'frames ffmpeg delivered (below 30 when libvpx cannot keep up)',
  });
  const perFrameUs = frames === 0 ? 0 : (pathMs * 1000) / frames;
  out('media-cpu.path-per-frame', perFrameUs, 'us', { what: 'send + 2x receive + feed, per captured frame' });
  out('media-cpu.path-at-30fps', (perFrameUs * 30) / 10_000, '%', {
    what: 'path CPU projected to a full 30 fps',
  });
  out('media-cpu.feed-throughput', (feedBytes * 8) / wallMs, 'kbit/s', {
    what: 'kiosk feed bytes for both received streams',
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
