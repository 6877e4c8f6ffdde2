// Media chunk header and reassembly: docs/protocol.md "# Wire protocol" §Media chunks.
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import {
  AUDIO_LEVEL_SILENT,
  chunkAudioLevel,
  chunkFrame,
  decodeMediaChunk,
  decodeMediaHeader,
  encodeMediaChunk,
  MAX_CHUNK_BYTES,
  MEDIA_HEADER_BYTES,
  Reassembler,
  setChunkSender,
  tryDecodeMediaChunk,
} from '../../../src/protocol/index.ts';

const header = {
  kind: 'audio',
  streamId: 0,
  keyframe: true,
  sender: 7,
  frameNumber: 3,
  chunkIndex: 0,
  chunkCount: 1,
} as const;

const malformed = expect.objectContaining({ code: 'protocol.malformed' });

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
      audioLevel: AUDIO_LEVEL_SILENT,
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
    ['video with an unknown flag', Uint8Array.from([1, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])],
    ['zero chunk count', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['index past count', Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2])],
    ['over 16 KiB', new Uint8Array(MAX_CHUNK_BYTES + 1).fill(1)],
  ])('rejects a chunk that is %s', (_name, bytes) => {
    expect(() => decodeMediaHeader(bytes)).toThrow();
  });

  it.each([
    [0, true, 0x01],
    [0, false, 0x00],
    [42, true, 0x55],
    [42, false, 0x54],
    [127, true, 0xff],
  ])('carries audio level %i (keyframe %s) in flag bits 1-7 and decodes it back', (level, keyframe, byte) => {
    const bytes = encodeMediaChunk({ ...header, keyframe, audioLevel: level }, Uint8Array.of(1));
    expect(bytes[3]).toBe(byte);
    expect(decodeMediaHeader(bytes)).toMatchObject({ kind: 'audio', keyframe, audioLevel: level });
    expect(chunkAudioLevel(bytes)).toBe(level);
    // A decoded header re-encodes to the same bytes.
    expect(encodeMediaChunk(decodeMediaHeader(bytes), Uint8Array.of(1))).toEqual(bytes);
  });

  it('writes 127 ("unknown") for an audio chunk without a level', () => {
    const bytes = encodeMediaChunk(header, new Uint8Array(0));
    expect(bytes[3]).toBe(0xff);
    expect(decodeMediaHeader(bytes).audioLevel).toBe(AUDIO_LEVEL_SILENT);
  });

  it.each([
    ['video', 0x80],
    ['video', 0x03],
    ['screen', 0x02],
    ['data', 0xff],
  ] as const)('rejects a %s chunk with level bits set (flags %i) as malformed', (kind, flags) => {
    const bytes = encodeMediaChunk({ ...header, kind, streamId: 1 }, Uint8Array.of(1));
    bytes[3] = flags;
    const r = tryDecodeMediaChunk(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('protocol.malformed');
    expect(chunkAudioLevel(bytes)).toBeNull();
  });

  it('refuses to encode a level that is not an integer 0..127, or a level on another kind', () => {
    for (const audioLevel of [-1, 128, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => encodeMediaChunk({ ...header, audioLevel }, Uint8Array.of(1))).toThrow(malformed);
    }
    expect(() => encodeMediaChunk({ ...header, kind: 'video', audioLevel: 20 }, Uint8Array.of(1))).toThrow(
      malformed,
    );
    expect(() =>
      chunkFrame(Uint8Array.of(1), {
        kind: 'screen',
        streamId: 2,
        keyframe: true,
        frameNumber: 0,
        audioLevel: 0,
      }),
    ).toThrow(RoomdError);
    // 127 on another kind is "no level": the flag bits stay zero.
    const video = encodeMediaChunk({ ...header, kind: 'video', audioLevel: 127 }, Uint8Array.of(1));
    expect(video[3]).toBe(0x01);
  });

  it('reads the level of an audio chunk alone, and null for anything else, without throwing', () => {
    const audio = encodeMediaChunk({ ...header, audioLevel: 30 }, Uint8Array.of(1));
    expect(chunkAudioLevel(audio)).toBe(30);
    expect(chunkAudioLevel(audio.subarray(0, 15))).toBeNull();
    expect(chunkAudioLevel(new Uint8Array(0))).toBeNull();
    const otherVersion = audio.slice();
    otherVersion[0] = 2;
    expect(chunkAudioLevel(otherVersion)).toBeNull();
    expect(chunkAudioLevel(encodeMediaChunk({ ...header, kind: 'video' }, Uint8Array.of(1)))).toBeNull();
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

  it('puts the level in every chunk of an audio frame and on the assembled frame', () => {
    const chunks = chunkFrame(new Uint8Array(40_000), {
      kind: 'audio',
      streamId: 0,
      keyframe: true,
      frameNumber: 4,
      audioLevel: 23,
    });
    expect(chunks.map((c) => chunkAudioLevel(c))).toEqual([23, 23, 23]);
    const r = new Reassembler();
    let out: ReturnType<Reassembler['push']>;
    for (const c of chunks) out = r.push(decodeMediaChunk(c), 0) ?? out;
    expect(out).toMatchObject({ kind: 'audio', keyframe: true, audioLevel: 23, frameNumber: 4 });
    const [video] = chunkFrame(new Uint8Array(10), {
      kind: 'video',
      streamId: 1,
      keyframe: true,
      frameNumber: 0,
    });
    expect(r.push(decodeMediaChunk(video!), 0)?.audioLevel).toBe(AUDIO_LEVEL_SILENT);
  });

  it('ignores and counts a chunk whose flags or count differ from its frame’s first chunk', () => {
    const meta = { kind: 'audio', streamId: 0, keyframe: true, frameNumber: 1, audioLevel: 10 } as const;
    const chunks = chunkFrame(new Uint8Array(40_000), meta);
    const louder = chunkFrame(new Uint8Array(40_000), { ...meta, audioLevel: 9 });
    const delta = chunkFrame(new Uint8Array(40_000), { ...meta, keyframe: false });
    const fewer = chunkFrame(new Uint8Array(20_000), meta);
    const r = new Reassembler();
    expect(r.push(decodeMediaChunk(chunks[0]!), 0)).toBeUndefined();
    expect(r.push(decodeMediaChunk(louder[1]!), 0)).toBeUndefined();
    expect(r.push(decodeMediaChunk(delta[2]!), 0)).toBeUndefined();
    expect(r.push(decodeMediaChunk(fewer[1]!), 0)).toBeUndefined();
    expect(r.inconsistent).toBe(3);
    expect(r.pendingBytes).toBe(chunks[0]!.byteLength - MEDIA_HEADER_BYTES);
    // The frame completes with its own chunks, at its first chunk's level.
    expect(r.push(decodeMediaChunk(chunks[1]!), 0)).toBeUndefined();
    expect(r.push(decodeMediaChunk(chunks[2]!), 0)).toMatchObject({ audioLevel: 10, keyframe: true });
    expect(r.completed).toBe(1);
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
