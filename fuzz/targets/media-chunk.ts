/**
 * Media chunks off the data channel (src/protocol/media-header.ts, src/protocol/reassembly.ts,
 * docs/protocol.md "# Wire protocol" §Media chunks): the 16-byte routing header and reassembly of
 * chunks that arrive in any order, twice, or never. decodeMediaChunk returns or throws protocol.*;
 * the Reassembler never throws. Invariants: a decoded header is in range and re-encodes to the same
 * bytes; the reassembler stays within its frame and byte budgets; frames cut by chunkFrame, shuffled
 * and duplicated, come back exactly.
 */
import fc from 'fast-check';
import { MAX_CHUNK_BYTES } from '../../src/protocol/limits.ts';
import {
  chunkFrame,
  decodeMediaChunk,
  encodeMediaChunk,
  MAX_CHUNK_PAYLOAD,
  MEDIA_HEADER_BYTES,
  type MediaChunk,
  setChunkSender,
} from '../../src/protocol/media-header.ts';
import { MAX_CHUNKS_PER_FRAME, Reassembler, type ReassemblerOptions } from '../../src/protocol/reassembly.ts';
import { STREAM_KINDS, type StreamKind } from '../../src/protocol/vocabulary.ts';
import { mutatedBytes } from '../lib/mutate.ts';
import { type FuzzTarget, invariant, typed } from '../lib/target.ts';

interface SentFrame {
  readonly sender: number;
  readonly kind: StreamKind;
  readonly streamId: number;
  readonly keyframe: boolean;
  readonly data: Uint8Array;
}

type Input =
  /** Frames cut into chunks of `chunkBytes`, delivered in the order of `order`, some twice. */
  | {
      readonly frames: readonly SentFrame[];
      readonly chunkBytes: number;
      readonly order: readonly number[];
      readonly dup: readonly number[];
    }
  /** Arbitrary chunks at arbitrary times. */
  | { readonly steps: readonly { readonly chunk: Uint8Array; readonly dt: number }[] };

const OPTIONS: ReassemblerOptions = {
  timeoutMs: 1000,
  maxPendingFrames: 8,
  maxPendingBytes: 64 * 1024,
  maxFrameBytes: 48 * 1024,
  perKind: { data: { maxChunksPerFrame: 2, maxFrameBytes: 2048 } },
};

function rawChunk(h: {
  version: number;
  kind: number;
  streamId: number;
  flags: number;
  sender: number;
  frameNumber: number;
  chunkIndex: number;
  chunkCount: number;
  payload: Uint8Array;
}): Uint8Array {
  const out = new Uint8Array(MEDIA_HEADER_BYTES + h.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, h.version);
  dv.setUint8(1, h.kind);
  dv.setUint8(2, h.streamId);
  dv.setUint8(3, h.flags);
  dv.setUint32(4, h.sender);
  dv.setUint32(8, h.frameNumber);
  dv.setUint16(12, h.chunkIndex);
  dv.setUint16(14, h.chunkCount);
  out.set(h.payload, MEDIA_HEADER_BYTES);
  return out;
}

const headerFields = fc.record({
  version: fc.constantFrom(1, 1, 1, 0, 2, 255),
  kind: fc.oneof(fc.nat(3), fc.constantFrom(4, 255)),
  streamId: fc.constantFrom(0, 1, 2, 255),
  flags: fc.constantFrom(0, 1, 0, 1, 2, 0x80),
  sender: fc.constantFrom(0, 1, 2, 0xffffffff),
  frameNumber: fc.constantFrom(0, 1, 2, 0xffffffff),
  chunkIndex: fc.oneof(fc.nat(4), fc.constantFrom(0xfffe, 0xffff)),
  chunkCount: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(257, 0xffff)),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom(MAX_CHUNK_PAYLOAD, MAX_CHUNK_PAYLOAD + 1, 4096).map((n) => new Uint8Array(n).fill(7)),
  ),
});

const dt = fc.oneof(fc.constant(0), fc.constantFrom(1, 999, 1000, 1001, 5000, -5, 2 ** 40));

