// The pipe's batching and framing (docs/decisions/0013-media-worker.md §Cost): frames of one turn
// leave in one write, a batch is bounded, a written batch is never overwritten while the pipe still
// holds it, and the reader finds the same frames however the stream is cut.
import { describe, expect, it } from 'vitest';
import { batchedWriter, MAX_BATCH_BYTES } from '../../../src/transport/worker-process.ts';
import { encodeFromWorker, FrameReader, MAX_FRAME_BODY } from '../../../src/transport/worker-protocol.ts';

function pipe(pending: () => number) {
  const writes: Uint8Array[] = [];
  const snapshots: Uint8Array[] = [];
  return {
    writes,
    snapshots,
    write(bytes: Uint8Array) {
      writes.push(bytes);
      snapshots.push(bytes.slice());
    },
    get writableLength() {
      return pending();
    },
  };
}

const frame = (n: number, size = 1200) =>
  encodeFromWorker({ type: 'message', ch: 1, data: new Uint8Array(size).fill(n) });

describe('batchedWriter', () => {
  it('writes the frames of one turn once, at the end of the turn, in order', () => {
    const p = pipe(() => 0);
    const turns: (() => void)[] = [];
    const write = batchedWriter(p, (f) => turns.push(f));
    const frames = [frame(1), frame(2), frame(3)];
    for (const f of frames) write(f);
    expect(p.writes).toEqual([]);
    expect(turns).toHaveLength(1);
    turns.shift()!();
    expect(p.writes).toHaveLength(1);
    expect(Buffer.from(p.writes[0]!)).toEqual(Buffer.concat(frames));
  });

  it('writes at once when a turn gathers MAX_BATCH_BYTES, so a batch stays bounded', () => {
    const p = pipe(() => 0);
    const turns: (() => void)[] = [];
    const write = batchedWriter(p, (f) => turns.push(f));
    const big = frame(9, MAX_FRAME_BODY - 6);
    let written = 0;
    for (let i = 0; i < 10; i++) {
      write(big);
      written += big.byteLength;
    }
    for (const w of p.writes) expect(w.byteLength).toBeLessThan(MAX_BATCH_BYTES + big.byteLength);
    while (turns.length > 0) turns.shift()!();
    expect(p.writes.reduce((n, w) => n + w.byteLength, 0)).toBe(written);
  });

  it('never overwrites a batch the pipe still holds; reuses it once the pipe took it whole', () => {
    let pending = 1; // the pipe is full: every write waits in the socket's queue
    const p = pipe(() => pending);
    const turns: (() => void)[] = [];
    const write = batchedWriter(p, (f) => turns.push(f));
    for (let turn = 0; turn < 200; turn++) {
      write(frame(turn % 256));
      write(frame((turn + 1) % 256));
      turns.shift()!();
    }
    // Every batch handed to the pipe still holds what it held when written.
    for (const [i, w] of p.writes.entries()) expect(Buffer.from(w)).toEqual(Buffer.from(p.snapshots[i]!));
    pending = 0;
    write(frame(1));
    turns.shift()!();
    write(frame(2));
    turns.shift()!();
    const [a, b] = p.writes.slice(-2);
    expect(b!.buffer).toBe(a!.buffer); // the same batch buffer, from its start again
    expect(b!.byteOffset).toBe(0);
  });
});

describe('FrameReader', () => {
  it('finds the same frames however the stream is cut, holding one frame at most', () => {
    const sizes = [1, 7, 1200, 3, MAX_FRAME_BODY - 6, 60];
    const frames = sizes.map((s, i) => frame(i, s));
    const stream = Buffer.concat(frames);
    const want = frames.map((f) => Buffer.from(f.subarray(4)));
    for (const cut of [1, 2, 3, 4, 5, 1199, 1210, 4096, 65_536, stream.byteLength]) {
      const r = new FrameReader();
      const got: Buffer[] = [];
      for (let off = 0; off < stream.byteLength; off += cut) {
        const { bodies, error } = r.push(stream.subarray(off, off + cut));
        expect(error).toBeNull();
        for (const b of bodies) got.push(Buffer.from(b));
      }
      expect(got).toEqual(want);
    }
  });

  it('breaks on a length over the limit even when its prefix is split across chunks', () => {
    const r = new FrameReader();
    const bad = Buffer.alloc(4);
    bad.writeUInt32BE(MAX_FRAME_BODY + 1);
    expect(r.push(bad.subarray(0, 2)).error).toBeNull();
    expect(r.push(bad.subarray(2)).error?.code).toBe('transport.worker_message_invalid');
    expect(r.broken).toBe(true);
    expect(r.push(frame(1)).bodies).toEqual([]);
  });
});
