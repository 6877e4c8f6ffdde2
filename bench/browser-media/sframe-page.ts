/**
 * The page of browser-media's SFrame part (docs/benchmarks.md §browser-media). Vite bundles it with
 * the web client's twin-resolving plugin (web/build-plugins.ts `browserTwins`), so src/e2ee runs
 * here on its browser twins exactly as in the web client: `FrameKeys` on aead.browser.ts
 * (@noble/ciphers AES-256-GCM, synchronous).
 *
 * It makes real media in the page — 1280x720 VP8 from WebCodecs' VideoEncoder at the web client's
 * settings (web/src/media/capture.ts: 1.2 Mbit/s, 30 fps, realtime; a keyframe every KEY_EVERY
 * frames so there are enough of them to time) from generated VideoFrames, and Opus 20-ms packets
 * from AudioEncoder (mono, 32 kbit/s) — then times `FrameKeys.seal` and `openAs` on each frame as
 * the media link's StreamSender and StreamReceiver call them (frame envelope, chunk metadata as
 * additional data), interleaved frame by frame with WebCrypto's AES-256-GCM `encrypt` / `decrypt`
 * of the same bytes, each awaited before the next frame (the asynchronous alternative).
 *
 * Times are `performance.now()` differences: the benchmark serves this page cross-origin isolated
 * (5-µs timer resolution in Chromium, not 100). An audio sample is the mean of AUDIO_BATCH packets
 * handled one after the other, as packets that small take a few µs each.
 */
import { FrameKeys } from '../../src/e2ee/frames.ts';
import { packFrame } from '../../src/media/envelope.ts';
import { frameMetadata } from '../../src/media/stream/frame.ts';
import { STREAM_ID, type StreamKind } from '../../src/protocol/vocabulary.ts';

/** The WebCodecs and canvas surface used here (the root tsconfig has no DOM library). */
interface Chunk {
  readonly type: 'key' | 'delta';
  readonly byteLength: number;
  copyTo(dest: Uint8Array): void;
}
interface Encoder {
  configure(config: Record<string, unknown>): void;
  encode(input: unknown, options?: { keyFrame: boolean }): void;
  flush(): Promise<void>;
  close(): void;
  readonly encodeQueueSize: number;
}
type EncoderConstructor = new (init: {
  output: (chunk: Chunk) => void;
  error: (e: unknown) => void;
}) => Encoder;
interface Closable {
  close(): void;
}
interface Context2d {
  fillStyle: string;
  font: string;
  fillRect(x: number, y: number, w: number, h: number): void;
  fillText(text: string, x: number, y: number): void;
  drawImage(image: unknown, x: number, y: number): void;
}
interface Canvas {
  getContext(kind: '2d'): Context2d | null;
}
interface PageGlobals {
  VideoEncoder: EncoderConstructor;
  AudioEncoder: EncoderConstructor;
  VideoFrame: new (source: unknown, init: { timestamp: number }) => Closable;
  AudioData: new (init: {
    format: 'f32';
    sampleRate: number;
    numberOfFrames: number;
    numberOfChannels: number;
    timestamp: number;
    data: Float32Array;
  }) => Closable;
  OffscreenCanvas: new (width: number, height: number) => Canvas;
  crossOriginIsolated: boolean;
  navigator: { userAgent: string };
  __sframeBench?: { run(options: RunOptions): Promise<RunResult> };
}

export interface RunOptions {
  videoFrames: number;
  keyEvery: number;
  audioPackets: number;
  /** How many times each video frame is sealed and opened (keyframes, deltas). */
  keyRounds: number;
  deltaRounds: number;
  audioRounds: number;
}

export type Kind = 'vp8-key' | 'vp8-delta' | 'opus';
export interface KindResult {
  /** Encoded sizes of the frames made (bytes, before the envelope). */
  sizes: number[];
  /** µs per frame, one sample per frame handled (audio: per batch of AUDIO_BATCH packets). */
  nobleSeal: number[];
  nobleOpen: number[];
  webcryptoEncrypt: number[];
  webcryptoDecrypt: number[];
}
export interface RunResult {
  crossOriginIsolated: boolean;
  userAgent: string;
  audioBatch: number;
  encodeMs: number;
  kinds: Record<Kind, KindResult>;
}

const g = globalThis as unknown as PageGlobals;
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const W = 1280;
const H = 720;
const VIDEO_BITRATE = 1_200_000;
const AUDIO_BITRATE = 32_000;
export const AUDIO_BATCH = 10;

