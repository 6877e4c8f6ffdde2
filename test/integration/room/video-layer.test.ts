/**
 * The room's camera encoder switching video layer with real ffmpeg (the synthetic camera, VP8): on
 * `small` the next frame sent (or the one after, when the old encoder still had one in hand) comes
 * from a new encoder, is a keyframe and is a 320×180 picture, while the camera's source runs on
 * (docs/decisions/0005-media-keyframes-on-demand.md §Spare encoder); on `full` likewise at the
 * configured size. The gap from the layer change to that first frame is
 * printed (docs/decisions/0019-big-meetings.md), not asserted: it depends on the machine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { VideoFeed } from '../../../src/media/video-feed.ts';
import { LAYER_MIN_INTERVAL_MS, type RoomMedia, startRoomMedia } from '../../../src/meeting/room-media.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { until } from '../media/harness.ts';
import { LayerLink } from '../../helpers/layer-link.ts';

/** A VP8 keyframe's picture size (RFC 6386 §9.1: after the 3-byte tag and the start code). */
function vp8Size(frame: Uint8Array): { width: number; height: number } {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { width: v.getUint16(6, true) & 0x3fff, height: v.getUint16(8, true) & 0x3fff };
}

let media: RoomMedia | undefined;
afterEach(async () => {
  media?.offVideoLayer();
  await Promise.all([media?.video.stop(), media?.audio.stop(), media?.mixer.stop()]);
  media = undefined;
});

describe('the room switches its video layer', () => {
  it('the first frame after a change is a keyframe of the new size, from a new encoder', async () => {
    const link = new LayerLink();
    media = startRoomMedia(
      {
        video: { type: 'test', fontFile: null, label: 'room' },
        encode: {
          codec: 'vp8',
          width: 640,
          height: 360,
          framerate: 30,
          bitrateKbps: 800,
          keyframeIntervalMs: 2000,
        },
        audio: { type: 'test' },
        audioBitrateKbps: 24,
        playbackDevice: null,
      },
      link,
      { cameraOn: true, muted: true, volume: 50 },
      {
        runner: new NodeProcessRunner(),
        clock: new SystemClock(),
        log: silentLogger(),
        feed: new VideoFeed(),
      },
    );
    const video = media.video;
    await until(() => link.sent.length >= 10, 20_000, 'the full layer flowing');
    expect(vp8Size(link.sent.find((f) => f.keyframe)!.data)).toEqual({ width: 640, height: 360 });

    for (const [layer, size] of [
      ['small', { width: 320, height: 180 }],
      ['full', { width: 640, height: 360 }],
    ] as const) {
      // One change per LAYER_MIN_INTERVAL_MS is followed at once: wait that long, so the gap measured
      // is the encoder's alone.
      const since = performance.now();
      await until(() => performance.now() - since >= LAYER_MIN_INTERVAL_MS, 10_000, 'the layer interval');
      const pid = video.status().pid;
      const from = link.sent.length;
      const t0 = performance.now();
      link.relaySays(layer);
      const keyAt = () => link.sent.findIndex((f, i) => i >= from && f.keyframe);
      await until(() => keyAt() >= 0, 20_000, `the first ${layer} frame`);
      const ms = Math.round(performance.now() - t0);
      const what = layer === 'small' ? 'first thumbnail frame' : 'first full frame';
      console.log(`[room video-layer] ${layer} → ${what} after ${ms} ms`);
      expect(keyAt() - from).toBeLessThanOrEqual(1);
      const first = link.sent[keyAt()]!;
      expect(vp8Size(first.data)).toEqual(size);
      expect(video.status().pid).toBe(pid); // the camera's source is not restarted
      // And it keeps flowing at that size.
      await until(() => link.sent.length > from + 10, 20_000, `${layer} frames flowing`);
      const keys = link.sent.slice(from).filter((f) => f.keyframe);
      for (const k of keys) expect(vp8Size(k.data)).toEqual(size);
    }
  }, 60_000);
});
