/**
 * The stream path without encryption (identity frame keys): chunking, reassembly with ordering,
 * gap → drop-until-keyframe + rate-limited keyframe requests, and the frame envelope
 * (docs/protocol.md "Media chunks", "Frame envelope (inside SFrame)").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { ENVELOPE_HEADER_BYTES, packFrame, unpackFrame } from '../../../src/media/envelope.ts';
import { type ReceivedFrame, type StreamKey, StreamReceiver } from '../../../src/media/stream/receiver.ts';
import { StreamSender } from '../../../src/media/stream/sender.ts';
import { encodeMediaChunk, MAX_CHUNK_BYTES, setChunkSender } from '../../../src/protocol/index.ts';
import type { StreamKind } from '../../../src/protocol/vocabulary.ts';
import { chunkSink, plainKeys } from '../../support/stream-keys.ts';

function harness(options: { reorderWindowMs?: number; keyframeRequestIntervalMs?: number } = {}) {
  const clock = new FakeClock();
  const frames: ReceivedFrame[] = [];
  const requests: StreamKey[] = [];
  const keys = plainKeys();
  const rx = new StreamReceiver({
    clock,
    keys: () => keys,
    onFrame: (f) => frames.push(f),
    requestKeyframe: (k) => requests.push(k),
    ...options,
  });
  /** A sender of `kind` whose chunks the relay stamps with sender 7. */
  const sender = (kind: StreamKind) => {
    const out = chunkSink(7, setChunkSender);
    const tx = new StreamSender({ kind, keys: () => keys, out });
    /** Send the next frame (bytes filled with its frame number), returning its chunks. */
    const make = (size: number, key: boolean): Uint8Array[] => {
      const data = new Uint8Array(size).fill(tx.nextFrameNumber & 0xff);
      const codec = kind === 'audio' ? 'opus' : kind === 'data' ? 'control' : 'vp8';
      expect(tx.send({ codec, captureTs: clock.now(), data }, key)).toBe('sent');
      return out.wire.splice(0);
    };
    return { tx, make };
  };
  const { tx, make } = sender('video');
  return { clock, frames, requests, rx, tx, make, sender };
}

const VIDEO_7 = { sender: 7, kind: 'video' } as const;

describe('StreamSender', () => {
  it('cuts frames into ≤ 16 KiB chunks and numbers them', () => {
    const { tx, make } = harness();
    const chunks = make(40_000, true);
    expect(chunks).toHaveLength(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    expect(make(10, false)).toHaveLength(1);
    expect(tx.nextFrameNumber).toBe(2);
    // The envelope travels inside the (here identity-)sealed frame.
    expect(tx.stats.snapshot()).toMatchObject({
      framesSent: 2,
      bytesSent: 40_010 + 2 * ENVELOPE_HEADER_BYTES,
      keyframes: 1,
    });
  });
});

describe('StreamReceiver ordering', () => {
  it('reassembles out-of-order chunks and delivers frames in order', () => {
    const { rx, frames, make } = harness();
    const f0 = make(20_000, true);
    const f1 = make(20_000, false);
    for (const c of [f1[1]!, f0[1]!, f1[0]!, f0[0]!]) rx.push(c);
    expect(frames.map((f) => [f.frameNumber, f.data.length, f.participantId])).toEqual([
      [0, 20_000, '7'],
      [1, 20_000, '7'],
    ]);
    expect(frames[1]!.data[0]).toBe(1);
    expect(rx.stats(VIDEO_7).snapshot()).toMatchObject({ framesReceived: 2, framesLost: 0 });
  });

  it('waits for a keyframe at the start and asks for one once per interval', () => {
    const { rx, frames, requests, clock, make } = harness({ keyframeRequestIntervalMs: 1000 });
    make(10, true); // never arrives
    for (let i = 0; i < 5; i++) {
      rx.push(make(10, false)[0]!);
      clock.advance(100);
    }
    expect(frames).toHaveLength(0);
    expect(requests).toEqual([VIDEO_7]);
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
    const s = rx.stats(VIDEO_7).snapshot();
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
    expect(rx.stats(VIDEO_7).snapshot()).toMatchObject({ framesLost: 0, framesLate: 1 });
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

  it('passes audio straight through and counts malformed and refused chunks', () => {
    const { rx, frames, sender } = harness();
    const audio = sender('audio');
    const [a0] = audio.make(1, true);
    const [a1] = audio.make(1, true);
    rx.push(a1!);
    rx.push(a0!);
    expect(frames.map((f) => [f.kind, f.codec, f.frameNumber])).toEqual([
      ['audio', 'opus', 1],
      ['audio', 'opus', 0],
    ]);
    rx.push(Uint8Array.of(9, 9, 9));
    expect(rx.malformedChunks).toBe(1);
    const huge = encodeMediaChunk(
      {
        kind: 'video',
        streamId: 1,
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
    expect(rx.pendingBytes).toBe(0);
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
          expect(rx.decryptFailures.video).toBe(0);
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
        // Nothing reached the last-resort guard: every bad input took a counted, typed path.
        expect(rx.guardTrips).toBe(0);
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
    const control = packFrame({ codec: 'control', captureTs: 5, data: Uint8Array.of(4) });
    expect(unpackFrame(control)).toMatchObject({ codec: 'control', kind: 'data', captureTs: 5 });
    expect(() => unpackFrame(Uint8Array.of(1, 9, 0, 0, 0, 0, 0, 0, 0, 0))).toThrow(
      expect.objectContaining({ code: 'media.parse_failed' }),
    );
    expect(() => unpackFrame(Uint8Array.of(2))).toThrow(
      expect.objectContaining({ code: 'media.parse_failed' }),
    );
  });
});
