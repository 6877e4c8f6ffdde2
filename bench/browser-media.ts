/**
 * browser-media (docs/benchmarks.md §browser-media): the web client's media in this machine's
 * Chromium (Debian's /usr/bin/chromium through playwright-core, test/e2e/chromium.ts flags), in
 * parts, one after the other:
 *
 * 1. `sframe`: SFrame seal and open per frame inside Chromium, through the E2EE core's `FrameKeys`
 *    bundled by Vite with the web client's twin-resolving plugin (so on aead.browser.ts: @noble/
 *    ciphers, synchronous), on real media made in the page by WebCodecs: 720p VP8 keyframes and
 *    deltas at the web client's 1.2 Mbit/s, 30 fps, and Opus 20-ms packets (bench/browser-media/
 *    sframe-page.ts). Baseline in the same run, frame by frame: WebCrypto AES-256-GCM
 *    `encrypt`/`decrypt` of the same bytes, awaited per frame. Node's figure for the same sizes
 *    through src/e2ee (node:crypto) as a second reference. The page is served from loopback under
 *    the relay's web-client CSP, cross-origin isolated (for a 5-µs timer).
 * 2. `call`, `call3`: the web client (web/dist, served by a relay at /join/<id>) in its own
 *    Chromium, sending 720p30 from Chromium's fake camera (a y4m clip of 60 stamped frames, looped)
 *    and receiving one (`call`), then two (`call3`) 720p30 VP8 streams replayed by headless
 *    participants from a clip encoded beforehand (their encoders are other machines' in a real
 *    call): CPU of that Chromium's processes (CDP `SystemInfo.getProcessInfo`) over a steady window,
 *    with the frames captured, encoded and decoded a second from `roomdWebStats()`.
 *    `call-browsers`: two web clients, each in its own Chromium, each sending 720p30 and receiving
 *    the other (the host sends nothing): both ends' codecs on these cores.
 * 3. `g2g`: glass-to-glass browser → room: the demo (room daemon, relay, kiosk in Chromium) and the
 *    web client whose camera is a canvas stamped with the wall clock at each draw (an init script
 *    replaces getUserMedia), read back from the pixels of its tile on the room screen.
 *
 * BENCH_PARTS=sframe,call,call3,call-browsers,g2g picks parts (default all); BENCH_SECONDS
 * (default 20) is each CPU window, BENCH_G2G_SECONDS (default 15) the glass-to-glass window. Builds
 * web/dist (as `npm run build:web` does: the relays serve it). Figures as JSON lines on stdout,
 * progress on stderr.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, errors, type Page } from 'playwright-core';
import { build } from 'vite';
import { startDemo } from '../demo/run.ts';
import { silentLogger } from '../src/core/logger.ts';
import { FrameKeys } from '../src/e2ee/frames.ts';
import { AdminClient } from '../src/http/roomctl/client.ts';
import type { RoomState } from '../src/http/schemas/state.ts';
import { packFrame } from '../src/media/envelope.ts';
import { frameStampFilters } from '../src/media/ffmpeg-filters.ts';
import { unwrapStamp } from '../src/media/frame-stamp.ts';
import { frameMetadata } from '../src/media/stream/frame.ts';
import type { HeadlessParticipant } from '../src/meeting/headless.ts';
import { createAudioCapture, createVideoCapture } from '../src/media/capture.ts';
import { videoCaptureArgs } from '../src/media/ffmpeg-args.ts';
import { STREAM_ID, type StreamKind } from '../src/protocol/vocabulary.ts';
import { NodeProcessRunner } from '../src/system/process.ts';
import { WEB_CLIENT_CSP } from '../src/relay/web-client.ts';
import { CHROMIUM_FLAGS, launchChromium } from '../test/e2e/chromium.ts';
import { ensureKioskBuilt } from '../test/e2e/kiosk-fixture.ts';
import { startHarness } from '../test/helpers/meeting-harness.ts';
import { freePort } from '../test/helpers/ports.ts';
import { browserTwins, subresourceIntegrity } from '../web/build-plugins.ts';
import { cpuTimes, emit, percentile } from './_lib.ts';
import type { Kind, RunOptions, RunResult } from './browser-media/sframe-page.ts';
import { stampCameraScript, tileWatchScript } from './browser-media/probes.ts';

const ALL_PARTS = ['sframe', 'call', 'call3', 'call-browsers', 'g2g'] as const;
type Part = (typeof ALL_PARTS)[number];
const PARTS = new Set(
  (process.env['BENCH_PARTS'] ?? ALL_PARTS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s): s is Part => (ALL_PARTS as readonly string[]).includes(s)),
);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const G2G_SECONDS = Number(process.env['BENCH_G2G_SECONDS'] ?? 15);
const WARMUP_MS = 3000;
const ROOT = path.resolve(import.meta.dirname, '..');
const WEB_DIST = path.join(ROOT, 'web/dist');
const PASSCODE = '271828';
const CLIP_FRAMES = 60;

const run_ = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (v: number) => Math.round(v * 10) / 10;
const log = (line: string) => process.stderr.write(`${line}\n`);

function machine(): { cores: number; loadavg: string } {
  return { cores: os.cpus().length, loadavg: fs.readFileSync('/proc/loadavg', 'utf8').trim() };
}

async function waitUntil<T>(
  fn: () => Promise<T | null | undefined | false>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== null && v !== undefined && v !== false) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------
// Part 1: SFrame per frame in the browser

/** A static server on loopback for the bench page: the relay's web-client CSP, cross-origin isolated. */
async function servePage(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
  };
  const server = http.createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, '') || 'sframe.html';
    const file = path.resolve(dir, name);
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': types[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': WEB_CLIENT_CSP,
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sframe.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Node's own figure: FrameKeys on node:crypto (the daemon's path), frames of the same sizes. */
function nodeReference(
  sizes: number[],
  kind: StreamKind,
  keyframe: boolean,
  rounds: number,
  batch: number,
): { seal: number[]; open: number[] } {
  const mk = new Uint8Array(randomBytes(32));
  const make = (selfId: string, slot: number) => {
    const k = new FrameKeys({ meetingId: 'm', instanceId: 'i', selfId, label: 'roomd-e2ee v1 media key' });
    k.setSlots([
      { participantId: '7', slot: 1 },
      { participantId: '9', slot: 2 },
    ]);
    k.setSelfSlot(slot);
    k.install(1, mk, 0, 60_000);
    k.setSendEpoch(1);
    return k;
  };
  const tx = make('7', 1);
  const rx = make('9', 2);
  const codec = kind === 'audio' ? 'opus' : 'vp8';
  const items = sizes.map((n) =>
    packFrame({ codec, captureTs: 1_700_000_000_000, data: new Uint8Array(randomBytes(n)) }),
  );
  const out = { seal: [] as number[], open: [] as number[] };
  let n = 0;
  for (let round = -1; round < rounds; round++) {
    for (let at = 0; at + batch <= items.length; at += batch) {
      const b = items.slice(at, at + batch);
      const metas = b.map(() => frameMetadata(kind, STREAM_ID[kind], keyframe, n++));
      const t0 = performance.now();
      const sealed = b.map((p, i) => tx.seal(kind, p, metas[i]));
      const t1 = performance.now();
      for (let i = 0; i < sealed.length; i++) rx.openAs('7', kind, sealed[i]!, metas[i]!, 0);
      const t2 = performance.now();
      if (round < 0) continue; // warm-up
      out.seal.push(((t1 - t0) * 1000) / batch);
      out.open.push(((t2 - t1) * 1000) / batch);
    }
  }
  return out;
}

