/**
 * media-cpu (docs/benchmarks.md): CPU of roomd's own media path while sending 720p30 VP8 from a
 * real ffmpeg (testsrc2 with the clock overlay) and receiving two streams, with ffmpeg's CPU reported
 * separately. The send path is parse → envelope → chunk; the receive path (fed with the same chunks
 * as two remote senders) is reassemble → order → envelope → kiosk VideoFeed. No encryption here
 * (SFrame has its own benchmark); the meeting-level figure including wrtc is the lead's.
 *
 * Figures: process CPU % (everything Node did, pipes included), the synchronous media path's CPU %,
 * ffmpeg's CPU %, the frame rate achieved, and the path's cost per frame projected to 30 fps (so the
 * figure means something even when a loaded machine's libvpx falls behind). CPU % is of one core.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SystemClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/logger.ts';
import { createVideoCapture } from '../src/media/capture.ts';
import { packFrame, unpackFrame } from '../src/media/envelope.ts';
import { MediaReceiver } from '../src/media/receiver.ts';
import { StreamSender } from '../src/media/sender.ts';
import { VideoFeed } from '../src/media/video-feed.ts';
import { setChunkSender } from '../src/protocol/media-header.ts';
import { NodeProcessRunner } from '../src/system/process.ts';

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
  const sender = new StreamSender({ kind: 'video', streamId: 0 });
  const feed = new VideoFeed();
  let feedBytes = 0;
  feed.subscribe({ send: (m) => (feedBytes += m.length), bufferedBytes: () => 0 });
  const receiver = new MediaReceiver({
    clock,
    onFrame: (f) => {
      const u = unpackFrame(f.data);
      if (u.kind !== 'video' || u.codec === 'opus') return;
      feed.publish({
        participantId: `p${f.sender}`,
        streamId: f.streamId,
        codec: u.codec,
        keyframe: f.keyframe,
        captureTs: u.captureTs,
        data: u.data,
      });
    },
    onKeyframeRequest: () => {},
  });
  let measuring = false;
  let frames = 0;
  let pathMs = 0;
  capture.onFrame((frame) => {
    const t0 = performance.now();
    const chunks = sender.chunk(packFrame(frame), frame.keyframe);
    for (const sid of [1, 2]) {
      for (const c of chunks) {
        const copy = c.slice();
        setChunkSender(copy, sid);
        receiver.push(copy);
      }
    }
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

  const nodePct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
  const out = (name: string, value: number, unit: string, extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({ name, params: { ...params, ...extra }, value: Math.round(value * 100) / 100, unit }),
    );
  out('media-cpu', nodePct, '%', {
    what: 'roomd process CPU (send 720p30 + receive 2 streams + kiosk feed)',
  });
  out('media-cpu.path', (pathMs / wallMs) * 100, '%', {
    what: 'synchronous chunk+reassemble+feed path only',
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
