/**
 * The stream path with a toy cipher that binds the SFrame metadata (docs/protocol.md "Media
 * chunks"): what the metadata binds, decrypt failures → drop to the next keyframe, the `data`
 * stream's caps, stream ids and envelope kinds, and why a sender does not send.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { FrameKeys } from '../../../src/e2ee/frames.ts';
import type { PayloadCodec } from '../../../src/media/envelope.ts';
import type { StreamKeys } from '../../../src/media/stream/frame.ts';
import {
  MAX_DATA_FRAME_BYTES,
  type ReceivedFrame,
  type StreamKey,
  StreamReceiver,
} from '../../../src/media/stream/receiver.ts';
import {
  type ChunkOut,
  DTX_FROM_LEVEL,
  DTX_KEEPALIVE_MS,
  PACING_MAX_WAIT_MS,
  type SendOutcome,
  StreamSender,
} from '../../../src/media/stream/sender.ts';
import { AUDIO_LEVEL_SILENT, chunkAudioLevel, setChunkSender } from '../../../src/protocol/media-header.ts';
import type { StreamKind } from '../../../src/protocol/vocabulary.ts';
import { chunkSink, plainKeys, toyKeys } from '../../support/stream-keys.ts';

/** Senders and a receiver over a fake wire; toy keys unless `keys` names real ones. */
function setup(keys?: { send: StreamKeys; receive: StreamKeys }) {
  const clock = new FakeClock();
  const out: ReceivedFrame[] = [];
  const requests: StreamKey[] = [];
  /** The byte the senders seal with; the receiver opens with 5 only. */
  let key = 5;
  const wire: Uint8Array[] = [];
  const sender = (kind: StreamKind) => {
    const sink = chunkSink(3, setChunkSender);
    return new StreamSender({
      kind,
      keys: () => keys?.send ?? toyKeys({ byte: key }),
      clock,
      out: {
        mediaOpen: true,
        sendChunks: (chunks) => {
          sink.sendChunks(chunks);
          wire.push(...sink.wire.splice(0));
          return true;
        },
      },
    });
  };
  const tx = sender('video');
  const rx = new StreamReceiver({
    clock,
    keys: () => keys?.receive ?? toyKeys({ byte: 5 }),
    onFrame: (f) => out.push(f),
    requestKeyframe: (k) => requests.push(k),
  });
  const frame = (n: number, codec: PayloadCodec = 'vp8') => ({
    codec,
    captureTs: clock.now() - 40,
    data: new Uint8Array(n).fill(n & 0xff),
  });
  const deliver = () => {
    for (const c of wire.splice(0)) rx.push(c);
  };
  return { clock, tx, rx, out, requests, wire, frame, deliver, sender, setKey: (k: number) => (key = k) };
}

const VIDEO_3 = { sender: 3, kind: 'video' } as const;