async function sframePart(): Promise<void> {
  const outDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bench-sframe-page-'));
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  let server: Awaited<ReturnType<typeof servePage>> | null = null;
  const context = await launchChromium(userDataDir);
  try {
    const pageDir = path.join(import.meta.dirname, 'browser-media');
    await build({
      configFile: false,
      root: pageDir,
      base: './',
      logLevel: 'silent',
      plugins: [browserTwins(), subresourceIntegrity()],
      build: {
        outDir,
        emptyOutDir: true,
        assetsInlineLimit: 0,
        modulePreload: { polyfill: false },
        target: 'es2022',
        sourcemap: false,
        rollupOptions: { input: path.join(pageDir, 'sframe.html') },
      },
    });
    const bundle = fs.readdirSync(path.join(outDir, 'assets')).join(' ');
    // The bundle must hold the browser twin (noble), not node:crypto.
    const js = fs
      .readdirSync(path.join(outDir, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => fs.readFileSync(path.join(outDir, 'assets', f), 'utf8'))
      .join('\n');
    if (js.includes('node:crypto') || js.includes('createCipheriv'))
      throw new Error('the bench page bundle holds node:crypto: the browser twins were not used');
    server = await servePage(outDir);
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await waitUntil(
      async () => (await page.evaluate('window.__sframeBench !== undefined')) === true || errors.length > 0,
      'the bench page',
    );
    if (errors.length > 0) throw new Error(`the bench page failed: ${errors.join('; ')}`);
    const options: RunOptions = {
      videoFrames: 150,
      keyEvery: 25,
      audioPackets: 250,
      keyRounds: 16,
      deltaRounds: 3,
      audioRounds: 4,
    };
    const m0 = machine();
    const started = performance.now();
    const r = (await page.evaluate(`window.__sframeBench.run(${JSON.stringify(options)})`)) as RunResult;
    log(
      `sframe: page (${bundle}) made media in ${(r.encodeMs / 1000).toFixed(1)} s, timed in ` +
        `${((performance.now() - started - r.encodeMs) / 1000).toFixed(1)} s; crossOriginIsolated=${r.crossOriginIsolated}`,
    );
    const m1 = machine();
    const spec: Record<
      Kind,
      { kind: StreamKind; keyframe: boolean; rounds: number; batch: number; what: string }
    > = {
      'vp8-key': {
        kind: 'video',
        keyframe: true,
        rounds: options.keyRounds,
        batch: 1,
        what: '1280x720 VP8 keyframe (WebCodecs VideoEncoder, 1.2 Mbit/s, 30 fps, realtime)',
      },
      'vp8-delta': {
        kind: 'video',
        keyframe: false,
        rounds: options.deltaRounds,
        batch: 1,
        what: '1280x720 VP8 delta frame (WebCodecs VideoEncoder, 1.2 Mbit/s, 30 fps, realtime)',
      },
      opus: {
        kind: 'audio',
        keyframe: true,
        rounds: options.audioRounds,
        batch: r.audioBatch,
        what: 'Opus 20-ms packet (WebCodecs AudioEncoder, mono, 32 kbit/s)',
      },
    };
    const common = {
      browser: r.userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? r.userAgent,
      crossOriginIsolated: r.crossOriginIsolated,
      machine: { before: m0, after: m1 },
    };
    for (const kind of ['vp8-key', 'vp8-delta', 'opus'] as const) {
      const k = r.kinds[kind];
      const s = spec[kind];
      const sizes = {
        frames: k.sizes.length,
        bytesP50: percentile(k.sizes, 50),
        bytesMin: percentile(k.sizes, 0),
        bytesMax: percentile(k.sizes, 100),
      };
      emit({
        name:
          kind === 'opus'
            ? 'browser-media.opus_20ms_packet_bytes'
            : `browser-media.vp8_720p_${kind.slice(4)}frame_bytes`,
        params: { what: s.what, ...sizes, stat: 'p50' },
        value: sizes.bytesP50,
        unit: 'bytes',
      });
      const node = nodeReference(k.sizes, s.kind, s.keyframe, s.rounds, s.batch);
      const params = {
        frame: s.what,
        ...sizes,
        samples: k.nobleSeal.length,
        ...(s.batch > 1 ? { sampleIs: `mean of ${s.batch} packets handled one after the other` } : {}),
        path: 'FrameKeys (src/e2ee/frames.ts) on aead.browser.ts (@noble/ciphers, sync), AES_256_GCM_SHA512_128',
        baselineIs: 'WebCrypto crypto.subtle AES-256-GCM on the same bytes, awaited per frame',
        ...common,
      };
      for (const [op, noble, webcrypto, nodeSamples] of [
        ['seal', k.nobleSeal, k.webcryptoEncrypt, node.seal],
        ['open', k.nobleOpen, k.webcryptoDecrypt, node.open],
      ] as const) {
        for (const stat of [50, 95]) {
          const value = percentile(noble, stat);
          const baseline = percentile(webcrypto, stat);
          emit({
            name: `browser-media.sframe_${op}_us_per_frame.${kind}`,
            params: { ...params, stat: `p${stat}`, nodeCryptoUs: round1(percentile(nodeSamples, stat)) },
            value,
            unit: 'µs',
            baseline: round1(baseline),
            ratio: Math.round((value / baseline) * 100) / 100,
          });
          emit({
            name: `browser-media.node_sframe_${op}_us_per_frame.${kind}`,
            params: {
              frame: s.what,
              ...sizes,
              path: 'FrameKeys (src/e2ee/frames.ts) on aead.ts (node:crypto), same sizes (random bytes)',
              stat: `p${stat}`,
              machine: m1,
            },
            value: percentile(nodeSamples, stat),
            unit: 'µs',
          });
        }
      }
      log(
        `sframe ${kind}: ${sizes.frames} frames, p50 ${sizes.bytesP50} B; seal p50 ${percentile(k.nobleSeal, 50).toFixed(1)} µs ` +
          `(WebCrypto ${percentile(k.webcryptoEncrypt, 50).toFixed(1)}, Node ${percentile(node.seal, 50).toFixed(1)}), ` +
          `open p50 ${percentile(k.nobleOpen, 50).toFixed(1)} µs (WebCrypto ${percentile(k.webcryptoDecrypt, 50).toFixed(1)}, ` +
          `Node ${percentile(node.open, 50).toFixed(1)})`,
      );
    }
  } finally {
    await context.close();
    await server?.close();
    await fsp.rm(outDir, { recursive: true, force: true });
    await fsp.rm(userDataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: a 2-way (and 3-way) 720p30 call between web clients

interface WebStats {
  video: { framesIn: number; framesEncoded: number; framesDropped: number; encoderErrors: number } | null;
  playback: { videoFramesDecoded: number; videoDecoderErrors: number };
  decryptFailures: Record<string, number> | null;
}

interface Person {
  name: string;
  browser: Browser;
  page: Page;
}

function launchWebBrowser(extra: string[]): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      ...CHROMIUM_FLAGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      ...extra,
    ],
  });
}

