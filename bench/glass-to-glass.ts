/**
 * glass-to-glass (docs/benchmarks.md §glass-to-glass): from the moment a far-end camera frame is made
 * to the moment the room screen paints it, read from the pixels. A far-end person sends 720p30 VP8
 * from ffmpeg's test source, which draws the frame stamp (src/media/frame-stamp.ts: the wall-clock
 * time in ms, as black and white cells across the top of the picture) into every frame; the demo
 * room (`startDemo`, the real daemon, relay and kiosk) is in the meeting, and its room screen runs
 * in real Chromium (Debian's, through playwright-core). A script in the page reads the stamp off the
 * participant's tile canvas at every animation frame; the first animation frame that shows a new
 * stamp is that frame's display time, on the same machine's wall clock
 * (`performance.timeOrigin + performance.now()`).
 *
 * Two scenarios, one after the other: `idle` (far-end people with synthetic media, the room's own
 * camera and microphone off: nothing but the measured stream is encoded or decoded) and `demo-load`
 * (the demo as `npm start` runs it: the room's camera encoded at the settings' defaults, 720p30 VP8,
 * and the far-end people's ffmpeg VP8 + Opus; the demo people's own 320x180 video is measured too).
 * Goals: p95 ≤ 150 ms idle, ≤ 250 ms under the demo's load.
 *
 * Where the time goes, per painted frame (matched by its stamp): stamp → leaving the sender's encoder
 * pipe (the feed's capture time), → published to the room's kiosk feed (received and decrypted by the
 * room daemon), → arriving on the kiosk's socket, → out of the page's VideoDecoder
 * (and drawn), → the animation frame that shows it (`glass-to-glass-stage`).
 *
 * A third scenario, `demo-load-remote-encoder`: the demo's load as in `demo-load`, but the far end's
 * encoder off this machine, as it is on a real call. Its 720p30 VP8 stream is encoded once, before
 * the demo starts, from the test source with the stamp in its frame-index mode (each frame's number
 * in the clip), and replayed during the run in real time and without encoding
 * (`{ type: 'file', loop: true }`: `ffmpeg -re -stream_loop -1 -c copy`). The replay's frames are
 * counted as they come off its pipe; the time base `t0` is the lower envelope of
 * `arrival(k) − k × 1000/30` over those frames (`replayStart`), and a painted frame stamped `n` was
 * sent at `t0 + (pass × clip frames + n) × 1000/30` (`replayedFrameTime`).
 *
 * A fourth, `demo-only`, not run by default: the demo's load and its people's video alone,
 * without the 720p sender.
 *
 * BENCH_SECONDS (default 15) per scenario; BENCH_SCENARIOS=idle,demo-load,demo-load-remote-encoder,
 * demo-only picks scenarios (default the first three); BENCH_DUMP=PREFIX writes each scenario's raw
 * samples to PREFIX-SCENARIO.json.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import ts from 'typescript';
import { startDemo } from '../demo/run.ts';
import { ephemeralIdentity } from '../src/app/bot.ts';
import { SystemClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/logger.ts';
import { AdminClient } from '../src/http/roomctl/client.ts';
import type { RoomState } from '../src/http/schemas/state.ts';
import { createAudioCapture, createVideoCapture } from '../src/media/capture.ts';
import { videoCaptureArgs } from '../src/media/ffmpeg-args.ts';
import {
  type ReplayTimeBase,
  replayedFrameTime,
  replayStart,
  unwrapStamp,
} from '../src/media/frame-stamp.ts';
import { HeadlessParticipant } from '../src/meeting/headless.ts';
import { NodeProcessRunner } from '../src/system/process.ts';
import { WorkerPeerConnectionFactory } from '../src/transport/worker-peer.ts';
import { launchChromium } from '../test/e2e/chromium.ts';
import { ensureKioskBuilt } from '../test/e2e/kiosk-fixture.ts';
import { freePort } from '../test/helpers/ports.ts';
import { cpuTimes, emit, percentile } from './_lib.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARMUP_MS = 3000;
const ALL_SCENARIOS = ['idle', 'demo-load', 'demo-load-remote-encoder', 'demo-only'] as const;
type Scenario = (typeof ALL_SCENARIOS)[number];
const SCENARIOS = (process.env['BENCH_SCENARIOS'] ?? 'idle,demo-load,demo-load-remote-encoder')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Scenario => (ALL_SCENARIOS as readonly string[]).includes(s));
/**
 * The measured far end is another machine in real life. Here its encoder shares the room's 2 cores,
 * so it runs at a higher priority (root only) to make its frames when a camera of its own would;
 * the CPU it still takes is a handicap the room's figures carry.
 */