/** 720p frames: a panning blocky texture with a moving bar and the frame number, like a camera's detail. */
async function makeVideo(
  frames: number,
  keyEvery: number,
): Promise<{ type: 'key' | 'delta'; data: Uint8Array }[]> {
  const texture = new g.OffscreenCanvas(W + 640, H + 360);
  const t = texture.getContext('2d');
  if (t === null) throw new Error('no 2d context');
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let y = 0; y < H + 360; y += 8)
    for (let x = 0; x < W + 640; x += 8) {
      const v = Math.floor(60 + 160 * rnd());
      t.fillStyle = `rgb(${v},${Math.floor(v * (0.6 + 0.4 * rnd()))},${Math.floor(255 * rnd())})`;
      t.fillRect(x, y, 8, 8);
    }
  const canvas = new g.OffscreenCanvas(W, H);
  const c = canvas.getContext('2d');
  if (c === null) throw new Error('no 2d context');
  const kept: { type: 'key' | 'delta'; data: Uint8Array }[] = [];
  let failure: unknown = null;
  const encoder = new g.VideoEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      kept.push({ type: chunk.type, data });
    },
    error: (e) => {
      failure = e;
    },
  });
  encoder.configure({
    codec: 'vp8',
    width: W,
    height: H,
    bitrate: VIDEO_BITRATE,
    framerate: 30,
    latencyMode: 'realtime',
  });
  for (let i = 0; i < frames; i++) {
    c.drawImage(texture, -((i * 3) % 640), -((i * 2) % 360));
    c.fillStyle = 'white';
    c.fillRect((i * 17) % W, 200, 120, 320);
    c.font = '64px sans-serif';
    c.fillText(`frame ${i}`, 40, 660);
    const frame = new g.VideoFrame(canvas, { timestamp: Math.round((i * 1e6) / 30) });
    while (encoder.encodeQueueSize > 2) await new Promise((r) => setTimeout(r, 1));
    encoder.encode(frame, { keyFrame: i % keyEvery === 0 });
    frame.close();
  }
  await encoder.flush();
  encoder.close();
  if (failure !== null) throw new Error(`VideoEncoder failed: ${String(failure)}`);
  return kept;
}

/** Opus 20-ms packets of a tone with noise (speech-like levels), mono 48 kHz at the web client's rate. */
async function makeAudio(packets: number): Promise<Uint8Array[]> {
  const kept: Uint8Array[] = [];
  let failure: unknown = null;
  const encoder = new g.AudioEncoder({
    output: (chunk) => {
      const data = new Uint8Array(chunk.byteLength);
      chunk.copyTo(data);
      kept.push(data);
    },
    error: (e) => {
      failure = e;
    },
  });
  encoder.configure({
    codec: 'opus',
    sampleRate: 48_000,
    numberOfChannels: 1,
    bitrate: AUDIO_BITRATE,
    opus: { frameDuration: 20_000, complexity: 5 },
  });
  const n = 960;
  for (let p = 0; p < packets + 2; p++) {
    const samples = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = p * n + i;
      const envelope = 0.5 + 0.5 * Math.sin((2 * Math.PI * s) / 9600);
      samples[i] = 0.3 * envelope * Math.sin((2 * Math.PI * 220 * s) / 48_000) + 0.05 * (Math.random() - 0.5);
    }
    const data = new g.AudioData({
      format: 'f32',
      sampleRate: 48_000,
      numberOfFrames: n,
      numberOfChannels: 1,
      timestamp: Math.round((p * 1e6) / 50),
      data: samples,
    });
    encoder.encode(data);
    data.close();
  }
  await encoder.flush();
  encoder.close();
  if (failure !== null) throw new Error(`AudioEncoder failed: ${String(failure)}`);
  return kept.slice(0, packets);
}

function frameKeys(selfId: string, slot: number, mk: Uint8Array): FrameKeys {
  const k = new FrameKeys({ meetingId: 'm', instanceId: 'i', selfId, label: 'roomd-e2ee v1 media key' });
  k.setSlots([
    { participantId: '7', slot: 1 },
    { participantId: '9', slot: 2 },
  ]);
  k.setSelfSlot(slot);
  k.install(1, mk, 0, 60_000);
  k.setSendEpoch(1);
  return k;
}

interface Case {
  kind: StreamKind;
  codec: 'vp8' | 'opus';
  keyframe: boolean;
  frames: Uint8Array[];
  rounds: number;
  batch: number;
}