async function joinWeb(page: Page, url: string, passcode: string, name: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('[data-testid=device]', { timeout: 30_000 });
  await page.fill('input[name=passcode]', passcode);
  await page.fill('input[name=name]', name);
  await page.click('[data-testid=join]');
  // Holding the meeting key: 'e2ee', or 'partial' when someone's key is vouched for by no
  // organization this browser trusts (docs/protocol.md "Shield (fail-closed)"); media flows in both.
  try {
    await page.waitForSelector(
      '[data-testid=shield][data-shield=e2ee], [data-testid=shield][data-shield=partial]',
      { timeout: 30_000 },
    );
  } catch (error) {
    if (!(error instanceof errors.TimeoutError)) throw error;
    const shield = await page
      .getAttribute('[data-testid=shield]', 'data-shield', { timeout: 1000 })
      .catch(() => null);
    const text = ((await page.textContent('body')) ?? '').replace(/\s+/g, ' ').slice(0, 400);
    throw new Error(`${name} not secure within 30 s (shield ${shield}); the page says: ${text}`);
  }
}

const webStats = async (page: Page) => (await page.evaluate('window.roomdWebStats()')) as WebStats;
/** Sizes of the tiles' canvases (each is resized to the frames it draws). */
const tileSizes = async (page: Page) =>
  (await page.evaluate(
    `[...document.querySelectorAll('[data-testid="tile"] canvas')].map((c) => c.width + 'x' + c.height)`,
  )) as string[];