function validSeeds(): Uint8Array[] {
  const frame = Uint8Array.from({ length: 100 }, (_, i) => i);
  const chunks = chunkFrame(frame, { kind: 'video', streamId: 1, keyframe: true, frameNumber: 9 }, 40);
  for (const c of chunks) setChunkSender(c, 5);
  return [
    ...chunks,
    encodeMediaChunk(
      { kind: 'data', streamId: 2, keyframe: true, sender: 3, frameNumber: 1, chunkIndex: 0, chunkCount: 1 },
      Uint8Array.of(1, 2, 3),
    ),
  ];
}

function checkHeader(bytes: Uint8Array, c: MediaChunk): void {
  const h = c.header;
  invariant(STREAM_KINDS.includes(h.kind), 'unknown kind decoded');
  invariant(h.streamId >= 0 && h.streamId <= 255, 'stream id out of range');
  invariant(
    h.chunkCount >= 1 && h.chunkIndex < h.chunkCount && h.chunkCount <= 0xffff,
    'chunk index or count out of range',
  );
  invariant(Number.isInteger(h.sender) && h.sender >= 0 && h.sender <= 0xffffffff, 'sender out of range');
  invariant(bytes.length <= MAX_CHUNK_BYTES, 'chunk over 16 KiB accepted');
  invariant(c.payload.length === bytes.length - MEDIA_HEADER_BYTES, 'payload length wrong');
  const again = encodeMediaChunk(h, c.payload);
  invariant(Buffer.from(again).equals(bytes), 'a decoded chunk does not re-encode to the same bytes');
}

function checkBudget(r: Reassembler): void {
  invariant(r.pendingFrames <= OPTIONS.maxPendingFrames!, `${r.pendingFrames} frames pending`);
  invariant(
    r.pendingBytes >= 0 && r.pendingBytes <= OPTIONS.maxPendingBytes!,
    `${r.pendingBytes} bytes pending`,
  );
}

