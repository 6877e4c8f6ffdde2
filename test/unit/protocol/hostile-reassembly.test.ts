// Hostile chunk streams against reassembly (docs/protocol.md "# Wire protocol" §Limits, §Media chunks):
// frames announcing more chunks or bytes than allowed are refused and counted, and what is held
// for incomplete frames stays under a budget whatever a sender announces.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { MediaReceiver } from '../../../src/media/receiver.ts';
import { ControlChannel } from '../../../src/meeting/control.ts';
import type { MeetingSession } from '../../../src/meeting/session.ts';
import {
  decodeMediaChunk,
  encodeMediaChunk,
  MAX_CHUNK_PAYLOAD,
  MAX_CHUNKS_PER_FRAME,
  type MediaChunkHeader,
  Reassembler,
  type StreamKind,
} from '../../../src/protocol/index.ts';

const FULL = new Uint8Array(MAX_CHUNK_PAYLOAD).fill(7);

function chunk(over: Partial<MediaChunkHeader>, payload: Uint8Array = FULL): Uint8Array {
  return encodeMediaChunk(
    {
      kind: 'video',
      streamId: 0,
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
function* flood(kind: StreamKind, frames: number, count: number, streamId = 2): Generator<Uint8Array> {
  for (let f = 0; f < frames; f++)
    for (let i = 0; i < count - 1; i++)
      yield chunk({ kind, streamId, frameNumber: f, chunkIndex: i, chunkCount: count });
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
    for (const c of flood('video', 40, 8, 0)) {
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

describe('ControlChannel under a chunk flood', () => {
  const session = {
    mediaReady: false,
    open: () => {
      throw new Error('no key');
    },
  } as unknown as MeetingSession;

  it('holds nothing of 16 frames x 600 chunks of control data', () => {
    const control = new ControlChannel(session);
    let n = 0;
    for (const c of flood('data', 16, 600)) {
      expect(control.push(c, 0)).toBe(true);
      n++;
      expect(control.pendingBytes).toBe(0);
    }
    expect(control.rejectedChunks).toBe(n);
    expect(control.guardTrips).toBe(0);
  });

  it('refuses control chunks bigger than a control frame can be, and bad headers', () => {
    const control = new ControlChannel(session);
    for (let f = 0; f < 100; f++) control.push(chunk({ kind: 'data', frameNumber: f, chunkCount: 2 }), 0);
    expect(control.pendingBytes).toBe(0);
    expect(control.rejectedChunks).toBe(100);
    const bad = chunk({ kind: 'data' });
    bad[0] = 9; // unknown header version
    expect(control.push(bad, 0)).toBe(true);
    expect(control.rejectedChunks).toBe(101);
  });

  it('keeps at most 16 small incomplete control frames', () => {
    const control = new ControlChannel(session);
    const small = new Uint8Array(1000);
    for (let f = 0; f < 500; f++)
      control.push(chunk({ kind: 'data', frameNumber: f, chunkIndex: 0, chunkCount: 2 }, small), 0);
    expect(control.pendingBytes).toBeLessThanOrEqual(16 * 1000);
    expect(control.rejectedChunks).toBe(0);
  });

  it('drops and counts an unexpected error from its consumer instead of throwing', () => {
    const opening = {
      mediaReady: false,
      open: () => new TextEncoder().encode('{"v":1,"type":"state","muted":true,"cameraOn":true,"seq":1}'),
    } as unknown as MeetingSession;
    const control = new ControlChannel(opening);
    control.onChange(() => {
      throw new TypeError('consumer bug');
    });
    expect(control.push(chunk({ kind: 'data', chunkCount: 1 }, new Uint8Array(40)), 0)).toBe(true);
    expect(control.guardTrips).toBe(1);
    expect(control.remote.get('5')).toEqual({ muted: true, cameraOn: true });
  });
});

describe('MediaReceiver under a chunk flood', () => {
  it('refuses frames announcing more chunks than a 4 MiB frame needs', () => {
    const rx = new MediaReceiver({ clock: new FakeClock(), onFrame: () => {}, onKeyframeRequest: () => {} });
    for (const c of flood('video', 16, 600)) rx.push(c);
    expect(rx.refusedChunks).toBe(16 * 599);
    expect(rx.pendingBytes).toBe(0);
  });

  it('holds at most its byte budget for frames that never complete', () => {
    const budget = 2 * 1024 * 1024;
    const rx = new MediaReceiver({
      clock: new FakeClock(),
      onFrame: () => {},
      onKeyframeRequest: () => {},
      maxPendingBytes: budget,
    });
    let peak = 0;
    for (const c of flood('video', 16, MAX_CHUNKS_PER_FRAME, 0)) {
      rx.push(c);
      peak = Math.max(peak, rx.pendingBytes);
    }
    expect(peak).toBeLessThanOrEqual(budget);
    expect(peak).toBeGreaterThan(budget - 2 * MAX_CHUNK_PAYLOAD);
    expect(rx.incompleteFrames).toBeGreaterThan(0);
  });

  it('drops and counts an unexpected error from a frame consumer instead of throwing', () => {
    const rx = new MediaReceiver({
      clock: new FakeClock(),
      onFrame: () => {
        throw new TypeError('consumer bug');
      },
      onKeyframeRequest: () => {},
    });
    expect(() => rx.push(chunk({ kind: 'audio', chunkCount: 1 }, new Uint8Array(10)))).not.toThrow();
    expect(rx.guardTrips).toBe(1);
  });
});