const FAR_END_NICENESS = process.getuid?.() === 0 ? -5 : 0;
const VIDEO = {
  codec: 'vp8' as const,
  width: 1280,
  height: 720,
  framerate: 30,
  bitrateKbps: 2500,
  niceness: FAR_END_NICENESS,
};
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
/**
 * The replayed clip's length (`demo-load-remote-encoder`): frame numbers repeat after it, so a frame
 * must be painted within one pass of being sent to be timed right (ages here are under 2 s).
 */
const CLIP_SECONDS = 10;
const FRAME_MS = 1000 / VIDEO.framerate;

/**
 * The far end's stream encoded once, before the run: the live far end's own command line (test
 * source, VP8 at the same settings), the stamp holding each frame's number, without `-re` (as fast as
 * it goes), written to `file`.
 */
async function encodeClip(file: string): Promise<number> {
  const frames = CLIP_SECONDS * VIDEO.framerate;
  const args = videoCaptureArgs(
    { type: 'test', fontFile: fs.existsSync(FONT) ? FONT : null, label: 'g2g', frameStamp: 'frame-index' },
    VIDEO,
  );
  args.splice(args.indexOf('-re'), 1);
  args.splice(args.lastIndexOf('pipe:1'), 1, '-frames:v', String(frames), '-y', file);
  await new Promise<void>((resolve, reject) =>
    execFile('ffmpeg', args, (error) => (error === null ? resolve() : reject(error))),
  );
  return frames;
}

/** The frame-stamp reader as plain JavaScript for the page (it has no imports; exports dropped). */
function readerScript(): string {
  const source = fs.readFileSync(new URL('../src/media/frame-stamp.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
  }).outputText;
  return `(() => { ${js.replace(/^export /gm, '')}\nreturn { readFrameStamp, stampBandHeight }; })()`;
}

/**
 * Installed before the kiosk's own scripts. Watches the kiosk socket's video messages (arrival),
 * wraps VideoDecoder's output callback and the canvas' drawImage (decoded and drawn: then reads the
 * tile it painted), and, once `__g2g.watch(ids)` names the participants, reads each one's tile
 * canvas at every animation frame. All times are `performance.timeOrigin + performance.now()`, ms since the Unix epoch.
 */
