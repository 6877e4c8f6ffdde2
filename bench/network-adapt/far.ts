/**
 * network-adapt's far side (docs/benchmarks.md §network-adapt), run in the service's network
 * namespace: the relay (embedded plane) on `--host`, a meeting, and the far end — a headless person,
 * host of the meeting, sending small synthetic video and audio so media flows both ways — which
 * measures what it receives from the room. Talks to the benchmark in JSON lines: it prints
 * `{"ready":{signalUrl,meetingId}}`, then for every `phase NAME` line on stdin the summary of the
 * phase before it (`{"phase":…}`); `end` closes the phase, prints it and quits.
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ReceivedMedia } from '../../src/meeting/media-link.ts';
import { startHarness } from '../../test/helpers/meeting-harness.ts';

/** Gaps between two video frames longer than this are a freeze. */
const FREEZE_MS = 500;
/** Figures marked "settled" leave out the first seconds of a phase, while the sender adapts. */
const SETTLE_MS = 5000;

interface Sample {
  at: number;
  latencyMs: number;
  frameNumber: number;
  keyframe: boolean;
  bytes: number;
}

const { values } = parseArgs({ options: { host: { type: 'string' } } });
const host = values.host ?? '127.0.0.1';
// Its management API is never used here; on an address beyond loopback it needs a token all the same.
const h = await startHarness({ relay: { host, port: 0, adminToken: randomBytes(24).toString('base64url') } });
const meetingId = await h.meeting();
const far = h.participant(meetingId, 'Far end', {
  identity: h.host,
  client: 'room',
  videoFps: 15,
  videoFrameBytes: 3000,
  audioFps: 50,
  audioFrameBytes: 80,
});

let phase: { name: string; start: number; video: Sample[]; audio: Sample[] } | null = null;
far.media.onFrame((f: ReceivedMedia) => {
  if (phase === null || (f.kind !== 'video' && f.kind !== 'audio')) return;
  const s = {
    at: performance.now(),
    latencyMs: f.latencyMs,
    frameNumber: f.frameNumber,
    keyframe: f.keyframe,
    bytes: f.data.byteLength,
  };
  (f.kind === 'video' ? phase.video : phase.audio).push(s);
});

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** Audio frames missing between the first and last received (frame numbers are consecutive). */
function lost(samples: Sample[]): { expected: number; lost: number } {
  if (samples.length === 0) return { expected: 0, lost: 0 };
  const seen = new Set(samples.map((s) => s.frameNumber));
  let lo = samples[0]!.frameNumber;
  let hi = lo;
  for (const s of samples) {
    lo = Math.min(lo, s.frameNumber);
    hi = Math.max(hi, s.frameNumber);
  }
  const expected = hi - lo + 1;
  return { expected, lost: expected - seen.size };
}

function summary(p: NonNullable<typeof phase>, end: number) {
  const seconds = (end - p.start) / 1000;
  const settled = (xs: Sample[]) => xs.filter((s) => s.at - p.start >= SETTLE_MS);
  const gaps: { at: number; ms: number }[] = [];
  let prev = p.start;
  for (const s of p.video) {
    gaps.push({ at: s.at, ms: s.at - prev });
    prev = s.at;
  }
  gaps.push({ at: end, ms: end - prev });
  const freezes = gaps.filter((g) => g.ms > FREEZE_MS);
  if (process.env['BENCH_DEBUG'] === '1')
    for (const f of freezes)
      process.stderr.write(`freeze ${Math.round(f.ms)} ms ending at +${Math.round(f.at - p.start)} ms\n`);
  // A freeze "after the first 5 s" is one that ends past the settling time.
  const settledFreezes = freezes.filter((g) => g.at - p.start >= SETTLE_MS);
  const audioLoss = lost(p.audio);
  const settledAudioLoss = lost(settled(p.audio));
  return {
    phase: p.name,
    seconds,
    videoFps: p.video.length / seconds,
    videoKbps: (p.video.reduce((n, s) => n + s.bytes, 0) * 8) / 1000 / seconds,
    keyframes: p.video.filter((s) => s.keyframe).length,
    freezes: freezes.length,
    freezeSeconds: freezes.reduce((n, g) => n + g.ms, 0) / 1000,
    settledFreezes: settledFreezes.length,
    settledLongestFreezeMs: settledFreezes.reduce((n, g) => Math.max(n, g.ms), 0),
    // Freezes that began after the settling time (one that began before is the adapting itself).
    lateLongestFreezeMs: freezes
      .filter((g) => g.at - g.ms - p.start >= SETTLE_MS)
      .reduce((n, g) => Math.max(n, g.ms), 0),
    audioFrames: p.audio.length,
    audioLostPercent: audioLoss.expected === 0 ? 100 : (100 * audioLoss.lost) / audioLoss.expected,
    settledAudioLostPercent:
      settledAudioLoss.expected === 0 ? 100 : (100 * settledAudioLoss.lost) / settledAudioLoss.expected,
    videoLatencyP50: pct(
      p.video.map((s) => s.latencyMs),
      50,
    ),
    videoLatencyP95: pct(
      p.video.map((s) => s.latencyMs),
      95,
    ),
    settledVideoLatencyP95: pct(
      settled(p.video).map((s) => s.latencyMs),
      95,
    ),
    audioLatencyP50: pct(
      p.audio.map((s) => s.latencyMs),
      50,
    ),
    audioLatencyP95: pct(
      p.audio.map((s) => s.latencyMs),
      95,
    ),
    settledAudioLatencyP95: pct(
      settled(p.audio).map((s) => s.latencyMs),
      95,
    ),
  };
}

await far.join();
console.log(JSON.stringify({ ready: { signalUrl: h.relay.address.signalUrl, meetingId } }));

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [cmd, name] = line.trim().split(/\s+/);
  const now = performance.now();
  if (phase !== null && (cmd === 'phase' || cmd === 'end')) console.log(JSON.stringify(summary(phase, now)));
  if (cmd === 'phase' && name !== undefined) phase = { name, start: now, video: [], audio: [] };
  if (cmd === 'status')
    console.log(
      JSON.stringify({
        status: { shield: far.session.snapshot.shield, people: far.session.snapshot.participants.length },
      }),
    );
  if (cmd === 'end') break;
}
await far
  .leave()
  .catch((error: unknown) =>
    process.stderr.write(`far: leaving failed: ${error instanceof Error ? error.message : String(error)}\n`),
  );
await h.close();
process.exit(0);
