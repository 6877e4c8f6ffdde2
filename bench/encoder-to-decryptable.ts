/**
 * encoder-to-decryptable (docs/benchmarks.md): from the frame leaving the sender's encoder pipe (the
 * frame's capture timestamp) to the frame being decrypted and decodable at the receiver, p50/p95 over
 * BENCH_SECONDS (default 30) of 720p30 VP8 from ffmpeg's test source, through the real relay and wrtc
 * on loopback, SFrame on. Capture, encoding, decoding and display are outside it: `glass-to-glass`
 * measures the whole way, from the pixels. No goal of its own (it is a part of glass-to-glass's).
 * Also reports the frame rate achieved (the encoder is CPU-bound on 2 cores).
 */
import { existsSync } from 'node:fs';
import { silentLogger } from '../src/core/logger.ts';
import { createVideoCapture } from '../src/media/capture.ts';
import { NodeProcessRunner } from '../src/system/process.ts';
import { allSecure, startHarness, waitFor } from '../test/helpers/meeting-harness.ts';
import { emit, percentile } from './_lib.ts';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 30);
const h = await startHarness();
const id = await h.meeting();
const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const capture = createVideoCapture(
  { type: 'test', fontFile: existsSync(font) ? font : null, label: 'bench' },
  { codec: 'vp8', width: 1280, height: 720, framerate: 30, bitrateKbps: 2500 },
  { runner: new NodeProcessRunner(), clock: h.clock, logger: silentLogger() },
);
const sender = h.participant(id, 'Sender', { identity: h.host, captures: [capture] });
const receiver = h.participant(id, 'Receiver', { videoFps: 0, audioFps: 0 });
await sender.join();
await receiver.join();
await waitFor(() => allSecure([sender, receiver]), 'both secure', 30_000);
const samples: number[] = [];
receiver.media.onFrame((f) => {
  if (f.kind === 'video') samples.push(f.latencyMs);
});
await new Promise((r) => setTimeout(r, 3000));
samples.length = 0;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const elapsed = (performance.now() - t0) / 1000;
const params = { resolution: '1280x720', fps: 30, codec: 'vp8', seconds: SECONDS, frames: samples.length };
emit({
  name: 'encoder-to-decryptable',
  params: { ...params, stat: 'p50' },
  value: percentile(samples, 50),
  unit: 'ms',
});
emit({
  name: 'encoder-to-decryptable',
  params: { ...params, stat: 'p95' },
  value: percentile(samples, 95),
  unit: 'ms',
});
emit({
  name: 'encoder-to-decryptable',
  params: { ...params, stat: 'fps-received' },
  value: samples.length / elapsed,
  unit: 'frames/s',
});
await h.close();
process.exit(0);
