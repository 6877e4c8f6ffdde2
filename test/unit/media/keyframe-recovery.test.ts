/**
 * Recovery from a lost video frame (docs/protocol.md "Media chunks",
 * docs/decisions/0005-media-keyframes-on-demand.md): the sender sends nothing that depends on a frame
 * it did not send and asks its encoder for a keyframe; receivers ask for keyframes with back-off; the
 * encoder coalesces the requests of many receivers into one keyframe.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { createVideoCapture } from '../../../src/media/capture.ts';
import { DependencyGate } from '../../../src/media/stream/dependency-gate.ts';
import { KeyframeBackoff } from '../../../src/media/stream/keyframe-backoff.ts';
import { type StreamKey, StreamReceiver } from '../../../src/media/stream/receiver.ts';
import { type ChunkOut, type SendOutcome, StreamSender } from '../../../src/media/stream/sender.ts';
import { setChunkSender } from '../../../src/protocol/media-header.ts';
import type { StreamKind } from '../../../src/protocol/vocabulary.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';
import { chunkSink, plainKeys } from '../../support/stream-keys.ts';

const flush = () => new Promise((r) => setImmediate(r));

describe('DependencyGate', () => {
  it('lets every frame through while nothing was lost', () => {
    const g = new DependencyGate();
    for (const key of [true, false, false, true, false]) {
      expect(g.admit(key)).toBe(true);
      g.sent(key);
    }
    expect(g.intact).toBe(true);
  });

  it('after a frame is not sent refuses delta frames until a keyframe goes out, asking once', () => {
    const g = new DependencyGate();
    g.sent(true);
    expect(g.notSent(false)).toBe(true); // the chain breaks: ask the encoder
    expect(g.intact).toBe(false);
    expect(g.admit(false)).toBe(false);
    expect(g.notSent(false)).toBe(false); // already asked: a further lost delta does not ask again
    expect(g.admit(true)).toBe(true);
    g.sent(true);
    expect(g.intact).toBe(true);
    expect(g.admit(false)).toBe(true);
  });

  it('asks again when the keyframe that would mend the chain is lost too', () => {
    const g = new DependencyGate();
    g.notSent(false);
    expect(g.admit(true)).toBe(true);
    expect(g.notSent(true)).toBe(true);
    expect(g.admit(false)).toBe(false);
    // A delta frame sent while intact never mends anything; only a keyframe does.
    g.sent(false);
    expect(g.intact).toBe(false);
  });
});

describe('KeyframeBackoff', () => {
  it('asks at once, then after 500 ms doubling to 4 s, and at once again after a keyframe', () => {
    const b = new KeyframeBackoff();
    const asked: number[] = [];
    for (let t = 0; t <= 16_000; t += 10) if (b.ask(t)) asked.push(t);
    expect(asked).toEqual([0, 500, 1500, 3500, 7500, 11_500, 15_500]);
    b.reset();
    expect(b.ask(15_510)).toBe(true);
    expect(b.ask(15_600)).toBe(false);
    expect(b.ask(16_010)).toBe(true);
  });

  it('keeps its settings sane', () => {
    const b = new KeyframeBackoff({ initialMs: 1000, maxMs: 10 });
    expect([b.ask(0), b.ask(999), b.ask(1000), b.ask(1999), b.ask(2000)]).toEqual([
      true,
      false,
      true,
      false,
      true,
    ]);
  });
});

describe('StreamSender after a frame it did not send', () => {
  function rig(kind: StreamKind = 'video') {
    const state = { accept: true, open: true, keys: true as boolean };
    const sent: number[] = [];
    let encoderAsked = 0;
    const keys = plainKeys();
    const out: ChunkOut = {
      get mediaOpen() {
        return state.open;
      },
      sendChunks: () => state.accept,
    };
    const tx = new StreamSender({
      kind,
      keys: () => (state.keys ? keys : null),
      out,
      requestKeyframe: () => encoderAsked++,
    });
    const send = (key: boolean): SendOutcome => {
      const n = tx.nextFrameNumber;
      const r = tx.send(
        { codec: kind === 'audio' ? 'opus' : 'vp8', captureTs: 0, data: Uint8Array.of(1) },
        key,
      );
      if (r === 'sent') sent.push(n);
      return r;
    };
    return { tx, state, sent, send, asked: () => encoderAsked };
  }

  it('drops the delta frames after a congested one until the next keyframe, and asks for it at once', () => {
    const r = rig();
    expect([r.send(true), r.send(false)]).toEqual(['sent', 'sent']);
    r.state.accept = false;
    expect(r.send(false)).toBe('congested');
    expect(r.asked()).toBe(1);
    r.state.accept = true; // the channel drains at once, but what follows depends on the lost frame
    expect([r.send(false), r.send(false), r.send(false)]).toEqual(['skipped', 'skipped', 'skipped']);
    expect(r.tx.dependentFramesSkipped).toBe(3);
    expect(r.tx.stats.snapshot().dependentFramesSkipped).toBe(3);
    expect(r.asked()).toBe(1);
    expect(r.tx.keyframesAskedAfterDrop).toBe(1);
    // Skipped frames are never sealed: they take no frame number.
    expect(r.tx.nextFrameNumber).toBe(3);
    expect([r.send(true), r.send(false)]).toEqual(['sent', 'sent']);
    expect(r.sent).toEqual([0, 1, 3, 4]);
    expect(r.tx.stats.snapshot()).toMatchObject({ framesSent: 4, keyframes: 2 });
    expect(r.tx.framesDropped).toBe(1);
  });

  it('asks again when the keyframe is dropped too', () => {
    const r = rig('screen');
    r.send(true);
    r.state.accept = false;
    r.send(false);
    r.send(true);
    expect(r.asked()).toBe(2);
    r.state.accept = true;
    expect(r.send(false)).toBe('skipped');
    expect(r.send(true)).toBe('sent');
  });

  it('treats a frame not sent for want of a key or channel the same way', () => {
    for (const lose of [
      (s: { open: boolean }) => (s.open = false),
      (s: { keys: boolean }) => (s.keys = false),
    ]) {
      const r = rig();
      r.send(true);
      lose(r.state);
      expect(r.send(false)).toBe('not-ready');
      r.state.open = true;
      r.state.keys = true;
      expect(r.send(false)).toBe('skipped');
      expect(r.asked()).toBe(1);
      expect(r.send(true)).toBe('sent');
      expect(r.send(false)).toBe('sent');
    }
  });

  it('leaves audio alone: every audio frame stands by itself', () => {
    const r = rig('audio');
    r.send(true);
    r.state.accept = false;
    expect(r.send(true)).toBe('congested');
    r.state.accept = true;
    expect(r.send(true)).toBe('sent');
    expect(r.asked()).toBe(0);
    expect(r.tx.dependentFramesSkipped).toBe(0);
  });

  it('counts every keyframe request a receiver sends and passes it to the encoder', () => {
    const r = rig();
    for (let i = 0; i < 3; i++) r.tx.keyframeRequested();
    expect(r.tx.stats.snapshot().keyframeRequests).toBe(3);
    expect(r.asked()).toBe(3);
  });
});

describe('keyframe requests with back-off', () => {
  function receiver(clock: FakeClock, requests: StreamKey[], times: number[] = []) {
    const keys = plainKeys();
    return new StreamReceiver({
      clock,
      keys: () => keys,
      onFrame: () => {},
      requestKeyframe: (k) => {
        requests.push(k);
        times.push(clock.monotonic());
      },
    });
  }

  it('asks at once, backs off while the gap lasts, and asks at once after the next keyframe', () => {
    const clock = new FakeClock();
    const requests: StreamKey[] = [];
    const times: number[] = [];
    const rx = receiver(clock, requests, times);
    const out = chunkSink(7, setChunkSender);
    const keys = plainKeys();
    const tx = new StreamSender({ kind: 'video', keys: () => keys, out });
    const send = (key: boolean, deliver = true) => {
      tx.send({ codec: 'vp8', captureTs: clock.now(), data: Uint8Array.of(1) }, key);
      for (const c of out.wire.splice(0)) if (deliver) rx.push(c);
    };
    const t0 = clock.monotonic();
    send(true);
    send(false, false); // lost on the way
    // 10 s of delta frames at 30 fps that cannot be shown.
    for (let i = 0; i < 300; i++) {
      clock.advance(33);
      send(false);
    }
    // The gap is declared when the reorder window (100 ms) after frame 2 runs out.
    expect(times[0]! - t0).toBe(133);
    // Then at the first frame once each wait (500 ms, doubling to 4 s) is over.
    const waits = times.slice(1).map((t, i) => t - times[i]!);
    expect(waits).toHaveLength(4);
    [500, 1000, 2000, 4000].forEach((w, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(w);
      expect(waits[i]).toBeLessThan(w + 33);
    });
    const st = rx.stats({ sender: 7, kind: 'video' }).snapshot();
    expect(st.keyframeRequests).toBe(5);
    send(true);
    send(false);
    expect(st.framesReceived + 2).toBe(rx.stats({ sender: 7, kind: 'video' }).snapshot().framesReceived);
    // A new gap right after the keyframe: asked at once, not 4 s later.
    const lostAt = clock.monotonic();
    send(false, false);
    clock.advance(33);
    send(false);
    clock.advance(100);
    expect(times).toHaveLength(6);
    expect(times[5]! - lostAt).toBe(133);
    rx.close();
  });

  it('twenty receivers of one lost frame cost the sender one keyframe from its encoder, not a restart', async () => {
    const clock = new FakeClock();
    const runner = new FakeProcessRunner();
    const capture = createVideoCapture(
      { type: 'test' },
      { codec: 'vp8', width: 64, height: 36, framerate: 30, bitrateKbps: 300, keyframeIntervalMs: 1000 },
      { runner, clock, logger: silentLogger() },
      // One child, no spare: the scheduled keyframe answers (the spare's switch: spare-encoder.test.ts).
      { encoders: 'single' },
    );
    const keys = plainKeys();
    const out = chunkSink(7, setChunkSender);
    const tx = new StreamSender({
      kind: 'video',
      keys: () => keys,
      out,
      requestKeyframe: () => capture.requestKeyframe(),
    });
    // The relay carries each receiver's request to the sender (docs/protocol.md `keyframe-request`).
    const requests: StreamKey[] = [];
    const receivers = Array.from({ length: 20 }, () => receiver(clock, requests));
    let delivered = 0;
    let lose = false;
    capture.onFrame((f) => {
      tx.send(f, f.keyframe);
      const chunks = out.wire.splice(0);
      if (lose) return;
      for (const rx of receivers) for (const c of chunks) rx.push(c);
      delivered++;
    });
    capture.start();
    await flush();
    const child = runner.children[0]!;
    child.stdout.write(ivfHeader());
    const frame = async (key: boolean, pts: number) => {
      child.stdout.write(ivfFrame(key, pts));
      await flush();
      const asked = requests.splice(0);
      for (const _ of asked) tx.keyframeRequested();
      clock.advance(33);
    };
    await frame(true, 0);
    for (let i = 1; i < 5; i++) await frame(false, i);
    lose = true;
    await frame(false, 5); // lost before the relay's fan-out: every receiver misses it
    lose = false;
    // The encoder's scheduled keyframe comes a second after the last one; until then only deltas.
    for (let i = 6; i < 30; i++) await frame(false, i);
    const before = receivers.map((rx) => rx.stats({ sender: 7, kind: 'video' }).snapshot().keyframeRequests);
    // Each receiver asked at once and once more after 500 ms — not once per frame.
    expect(before).toEqual(Array(20).fill(2));
    expect(tx.stats.snapshot().keyframeRequests).toBe(40);
    await frame(true, 30);
    for (const rx of receivers) {
      const s = rx.stats({ sender: 7, kind: 'video' }).snapshot();
      expect(s.keyframes).toBe(2);
      expect(s.framesLost + s.framesDiscarded).toBe(25);
    }
    // Forty requests, one encoder: no restart, and the next keyframe answered them all.
    expect(runner.children).toHaveLength(1);
    expect(capture.status().state).toBe('running');
    expect(delivered).toBe(30);
    for (const rx of receivers) rx.close();
    await capture.stop();
  });
});

function ivfHeader(): Uint8Array {
  const b = new Uint8Array(32);
  b.set([0x44, 0x4b, 0x49, 0x46, 0, 0, 32, 0, 0x56, 0x50, 0x38, 0x30, 64, 0, 36, 0, 30, 0, 0, 0, 1, 0, 0, 0]);
  return b;
}

function ivfFrame(key: boolean, pts: number): Uint8Array {
  const b = new Uint8Array(12 + 10);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 10, true);
  dv.setUint32(4, pts, true);
  b[12] = key ? 0x10 : 0x11;
  return b;
}
