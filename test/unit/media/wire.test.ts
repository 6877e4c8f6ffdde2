/** Chunking, reassembly with ordering, gap → drop-until-keyframe + rate-limited keyframe requests. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { packFrame, unpackFrame } from '../../../src/media/envelope.ts';
import { MediaReceiver, type ReceivedFrame, type StreamKey } from '../../../src/media/receiver.ts';
import { StreamSender } from '../../../src/media/sender.ts';
import { encodeMediaChunk, MAX_CHUNK_BYTES, setChunkSender } from '../../../src/protocol/index.ts';

function harness(options: { reorderWindowMs?: number; keyframeRequestIntervalMs?: number } = {}) {
  const clock = new FakeClock();
  const frames: ReceivedFrame[] = [];
  const requests: StreamKey[] = [];
  const rx = new MediaReceiver({
    clock,
    onFrame: (f) => frames.push(f),
    onKeyframeRequest: (k) => requests.push(k),
    ...options,
  });
  const tx = new StreamSender({ kind: 'video', streamId: 0 });
  /** Send frame i (keyframe every `gop`), returning its chunks stamped with sender 7. */
  const make = (size: number, key: boolean): Uint8Array[] => {
    const chunks = tx.chunk(new Uint8Array(size).fill(tx.nextFrameNumber & 0xff), key);
    for (const c of chunks) setChunkSender(c, 7);
    return chunks;
  };
  return { clock, frames, requests, rx, tx, make };
}