interface Sample {
  at: number;
  procs: Map<number, { type: string; cpu: number }>;
  stats: WebStats;
}

async function sample(p: Person): Promise<Sample> {
  const cdp = await p.browser.newBrowserCDPSession();
  try {
    const [info, stats] = await Promise.all([cdp.send('SystemInfo.getProcessInfo'), webStats(p.page)]);
    return {
      at: performance.now(),
      procs: new Map(info.processInfo.map((x) => [x.id, { type: x.type, cpu: x.cpuTime }])),
      stats,
    };
  } finally {
    await cdp.detach();
  }
}

interface CallFigures {
  rendererPct: number;
  otherRenderersPct: number;
  gpuPct: number;
  browserPct: number;
  utilityPct: number;
  chromiumTotalPct: number;
  /** Every process type CDP names (renderer, GPU, browser, utility, …), summed. */
  byProcessType: Record<string, number>;
  capturedFps: number;
  encodedFps: number;
  droppedFps: number;
  decodedFps: number;
  decoderErrors: number;
  decryptFailures: number;
  tiles: string[];
}

async function measureCall(
  people: Person[],
  seconds: number,
): Promise<{ figures: CallFigures[]; busyPct: number }> {
  const cpu0 = cpuTimes();
  const before = await Promise.all(people.map(sample));
  await sleep(seconds * 1000);
  const after = await Promise.all(people.map(sample));
  const cpu1 = cpuTimes();
  const figures = await Promise.all(
    people.map(async (p, i) => {
      const a = before[i]!;
      const b = after[i]!;
      const s = (b.at - a.at) / 1000;
      const byType = new Map<string, number[]>();
      for (const [id, x] of b.procs) {
        const pct = (100 * (x.cpu - (a.procs.get(id)?.cpu ?? 0))) / s;
        byType.set(x.type, [...(byType.get(x.type) ?? []), pct]);
      }
      const sum = (xs: number[] | undefined) => (xs ?? []).reduce((t, v) => t + v, 0);
      const renderers = [...(byType.get('renderer') ?? [])].sort((x, y) => y - x);
      const v0 = a.stats.video;
      const v1 = b.stats.video;
      const rate = (f: (v: NonNullable<WebStats['video']>) => number) =>
        v0 === null || v1 === null ? 0 : (f(v1) - f(v0)) / s;
      const failures = (w: WebStats) => Object.values(w.decryptFailures ?? {}).reduce((t, v) => t + v, 0);
      return {
        rendererPct: renderers[0] ?? 0,
        otherRenderersPct: sum(renderers.slice(1)),
        gpuPct: sum(byType.get('GPU') ?? byType.get('gpu')),
        browserPct: sum(byType.get('browser')),
        // The utility processes, named by their service (video capture, audio, network, storage).
        utilityPct: sum(
          [...byType]
            .filter(([t]) => !['renderer', 'GPU', 'gpu', 'browser'].includes(t))
            .flatMap(([, xs]) => xs),
        ),
        chromiumTotalPct: sum([...byType.values()].flat()),
        byProcessType: Object.fromEntries([...byType].map(([t, xs]) => [t, round1(sum(xs))])),
        capturedFps: rate((v) => v.framesIn),
        encodedFps: rate((v) => v.framesEncoded),
        droppedFps: rate((v) => v.framesDropped),
        decodedFps: (b.stats.playback.videoFramesDecoded - a.stats.playback.videoFramesDecoded) / s,
        decoderErrors: b.stats.playback.videoDecoderErrors - a.stats.playback.videoDecoderErrors,
        decryptFailures: failures(b.stats) - failures(a.stats),
        tiles: await tileSizes(p.page),
      };
    }),
  );
  return { figures, busyPct: (100 * (cpu1.busy - cpu0.busy)) / Math.max(1, cpu1.total - cpu0.total) };
}

