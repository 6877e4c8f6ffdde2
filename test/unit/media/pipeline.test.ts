/** Send/receive paths with an injected cipher: metadata binding, decrypt failures → drop to keyframe. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { type DecodedFrame, MediaReceivePath, MediaSendPath } from '../../../src/media/pipeline.ts';
import type { StreamKey } from '../../../src/media/receiver.ts';
import type { MediaFrame } from '../../../src/media/types.ts';
import { setChunkSender } from '../../../src/protocol/media-header.ts';

/** A toy AEAD: XOR with a key byte, then metadata and a checksum appended; open checks both. */
const toy = (k: number) => ({
  seal: (p: Uint8Array, m: Uint8Array) => {
    const out = new Uint8Array(p.length + m.length + 1);
    out.set(p.map((b) => b ^ k));
    out.set(m, p.length);
    out[out.length - 1] = (p.reduce((a, b) => a + b, k) & 0xff) ^ m.reduce((a, b) => a + b, 0);
    return out;
  },
  open: (c: Uint8Array, m: Uint8Array) => {
    const n = c.length - m.length - 1;
    if (n < 0) throw new Error('short');
    const p = c.subarray(0, n).map((b) => b ^ k);
    for (let i = 0; i < m.length; i++) if (c[n + i] !== m[i]) throw new Error('metadata');
    if (c[c.length - 1] !== ((p.reduce((a, b) => a + b, k) & 0xff) ^ m.reduce((a, b) => a + b, 0)))
      throw new Error('tag');
    return p;
  },
});

function setup() {
  const clock = new FakeClock();
  const wire: Uint8Array[] = [];
  const out: DecodedFrame[] = [];
  const requests: StreamKey[] = [];
  let key = 5;
  const tx = new MediaSendPath({
    kind: 'video',
    streamId: 0,
    seal: (p, m) => toy(key).seal(p, m),
    send: (c) => {
      setChunkSender(c, 3);
      wire.push(c);
      return true;
    },
  });
  const rx = new MediaReceivePath({
    clock,
    open: (_sender, c, m) => toy(5).open(c, m),
    onFrame: (f) => out.push(f),
    requestKeyframe: (k) => requests.push(k),
  });
  const frame = (keyframe: boolean, n: number): MediaFrame => ({
    kind: 'video',
    codec: 'vp8',
    keyframe,
    captureTs: clock.now() - 40,
    data: new Uint8Array(n).fill(n & 0xff),
  });
  const deliver = () => {
    for (const c of wire.splice(0)) rx.push(c);
  };
  return { clock, tx, rx, out, requests, wire, frame, deliver, setKey: (k: number) => (key = k) };
}

describe('media send/receive paths', () => {
  it('round-trips frames with codec, capture time and latency', () => {
    const s = setup();
    s.tx.sendFrame(s.frame(true, 20_000));
    s.tx.sendFrame(s.frame(false, 100));
    s.deliver();
    expect(
      s.out.map((f) => [f.frameNumber, f.keyframe, f.codec, f.data.length, f.latencyMs, f.sender]),
    ).toEqual([
      [0, true, 'vp8', 20_000, 40, 3],
      [1, false, 'vp8', 100, 40, 3],
    ]);
    const st = s.rx.stats({ sender: 3, kind: 'video', streamId: 0 }).snapshot();
    expect(st.latency).toMatchObject({ samples: 2, p50Ms: 40 });
    expect(s.tx.stats.snapshot().framesSent).toBe(2);
  });

  it('counts a decrypt failure, drops to the next keyframe and asks for it', () => {
    const s = setup();
    s.tx.sendFrame(s.frame(true, 10));
    s.setKey(9); // sender switched keys; the receiver does not have the new one yet
    s.tx.sendFrame(s.frame(false, 10));
    s.setKey(5);
    s.tx.sendFrame(s.frame(false, 10));
    s.deliver();
    s.clock.advance(200);
    s.tx.sendFrame(s.frame(true, 10));
    s.deliver();
    expect(s.out.map((f) => f.frameNumber)).toEqual([0, 3]);
    expect(s.requests).toEqual([{ sender: 3, kind: 'video', streamId: 0 }]);
    expect(s.rx.stats({ sender: 3, kind: 'video', streamId: 0 }).snapshot()).toMatchObject({
      decryptFailures: 1,
      framesDiscarded: 1,
    });
  });

  it('rejects a frame whose keyframe flag was flipped on the way (metadata is authenticated)', () => {
    const s = setup();
    s.tx.sendFrame(s.frame(false, 10));
    s.wire[0]![3] = 1; // a relay marks a delta frame as a keyframe
    s.deliver();
    expect(s.out).toHaveLength(0);
    expect(s.rx.stats({ sender: 3, kind: 'video', streamId: 0 }).snapshot().decryptFailures).toBe(1);
  });
});