function probeScript(): string {
  return `
(() => {
  const FS = ${readerScript()};
  const now = () => performance.timeOrigin + performance.now();
  const g = (window.__g2g = { targets: new Map(), arrivals: new Map(), raf: 0, clockSkew: [] });
  const canvasOf = (id) =>
    document.querySelector('[data-testid="tile"][data-participant="' + CSS.escape(id) + '"] canvas');
  const read = (id) => {
    const c = canvasOf(id);
    if (c === null || c.width < 80 || c.height < 2) return null;
    const band = FS.stampBandHeight(c.height);
    const ctx = c.getContext('2d');
    if (ctx === null) return null;
    return FS.readFrameStamp(ctx.getImageData(0, 0, c.width, band), c.height);
  };
  const Ws = window.WebSocket;
  window.WebSocket = class extends Ws {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        if (!(e.data instanceof ArrayBuffer) || g.targets.size === 0) return;
        const b = new Uint8Array(e.data);
        if (b.length < 14 || b[0] !== 1 || (b[1] & 2) !== 0) return;
        const id = new TextDecoder().decode(b.subarray(13, 13 + b[12]));
        const target = g.targets.get(id);
        if (target === undefined) return;
        const ts = Math.round(new DataView(e.data).getFloat64(4) * 1000);
        const key = id + '/' + ts;
        if (g.arrivals.has(key)) return;
        target.arrivedCount++;
        g.arrivals.set(key, now());
        if (g.arrivals.size > 4000) g.arrivals.delete(g.arrivals.keys().next().value);
      });
    }
  };
  // A decoder output is timed, then the kiosk draws it into a canvas: if that canvas is a watched
  // tile, its stamp is read right after the draw (one band read per decoded frame).
  g.current = null;
  g.decoderErrors = 0;
  g.maxDecodeQueue = 0;
  const draw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const result = draw.apply(this, args);
    const cur = g.current;
    if (cur !== null) {
      for (const [id, t] of g.targets) {
        if (canvasOf(id) !== this.canvas) continue;
        const s = read(id);
        if (s !== null && s !== t.lastDecoded) {
          t.lastDecoded = s;
          t.decoded.push({ stamp: s, ts: cur.ts, out: cur.out, arrived: g.arrivals.get(id + '/' + cur.ts) ?? null });
        }
        break;
      }
    }
    return result;
  };
  const Vd = window.VideoDecoder;
  if (typeof Vd === 'function') {
    window.VideoDecoder = class extends Vd {
      constructor(init) {
        super({
          ...init,
          output: (frame) => {
            g.current = { ts: frame.timestamp, out: now() };
            try {
              init.output(frame);
            } finally {
              g.current = null;
            }
          },
          error: (e) => {
            g.decoderErrors++;
            init.error(e);
          },
        });
      }
      decode(chunk) {
        // Frames the page hands its decoder (the rest it skipped, e.g. waiting for a keyframe).
        for (const [id, t] of g.targets) if (g.arrivals.has(id + '/' + chunk.timestamp)) t.submitted++;
        g.maxDecodeQueue = Math.max(g.maxDecodeQueue, this.decodeQueueSize);
        return super.decode(chunk);
      }
    };
  }
  g.watch = (ids) => {
    for (const id of ids) g.targets.set(id, { lastPainted: null, lastDecoded: null, painted: [], decoded: [], unread: 0, arrivedCount: 0, submitted: 0 });
    const tick = () => {
      if (g.targets.size === 0) return;
      g.raf++;
      const at = now();
      for (const t of g.targets.values()) t.tickAt = at;
      for (const [id, t] of g.targets) {
        const s = read(id);
        if (s === null) t.unread++;
        else if (s !== t.lastPainted) {
          t.lastPainted = s;
          t.painted.push({ stamp: s, at });
        }
      }
      if (g.raf % 60 === 0) g.clockSkew.push(now() - Date.now());
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  g.reset = () => {
    g.raf = 0;
    g.decoderErrors = 0;
    g.maxDecodeQueue = 0;
    g.clockSkew = [];
    for (const t of g.targets.values()) { t.painted = []; t.decoded = []; t.unread = 0; t.arrivedCount = 0; t.submitted = 0; }
  };
  g.take = () => {
    const out = { raf: g.raf, clockSkew: g.clockSkew, decoderErrors: g.decoderErrors, maxDecodeQueue: g.maxDecodeQueue, targets: {} };
    for (const [id, t] of g.targets) out.targets[id] = { painted: t.painted, decoded: t.decoded, unread: t.unread, arrived: t.arrivedCount, submitted: t.submitted };
    g.targets.clear();
    return out;
  };
})();`;
}

interface Painted {
  stamp: number;
  at: number;
}
interface Decoded {
  stamp: number;
  ts: number;
  out: number;
  arrived: number | null;
}
interface Taken {
  raf: number;
  clockSkew: number[];
  decoderErrors: number;
  maxDecodeQueue: number;
  targets: Record<
    string,
    { painted: Painted[]; decoded: Decoded[]; unread: number; arrived: number; submitted: number }
  >;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/**
 * CPU seconds used so far by this process and everything it started, by program name (chromium,
 * ffmpeg, roomd-media, node), from /proc: where the machine's CPU goes while measuring.
 */
function cpuByProgram(): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const procs: { pid: number; ppid: number; comm: string; cpu: number }[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch (error) {
      if (
        (error as NodeJS.ErrnoException).code === 'ENOENT' ||
        (error as NodeJS.ErrnoException).code === 'ESRCH'
      )
        continue; // the process ended meanwhile
      throw error;
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const f = stat.slice(close + 2).split(' ');
    procs.push({ pid: Number(entry), ppid: Number(f[1]), comm, cpu: (Number(f[11]) + Number(f[12])) / tick });
  }
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs)
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  const out = new Map<string, number>();
  for (const p of procs) {
    if (!mine.has(p.pid)) continue;
    const name =
      p.pid === process.pid
        ? 'bench (room, relay, far-end people)'
        : p.comm.startsWith('chrom')
          ? 'chromium'
          : p.comm;
    out.set(name, (out.get(name) ?? 0) + p.cpu);
  }
  return out;
}