function emitCall(
  label: string,
  receives: number,
  people: Person[],
  r: Awaited<ReturnType<typeof measureCall>>,
  m0: ReturnType<typeof machine>,
  others: 'replayed' | 'browsers',
): void {
  // The figure's name says what the measured Chromium did; `.both_ends_in_chromium` when the far
  // end was another Chromium on the same cores.
  const what = `${receives === 1 ? 'recv720p30' : `recv${receives}x720p30`}${others === 'browsers' ? '.both_ends_in_chromium' : ''}`;
  const m1 = machine();
  r.figures.forEach((f, i) => {
    const params = {
      call: label,
      participant: people[i]!.name,
      sent: 'Chromium fake camera: 1280x720 30 fps y4m (60 stamped frames, looped), web client VP8 1.2 Mbit/s + Opus',
      received:
        others === 'replayed'
          ? `${receives} × 1280x720 30 fps VP8 1.2 Mbit/s (ffmpeg clip encoded beforehand, replayed by headless participants) + Opus`
          : 'the other Chromium web client (same camera clip) + Opus',
      seconds: SECONDS,
      fps: {
        captured: round1(f.capturedFps),
        encoded: round1(f.encodedFps),
        droppedBeforeEncoder: round1(f.droppedFps),
        decodedAllStreams: round1(f.decodedFps),
        decodedPerStream: round1(f.decodedFps / receives),
      },
      receivedTileSizes: f.tiles.filter((t) => t !== '320x180'),
      decoderErrors: f.decoderErrors,
      decryptFailures: f.decryptFailures,
      cpuPctOfOneCore: {
        renderer: round1(f.rendererPct),
        otherRenderers: round1(f.otherRenderersPct),
        gpu: round1(f.gpuPct),
        browser: round1(f.browserPct),
        utility: round1(f.utilityPct),
        allChromiumProcesses: round1(f.chromiumTotalPct),
        byProcessType: f.byProcessType,
      },
      machine: { before: m0, after: m1, cpuBusyPctAllCores: Math.round(r.busyPct) },
      goal: 'renderer < 100 % of one core for 720p30 send + 2 × 720p30 receive',
    };
    emit({
      name: `browser-media.renderer_cpu_pct_send720p30_${what}`,
      params,
      value: f.rendererPct,
      unit: '% of one core',
    });
    emit({
      name: `browser-media.gpu_process_cpu_pct_send720p30_${what}`,
      params: { call: label, participant: people[i]!.name },
      value: f.gpuPct,
      unit: '% of one core',
    });
    emit({
      name: `browser-media.browser_process_cpu_pct_send720p30_${what}`,
      params: { call: label, participant: people[i]!.name },
      value: f.browserPct,
      unit: '% of one core',
    });
    emit({
      name: `browser-media.chromium_all_processes_cpu_pct_send720p30_${what}`,
      params: { call: label, participant: people[i]!.name },
      value: f.chromiumTotalPct,
      unit: '% of one core',
    });
    emit({
      name: `browser-media.video_fps_encoded_send720p30_${what}`,
      params: { call: label, participant: people[i]!.name },
      value: f.encodedFps,
      unit: 'frames/s',
    });
    emit({
      name: `browser-media.video_fps_decoded_per_stream_send720p30_${what}`,
      params: { call: label, participant: people[i]!.name, streams: receives },
      value: f.decodedFps / receives,
      unit: 'frames/s',
    });
    log(
      `${label} ${people[i]!.name}: renderer ${f.rendererPct.toFixed(0)} %, gpu ${f.gpuPct.toFixed(0)} %, browser ` +
        `${f.browserPct.toFixed(0)} %, utility ${f.utilityPct.toFixed(0)} %, all ${f.chromiumTotalPct.toFixed(0)} %; ` +
        `encoded ${f.encodedFps.toFixed(1)} fps (captured ${f.capturedFps.toFixed(1)}), decoded ${(f.decodedFps / receives).toFixed(1)} fps/stream, tiles ${f.tiles.join(' ')}`,
    );
  });
  log(`${label}: machine busy ${r.busyPct.toFixed(0)} % of all cores; load ${m0.loadavg} → ${m1.loadavg}`);
}

