/**
 * Real ffmpeg VP8 → StreamSender sealing with real SFrame frame keys (FrameKeys, as an E2EE session
 * holds them) → chunks stamped by a "relay" → StreamReceiver opening with the matching keys →
 * decodable IVF; a receiver with another meeting key counts decrypt failures and delivers nothing
 * (the path a bot uses to decrypt and decode the room's video). A relay that relabels a frame as
 * another participant's is refused (docs/protocol.md §Media chunks).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock, SystemClock } from '../../../src/core/clock.ts';
import { FrameKeys } from '../../../src/e2ee/frames.ts';
import { createVideoCapture } from '../../../src/media/capture.ts';
import { writeIvfFrame, writeIvfHeader } from '../../../src/media/ivf.ts';
import { frameMetadata } from '../../../src/media/stream/frame.ts';
import { type ReceivedFrame, type StreamKey, StreamReceiver } from '../../../src/media/stream/receiver.ts';
import { StreamSender } from '../../../src/media/stream/sender.ts';
import type { Clock } from '../../../src/core/clock.ts';
import { setChunkSender } from '../../../src/protocol/media-header.ts';
import { chunkSink } from '../../support/stream-keys.ts';
import { decodeCount, deps, tempDir, until } from './harness.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

const OPTS = { meetingId: 'm', instanceId: 'i', label: 'roomd-e2ee v1 media key' };
/** Sender '7' on slot 1, another participant '8' on slot 3, the receiving room '9' on slot 2. */
const SLOTS = [
  { participantId: '7', slot: 1 },
  { participantId: '8', slot: 3 },
  { participantId: '9', slot: 2 },
];

function frameKeys(selfId: string, selfSlot: number, meetingKey: Uint8Array): FrameKeys {
  const k = new FrameKeys({ ...OPTS, selfId });
  k.setSlots(SLOTS);
  k.setSelfSlot(selfSlot);
  k.install(1, meetingKey, 0, 10_000);
  return k;
}

function receiverWith(keys: FrameKeys, clock: Clock) {
  const got: ReceivedFrame[] = [];
  const requests: StreamKey[] = [];
  const rx = new StreamReceiver({
    clock,
    keys: () => keys,
    onFrame: (f) => got.push(f),
    requestKeyframe: (k) => requests.push(k),
  });
  return { rx, got, requests, keys };
}

describe('VP8 through SFrame', () => {
  it('decrypts and decodes with the right key, and rejects every frame with a wrong one', async () => {
    const meetingKey = randomBytes(32);
    const sendKeys = frameKeys('7', 1, meetingKey);
    sendKeys.setSendEpoch(1);
    const clock = new SystemClock();
    const good = receiverWith(frameKeys('9', 2, meetingKey), clock);
    const wrong = receiverWith(frameKeys('9', 2, randomBytes(32)), clock);
    const tx = new StreamSender({
      kind: 'video',
      keys: () => sendKeys,
      out: {
        mediaOpen: true,
        sendChunks: (chunks) => {
          for (const rx of [good.rx, wrong.rx])
            for (const c of chunks) {
              const copy = c.slice();
              setChunkSender(copy, 7); // what the relay writes
              rx.push(copy);
            }
          return true;
        },
      },
    });
    const cap = createVideoCapture(
      { type: 'test', fontFile: null },
      { codec: 'vp8', width: 160, height: 90, framerate: 15, bitrateKbps: 150 },
      deps(),
    );
    const detach = cap.onFrame((f) => {
      tx.send(f, f.keyframe);
    });
    cap.start();
    await until(() => tx.stats.framesSent >= 20, 15_000, '20 frames');
    detach();
    await cap.stop();
    for (const { rx } of [good, wrong]) rx.close();

    const sent = tx.stats.framesSent;
    expect(good.got.map((f) => f.frameNumber)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(
      good.got.every(
        (f) => f.participantId === '7' && f.codec === 'vp8' && f.latencyMs >= 0 && f.latencyMs < 1000,
      ),
    ).toBe(true);
    expect(good.rx.decryptFailures.video).toBe(0);
    expect(wrong.got).toHaveLength(0);
    const wrongStats = wrong.rx.stats({ sender: 7, kind: 'video' }).snapshot();
    expect(wrongStats.decryptFailures).toBeGreaterThanOrEqual(1);
    expect(wrongStats.framesReceived - wrongStats.decryptFailures).toBe(0);
    expect(wrong.rx.decryptFailures.video).toBe(wrongStats.decryptFailures);
    expect(wrong.keys.integrityFailures).toBe(wrongStats.decryptFailures);
    const header = writeIvfHeader({ codec: 'vp8', width: 160, height: 90, timebaseDen: 15, timebaseNum: 1 });
    const path = tmp.write('sframe.ivf', [header, ...good.got.map((f, i) => writeIvfFrame(f.data, i))]);
    const { frames, errors } = await decodeCount(path);
    expect(errors).toBe('');
    expect(frames).toBe(sent);
  });
});

describe('a relay relabelling frames', () => {
  function rig() {
    const meetingKey = randomBytes(32);
    const sendKeys = frameKeys('7', 1, meetingKey);
    sendKeys.setSendEpoch(1);
    const clock = new FakeClock();
    const room = receiverWith(frameKeys('9', 2, meetingKey), clock);
    /** The relay stamps `as` on what participant 7 sent. */
    const send = (as: number, keyframe: boolean) => {
      const sink = chunkSink(as, setChunkSender);
      const tx = new StreamSender({ kind: 'video', keys: () => sendKeys, out: sink });
      expect(tx.send({ codec: 'vp8', captureTs: clock.now(), data: Uint8Array.of(1, 2, 3) }, keyframe)).toBe(
        'sent',
      );
      for (const c of sink.wire) room.rx.push(c);
    };
    return { ...room, send, sendKeys, clock };
  }

  it('refuses a frame of participant 7 that the relay claims participant 8 sent', () => {
    const r = rig();
    r.send(8, true);
    expect(r.got).toHaveLength(0);
    expect(r.rx.decryptFailures.video).toBe(1);
    expect(r.rx.stats({ sender: 8, kind: 'video' }).snapshot().decryptFailures).toBe(1);
    expect(r.requests).toEqual([{ sender: 8, kind: 'video' }]);
    expect(r.keys.lastRelabelledAt).toBe(r.clock.monotonic());
    expect(r.keys.integrityFailures).toBe(1);
    // Stamped with its real sender the same kind of frame opens.
    r.send(7, true);
    expect(r.got.map((f) => [f.participantId, f.frameNumber])).toEqual([['7', 0]]);
  });

  it('refuses a frame sealed for one stream that is opened as another', () => {
    const r = rig();
    const meta = frameMetadata('video', 1, true, 0);
    const sealed = r.sendKeys.seal('video', Uint8Array.of(1), meta);
    expect(() => r.keys.openAs('7', 'screen', sealed, meta, 5)).toThrow(
      expect.objectContaining({ code: 'e2ee.frame_relabelled' }),
    );
    expect(r.keys.lastRelabelledAt).toBe(5);
    // The refused frame's counter is spent; the next one, claimed as what it is, opens.
    const next = r.sendKeys.seal('video', Uint8Array.of(2), meta);
    expect([...r.keys.openAs('7', 'video', next, meta, 6).payload]).toEqual([2]);
  });
});