describe('StreamSender', () => {
  it('cuts frames into ≤ 16 KiB chunks and numbers them', () => {
    const { tx, make } = harness();
    const chunks = make(40_000, true);
    expect(chunks).toHaveLength(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    expect(make(10, false)).toHaveLength(1);
    expect(tx.nextFrameNumber).toBe(2);
    expect(tx.stats.snapshot()).toMatchObject({ framesSent: 2, bytesSent: 40_010, keyframes: 1 });
  });
});

describe('MediaReceiver', () => {
  it('reassembles out-of-order chunks and delivers frames in order', () => {
    const { rx, frames, make } = harness();
    const f0 = make(20_000, true);
    const f1 = make(20_000, false);
    for (const c of [f1[1]!, f0[1]!, f1[0]!, f0[0]!]) rx.push(c);
    expect(frames.map((f) => [f.frameNumber, f.data.length, f.sender])).toEqual([
      [0, 20_000, 7],
      [1, 20_000, 7],
    ]);
    expect(frames[1]!.data[0]).toBe(1);
    expect(rx.stats({ sender: 7, kind: 'video', streamId: 0 }).snapshot()).toMatchObject({
      framesReceived: 2,
      framesLost: 0,
    });
  });

  it('waits for a keyframe at the start and asks for one once per interval', () => {
    const { rx, frames, requests, clock, make } = harness({ keyframeRequestIntervalMs: 1000 });
    make(10, true); // never arrives
    for (let i = 0; i < 5; i++) {
      rx.push(make(10, false)[0]!);
      clock.advance(100);
    }
    expect(frames).toHaveLength(0);
    expect(requests).toEqual([{ sender: 7, kind: 'video', streamId: 0 }]);
    clock.advance(1000);
    rx.push(make(10, false)[0]!);
    expect(requests).toHaveLength(2);
    rx.push(make(10, true)[0]!);
    rx.push(make(10, false)[0]!);
    expect(frames.map((f) => f.frameNumber)).toEqual([7, 8]);
  });

  it('after a lost chunk drops until the next keyframe, then recovers', () => {
    const { rx, frames, requests, clock, make } = harness({ reorderWindowMs: 50 });
    rx.push(make(10, true)[0]!); // 0
    make(30_000, false); // 1: lost
    rx.push(make(10, false)[0]!); // 2: held, waiting for 1
    rx.push(make(10, false)[0]!); // 3
    expect(frames.map((f) => f.frameNumber)).toEqual([0]);
    clock.advance(50);
    expect(requests).toHaveLength(1);
    rx.push(make(10, false)[0]!); // 4: discarded
    for (const c of make(20_000, true)) rx.push(c); // 5: keyframe
    rx.push(make(10, false)[0]!); // 6
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 5, 6]);
    const s = rx.stats({ sender: 7, kind: 'video', streamId: 0 }).snapshot();
    expect(s).toMatchObject({ framesLost: 1, framesDiscarded: 3, keyframeRequests: 1, framesReceived: 3 });
    expect(clock.pending).toBe(0);
  });

  it('fills a short reorder gap without loss', () => {
    const { rx, frames, clock, make } = harness({ reorderWindowMs: 50 });
    rx.push(make(10, true)[0]!);
    const late = make(10, false)[0]!;
    rx.push(make(10, false)[0]!);
    clock.advance(20);
    rx.push(late);
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 1, 2]);
    clock.advance(100);
    rx.push(late);
    expect(rx.stats({ sender: 7, kind: 'video', streamId: 0 }).snapshot()).toMatchObject({
      framesLost: 0,
      framesLate: 1,
    });
  });

  it('resumes at a held keyframe after a gap', () => {
    const { rx, frames, requests, clock, make } = harness({ reorderWindowMs: 50 });
    rx.push(make(10, true)[0]!); // 0
    make(10, false); // 1 lost
    rx.push(make(10, true)[0]!); // 2 keyframe, held
    rx.push(make(10, false)[0]!); // 3
    clock.advance(60);
    expect(frames.map((f) => f.frameNumber)).toEqual([0, 2, 3]);
    expect(requests).toHaveLength(0);
  });

  it('passes audio straight through and counts malformed chunks', () => {
    const { rx, frames } = harness();
    const audio = new StreamSender({ kind: 'audio', streamId: 1 });
    const [a1] = audio.chunk(Uint8Array.of(1), true);
    const [a0] = [audio.chunk(Uint8Array.of(2), true)[0]!];
    rx.push(a0!);
    rx.push(a1!);
    expect(frames.map((f) => [f.kind, f.frameNumber])).toEqual([
      ['audio', 1],
      ['audio', 0],
    ]);
    rx.push(Uint8Array.of(9, 9, 9));
    expect(rx.malformedChunks).toBe(1);
    const huge = encodeMediaChunk(
      {
        kind: 'video',
        streamId: 0,
        keyframe: true,
        sender: 1,
        frameNumber: 0,
        chunkIndex: 0,
        chunkCount: 60_000,
      },
      Uint8Array.of(1),
    );
    rx.push(huge);
    expect(rx.malformedChunks).toBe(1);
    expect(rx.refusedChunks).toBe(1);
  });

  it('delivers every frame exactly once and in order whatever the chunk order (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 1, max: 40_000 }),
            fc.integer({ min: 0, max: 4 }).map((v) => v === 0),
          ),
          { minLength: 1, maxLength: 12 },
        ),
        fc.infiniteStream(fc.nat()),
        (specs, rand) => {
          const { rx, frames, make } = harness();
          const all = specs.flatMap(([size, key], i) => make(size, i === 0 || key));
          const it = rand[Symbol.iterator]();
          for (let i = all.length - 1; i > 0; i--) {
            const j = it.next().value % (i + 1);
            [all[i], all[j]] = [all[j]!, all[i]!];
          }
          for (const c of all) rx.push(c);
          const got = frames.map((f) => f.frameNumber);
          if (specs.slice(1).every(([, key]) => !key)) expect(got).toEqual(specs.map((_, i) => i));
          // With later keyframes the receiver may start at one that completes first; never out of order.
          for (let i = 1; i < got.length; i++) expect(got[i]).toBe(got[i - 1]! + 1);
          expect(got[got.length - 1]).toBe(specs.length - 1);
          for (const f of frames) expect(f.data.length).toBe(specs[f.frameNumber]![0]);
          rx.close();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('survives random messages (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (msgs) => {
        const { rx } = harness();
        for (const m of msgs) {
          if (m.length >= 16) m[0] = 1;
          rx.push(m);
        }
        rx.close();
      }),
      { numRuns: 6_000 },
    );
  });
});

describe('frame envelope', () => {
  it('round-trips codec, capture time and data', () => {
    const packed = packFrame({ codec: 'opus', captureTs: 1_764_000_000_123.5, data: Uint8Array.of(1, 2, 3) });
    expect(unpackFrame(packed)).toEqual({
      codec: 'opus',
      kind: 'audio',
      captureTs: 1_764_000_000_123.5,
      data: Uint8Array.of(1, 2, 3),
    });
    expect(() => unpackFrame(Uint8Array.of(1, 9, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(
      expect.objectContaining({ code: 'media.parse_failed' }),
    );
    expect(() => unpackFrame(Uint8Array.of(2))).toThrow(
      expect.objectContaining({ code: 'media.parse_failed' }),
    );
  });
});