describe('stream send/receive', () => {
  it('round-trips frames with codec, capture time and latency', () => {
    const s = setup();
    const sentAt = s.clock.now() - 40;
    expect(s.tx.send(s.frame(20_000), true)).toBe('sent');
    expect(s.tx.send(s.frame(100), false)).toBe('sent');
    s.deliver();
    expect(
      s.out.map((f) => [
        f.frameNumber,
        f.keyframe,
        f.codec,
        f.data.length,
        f.captureTs,
        f.latencyMs,
        f.participantId,
      ]),
    ).toEqual([
      [0, true, 'vp8', 20_000, sentAt, 40, '3'],
      [1, false, 'vp8', 100, sentAt, 40, '3'],
    ]);
    expect(s.out[1]!.data.every((b) => b === 100)).toBe(true);
    const st = s.rx.stats(VIDEO_3).snapshot();
    expect(st.latency).toMatchObject({ samples: 2, p50Ms: 40 });
    expect(s.tx.stats.snapshot().framesSent).toBe(2);
    expect(s.rx.decryptFailures).toEqual({ audio: 0, video: 0, screen: 0, data: 0 });
  });

  it('counts a decrypt failure, drops to the next keyframe and asks for it', () => {
    const s = setup();
    s.tx.send(s.frame(10), true);
    s.setKey(9); // sender switched keys; the receiver does not have the new one yet
    s.tx.send(s.frame(10), false);
    s.setKey(5);
    s.tx.send(s.frame(10), false);
    s.deliver();
    s.clock.advance(200);
    s.tx.send(s.frame(10), true);
    s.deliver();
    expect(s.out.map((f) => f.frameNumber)).toEqual([0, 3]);
    expect(s.requests).toEqual([VIDEO_3]);
    expect(s.rx.stats(VIDEO_3).snapshot()).toMatchObject({ decryptFailures: 1, framesDiscarded: 1 });
    expect(s.rx.decryptFailures.video).toBe(1);
  });

  it('rejects a frame whose keyframe flag was flipped on the way (metadata is authenticated)', () => {
    const s = setup();
    s.tx.send(s.frame(10), false);
    s.tx.send(s.frame(10), false);
    s.wire[1]![3] = 1; // a relay marks a delta frame as a keyframe
    s.deliver();
    expect(s.out).toHaveLength(0);
    expect(s.rx.stats(VIDEO_3).snapshot().decryptFailures).toBe(1);
    expect(s.rx.decryptFailures.video).toBe(1);
  });

  it('delivers a control message on the data stream and refuses one over the data caps', () => {
    const s = setup();
    const data = s.sender('data');
    expect(data.send(s.frame(1000, 'control'), true)).toBe('sent');
    s.deliver();
    expect(s.out.map((f) => [f.kind, f.codec, f.data.length])).toEqual([['data', 'control', 1000]]);
    // One chunk, but more bytes than a control frame may have: refused before reassembly holds it.
    expect(data.send(s.frame(MAX_DATA_FRAME_BYTES, 'control'), true)).toBe('sent');
    expect(s.wire).toHaveLength(1);
    s.deliver();
    expect(s.rx.refusedChunks).toBe(1);
    // A data frame cut into more chunks than a control frame may have is refused chunk by chunk.
    expect(data.send(s.frame(40_000, 'control'), true)).toBe('sent');
    expect(s.wire).toHaveLength(3);
    s.deliver();
    expect(s.rx.refusedChunks).toBe(4);
    expect(s.out).toHaveLength(1);
    expect(s.rx.pendingBytes).toBe(0);
    // The same size on the video stream is fine: the caps are the data stream's alone.
    s.tx.send(s.frame(40_000), true);
    s.deliver();
    expect(s.out).toHaveLength(2);
  });

  it('counts a chunk on another stream id than its kind’s as malformed', () => {
    const s = setup();
    const audio = s.sender('audio');
    audio.send(s.frame(10, 'opus'), true);
    s.tx.send(s.frame(10), true);
    s.wire[0]![2] = 1; // audio chunk on the video stream id
    s.wire[1]![2] = 0; // video chunk on the audio stream id
    s.deliver();
    expect(s.rx.malformedChunks).toBe(2);
    expect(s.out).toHaveLength(0);
    expect(s.rx.decryptFailures).toEqual({ audio: 0, video: 0, screen: 0, data: 0 });
    // Unchanged, the same kinds of frames arrive.
    audio.send(s.frame(10, 'opus'), true);
    s.tx.send(s.frame(10), true);
    s.deliver();
    expect(s.out.map((f) => f.kind)).toEqual(['audio', 'video']);
    expect(s.rx.malformedChunks).toBe(2);
  });

  it('refuses a payload of another kind than its stream as a decrypt failure', () => {
    const s = setup();
    s.tx.send(s.frame(10, 'opus'), true); // an audio envelope on the video stream
    s.sender('audio').send(s.frame(10, 'vp8'), true); // a video envelope on the audio stream
    s.sender('data').send(s.frame(10, 'opus'), true); // an audio envelope on the data stream
    s.sender('screen').send(s.frame(10, 'control'), true); // a control message on the screen stream
    s.deliver();
    expect(s.out).toHaveLength(0);
    expect(s.rx.decryptFailures).toEqual({ audio: 1, video: 1, screen: 1, data: 1 });
    expect(s.requests).toEqual([VIDEO_3, { sender: 3, kind: 'screen' }]);
    // The stream recovers at the next keyframe with a payload of its own kind.
    s.clock.advance(10);
    s.tx.send(s.frame(10, 'vp9'), true);
    s.deliver();
    expect(s.out.map((f) => [f.kind, f.codec, f.frameNumber])).toEqual([['video', 'vp9', 1]]);
  });
});