async function timeCase(c: Case, tx: FrameKeys, rx: FrameKeys, key: AesKey): Promise<KindResult> {
  const r: KindResult = {
    sizes: c.frames.map((f) => f.length),
    nobleSeal: [],
    nobleOpen: [],
    webcryptoEncrypt: [],
    webcryptoDecrypt: [],
  };
  const streamId = STREAM_ID[c.kind];
  const iv = new Uint8Array(12);
  const ivView = new DataView(iv.buffer);
  let counter = 0;
  let n = 0;
  const items = c.frames.map((data) => packFrame({ codec: c.codec, captureTs: 1_700_000_000_000, data }));
  for (let round = 0; round < c.rounds; round++) {
    for (let at = 0; at + c.batch <= items.length; at += c.batch) {
      const batch = items.slice(at, at + c.batch);
      const metas = batch.map(() => frameMetadata(c.kind, streamId, c.keyframe, n++));
      // Alternate which path goes first, so neither always runs on a warmer cache.
      const nobleFirst = (at / c.batch + round) % 2 === 0;
      const noble = () => {
        const t0 = performance.now();
        const sealed = batch.map((p, i) => tx.seal(c.kind, p, metas[i]));
        const t1 = performance.now();
        for (let i = 0; i < sealed.length; i++) rx.openAs('7', c.kind, sealed[i]!, metas[i]!, 0);
        const t2 = performance.now();
        r.nobleSeal.push(((t1 - t0) * 1000) / c.batch);
        r.nobleOpen.push(((t2 - t1) * 1000) / c.batch);
      };
      const webcrypto = async () => {
        const ivs = batch.map(() => {
          ivView.setUint32(8, ++counter);
          return iv.slice();
        });
        const t0 = performance.now();
        const sealed: ArrayBuffer[] = [];
        for (let i = 0; i < batch.length; i++)
          sealed.push(
            await crypto.subtle.encrypt(
              { name: 'AES-GCM', iv: ivs[i]!, additionalData: metas[i]! },
              key,
              batch[i]!,
            ),
          );
        const t1 = performance.now();
        for (let i = 0; i < batch.length; i++)
          await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv: ivs[i]!, additionalData: metas[i]! },
            key,
            sealed[i]!,
          );
        const t2 = performance.now();
        r.webcryptoEncrypt.push(((t1 - t0) * 1000) / c.batch);
        r.webcryptoDecrypt.push(((t2 - t1) * 1000) / c.batch);
      };
      if (nobleFirst) {
        noble();
        await webcrypto();
      } else {
        await webcrypto();
        noble();
      }
    }
  }
  return r;
}

async function run(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const video = await makeVideo(o.videoFrames, o.keyEvery);
  const audio = await makeAudio(o.audioPackets);
  const encodeMs = performance.now() - started;
  const keys = video.filter((ch) => ch.type === 'key').map((ch) => ch.data);
  const deltas = video.filter((ch) => ch.type === 'delta').map((ch) => ch.data);
  const mk = crypto.getRandomValues(new Uint8Array(32));
  const tx = frameKeys('7', 1, mk);
  const rx = frameKeys('9', 2, mk);
  const key = await crypto.subtle.importKey(
    'raw',
    crypto.getRandomValues(new Uint8Array(32)),
    'AES-GCM',
    false,
    ['encrypt', 'decrypt'],
  );
  const cases: Record<Kind, Case> = {
    'vp8-key': { kind: 'video', codec: 'vp8', keyframe: true, frames: keys, rounds: o.keyRounds, batch: 1 },
    'vp8-delta': {
      kind: 'video',
      codec: 'vp8',
      keyframe: false,
      frames: deltas,
      rounds: o.deltaRounds,
      batch: 1,
    },
    opus: {
      kind: 'audio',
      codec: 'opus',
      keyframe: true,
      frames: audio,
      rounds: o.audioRounds,
      batch: AUDIO_BATCH,
    },
  };
  // Warm-up: key derivation, JIT, WebCrypto's first calls; not counted.
  for (const c of Object.values(cases))
    await timeCase({ ...c, rounds: 1, frames: c.frames.slice(0, 20) }, tx, rx, key);
  return {
    crossOriginIsolated: g.crossOriginIsolated,
    userAgent: g.navigator.userAgent,
    audioBatch: AUDIO_BATCH,
    encodeMs,
    kinds: {
      'vp8-key': await timeCase(cases['vp8-key'], tx, rx, key),
      'vp8-delta': await timeCase(cases['vp8-delta'], tx, rx, key),
      opus: await timeCase(cases.opus, tx, rx, key),
    },
  };
}

g.__sframeBench = { run };
