/**
 * share-quality (docs/benchmarks.md §share-quality): what a 1080p content share costs and how soon
 * the far end sees it.
 *
 * 1. The content encoder's output at 1920×1080 (the room's content settings, src/app/room/config.ts
 *    `contentConfigFrom`: VP8, 5 fps, 800 kbit/s, a keyframe every 5 s, nice 10) for three kinds of
 *    content, BENCH_SECONDS (default 20) each, frames parsed off ffmpeg's pipe by the real capture
 *    (`createVideoCapture`): a static slide, a scrolling document (the `slides` source's motions
 *    'static' and 'scroll') and full-motion video (testsrc2). Bytes a second (1-s windows), keyframe
 *    and delta-frame sizes, frames a second.
 * 2. Plug → the far end's first frame: a Room in an E2EE meeting with a far-end participant over the
 *    real relay and wrtc, its content source a device watched by a DeviceManager (a temp file stands
 *    for the dongle's V4L2 node; creating it is the plug) and auto-share wired as the daemon wires it
 *    (src/app/room/index.ts). Timed from the file's creation to the far end's first decrypted
 *    `screen` keyframe and to an ffmpeg decoder (started before the plug) putting out its picture.
 *    BENCH_REPS (default 10) plugs and unplugs.
 *
 * Every figure carries the machine's load: the 1-minute load average before and after its part and
 * the busy share of all cores over it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { autoShare } from '../src/app/room/auto-share.ts';
import { contentConfigFrom, DEFAULT_FONT, withContentPresence } from '../src/app/room/config.ts';
import { defaultSettings } from '../src/config/settings.ts';
import { SystemClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/logger.ts';
import { DeviceManager } from '../src/devices/manager.ts';
import { MuteState } from '../src/devices/mute.ts';
import { createVideoCapture } from '../src/media/capture.ts';
import type { VideoSource } from '../src/media/ffmpeg-args.ts';
import { writeIvfFrame, writeIvfHeader } from '../src/media/ivf.ts';
import type { Room } from '../src/meeting/room.ts';
import type { RoomCommands } from '../src/protocol/room-commands.ts';
import { NodeProcessRunner } from '../src/system/process.ts';
import { roomInMeeting } from '../test/integration/room/room-under-test.ts';
import { startHarness, waitFor } from '../test/helpers/meeting-harness.ts';
import { cpuTimes, emit, percentile } from './_lib.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const REPS = Number(process.env['BENCH_REPS'] ?? 10);
const font = existsSync(DEFAULT_FONT) ? DEFAULT_FONT : null;
const runner = new NodeProcessRunner();

// The room's content settings as the daemon makes them, for a room set to 1080p.
const base = defaultSettings();
const settings = { ...base, media: { ...base.media, width: 1920, height: 1080 } };
const content = contentConfigFrom(settings, font, true);
if (content === null) throw new Error('no content config');
const encode = content.encode;
const common = {
  resolution: `${encode.width}x${encode.height}`,
  codec: encode.codec,
  fps: encode.framerate,
  bitrateKbps: encode.bitrateKbps,
  keyframeIntervalMs: encode.keyframeIntervalMs,
  niceness: encode.niceness,
};

/** The machine's load over a part of the run, for every figure of that part. */
async function withLoad<T>(part: () => Promise<T>): Promise<{ result: T; load: Record<string, number> }> {
  const before = os.loadavg()[0]!;
  const c0 = cpuTimes();
  const result = await part();
  const c1 = cpuTimes();
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    result,
    load: {
      loadAvgBefore: r(before),
      loadAvgAfter: r(os.loadavg()[0]!),
      busyPct: r((100 * (c1.busy - c0.busy)) / Math.max(1, c1.total - c0.total)),
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ── 1. The content encoder's output ────────────────────────────────────────────────────────────
interface Encoded {
  at: number;
  bytes: number;
  key: boolean;
  data: Uint8Array;
}

async function encodeFor(source: VideoSource): Promise<Encoded[]> {
  const capture = createVideoCapture(source, encode, {
    runner,
    clock: new SystemClock(),
    logger: silentLogger(),
  });
  const frames: Encoded[] = [];
  capture.onFrame((f) =>
    frames.push({ at: performance.now(), bytes: f.data.byteLength, key: f.keyframe, data: f.data }),
  );
  capture.start();
  await waitFor(() => frames.length > 0, 'the first content frame', 20_000);
  await sleep(SECONDS * 1000);
  await capture.stop();
  const t0 = frames[0]!.at;
  return frames.filter((f) => f.at < t0 + SECONDS * 1000);
}

const kinds: { content: string; source: VideoSource }[] = [
  { content: 'static-slide', source: { type: 'slides', fontFile: font, label: 'Slides', motion: 'static' } },
  { content: 'scrolling-document', source: { type: 'slides', fontFile: font, motion: 'scroll' } },
  { content: 'video', source: { type: 'test', fontFile: font, label: 'video', frameStamp: false } },
];
/** 1080p content frames from the first kind, to warm the far end's decoder up with (part 2). */
let warmUp: readonly Uint8Array[] = [];
for (const k of kinds) {
  process.stderr.write(`encoding ${k.content} at 1080p for ${SECONDS} s\n`);
  const { result: frames, load } = await withLoad(() => encodeFor(k.source));
  if (warmUp.length === 0) warmUp = frames.map((f) => f.data);
  const t0 = frames[0]!.at;
  const windows = Array.from({ length: SECONDS }, (_, i) =>
    frames
      .filter((f) => f.at >= t0 + i * 1000 && f.at < t0 + (i + 1) * 1000)
      .reduce((s, f) => s + f.bytes, 0),
  );
  const keys = frames.filter((f) => f.key).map((f) => f.bytes);
  const deltas = frames.filter((f) => !f.key).map((f) => f.bytes);
  const params = {
    content: k.content,
    ...common,
    seconds: SECONDS,
    frames: frames.length,
    keyframes: keys.length,
    font: font !== null,
    ...load,
  };
  const total = frames.reduce((s, f) => s + f.bytes, 0);
  emit({
    name: 'share-quality-bytes-per-second',
    params: { ...params, stat: 'p50', windowMs: 1000 },
    value: percentile(windows, 50),
    unit: 'B/s',
  });
  emit({
    name: 'share-quality-bytes-per-second',
    params: { ...params, stat: 'max', windowMs: 1000 },
    value: Math.max(...windows),
    unit: 'B/s',
  });
  emit({
    name: 'share-quality-bytes-per-second',
    params: { ...params, stat: 'mean' },
    value: total / SECONDS,
    unit: 'B/s',
  });
  emit({
    name: 'share-quality-keyframe-bytes',
    params: { ...params, stat: 'mean' },
    value: keys.reduce((s, b) => s + b, 0) / Math.max(1, keys.length),
    unit: 'B',
  });
  emit({
    name: 'share-quality-keyframe-bytes',
    params: { ...params, stat: 'max' },
    value: Math.max(0, ...keys),
    unit: 'B',
  });
  emit({
    name: 'share-quality-delta-frame-bytes',
    params: { ...params, stat: 'p50' },
    value: percentile(deltas, 50),
    unit: 'B',
  });
  emit({
    name: 'share-quality-delta-frame-bytes',
    params: { ...params, stat: 'p95' },
    value: percentile(deltas, 95),
    unit: 'B',
  });
  emit({ name: 'share-quality-fps', params, value: frames.length / SECONDS, unit: 'frames/s' });
}

// ── 2. Plug → the far end's first frame ────────────────────────────────────────────────────────
const h = await startHarness();
const dir = mkdtempSync(path.join(os.tmpdir(), 'share-quality-'));
const dongle = path.join(dir, 'hdmi-capture-video-index0');
let room: Room | undefined;
/** Forwards the device manager's commands (a panel's; none here) to the room. */
const commands: RoomCommands = {
  join: (id, pass) => room!.join(id, pass),
  leave: () => room!.leave(),
  setMute: (m) => room!.setMute(m),
  setCamera: (on) => room!.setCamera(on),
  setVolume: (v) => room!.setVolume(v),
  ptz: (c) => room!.ptz(c),
  react: (r) => room!.react(r),
  chat: (text, to) => room!.chat(text, to),
  share: (on) => room!.share(on),
  acknowledgeSecurityCode: () => room!.acknowledgeSecurityCode(),
};
const devices = new DeviceManager(
  { content: { device: dongle }, usb: false },
  {
    clock: h.clock,
    commands,
    view: { phase: 'idle', roomName: 'Share Room', meetings: [], notice: null, presets: [] },
    logger: silentLogger(),
  },
);
await devices.start();

const id = await h.meeting();
const far = h.participant(id, 'Far End', { identity: h.host, videoFps: 0, audioFps: 0 });
await far.join();
const joined = await roomInMeeting(h, id, [far], {
  roomName: () => 'Share Room',
  mute: new MuteState(true),
  media: withContentPresence(
    {
      // The room's own camera small, so the share's figures are not the camera's.
      video: { type: 'test', fontFile: null, label: 'room', frameStamp: false },
      encode: { codec: 'vp8', width: 160, height: 90, framerate: 5, bitrateKbps: 100 },
      audio: { type: 'test' },
      audioBitrateKbps: 24,
      playbackDevice: null,
      content,
    },
    () => devices.contentPresent,
  ),
});
room = joined.room;
const r = joined.room;
const roomId = joined.roomId;

// Auto-share as src/app/room/index.ts wires it (`room.autoShare` on, its default).
let pluggedAt = 0;
let sharedAt = 0;
autoShare(devices, r, {
  enabled: () => true,
  log: silentLogger(),
  onShared: () => {
    sharedAt = performance.now();
  },
});
devices.events.on('content.plugged', () => {
  pluggedAt = performance.now();
});

/**
 * An ffmpeg VP8 decoder at the far end, one for the whole run (a decoder's own start-up is not the
 * share's: a far end decodes the meeting's streams already), single-threaded so a picture comes out
 * when its frame goes in (`-probesize 32` would make it refuse VP8 here). `outAt[i]` is when the
 * i-th picture came out.
 */
function farDecoder(): { push: (data: Uint8Array) => number; outAt: number[]; close: () => Promise<void> } {
  const child = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-threads', '1', '-f', 'ivf', '-i', 'pipe:0'],
      ...['-fps_mode', 'passthrough', '-f', 'framecrc', '-flush_packets', '1', 'pipe:1'],
    ],
    { stdio: ['pipe', 'pipe', 'ignore'] },
  );
  const outAt: number[] = [];
  let partial = '';
  child.stdout.on('data', (b: Buffer) => {
    const lines = (partial + b.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    const now = performance.now();
    for (const l of lines) if (/^\d/.test(l)) outAt.push(now);
  });
  child.stdin.write(
    writeIvfHeader({
      codec: 'vp8',
      width: encode.width,
      height: encode.height,
      timebaseDen: 1000,
      timebaseNum: 1,
    }),
  );
  let n = 0;
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    push: (data) => {
      child.stdin.write(writeIvfFrame(data, n));
      return n++;
    },
    outAt,
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
const decoder = farDecoder();
// ffmpeg looks at a few seconds of a stream before its first picture: it does so here, on frames
// encoded above, not on the plugs'.
// (The clip again from its keyframe until there are 40 frames; the last one or two stay in
// ffmpeg's read-ahead until the first plug's keyframe comes.)
let warmed = 0;
while (warmed < 40) for (const f of warmUp) warmed = decoder.push(f) + 1;
await waitFor(() => decoder.outAt.length >= warmed - 2, 'the far-end decoder warmed up', 30_000);

const total: number[] = [];
const toDecoded: number[] = [];
const detect: number[] = [];
const detectToShared: number[] = [];
const sharedToKey: number[] = [];
const { load: plugLoad } = await withLoad(async () => {
  for (let rep = 0; rep < REPS; rep++) {
    pluggedAt = 0;
    sharedAt = 0;
    let keyAt = 0;
    let keyIndex = -1;
    const off = far.media.onFrame((f) => {
      if (f.participantId !== roomId || f.kind !== 'screen') return;
      if (keyAt === 0 && !f.keyframe) return;
      const i = decoder.push(f.data);
      if (keyAt === 0) {
        keyAt = performance.now();
        keyIndex = i;
        // ffmpeg holds one or two packets back (it reads ahead): without more the keyframe's
        // picture would wait for the next frames (200 ms each at 5 fps). The same keyframe again,
        // three times, releases it at once.
        for (let k = 0; k < 3; k++) decoder.push(f.data);
      }
    });
    // A moment apart from the last unplug, at a different phase of the device manager's look.
    await sleep(300 + 137 * rep);
    const plug = performance.now();
    writeFileSync(dongle, '');
    await waitFor(
      () => keyIndex >= 0 && decoder.outAt.length > keyIndex,
      'the far end decodes the share',
      20_000,
    );
    const decodedAt = decoder.outAt[keyIndex]!;
    total.push(keyAt - plug);
    toDecoded.push(decodedAt - plug);
    detect.push(pluggedAt - plug);
    detectToShared.push(sharedAt - pluggedAt);
    sharedToKey.push(keyAt - sharedAt);
    process.stderr.write(
      `plug ${rep + 1}: detected ${(pluggedAt - plug).toFixed(0)} ms, far-end keyframe ${(keyAt - plug).toFixed(0)} ms, decoded ${(decodedAt - plug).toFixed(0)} ms\n`,
    );
    off();
    rmSync(dongle);
    await waitFor(
      () =>
        !devices.contentPresent &&
        r.shareView()?.self === false &&
        far.media.share.sharer(h.clock.monotonic()) === null,
      'the share ends at both ends',
      20_000,
    );
  }
});
const plugParams = {
  ...common,
  content: 'slides (the demo laptop)',
  reps: REPS,
  contentProbeMs: 1000,
  font: font !== null,
  ...plugLoad,
};
for (const [name, samples, what] of [
  [
    'share-quality-plug-to-far-end-keyframe',
    total,
    'file created → far end decrypted the first screen keyframe',
  ],
  [
    'share-quality-plug-to-far-end-decoded',
    toDecoded,
    'file created → ffmpeg at the far end put out that picture',
  ],
  ['share-quality-plug-detected', detect, 'file created → content.plugged (the 1-s look)'],
  ['share-quality-detected-to-shared', detectToShared, 'content.plugged → room.share(true) resolved'],
  [
    'share-quality-shared-to-far-end-keyframe',
    sharedToKey,
    'room.share(true) resolved → far end decrypted the first screen keyframe',
  ],
] as const) {
  for (const stat of ['p50', 'p95', 'max'] as const) {
    const value = stat === 'max' ? Math.max(...samples) : percentile([...samples], stat === 'p50' ? 50 : 95);
    emit({ name, params: { ...plugParams, what, stat }, value, unit: 'ms' });
  }
}

await decoder.close();
await r.stop();
await devices.stop();
await h.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