/** Every page shows `streams` others' video at 1280x720 and decodes more of it. */
async function waitReceiving(people: Person[], streams: number): Promise<void> {
  for (const p of people) {
    const before = (await webStats(p.page)).playback.videoFramesDecoded;
    await waitUntil(
      async () =>
        (await tileSizes(p.page)).filter((t) => t === '1280x720').length >= streams &&
        (await webStats(p.page)).playback.videoFramesDecoded > before + 30 * streams,
      `${p.name} decoding ${streams} 720p stream(s)`,
      45_000,
    );
  }
}

/** The far end's 720p30 stream, encoded once before the run (ffmpeg's test source, VP8 1.2 Mbit/s). */
const FAR_VIDEO = { codec: 'vp8' as const, width: 1280, height: 720, framerate: 30, bitrateKbps: 1200 };

async function encodeFarClip(file: string, frames: number): Promise<void> {
  const args = videoCaptureArgs(
    { type: 'test', fontFile: null, label: 'far', frameStamp: 'frame-index' },
    FAR_VIDEO,
  );
  args.splice(args.indexOf('-re'), 1);
  args.splice(args.lastIndexOf('pipe:1'), 1, '-frames:v', String(frames), '-y', file);
  await run_('ffmpeg', args);
}

async function makeCameraClip(y4m: string): Promise<void> {
  await run_('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'testsrc2=size=1280x720:rate=30'],
    ...['-vf', `${frameStampFilters(1280, 720, 30, 'frame-index')},format=yuv420p`],
    ...['-frames:v', String(CLIP_FRAMES), y4m],
  ]);
}

/**
 * `call` and `call3`: one web client (the measured Chromium) with the fake camera, and headless
 * participants in this process that replay a 720p30 VP8 clip encoded beforehand (`-c copy`, no
 * encoding here: a far end's encoder is on its own machine). 2-way: the host replays; 3-way: a
 * second replaying participant joins.
 */
