// Hostile chunk streams against reassembly (docs/protocol.md "# Wire protocol" §Limits, §Media chunks):
// frames announcing more chunks or bytes than allowed are refused and counted, and what is held
// for incomplete frames stays under a budget whatever a sender announces. The `data` stream (control
// messages) has the tightest caps: a frame of at most 2 chunks and 2048 bytes.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { packFrame } from '../../../src/media/envelope.ts';
import {
  MAX_DATA_FRAME_BYTES,
  StreamReceiver,
  type StreamReceiverOptions,
} from '../../../src/media/stream/receiver.ts';
import { ControlChannel } from '../../../src/meeting/control.ts';
import {
  decodeMediaChunk,
  encodeMediaChunk,
  MAX_CHUNK_PAYLOAD,
  MAX_CHUNKS_PER_FRAME,
  type MediaChunkHeader,
  Reassembler,
  STREAM_ID,
  type StreamKind,
} from '../../../src/protocol/index.ts';
import { plainKeys } from '../../support/stream-keys.ts';

const FULL = new Uint8Array(MAX_CHUNK_PAYLOAD).fill(7);

function chunk(over: Partial<MediaChunkHeader>, payload: Uint8Array = FULL): Uint8Array {
  return encodeMediaChunk(
    {
      kind: 'video',
      streamId: STREAM_ID[over.kind ?? 'video'],
      keyframe: false,
      sender: 5,
      frameNumber: 0,
      chunkIndex: 0,
      chunkCount: 2,
      ...over,
    },
    payload,
  );
}

/** The review's attack: `frames` frames of `count` chunks each, never completing (last chunk withheld). */
function* flood(kind: StreamKind, frames: number, count: number): Generator<Uint8Array> {
  for (let f = 0; f < frames; f++)
    for (let i = 0; i < count - 1; i++)
      yield chunk({ kind, frameNumber: f, chunkIndex: i, chunkCount: count });
}

/** A receiver without keys (flood frames never complete) unless the test gives some. */
function receiver(over: Partial<StreamReceiverOptions> = {}): StreamReceiver {
  return new StreamReceiver({
    clock: new FakeClock(),
    keys: () => null,
    onFrame: () => {},
    requestKeyframe: () => {},
    ...over,
  });
}

describe('Reassembler caps', () => {
  it('refuses a chunk whose frame announces more chunks than allowed, holding nothing', () => {
    const r = new Reassembler({ maxChunksPerFrame: 4 });
    expect(r.push(decodeMediaChunk(chunk({ chunkCount: 5 })), 0)).toBeUndefined();
    expect(r.refused).toBe(1);
    expect(r.pendingFrames).toBe(0);
    expect(r.pendingBytes).toBe(0);
    // the default cap is what the largest allowed frame needs
    const d = new Reassembler();
    d.push(decodeMediaChunk(chunk({ chunkCount: MAX_CHUNKS_PER_FRAME })), 0);
    d.push(decodeMediaChunk(chunk({ chunkCount: MAX_CHUNKS_PER_FRAME + 1, frameNumber: 1 })), 0);
    expect(d.refused).toBe(1);
    expect(d.pendingFrames).toBe(1);
  });

  it('gives up a frame whose chunks add up to more bytes than allowed', () => {
    const r = new Reassembler({ maxFrameBytes: 2 * MAX_CHUNK_PAYLOAD });
    for (let i = 0; i < 2; i++) r.push(decodeMediaChunk(chunk({ chunkIndex: i, chunkCount: 3 })), 0);
    expect(r.pendingBytes).toBe(2 * MAX_CHUNK_PAYLOAD);
    expect(r.push(decodeMediaChunk(chunk({ chunkIndex: 2, chunkCount: 3 })), 0)).toBeUndefined();
    expect(r.refused).toBe(1);
    expect(r.dropped).toBe(1);
    expect(r.pendingFrames).toBe(0);
    expect(r.pendingBytes).toBe(0);
    // a single chunk over the cap is refused too
    const small = new Reassembler({ maxFrameBytes: 100 });
    expect(small.push(decodeMediaChunk(chunk({ chunkCount: 1 })), 0)).toBeUndefined();
    expect(small.refused).toBe(1);
  });

  it('applies tighter caps to one stream kind only', () => {
    const r = new Reassembler({ perKind: { data: { maxChunksPerFrame: 2 } } });
    r.push(decodeMediaChunk(chunk({ kind: 'data', chunkCount: 3 })), 0);
    r.push(decodeMediaChunk(chunk({ kind: 'video', chunkCount: 3 })), 0);
    expect(r.refused).toBe(1);
    expect(r.pendingFrames).toBe(1);
  });

  it('keeps all pending frames under the byte budget, giving up the oldest', () => {
    const budget = 10 * MAX_CHUNK_PAYLOAD;
    const r = new Reassembler({ maxPendingBytes: budget, maxPendingFrames: 1000 });
    let peak = 0;
    let now = 0;
    for (const c of flood('video', 40, 8)) {
      r.push(decodeMediaChunk(c), now++);
      peak = Math.max(peak, r.pendingBytes);
    }
    expect(peak).toBeLessThanOrEqual(budget);
    expect(r.dropped).toBeGreaterThan(0);
    // a frame that arrives whole still completes after the flood
    const whole = [0, 1].map((i) => chunk({ frameNumber: 999, chunkIndex: i, chunkCount: 2 }));
    expect(r.push(decodeMediaChunk(whole[0]!), now)).toBeUndefined();
    expect(r.push(decodeMediaChunk(whole[1]!), now)?.frameNumber).toBe(999);
  });
});