describe('StreamSender outcomes', () => {
  const payload = { codec: 'vp8', captureTs: 0, data: Uint8Array.of(1, 2) } as const;

  /** Keys that count seals and may throw; an out that counts sends. */
  function rig(
    options: { keys?: StreamKeys | null; open?: boolean; accept?: boolean; sealError?: unknown } = {},
  ) {
    let seals = 0;
    let sends = 0;
    const base = options.keys === undefined ? plainKeys() : options.keys;
    const keys: StreamKeys | null =
      base === null
        ? null
        : {
            sendEpoch: base.sendEpoch,
            openAs: base.openAs,
            seal: (...args: Parameters<StreamKeys['seal']>) => {
              seals++;
              if (options.sealError !== undefined) throw options.sealError;
              return base.seal(...args);
            },
          };
    const out: ChunkOut = {
      mediaOpen: options.open ?? true,
      sendChunks: () => {
        sends++;
        return options.accept ?? true;
      },
    };
    const tx = new StreamSender({ kind: 'video', keys: () => keys, out });
    return { tx, seals: () => seals, sends: () => sends };
  }

  it('sends when it has keys and an open channel', () => {
    const r = rig();
    expect(r.tx.send(payload, true)).toBe('sent');
    expect([r.seals(), r.sends(), r.tx.nextFrameNumber, r.tx.stats.framesSent]).toEqual([1, 1, 1, 1]);
  });

  it('is not ready without keys, before a send epoch, or with a closed channel, and seals nothing', () => {
    for (const r of [
      rig({ keys: null }),
      rig({ keys: { ...plainKeys(), sendEpoch: 0 } }),
      rig({ open: false }),
      rig({ sealError: new RoomdError('e2ee.unknown_key') }),
    ]) {
      expect(r.tx.send(payload, true)).toBe('not-ready');
      expect(r.tx.notReady).toBe(1);
      expect(r.sends()).toBe(0);
      expect(r.tx.nextFrameNumber).toBe(0);
      expect(r.tx.stats.framesSent).toBe(0);
    }
    expect(rig({ keys: null }).seals()).toBe(0);
    const closed = rig({ open: false });
    closed.tx.send(payload, true);
    expect(closed.seals()).toBe(0);
  });

  it('reports congestion when the channel takes none of the chunks', () => {
    const r = rig({ accept: false });
    expect(r.tx.send(payload, true)).toBe('congested');
    expect(r.tx.framesDropped).toBe(1);
    expect(r.tx.stats.framesSent).toBe(0);
    // The frame number was used by the seal: the receiver sees the gap and asks for a keyframe.
    expect(r.tx.nextFrameNumber).toBe(1);
  });

  it('reports an exhausted send key and sends nothing', () => {
    const r = rig({ sealError: new RoomdError('e2ee.counter_exhausted') });
    expect(r.tx.send(payload, true)).toBe('key-exhausted');
    expect(r.tx.keyExhausted).toBe(1);
    expect(r.tx.notReady).toBe(0);
    expect(r.sends()).toBe(0);
    expect(r.tx.nextFrameNumber).toBe(0);
  });

  it('rethrows any other seal error', () => {
    const bug = new TypeError('cipher bug');
    expect(() => rig({ sealError: bug }).tx.send(payload, true)).toThrow(bug);
    const other = rig({ sealError: new RoomdError('e2ee.malformed') });
    expect(() => other.tx.send(payload, true)).toThrow(expect.objectContaining({ code: 'e2ee.malformed' }));
    expect(other.tx.notReady + other.tx.keyExhausted + other.sends()).toBe(0);
  });
});

/** Real SFrame keys: sender '3' (the id the fake wire stamps) and receiver '9' in one epoch. */
function frameKeyPair(): { send: FrameKeys; receive: FrameKeys } {
  const opts = { meetingId: 'm', instanceId: 'i', label: 'roomd-e2ee v1 media key' };
  const send = new FrameKeys({ ...opts, selfId: '3' });
  const receive = new FrameKeys({ ...opts, selfId: '9' });
  for (const [i, f] of [send, receive].entries()) {
    f.setSlots([
      { participantId: '3', slot: 0 },
      { participantId: '9', slot: 1 },
    ]);
    f.setSelfSlot(i);
    f.install(1, new Uint8Array(32).fill(1), 0, 10_000);
  }
  send.setSendEpoch(1);
  return { send, receive };
}

const AUDIO_3 = { sender: 3, kind: 'audio' } as const;