export const mediaChunk: FuzzTarget<Input> = {
  name: 'media-chunk',
  about:
    'src/protocol/media-header.ts decodeMediaChunk (protocol.*) + src/protocol/reassembly.ts Reassembler (total)',
  arbitrary: () => {
    const seeds = validSeeds();
    const chunkArb = fc.oneof(
      { weight: 3, arbitrary: headerFields.map(rawChunk) },
      { weight: 3, arbitrary: mutatedBytes(seeds, { maxLength: MAX_CHUNK_BYTES + 64 }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    );
    const frame: fc.Arbitrary<SentFrame> = fc.record({
      sender: fc.constantFrom(1, 2, 0xffffffff),
      kind: fc.constantFrom(...STREAM_KINDS),
      streamId: fc.nat(3),
      keyframe: fc.boolean(),
      data: fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(1024, 9000).map((n) => new Uint8Array(n).fill(3)),
      ),
    });
    return fc.oneof(
      {
        weight: 1,
        arbitrary: fc.record({
          frames: fc.array(frame, { minLength: 1, maxLength: 6 }),
          chunkBytes: fc.constantFrom(MEDIA_HEADER_BYTES + 1, MEDIA_HEADER_BYTES + 7, 100, MAX_CHUNK_BYTES),
          order: fc.array(fc.nat(), { maxLength: 64 }),
          dup: fc.array(fc.nat(), { maxLength: 4 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          steps: fc.array(fc.record({ chunk: chunkArb, dt }), { minLength: 1, maxLength: 24 }),
        }),
      },
    );
  },
  run(input) {
    const r = new Reassembler(OPTIONS);
    if ('steps' in input) {
      let now = 0;
      for (const { chunk, dt } of input.steps) {
        now += dt;
        const decoded = typed(['protocol.'], () => decodeMediaChunk(chunk));
        if (!decoded.ok) continue;
        checkHeader(chunk, decoded.value);
        const frame = r.push(decoded.value, now);
        checkBudget(r);
        if (frame !== undefined) {
          const h = decoded.value.header;
          invariant(frame.data.length <= h.chunkCount * MAX_CHUNK_PAYLOAD, 'frame larger than its chunks');
          invariant(frame.data.length <= OPTIONS.maxFrameBytes!, 'frame over the frame cap');
          invariant(frame.sender === h.sender && frame.kind === h.kind, 'frame from a different stream');
        }
      }
      return;
    }
    // Valid frames: every one must come back whole, whatever the order and duplicates.
    const all: { chunk: Uint8Array; frame: number }[] = [];
    // At most about 300 chunks a frame: enough to cross MAX_CHUNKS_PER_FRAME, cheap to run.
    const chunkBytes = (f: SentFrame) =>
      Math.max(input.chunkBytes, MEDIA_HEADER_BYTES + Math.ceil(f.data.length / 300));
    input.frames.forEach((f, i) => {
      const chunks = chunkFrame(
        f.data,
        { kind: f.kind, streamId: f.streamId, keyframe: f.keyframe, frameNumber: i },
        chunkBytes(f),
      );
      for (const c of chunks) {
        setChunkSender(c, f.sender);
        all.push({ chunk: c, frame: i });
      }
    });
    const keys = all.map((_, i) => input.order[i] ?? i);
    const order = all.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
    for (const d of input.dup) order.push(d % all.length);
    const got = new Set<number>();
    for (const i of order) {
      const { chunk } = all[i]!;
      const frame = r.push(decodeMediaChunk(chunk), 0);
      checkBudget(r);
      if (frame === undefined) continue;
      const sent = input.frames[frame.frameNumber];
      invariant(sent !== undefined, 'a frame nobody sent came out');
      invariant(Buffer.from(frame.data).equals(sent.data), 'a reassembled frame differs from the one sent');
      invariant(
        frame.sender === sent.sender && frame.kind === sent.kind && frame.streamId === sent.streamId,
        'a reassembled frame has the wrong routing',
      );
      got.add(frame.frameNumber);
    }
    // A frame over the caps is refused by design (docs/protocol.md §Limits), not lost.
    const capped = (f: SentFrame) =>
      f.data.length > (f.kind === 'data' ? 2048 : OPTIONS.maxFrameBytes!) ||
      Math.max(
        1,
        Math.ceil(f.data.length / (Math.min(chunkBytes(f), MAX_CHUNK_BYTES) - MEDIA_HEADER_BYTES)),
      ) > (f.kind === 'data' ? 2 : MAX_CHUNKS_PER_FRAME);
    const inFlight = input.frames.reduce((n, f) => n + f.data.length, 0);
    if (inFlight <= OPTIONS.maxPendingBytes! && input.frames.length <= OPTIONS.maxPendingFrames!) {
      input.frames.forEach((f, i) => {
        invariant(capped(f) || got.has(i), `frame ${i} (${f.data.length} bytes) was lost`);
      });
    }
  },
  fromBytes: (bytes) => ({ steps: [{ chunk: bytes, dt: 0 }] }),
  seeds: () => {
    const [first, second, third] = validSeeds();
    return [
      {
        note: 'a valid three-chunk frame, in order',
        input: { steps: [first!, second!, third!].map((chunk) => ({ chunk, dt: 0 })) },
      },
      {
        note: 'chunk count 65535 announced by one chunk',
        input: {
          steps: [
            {
              chunk: rawChunk({
                version: 1,
                kind: 1,
                streamId: 0,
                flags: 0,
                sender: 1,
                frameNumber: 0,
                chunkIndex: 0,
                chunkCount: 0xffff,
                payload: new Uint8Array(MAX_CHUNK_PAYLOAD),
              }),
              dt: 0,
            },
          ],
        },
      },
      {
        note: 'a chunk shorter than its header',
        input: { steps: [{ chunk: Uint8Array.of(1, 1, 0, 0), dt: 0 }] },
      },
      {
        note: 'the same frame number with two chunk counts',
        input: {
          steps: [2, 3].map((count) => ({
            chunk: rawChunk({
              version: 1,
              kind: 1,
              streamId: 0,
              flags: 0,
              sender: 1,
              frameNumber: 4,
              chunkIndex: 1,
              chunkCount: count,
              payload: Uint8Array.of(1),
            }),
            dt: 0,
          })),
        },
      },
      {
        note: 'valid frames, shuffled and duplicated',
        input: {
          frames: [
            {
              sender: 1,
              kind: 'video' as const,
              streamId: 1,
              keyframe: true,
              data: new Uint8Array(500).fill(9),
            },
            { sender: 2, kind: 'data' as const, streamId: 2, keyframe: true, data: Uint8Array.of(1, 2, 3) },
          ],
          chunkBytes: 100,
          order: [5, 3, 1, 4, 2, 0, 6],
          dup: [0, 6],
        },
      },
    ];
  },
};
