/**
 * The web client's players (web/src/media/playback.ts) with fake WebCodecs decoders: a chunk the
 * decoder refuses is counted and the tile waits for a keyframe, asking its sender at most once a
 * second; a codec the browser cannot decode is not asked for again; shared content asks for the
 * sender's `screen` stream; a decoder that falls behind skips to the next keyframe; a tile that
 * goes does not make a decoder for someone who left.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceivedMedia } from '../../../src/meeting/media-link.ts';
import { KEYFRAME_ASK_MS, MAX_DECODE_QUEUE, Playback } from '../../../web/src/media/playback.ts';

class FakeDomError extends Error {
  constructor(name: string) {
    super(name);
    this.name = name;
  }
}

class FakeDecoder {
  static made: FakeDecoder[] = [];
  static throwOnDecode: string | null = null;
  state = 'unconfigured';
  decodeQueueSize = 0;
  readonly decoded: { type: string }[] = [];
  constructor(readonly init: { output: (f: unknown) => void; error: (e: Error) => void }) {
    FakeDecoder.made.push(this);
  }
  configure(): void {
    this.state = 'configured';
  }
  decode(chunk: { type: string }): void {
    if (FakeDecoder.throwOnDecode !== null) throw new FakeDomError(FakeDecoder.throwOnDecode);
    this.decoded.push(chunk);
  }
  close(): void {
    this.state = 'closed';
  }
}

class FakeChunk {
  readonly type: string;
  constructor(init: { type: string }) {
    this.type = init.type;
  }
}

const g = globalThis as Record<string, unknown>;
beforeEach(() => {
  FakeDecoder.made = [];
  FakeDecoder.throwOnDecode = null;
  g['VideoDecoder'] = FakeDecoder;
  g['EncodedVideoChunk'] = FakeChunk;
});
afterEach(() => {
  delete g['VideoDecoder'];
  delete g['EncodedVideoChunk'];
});

let frameNumber = 0;
const frame = (kind: 'video' | 'screen', keyframe: boolean, participantId = '7'): ReceivedMedia => ({
  participantId,
  kind,
  epoch: 1,
  frameNumber: frameNumber++,
  keyframe,
  codec: 'vp8',
  captureTs: 1000,
  latencyMs: 5,
  data: new Uint8Array([1, 2, 3]),
});

function setup() {
  let now = 0;
  const asks: [string, string][] = [];
  const p = new Playback(
    (id, kind) => asks.push([id, kind]),
    () => now,
  );
  return { p, asks, advance: (ms: number) => (now += ms) };
}

describe('Playback', () => {
  it('waits for a keyframe, then decodes deltas', () => {
    const { p } = setup();
    p.push(frame('video', false));
    expect(FakeDecoder.made).toHaveLength(0);
    p.push(frame('video', true));
    p.push(frame('video', false));
    expect(FakeDecoder.made[0]!.decoded.map((c) => c.type)).toEqual(['key', 'delta']);
  });

  it('a chunk the decoder refuses is counted; the tile waits for a keyframe and asks at most once a second', () => {
    const { p, asks, advance } = setup();
    FakeDecoder.throwOnDecode = 'DataError';
    p.push(frame('video', true));
    p.push(frame('video', true));
    expect(p.counters.videoDecoderErrors).toBe(2);
    expect(asks).toEqual([['7', 'video']]);
    FakeDecoder.throwOnDecode = null;
    p.push(frame('video', false)); // still waiting for a keyframe
    expect(FakeDecoder.made[0]!.decoded).toHaveLength(0);
    advance(KEYFRAME_ASK_MS);
    FakeDecoder.throwOnDecode = 'DataError';
    p.push(frame('video', true));
    expect(asks).toHaveLength(2);
    FakeDecoder.throwOnDecode = null;
    p.push(frame('video', true));
    p.push(frame('video', false));
    expect(FakeDecoder.made[0]!.decoded.map((c) => c.type)).toEqual(['key', 'delta']);
  });

  it('anything else a decoder throws is not ours to hide', () => {
    const { p } = setup();
    FakeDecoder.throwOnDecode = 'TypeError';
    expect(() => p.push(frame('video', true))).toThrow('TypeError');
  });

  it('a codec the browser cannot decode is not asked for again; a late error of a replaced decoder changes nothing', () => {
    const { p, asks } = setup();
    p.push(frame('video', true));
    const first = FakeDecoder.made[0]!;
    first.init.error(new FakeDomError('NotSupportedError'));
    expect(asks).toEqual([]);
    p.push(frame('video', true));
    expect(FakeDecoder.made).toHaveLength(1);
    expect(p.counters.unsupported).toBe(1);
    // Another participant: its own decoder; a stale error from the first changes nothing of it.
    p.push(frame('video', true, '8'));
    first.init.error(new FakeDomError('EncodingError'));
    expect(p.counters.videoDecoderErrors).toBe(1);
  });

  it('shared content asks for the sender’s screen stream', () => {
    const { p, asks } = setup();
    FakeDecoder.throwOnDecode = 'DataError';
    p.push(frame('screen', true));
    expect(asks).toEqual([['7', 'screen']]);
  });

  it('a keyframe behind a backlog starts a fresh decoder rather than queue behind it', () => {
    const { p } = setup();
    p.push(frame('video', true));
    FakeDecoder.made[0]!.decodeQueueSize = MAX_DECODE_QUEUE + 5;
    p.push(frame('video', true));
    expect(FakeDecoder.made.map((d) => d.state)).toEqual(['closed', 'configured']);
    expect(FakeDecoder.made[1]!.decoded.map((c) => c.type)).toEqual(['key']);
  });

  it('a decoder that falls behind skips to the next keyframe and asks for it', () => {
    const { p, asks } = setup();
    p.push(frame('video', true));
    const d = FakeDecoder.made[0]!;
    d.decodeQueueSize = MAX_DECODE_QUEUE + 1;
    p.push(frame('video', false));
    expect(p.counters.videoFramesSkipped).toBe(1);
    expect(asks).toEqual([['7', 'video']]);
    d.decodeQueueSize = 0;
    p.push(frame('video', false));
    expect(d.decoded).toHaveLength(1);
    p.push(frame('video', true));
    expect(d.decoded).toHaveLength(2);
  });

  it('a tile that goes makes no decoder; forgetting someone closes theirs', () => {
    const { p } = setup();
    p.attachCanvas('9', null);
    p.attachShareCanvas('9', null);
    p.push(frame('video', true, '10'));
    p.forget('10');
    expect(FakeDecoder.made.map((d) => d.state)).toEqual(['closed']);
    // What was still on its way from them makes no new decoder…
    p.push(frame('video', true, '10'));
    expect(FakeDecoder.made).toHaveLength(1);
    expect(p.counters.framesFromGone).toBe(1);
    // …until the roster lists the id again (a restarted relay may reuse it).
    p.present('10');
    p.push(frame('video', true, '10'));
    expect(FakeDecoder.made).toHaveLength(2);
  });
});