async function scenario(name: Scenario): Promise<void> {
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bench-g2g-'));
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  const remoteEncoder = name === 'demo-load-remote-encoder';
  const clip = path.join(stateDir, 'far-end-720p30.ivf');
  const clipStarted = performance.now();
  const clipFrames = remoteEncoder ? await encodeClip(clip) : 0;
  if (remoteEncoder)
    process.stderr.write(
      `${name}: ${clipFrames}-frame clip encoded in ${((performance.now() - clipStarted) / 1000).toFixed(1)} s\n`,
    );
  const log = silentLogger();
  const demo = await startDemo({
    stateDir,
    log,
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: name === 'idle' ? 'synthetic' : 'ffmpeg',
    // demo-load, demo-load-remote-encoder, demo-only: the room camera and microphone as the settings
    // say (720p30 VP8), as `npm start` runs them.
    ...(name === 'idle' ? { roomMedia: null } : {}),
  });
  const clock = new SystemClock();
  const peers = new WorkerPeerConnectionFactory({ logger: log });
  const runner = new NodeProcessRunner();
  let far: HeadlessParticipant | null = null;
  const replayArrivals: number[] = [];
  let replayRestarts = 0;
  const context = await launchChromium(userDataDir);
  try {
    const kioskState = async () =>
      (await (await fetch(new URL('/api/v1/state', demo.kioskUrl))).json()) as RoomState;
    const claimer = new AdminClient({
      url: demo.app.http.urls().admin,
      fingerprint: demo.app.http.certificate.fingerprint,
    });
    await claimer.call('POST', '/api/v1/claim', {
      setupCode: (await kioskState()).setup?.setupCode ?? '',
      password: 'correct horse battery staple',
      tokenName: 'bench',
    });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    await page.addInitScript(probeScript());
    await page.goto(demo.kioskUrl);
    const meeting = demo.env.meetings.find((m) => m.encryption === 'e2ee');
    if (meeting === undefined) throw new Error('the demo has no E2EE meeting');
    await page.getByTestId(`join-${meeting.id}`).click({ timeout: 30_000 });
    await page.getByTestId('leave').waitFor({ timeout: 30_000 });

    // The measured far-end person: 720p30 VP8 from ffmpeg's test source with the frame stamp, or
    // that clip replayed (not in `demo-only`, which measures the demo's own people alone).
    let farId: string | null = null;
    if (name !== 'demo-only') {
      const deps = { runner, clock, logger: log };
      const video = remoteEncoder
        ? createVideoCapture({ type: 'file', path: clip, loop: true }, VIDEO, deps)
        : createVideoCapture(
            { type: 'test', fontFile: fs.existsSync(FONT) ? FONT : null, label: 'g2g' },
            VIDEO,
            deps,
          );
      if (remoteEncoder) {
        // The k-th frame the replay sent, as it came off its pipe (the capture time the sender gives
        // it). A restarted replay begins again at frame 0 of the clip with a new start: count anew.
        video.onFrame((f) => replayArrivals.push(f.captureTs));
        video.onStatus((st) => {
          if (st.restarts !== replayRestarts) {
            replayRestarts = st.restarts;
            replayArrivals.length = 0;
          }
        });
      }
      far = new HeadlessParticipant({
        meetingId: meeting.id,
        ...(meeting.passcode === null ? {} : { passcode: meeting.passcode }),
        relayUrl: demo.env.signalUrl,
        displayName: 'Glass Camera',
        clientType: 'desktop',
        identity: ephemeralIdentity('g2g'),
        peers,
        clock,
        log,
        captures: [video, createAudioCapture({ type: 'test', frequencyHz: 523 }, { bitrateKbps: 24 }, deps)],
      });
      await far.join();
      farId = far.session.participantId;
      if (farId === null) throw new Error('the far-end camera has no participant id');
    }
    const ids = farId === null ? [] : [farId];
    // Under the demo's load, the demo's own far-end people's video too (320x180, 12 fps).
    if (name !== 'idle')
      ids.push(
        ...meeting.bots.flatMap((b) => (b.session.participantId === null ? [] : [b.session.participantId])),
      );
    if (ids.length === 0) throw new Error('nobody to watch');
    await page.locator(`[data-participant="${ids[0]}"].tile-live`).waitFor({ timeout: 30_000 });
    // When the room published each of the camera's frames to its kiosk feed (decrypted, in order):
    // a subscriber of its own, reading the feed header (docs/protocol.md "# Kiosk media feed").
    const published = new Map<number, number>();
    const feedIdBytes = new TextEncoder().encode(farId ?? '');
    const unsubscribe =
      farId === null
        ? undefined
        : demo.app.room?.videoFeed.subscribe({
            send: (m) => {
              if (m.length < 13 + feedIdBytes.length || (m[1]! & 2) !== 0 || m[12] !== feedIdBytes.length)
                return;
              for (let i = 0; i < feedIdBytes.length; i++) if (m[13 + i] !== feedIdBytes[i]) return;
              const ts = Math.round(new DataView(m.buffer, m.byteOffset, m.byteLength).getFloat64(4) * 1000);
              if (!published.has(ts)) published.set(ts, Date.now());
            },
            bufferedBytes: () => 0,
          });
    await page.evaluate(`window.__g2g.watch(${JSON.stringify(ids)})`);
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    await page.evaluate('window.__g2g.reset()');
    const load1Before = os.loadavg()[0]!;
    const cpuBefore = cpuTimes();
    const programsBefore = cpuByProgram();
    // This process hosts the room daemon, the relay and the far-end people (as `npm start` does):
    // how late its event loop ran while measuring.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const restartsBefore = replayRestarts;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const taken = (await page.evaluate('window.__g2g.take()')) as Taken;
    // The replay's time base, from every frame it sent so far (docs/benchmarks.md §glass-to-glass).
    let replay: (ReplayTimeBase & { pacing: Record<string, number> }) | null = null;
    if (remoteEncoder) {
      if (replayRestarts !== restartsBefore)
        throw new Error(`${name}: the far end's replay restarted while measuring; its time base is lost`);
      const start = replayStart(replayArrivals, FRAME_MS);
      if (start === null) throw new Error(`${name}: the far end's replay sent no frame`);
      // How late each frame came off the pipe against that cadence: the pacing, and the bound on
      // how far the start can be off (it is late by the promptest frame's own delay, ≥ 0).
      const late = replayArrivals.map((a, k) => a - k * FRAME_MS - start);
      replay = {
        t0: start,
        frameMs: FRAME_MS,
        clipFrames,
        pacing: {
          frames: late.length,
          lateP50Ms: round1(percentile(late, 50)),
          lateP95Ms: round1(percentile(late, 95)),
          lateMaxMs: round1(percentile(late, 100)),
          restarts: replayRestarts,
        },
      };
    }
    unsubscribe?.();
    const elapsed = (performance.now() - t0) / 1000;
    loopDelay.disable();
    const cpuAfter = cpuTimes();
    const programs: Record<string, number> = {};
    for (const [prog, sec] of cpuByProgram())
      programs[prog] = Math.round((100 * (sec - (programsBefore.get(prog) ?? 0))) / elapsed);
    const busyPct = (100 * (cpuAfter.busy - cpuBefore.busy)) / Math.max(1, cpuAfter.total - cpuBefore.total);
    const machine = {
      cores: os.cpus().length,
      loadavg1Before: Math.round(load1Before * 100) / 100,
      loadavg1After: Math.round(os.loadavg()[0]! * 100) / 100,
      cpuBusyPct: Math.round(busyPct),
      eventLoopDelayP50Ms: round1(loopDelay.percentile(50) / 1e6),
      eventLoopDelayP99Ms: round1(loopDelay.percentile(99) / 1e6),
      /** % of one core each program this benchmark started used while measuring. */
      cpuPctByProgram: programs,
    };
    const goal = name === 'idle' ? 150 : 250;
    const skew = taken.clockSkew.length === 0 ? 0 : percentile(taken.clockSkew.map(Math.abs), 100);

    const dump = process.env['BENCH_DUMP'];
    if (dump !== undefined) fs.writeFileSync(`${dump}-${name}.json`, JSON.stringify({ farId, taken }));
    for (const id of ids) {
      const t = taken.targets[id];
      if (t === undefined) continue;
      const main = id === farId;
      if (t.painted.length === 0) {
        if (!main) continue;
        throw new Error(`${name}: no frame of the far-end camera was painted (${t.unread} unreadable)`);
      }
      // When the frame with this stamp was made (live: the stamp is the time) or sent (replayed:
      // the stamp is its number in the clip); null for a number outside the clip.
      const madeAt = (stamp: number, now: number): number | null =>
        main && replay !== null ? replayedFrameTime(stamp, replay, now) : unwrapStamp(stamp, now);
      const timed = t.painted.flatMap((p) => {
        const made = madeAt(p.stamp, p.at);
        return made === null ? [] : [{ ...p, made }];
      });
      const ages = timed.map((p) => p.at - p.made);
      const params = {
        scenario: name,
        source: main
          ? replay !== null
            ? `1280x720@30 vp8 2500 kbit/s (ffmpeg testsrc2, ${clipFrames} frames encoded beforehand, replayed)`
            : '1280x720@30 vp8 2500 kbit/s (ffmpeg testsrc2)'
          : '320x180@12 vp8 250 kbit/s (demo person)',
        seconds: SECONDS,
        framesOnKioskSocket: t.arrived,
        framesToDecoder: t.submitted,
        framesDecodedChangingTile: t.decoded.length,
        framesPainted: t.painted.length,
        paintedFps: round1(t.painted.length / elapsed),
        unreadAnimationFrames: t.unread,
        ...(main && replay !== null
          ? { stampsOutsideClip: t.painted.length - timed.length, replayPacing: replay.pacing }
          : {}),
        animationFrames: taken.raf,
        pageDecoderErrors: taken.decoderErrors,
        pageMaxDecodeQueue: taken.maxDecodeQueue,
        pageClockVsDateNowMaxMs: round1(skew),
        machine,
        ...(main ? { goalP95Ms: goal } : {}),
      };
      const figure = main ? 'glass-to-glass' : 'glass-to-glass-demo-person';
      for (const stat of [50, 95, 99])
        emit({
          name: figure,
          params: { ...params, stat: `p${stat}` },
          value: percentile(ages, stat),
          unit: 'ms',
        });
      emit({ name: `${figure}-fps-painted`, params, value: t.painted.length / elapsed, unit: 'frames/s' });
      if (!main) continue;

      // Where the time goes: each painted frame matched with its decoder output by the time its
      // stamp stands for (a replayed clip's numbers repeat every pass; their times do not).
      const byStamp = new Map(
        t.decoded.flatMap((d) => {
          const made = madeAt(d.stamp, d.out);
          return made === null ? [] : [[Math.round(made), d] as const];
        }),
      );
      const stages: Record<string, number[]> = {
        'capture-to-encoder-out': [],
        'encoder-out-to-room-feed': [],
        'room-feed-to-kiosk-socket': [],
        'kiosk-socket-to-decoded': [],
        'decoded-to-painted': [],
      };
      for (const p of timed) {
        const d = byStamp.get(Math.round(p.made));
        if (d === undefined || d.arrived === null) continue;
        const made = p.made;
        const sent = d.ts / 1000;
        stages['capture-to-encoder-out']!.push(sent - made);
        const fed = published.get(d.ts);
        if (fed !== undefined) {
          stages['encoder-out-to-room-feed']!.push(fed - sent);
          stages['room-feed-to-kiosk-socket']!.push(d.arrived - fed);
        }
        stages['kiosk-socket-to-decoded']!.push(d.out - d.arrived);
        stages['decoded-to-painted']!.push(p.at - d.out);
      }
      for (const [stage, samples] of Object.entries(stages))
        for (const stat of samples.length === 0 ? [] : [50, 95])
          emit({
            name: 'glass-to-glass-stage',
            params: { scenario: name, stage, stat: `p${stat}`, frames: samples.length, machine },
            value: percentile(samples, stat),
            unit: 'ms',
          });
      if (replay !== null)
        process.stderr.write(
          `${name}: replay of ${replay.pacing['frames']} frames, late against its cadence p50 ${replay.pacing['lateP50Ms']} / ` +
            `p95 ${replay.pacing['lateP95Ms']} / max ${replay.pacing['lateMaxMs']} ms\n`,
        );
      process.stderr.write(
        `${name}: ${t.painted.length} frames painted in ${elapsed.toFixed(1)} s, p50 ${percentile(ages, 50).toFixed(0)} ms, ` +
          `p95 ${percentile(ages, 95).toFixed(0)} ms (goal ${goal}); load ${machine.loadavg1Before} → ${machine.loadavg1After}, ` +
          `CPU ${machine.cpuBusyPct} %\n`,
      );
    }
    emit({
      name: 'glass-to-glass-machine-cpu-busy',
      params: { scenario: name, ...machine, what: 'busy share of all cores while measuring' },
      value: busyPct,
      unit: '%',
    });
  } finally {
    try {
      if (far !== null) await far.leave();
    } finally {
      await peers.close();
      await context.close();
      await demo.stop();
      await fsp.rm(stateDir, { recursive: true, force: true });
      await fsp.rm(userDataDir, { recursive: true, force: true });
    }
  }
}

await ensureKioskBuilt();
for (const s of SCENARIOS) await scenario(s);
process.exit(0);
