/**
 * stream-path (docs/benchmarks.md): CPU per frame of the one media path (src/media/stream/:
 * StreamSender envelope → SFrame seal → chunks, StreamReceiver reassembly → order → SFrame open →
 * envelope) with real frame keys (node:crypto AES-256-GCM), for a 160-byte audio frame, a 12 kB
 * video delta frame and a 60 kB keyframe. baseline = the same work done by hand with the bare
 * primitives in the same run (seal, chunkFrame, tryDecodeMediaChunk + Reassembler, open): ratio =
 * path / baseline is what the stream classes (envelope, ordering, stats, keyframe logic) cost on
 * top. The two are interleaved frame by frame and each figure is the median per-frame time.
 * Run: node --import tsx bench/stream-path.ts
 */
import { randomBytes } from 'node:crypto';
import { FakeClock } from '../src/core/clock.ts';
import { FrameKeys } from '../src/e2ee/frames.ts';
import { packFrame, unpackFrame } from '../src/media/envelope.ts';
import { frameMetadata } from '../src/media/stream/frame.ts';
import { StreamReceiver } from '../src/media/stream/receiver.ts';
import { StreamSender } from '../src/media/stream/sender.ts';
import { chunkFrame, setChunkSender, tryDecodeMediaChunk } from '../src/protocol/media-header.ts';
import { Reassembler } from '../src/protocol/reassembly.ts';
import { STREAM_ID } from '../src/protocol/vocabulary.ts';
import { emit } from './_lib.ts';

const BUDGET_MS = Number(process.env['BENCH_MS'] ?? 2500);
const CASES = [
  { name: 'audio', kind: 'audio' as const, codec: 'opus' as const, bytes: 160, keyframe: true },
  { name: 'video-delta', kind: 'video' as const, codec: 'vp8' as const, bytes: 12_000, keyframe: false },
  { name: 'video-key', kind: 'video' as const, codec: 'vp8' as const, bytes: 60_000, keyframe: true },
];
const SLOTS = [
  { participantId: '7', slot: 1 },
  { participantId: '9', slot: 2 },
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function keys(selfId: string, slot: number, mk: Uint8Array): FrameKeys {
  const k = new FrameKeys({ meetingId: 'm', instanceId: 'i', selfId, label: 'roomd-e2ee v1 media key' });
  k.setSlots(SLOTS);
  k.setSelfSlot(slot);
  k.install(1, mk, 0, 60_000);
  k.setSendEpoch(1);
  return k;
}

function measure(c: (typeof CASES)[number]): { path: number; baseline: number } {
  const mk = new Uint8Array(randomBytes(32));
  const clock = new FakeClock();
  const data = new Uint8Array(randomBytes(c.bytes));
  // The path: every frame a keyframe for video too, so the receiver's ordering never waits.
  const pathTx = keys('7', 1, mk);
  const pathRx = keys('9', 2, mk);
  let delivered = 0;
  const rx = new StreamReceiver({
    clock,
    keys: () => pathRx,
    onFrame: () => delivered++,
    requestKeyframe: () => {},
  });
  const tx = new StreamSender({
    kind: c.kind,
    keys: () => pathTx,
    out: {
      mediaOpen: true,
      sendChunks: (chunks) => {
        for (const ch of chunks) {
          setChunkSender(ch, 7);
          rx.push(ch);
        }
        return true;
      },
    },
  });
  const path = () => tx.send({ codec: c.codec, captureTs: clock.now(), data }, true);
  // The baseline: the same primitives by hand.
  const baseTx = keys('7', 1, mk);
  const baseRx = keys('9', 2, mk);
  const reassembler = new Reassembler();
  let n = 0;
  const baseline = () => {
    const meta = frameMetadata(c.kind, STREAM_ID[c.kind], true, n);
    const sealed = baseTx.seal(c.kind, packFrame({ codec: c.codec, captureTs: 0, data }), meta);
    for (const ch of chunkFrame(sealed, {
      kind: c.kind,
      streamId: STREAM_ID[c.kind],
      keyframe: true,
      frameNumber: n,
    })) {
      setChunkSender(ch, 7);
      const d = tryDecodeMediaChunk(ch);
      if (!d.ok) throw d.error;
      const f = reassembler.push(d.chunk, 0);
      if (f !== undefined) unpackFrame(baseRx.openAs('7', c.kind, f.data, meta, 0).payload);
    }
    n++;
  };
  for (let i = 0; i < 300; i++) {
    path();
    baseline();
  }
  const tp: number[] = [];
  const tb: number[] = [];
  const start = performance.now();
  for (let i = 0; performance.now() - start < BUDGET_MS; i++) {
    const first = i % 2 === 0 ? path : baseline;
    const second = i % 2 === 0 ? baseline : path;
    const a = performance.now();
    first();
    const b = performance.now();
    second();
    const e = performance.now();
    (i % 2 === 0 ? tp : tb).push(b - a);
    (i % 2 === 0 ? tb : tp).push(e - b);
  }
  if (delivered < tp.length) throw new Error(`the path delivered ${delivered} of ${tp.length} frames`);
  return { path: median(tp) * 1000, baseline: median(tb) * 1000 };
}

for (const c of CASES) {
  const r = measure(c);
  emit({
    name: `stream-path-${c.name}`,
    params: { bytes: c.bytes, budgetMs: BUDGET_MS, stat: 'median per frame, send + receive' },
    value: Math.round(r.path * 10) / 10,
    unit: 'µs',
    baseline: Math.round(r.baseline * 10) / 10,
    ratio: Math.round((r.path / r.baseline) * 100) / 100,
  });
}