describe('audio level (docs/protocol.md §Media chunks)', () => {
  it('carries the level in the header of every chunk and opens the frame with it', () => {
    const s = setup();
    const audio = s.sender('audio');
    expect(audio.send(s.frame(20_000, 'opus'), true, 17)).toBe('sent');
    expect(audio.send(s.frame(10, 'opus'), true)).toBe('sent');
    expect(s.wire.map((c) => chunkAudioLevel(c))).toEqual([17, 17, AUDIO_LEVEL_SILENT]);
    s.deliver();
    expect(s.out.map((f) => [f.frameNumber, f.data.length])).toEqual([
      [0, 20_000],
      [1, 10],
    ]);
    expect(s.rx.decryptFailures.audio).toBe(0);
  });

  it('refuses a frame whose level a relay changed on the way, and raises the integrity alarm', () => {
    const keys = frameKeyPair();
    const s = setup(keys);
    const audio = s.sender('audio');
    expect(audio.send(s.frame(10, 'opus'), true, 60)).toBe('sent');
    expect(audio.send(s.frame(10, 'opus'), true, 60)).toBe('sent');
    s.wire[1]![3] = (3 << 1) | 1; // a relay makes a quiet participant look loud (level 3)
    s.deliver();
    expect(s.out.map((f) => f.frameNumber)).toEqual([0]);
    expect(s.rx.decryptFailures).toEqual({ audio: 1, video: 0, screen: 0, data: 0 });
    expect(s.rx.stats(AUDIO_3).snapshot().decryptFailures).toBe(1);
    expect(keys.receive.integrityFailures).toBe(1);
    expect(keys.receive.lastIntegrityFailureAt).not.toBeNull();
  });

  it('refuses a level on another kind, or one out of range, before counting or sending anything', () => {
    const s = setup();
    for (const [tx, level] of [
      [s.tx, 20],
      [s.sender('audio'), 128],
      [s.sender('audio'), -1],
      [s.sender('audio'), 2.5],
    ] as const) {
      expect(() => tx.send(s.frame(10, tx.kind === 'audio' ? 'opus' : 'vp8'), true, level)).toThrow(
        expect.objectContaining({ code: 'protocol.malformed' }),
      );
      expect([tx.nextFrameNumber, tx.notReady, tx.silentSkipped, tx.stats.framesSent]).toEqual([0, 0, 0, 0]);
    }
    expect(s.wire).toHaveLength(0);
    // 127 ("no level") is fine on any kind.
    expect(s.tx.send(s.frame(10), true, AUDIO_LEVEL_SILENT)).toBe('sent');
  });
});