async function callPart(parts: Set<Part>): Promise<void> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bench-call-'));
  const y4m = path.join(tmp, 'camera-720p30.y4m');
  const clip = path.join(tmp, 'far-720p30.ivf');
  const people: Person[] = [];
  const h = await startHarness({ relay: { webClientDir: WEB_DIST } });
  const deps = { runner: new NodeProcessRunner(), clock: h.clock, logger: silentLogger() };
  const farCaptures = () => [
    createVideoCapture({ type: 'file', path: clip, loop: true }, FAR_VIDEO, deps),
    createAudioCapture({ type: 'test', frequencyHz: 440 }, { bitrateKbps: 24 }, deps),
  ];
  try {
    await Promise.all([makeCameraClip(y4m), encodeFarClip(clip, 120)]);
    log(`call: camera clip ${(fs.statSync(y4m).size / 1e6).toFixed(0)} MB, far-end clip 120 frames`);
    const meetingId = await h.meeting({ passcode: PASSCODE });
    const host = h.participant(meetingId, 'Far end 1 (replayed 720p30)', {
      identity: h.host,
      passcode: PASSCODE,
      captures: farCaptures(),
    });
    await host.join();
    const browser = await launchWebBrowser([`--use-file-for-fake-video-capture=${y4m}`]);
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    people.push({ name: 'web', browser, page });
    await joinWeb(page, `${h.relay.address.httpUrl}/join/${meetingId}`, PASSCODE, 'Web (measured)');
    await waitReceiving(people, 1);
    if (parts.has('call')) {
      await sleep(WARMUP_MS);
      const m0 = machine();
      emitCall('2-way', 1, people, await measureCall(people, SECONDS), m0, 'replayed');
    }
    if (parts.has('call3')) {
      await h
        .participant(meetingId, 'Far end 2 (replayed 720p30)', {
          passcode: PASSCODE,
          captures: farCaptures(),
        })
        .join();
      await waitReceiving(people, 2);
      await sleep(WARMUP_MS);
      const m0 = machine();
      emitCall('3-way', 2, people, await measureCall(people, SECONDS), m0, 'replayed');
    }
  } finally {
    for (const p of people) await p.browser.close();
    await h.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * `call-browsers`: two web clients, each in its own Chromium with the fake camera, each sending
 * 720p30 and receiving the other; the host is a headless participant that sends nothing.
 */
async function callBrowsersPart(): Promise<void> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bench-call-'));
  const y4m = path.join(tmp, 'camera-720p30.y4m');
  const people: Person[] = [];
  const h = await startHarness({ relay: { webClientDir: WEB_DIST } });
  try {
    await makeCameraClip(y4m);
    const meetingId = await h.meeting({ passcode: PASSCODE });
    await h
      .participant(meetingId, 'Host without media', { identity: h.host, passcode: PASSCODE, captures: [] })
      .join();
    for (const name of ['A', 'B']) {
      const browser = await launchWebBrowser([`--use-file-for-fake-video-capture=${y4m}`]);
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      people.push({ name, browser, page });
      await joinWeb(page, `${h.relay.address.httpUrl}/join/${meetingId}`, PASSCODE, `Web ${name}`);
    }
    await waitReceiving(people, 1);
    await sleep(WARMUP_MS);
    const m0 = machine();
    emitCall('2-way-browsers', 1, people, await measureCall(people, SECONDS), m0, 'browsers');
  } finally {
    for (const p of people) await p.browser.close();
    await h.close();
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Part 3: glass-to-glass browser → room

async function g2gPart(): Promise<void> {
  await ensureKioskBuilt();
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bench-bm-g2g-'));
  const userDataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-chromium-'));
  const demo = await startDemo({
    stateDir,
    log: silentLogger(),
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: 'synthetic',
    roomMedia: null,
  });
  const kioskContext = await launchChromium(userDataDir);
  let webBrowser: Browser | null = null;
  try {
    const kioskState = async () =>
      (await (await fetch(new URL('/api/v1/state', demo.kioskUrl))).json()) as RoomState;
    await new AdminClient({
      url: demo.app.http.urls().admin,
      fingerprint: demo.app.http.certificate.fingerprint,
    }).call('POST', '/api/v1/claim', {
      setupCode: (await kioskState()).setup?.setupCode ?? '',
      password: 'correct horse battery staple',
      tokenName: 'bench',
    });
    const kiosk = kioskContext.pages()[0] ?? (await kioskContext.newPage());
    await kiosk.addInitScript(tileWatchScript());
    await kiosk.goto(demo.kioskUrl);
    const meeting = demo.env.meetings.find((m) => m.encryption === 'e2ee');
    if (meeting === undefined || meeting.passcode === null)
      throw new Error('the demo has no E2EE meeting with a passcode');
    await kiosk.getByTestId(`join-${meeting.id}`).click({ timeout: 30_000 });
    await kiosk.getByTestId('leave').waitFor({ timeout: 30_000 });

    webBrowser = await launchWebBrowser([]);
    const webContext = await webBrowser.newContext({ viewport: { width: 1280, height: 900 } });
    await webContext.addInitScript(stampCameraScript());
    const web = await webContext.newPage();
    const relayHttp = demo.env.signalUrl.replace(/^ws/, 'http').replace(/\/v1\/signal$/, '');
    await joinWeb(web, `${relayHttp}/join/${meeting.id}`, meeting.passcode, 'Browser camera');
    const bot = meeting.bots[0] as HeadlessParticipant;
    const webId = await waitUntil(
      async () => bot.session.snapshot.participants.find((p) => p.clientType === 'web' && p.keyed)?.id,
      'the browser keyed in the meeting',
    );
    await kiosk.locator(`[data-participant="${webId}"].tile-live`).waitFor({ timeout: 30_000 });
    await kiosk.evaluate(`window.__bm.watch(${JSON.stringify(webId)})`);
    await sleep(WARMUP_MS);
    await kiosk.evaluate('window.__bm.reset()');
    const m0 = machine();
    const cpu0 = cpuTimes();
    // What the room daemon received of the browser's video (decrypted, in order), to see where
    // frames went missing when fewer are painted than sent.
    const roomRx = () => {
      const st = demo.app.room?.link?.receiveStats(webId, 'video');
      return {
        received: st?.framesReceived ?? 0,
        lost: st?.framesLost ?? 0,
        late: st?.framesLate ?? 0,
        discarded: st?.framesDiscarded ?? 0,
      };
    };
    const r0 = roomRx();
    const s0 = await webStats(web);
    const t0 = performance.now();
    await sleep(G2G_SECONDS * 1000);
    const taken = (await kiosk.evaluate('window.__bm.take()')) as {
      painted: { stamp: number; at: number }[];
      unread: number;
      raf: number;
      decoded720p: number;
    };
    const s1 = await webStats(web);
    const r1 = roomRx();
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = cpuTimes();
    const m1 = machine();
    if (taken.painted.length === 0)
      throw new Error(`g2g: no frame of the browser was painted (${taken.unread} unreadable)`);
    const ages = taken.painted.map((p) => p.at - unwrapStamp(p.stamp, p.at));
    const encodedFps =
      s0.video === null || s1.video === null
        ? 0
        : (s1.video.framesEncoded - s0.video.framesEncoded) / elapsed;
    const params = {
      path:
        'canvas draw with wall-clock stamp → captureStream track → MediaStreamTrackProcessor → WebCodecs VP8 encode → ' +
        'SFrame seal (noble) → data channel → relay → room daemon (SFrame open) → kiosk feed → kiosk VideoDecoder → paint ' +
        '(first animation frame showing the stamp)',
      source: 'web client, 1280x720 canvas camera paced at 30 fps, VP8 1.2 Mbit/s',
      seconds: G2G_SECONDS,
      samples: ages.length,
      framesPainted: taken.painted.length,
      paintedFps: round1(taken.painted.length / elapsed),
      browserEncodedFps: round1(encodedFps),
      roomReceivedFps: round1((r1.received - r0.received) / elapsed),
      kioskDecoded720pFps: round1(taken.decoded720p / elapsed),
      roomFramesLostLateDiscarded: [r1.lost - r0.lost, r1.late - r0.late, r1.discarded - r0.discarded],
      unreadAnimationFrames: taken.unread,
      animationFrames: taken.raf,
      scenario: 'demo, far-end bots with synthetic media, room camera and microphone off',
      machine: {
        before: m0,
        after: m1,
        cpuBusyPctAllCores: Math.round(
          (100 * (cpu1.busy - cpu0.busy)) / Math.max(1, cpu1.total - cpu0.total),
        ),
      },
    };
    for (const [stat, p] of [
      ['p50', 50],
      ['p95', 95],
      ['max', 100],
    ] as const)
      emit({
        name: 'browser-media.glass_to_glass_browser_to_room_ms',
        params: { ...params, stat },
        value: percentile(ages, p),
        unit: 'ms',
      });
    log(
      `g2g: ${ages.length} frames painted in ${elapsed.toFixed(1)} s (browser encoded ${encodedFps.toFixed(1)} fps): ` +
        `room received ${((r1.received - r0.received) / elapsed).toFixed(1)} fps, kiosk decoded ${(taken.decoded720p / elapsed).toFixed(1)} fps; ` +
        `p50 ${percentile(ages, 50).toFixed(0)} ms, p95 ${percentile(ages, 95).toFixed(0)}, max ${percentile(ages, 100).toFixed(0)}; ` +
        `load ${m0.loadavg} → ${m1.loadavg}`,
    );
  } finally {
    await webBrowser?.close();
    await kioskContext.close();
    await demo.stop();
    await fsp.rm(stateDir, { recursive: true, force: true });
    await fsp.rm(userDataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

if (PARTS.has('sframe')) await sframePart();
if (PARTS.has('call') || PARTS.has('call3') || PARTS.has('call-browsers') || PARTS.has('g2g')) {
  // The relays serve web/dist: build it from these sources, as `npm run build:web` does.
  const started = performance.now();
  await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), logLevel: 'silent' });
  log(`web/dist built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
if (PARTS.has('call') || PARTS.has('call3')) await callPart(PARTS);
if (PARTS.has('call-browsers')) await callBrowsersPart();
if (PARTS.has('g2g')) await g2gPart();
process.exit(0);