describe('the data stream under a chunk flood', () => {
  it('holds nothing of 16 frames x 600 chunks of control data', () => {
    const rx = receiver();
    let n = 0;
    for (const c of flood('data', 16, 600)) {
      rx.push(c);
      n++;
      expect(rx.pendingBytes).toBe(0);
    }
    expect(rx.refusedChunks).toBe(n);
    expect(rx.malformedChunks).toBe(0);
    expect(rx.guardTrips).toBe(0);
  });

  it('refuses data chunks bigger than a control frame can be, and bad headers', () => {
    const rx = receiver();
    for (let f = 0; f < 100; f++) rx.push(chunk({ kind: 'data', frameNumber: f, chunkCount: 2 }));
    expect(rx.pendingBytes).toBe(0);
    expect(rx.refusedChunks).toBe(100);
    // two chunks within the per-chunk size, together over the frame cap: given up
    const half = new Uint8Array(MAX_DATA_FRAME_BYTES / 2 + 1);
    rx.push(chunk({ kind: 'data', frameNumber: 100, chunkIndex: 0, chunkCount: 2 }, half));
    expect(rx.pendingBytes).toBe(half.length);
    rx.push(chunk({ kind: 'data', frameNumber: 100, chunkIndex: 1, chunkCount: 2 }, half));
    expect(rx.refusedChunks).toBe(101);
    expect(rx.pendingBytes).toBe(0);
    const bad = chunk({ kind: 'data' });
    bad[0] = 9; // unknown header version
    rx.push(bad);
    expect(rx.malformedChunks).toBe(1);
    expect(rx.refusedChunks).toBe(101);
  });

  it('keeps a bounded number of small incomplete control frames', () => {
    const maxPendingFrames = 16;
    const rx = receiver({ maxPendingFrames });
    const small = new Uint8Array(1000);
    let peak = 0;
    for (let f = 0; f < 500; f++) {
      rx.push(chunk({ kind: 'data', frameNumber: f, chunkIndex: 0, chunkCount: 2 }, small));
      peak = Math.max(peak, rx.pendingBytes);
    }
    expect(peak).toBe(maxPendingFrames * 1000);
    expect(rx.refusedChunks).toBe(0);
    expect(rx.incompleteFrames).toBe(500 - maxPendingFrames);
  });

  it('drops and counts an unexpected error from the control channel instead of throwing', () => {
    const keys = plainKeys();
    const clock = new FakeClock();
    const control = new ControlChannel(() => true, clock);
    control.onChange(() => {
      throw new TypeError('consumer bug');
    });
    const rx = receiver({
      clock,
      keys: () => keys,
      onFrame: (f) => control.receive(f.participantId, f.data),
    });
    const state = new TextEncoder().encode('{"v":1,"type":"state","muted":true,"cameraOn":true,"seq":1}');
    const frame = packFrame({ codec: 'control', captureTs: 0, data: state });
    expect(() => rx.push(chunk({ kind: 'data', chunkCount: 1 }, frame))).not.toThrow();
    expect(rx.guardTrips).toBe(1);
    expect(control.remote.get('5')).toEqual({ muted: true, cameraOn: true });
  });
});

describe('StreamReceiver under a chunk flood', () => {
  it('refuses frames announcing more chunks than a 4 MiB frame needs', () => {
    const rx = receiver();
    for (const c of flood('video', 16, 600)) rx.push(c);
    expect(rx.refusedChunks).toBe(16 * 599);
    expect(rx.malformedChunks).toBe(0);
    expect(rx.pendingBytes).toBe(0);
  });

  it('holds at most its byte budget for frames that never complete', () => {
    const budget = 2 * 1024 * 1024;
    const rx = receiver({ maxPendingBytes: budget });
    let peak = 0;
    for (const c of flood('video', 16, MAX_CHUNKS_PER_FRAME)) {
      rx.push(c);
      peak = Math.max(peak, rx.pendingBytes);
    }
    expect(peak).toBeLessThanOrEqual(budget);
    expect(peak).toBeGreaterThan(budget - 2 * MAX_CHUNK_PAYLOAD);
    expect(rx.incompleteFrames).toBeGreaterThan(0);
  });

  it('drops and counts an unexpected error from a frame consumer instead of throwing', () => {
    const keys = plainKeys();
    let calls = 0;
    const rx = receiver({
      keys: () => keys,
      onFrame: () => {
        calls++;
        throw new TypeError('consumer bug');
      },
    });
    const frame = packFrame({ codec: 'opus', captureTs: 0, data: new Uint8Array(10) });
    expect(() => rx.push(chunk({ kind: 'audio', chunkCount: 1 }, frame))).not.toThrow();
    expect(calls).toBe(1);
    expect(rx.guardTrips).toBe(1);
  });
});