describe('audio DTX', () => {
  /** Sends one 20 ms Opus packet per step at each level, then delivers. */
  function talk(levels: readonly (number | undefined)[]) {
    const s = setup();
    const audio = s.sender('audio');
    const outcomes: SendOutcome[] = [];
    for (const level of levels) {
      outcomes.push(audio.send(s.frame(10, 'opus'), true, level));
      s.clock.advance(20);
    }
    s.deliver();
    return { s, audio, outcomes };
  }

  it('sends silence only every 400 ms, without using frame numbers or counting drops', () => {
    expect([DTX_FROM_LEVEL, DTX_KEEPALIVE_MS]).toEqual([65, 400]);
    // 3 loud packets, 1 s of silence (50 packets), 2 loud packets.
    const levels = [10, 30, 64, ...Array<number>(50).fill(DTX_FROM_LEVEL), 127, 20, 12];
    const { s, audio, outcomes } = talk(levels);
    const sentAt = outcomes.flatMap((o, i) => (o === 'sent' ? [i] : []));
    // Loud at 0, 20, 40 ms; the first silent packet at 60 ms is within 400 ms of the last one sent
    // (40 ms), so silence goes out at 440 and 840 ms (packets 22, 42); packet 53 (127, 1060 ms) is
    // still silence, and speech is sent again from packet 54.
    expect(sentAt).toEqual([0, 1, 2, 22, 42, 54, 55]);
    expect(outcomes.filter((o) => o === 'silent')).toHaveLength(levels.length - 7);
    expect(audio.silentSkipped).toBe(levels.length - 7);
    expect([audio.framesDropped, audio.notReady, audio.stats.framesSent]).toEqual([0, 0, 7]);
    // Receivers see frames 0..6 with no gap.
    expect(s.out.map((f) => f.frameNumber)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(audio.nextFrameNumber).toBe(7);
  });

  it('is off without a level, and on other kinds', () => {
    const { audio, outcomes } = talk(Array(10).fill(undefined));
    expect(outcomes.every((o) => o === 'sent')).toBe(true);
    expect(audio.silentSkipped).toBe(0);
    const s = setup();
    for (let i = 0; i < 5; i++) expect(s.sender('data').send(s.frame(10, 'control'), true, 127)).toBe('sent');
  });

  it('is off without a clock', () => {
    const tx = new StreamSender({
      kind: 'audio',
      keys: () => plainKeys(),
      out: chunkSink(3, setChunkSender),
    });
    for (let i = 0; i < 5; i++)
      expect(tx.send({ codec: 'opus', captureTs: 0, data: Uint8Array.of(1) }, true, 127)).toBe('sent');
    expect(tx.silentSkipped).toBe(0);
  });

  it('tries a silent frame again when the last one was not sent', () => {
    const s = setup();
    let open = false;
    const tx = new StreamSender({
      kind: 'audio',
      keys: () => plainKeys(),
      clock: s.clock,
      out: {
        get mediaOpen() {
          return open;
        },
        sendChunks: () => true,
      },
    });
    const opus = { codec: 'opus', captureTs: 0, data: Uint8Array.of(1) } as const;
    expect(tx.send(opus, true, 100)).toBe('not-ready');
    open = true;
    s.clock.advance(20);
    expect(tx.send(opus, true, 100)).toBe('sent');
    s.clock.advance(20);
    expect(tx.send(opus, true, 100)).toBe('silent');
    s.clock.advance(DTX_KEEPALIVE_MS - 20);
    expect(tx.send(opus, true, 100)).toBe('sent');
    expect([tx.notReady, tx.silentSkipped, tx.nextFrameNumber]).toEqual([1, 1, 2]);
  });
});

describe('the uplink pacer', () => {
  it('makes video wait for room, in order, and drops a backlog that waited too long; audio never waits', () => {
    const clock = new FakeClock();
    let room = true;
    const recorded: [number, number][] = [];
    const uplink = {
      roomForVideo: () => room,
      sent: (streamId: number, frameNumber: number) => recorded.push([streamId, frameNumber]),
    };
    let asked = 0;
    const make = (kind: StreamKind) =>
      new StreamSender({
        kind,
        keys: () => plainKeys(),
        clock,
        uplink,
        out: chunkSink(3, setChunkSender),
        requestKeyframe: () => asked++,
      });
    const video = make('video');
    const audio = make('audio');
    const vp8 = { codec: 'vp8', captureTs: 0, data: new Uint8Array(100) } as const;
    const opus = { codec: 'opus', captureTs: 0, data: new Uint8Array(10) } as const;
    expect(video.send(vp8, true)).toBe('sent');
    room = false;
    expect(video.send(vp8, false)).toBe('queued');
    expect(audio.send(opus, true)).toBe('sent');
    clock.advance(33);
    room = true;
    // The waiting frame goes first, then this one.
    expect(video.send(vp8, false)).toBe('sent');
    expect(recorded).toEqual([
      [1, 0],
      [0, 0],
      [1, 1],
      [1, 2],
    ]);
    // A report showing room sends what waits without a new frame.
    room = false;
    expect(video.send(vp8, false)).toBe('queued');
    room = true;
    video.flush(clock.monotonic());
    expect(recorded.at(-1)).toEqual([1, 3]);
    // No room for longer than PACING_MAX_WAIT_MS: the backlog goes, and no keyframe is asked for
    // while the queue is still long.
    room = false;
    expect(video.send(vp8, false)).toBe('queued');
    clock.advance(PACING_MAX_WAIT_MS + 1);
    expect(video.send(vp8, false)).toBe('congested');
    expect([video.queueHeld, asked]).toEqual([2, 0]);
    // Room again: the keyframe is asked for; delta frames wait for it.
    room = true;
    expect(video.send(vp8, false)).toBe('skipped');
    expect(asked).toBe(1);
    expect(video.send(vp8, true)).toBe('sent');
    expect(video.dependentFramesSkipped).toBe(1);
  });

  it('a keyframe makes the frames waiting before it unneeded', () => {
    const clock = new FakeClock();
    let room = false;
    const sentFrames: number[] = [];
    const video = new StreamSender({
      kind: 'video',
      keys: () => plainKeys(),
      clock,
      uplink: { roomForVideo: () => room, sent: (_s: number, n: number) => sentFrames.push(n) },
      out: chunkSink(3, setChunkSender),
    });
    const vp8 = { codec: 'vp8', captureTs: 0, data: new Uint8Array(100) } as const;
    for (let i = 0; i < 3; i++) expect(video.send(vp8, i === 0)).toBe('queued');
    room = true;
    expect(video.send(vp8, true)).toBe('sent');
    expect(sentFrames).toEqual([3]);
    expect(video.queueHeld).toBe(3);
  });
});
