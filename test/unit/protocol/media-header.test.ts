// Media chunk header and reassembly: docs/protocol.md "# Wire protocol" §Media chunks.
import { describe, expect, it } from 'vitest';
import {
  chunkFrame,
  decodeMediaChunk,
  decodeMediaHeader,
  encodeMediaChunk,
  MAX_CHUNK_BYTES,
  MEDIA_HEADER_BYTES,
  Reassembler,
  setChunkSender,
} from '../../../src/protocol/index.ts';

describe('media chunk header', () => {
  it('encodes the documented byte layout', () => {
    const bytes = encodeMediaChunk(
      {
        kind: 'video',
        streamId: 2,
        keyframe: true,
        sender: 0x01020304,
        frameNumber: 0x0a0b0c0d,
        chunkIndex: 1,
        chunkCount: 3,
      },
      new Uint8Array([0xaa, 0xbb]),
    );
    expect(Buffer.from(bytes).toString('hex')).toBe(
      '0101020101020304' + '0a0b0c0d' + '0001' + '0003' + 'aabb',
    );
    expect(decodeMediaHeader(bytes)).toEqual({
      kind: 'video',
      streamId: 2,
      keyframe: true,
      sender: 0x01020304,
      frameNumber: 0x0a0b0c0d,
      chunkIndex: 1,
      chunkCount: 3,
    });
  });

  it.each([
    ['too short', new Uint8Array(15)],
    ['unknown version', Uint8Array.from([9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
    ['unknown kind', Uint8Array.from([1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
    ['unknown flag', Uint8Array.from([1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
    ['zero chunk count', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['index past count', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2])],
    ['over 16 KiB', new Uint8Array(MAX_CHUNK_BYTES + 1).fill(1)],
  ])('rejects a chunk that is %s', (_name, bytes) => {
    expect(() => decodeMediaHeader(bytes)).toThrow();
  });

  it('lets the relay set the sender in place', () => {
    const [chunk] = chunkFrame(new Uint8Array(10), {
      kind: 'audio',
      streamId: 0,
      keyframe: false,
      frameNumber: 1,
    });
    setChunkSender(chunk!, 42);
    expect(decodeMediaHeader(chunk!).sender).toBe(42);
  });
});

describe('chunkFrame + Reassembler', () => {
  it('cuts a 60000-byte frame into chunks of at most 16 KiB and puts it back together in any order', () => {
    const frame = new Uint8Array(60_000).map((_, i) => i % 251);
    const chunks = chunkFrame(frame, { kind: 'video', streamId: 0, keyframe: true, frameNumber: 9 });
    expect(chunks.length).toBe(Math.ceil(60_000 / (MAX_CHUNK_BYTES - MEDIA_HEADER_BYTES)));
    for (const c of chunks) expect(c.byteLength).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
    const r = new Reassembler();
    const order = [...chunks].reverse();
    let out: ReturnType<Reassembler['push']>;
    for (const c of order) out = r.push(decodeMediaChunk(c), 0) ?? out;
    expect(Buffer.from(out!.data).equals(Buffer.from(frame))).toBe(true);
    expect(out!.keyframe).toBe(true);
    expect(out!.frameNumber).toBe(9);
  });

  it('ignores duplicate chunks and drops frames that never complete', () => {
    const chunks = chunkFrame(new Uint8Array(40_000), {
      kind: 'video',
      streamId: 0,
      keyframe: false,
      frameNumber: 1,
    });
    const r = new Reassembler({ timeoutMs: 100 });
    expect(r.push(decodeMediaChunk(chunks[0]!), 0)).toBeUndefined();
    expect(r.push(decodeMediaChunk(chunks[0]!), 1)).toBeUndefined();
    expect(r.pendingFrames).toBe(1);
    expect(r.expire(500)).toBe(1);
    expect(r.dropped).toBe(1);
    expect(r.pendingFrames).toBe(0);
  });

  it('evicts the oldest frame when too many are pending', () => {
    const r = new Reassembler({ maxPendingFrames: 2 });
    for (let f = 0; f < 3; f++) {
      const [first] = chunkFrame(new Uint8Array(20_000), {
        kind: 'video',
        streamId: 0,
        keyframe: false,
        frameNumber: f,
      });
      r.push(decodeMediaChunk(first!), f);
    }
    expect(r.pendingFrames).toBe(2);
    expect(r.dropped).toBe(1);
  });

  it('refuses to chunk an absurdly large frame', () => {
    expect(() =>
      chunkFrame(new Uint8Array(5 * 1024 * 1024), {
        kind: 'video',
        streamId: 0,
        keyframe: false,
        frameNumber: 0,
      }),
    ).toThrow();
  });
});
