/**
 * The room's camera encoder follows the video layer the relay asks for (docs/protocol.md §Big
 * meetings): `small` restarts it at the thumbnail, `full` at the configured settings, a camera that
 * is off stays off, and flips leave one encoder and one listener (fake runner, fake clock).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { createVideoCapture } from '../../../src/media/capture.ts';
import {
  type VideoEncodeSettings,
  type VideoSource,
  videoCaptureArgs,
} from '../../../src/media/ffmpeg-args.ts';
import { writeIvfFrame, writeIvfHeader } from '../../../src/media/ivf.ts';
import { VideoFeed } from '../../../src/media/video-feed.ts';
import type { VideoLayer } from '../../../src/meeting/media-link.ts';
import {
  LAYER_MIN_INTERVAL_MS,
  RATE_MIN_INTERVAL_MS,
  type RoomMediaConfig,
  rateOutput,
  startRoomMedia,
  THUMBNAIL,
  videoLayerOutput,
} from '../../../src/meeting/room-media.ts';
import { type FakeChild, FakeProcessRunner, type ProcessRunner } from '../../../src/system/process.ts';
import { LayerLink } from '../../helpers/layer-link.ts';

const FULL: VideoEncodeSettings = {
  codec: 'vp8',
  width: 1280,
  height: 720,
  framerate: 30,
  bitrateKbps: 1200,
  keyframeIntervalMs: 2000,
};

/** A fake runner that remembers every spawned child with its arguments. */
function recordingRunner() {
  const fake = new FakeProcessRunner();
  const spawned: { args: readonly string[]; child: FakeChild }[] = [];
  const runner: ProcessRunner = {
    run: (cmd, args, options) => fake.run(cmd, args, options),
    spawn: (cmd, args, options) => {
      const child = fake.spawn(cmd, args, options) as FakeChild;
      spawned.push({ args, child });
      return child;
    },
  };
  /** The camera encoders (VP8), oldest first. */
  const encoders = () => spawned.filter((s) => s.args.includes('libvpx'));
  /** The children sending a pre-encoded file. */
  const copies = () => spawned.filter((s) => arg(s.args, '-c:v') === 'copy');
  /** The raw picture sources feeding the encoders (src/media/spare-encoder.ts). */
  const sources = () => spawned.filter((s) => s.args.includes('rawvideo') && arg(s.args, '-i') !== 'pipe:0');
  return { runner, encoders, copies, sources };
}

function start(opts: { cameraOn?: boolean; layer?: VideoLayer; video?: VideoSource } = {}) {
  const { runner, encoders, copies, sources } = recordingRunner();
  const link = new LayerLink();
  if (opts.layer !== undefined) link.videoLayer = opts.layer;
  const config: RoomMediaConfig = {
    video: opts.video ?? { type: 'test', fontFile: null },
    encode: FULL,
    audio: { type: 'test' },
    audioBitrateKbps: 24,
    playbackDevice: null,
  };
  const feed = new VideoFeed();
  const clock = new FakeClock();
  const media = startRoomMedia(
    config,
    link,
    { cameraOn: opts.cameraOn ?? true, muted: true, volume: 50 },
    { runner, clock, log: silentLogger(), feed },
  );
  return { media, link, encoders, copies, sources, clock };
}

/** The value after `flag` in an argument vector. */
function arg(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

const flush = () => new Promise((r) => setImmediate(r));

describe('thumbnail settings', () => {
  it('are 320 wide in the full aspect (even height), at most 15 fps and 150 kbps', () => {
    expect(THUMBNAIL).toEqual({ width: 320, maxFramerate: 15, bitrateKbps: 150 });
    expect(videoLayerOutput('small', FULL)).toEqual({
      width: 320,
      height: 180,
      framerate: 15,
      bitrateKbps: 150,
    });
    expect(videoLayerOutput('small', { ...FULL, width: 640, height: 480 }).height).toBe(240);
    expect(videoLayerOutput('small', { ...FULL, width: 1366, height: 768 }).height).toBe(180);
    expect(videoLayerOutput('small', { ...FULL, width: 720, height: 576 }).height).toBe(256);
    // Never more than the full settings themselves.
    const modest = { ...FULL, width: 320, height: 180, framerate: 10, bitrateKbps: 100 };
    expect(videoLayerOutput('small', modest)).toEqual({
      width: 320,
      height: 180,
      framerate: 10,
      bitrateKbps: 100,
    });
    expect(videoLayerOutput('full', FULL)).toBe(FULL);
  });

  it('scale a camera still opened in its full mode; a file source is sent as it is', () => {
    const cam: VideoSource = { type: 'v4l2', device: '/dev/video0' };
    const a = videoCaptureArgs(cam, FULL, videoLayerOutput('small', FULL));
    expect(arg(a, '-video_size')).toBe('1280x720');
    expect(arg(a, '-framerate')).toBe('30');
    expect(arg(a, '-vf')).toBe('scale=320:180,fps=15');
    expect(arg(a, '-b:v')).toBe('150k');
    expect(arg(a, '-maxrate')).toBe('150k');
    expect(arg(a, '-g')).toBe('30'); // the same 2 s between keyframes at 15 fps
    // The full layer is exactly the command line without an output.
    expect(videoCaptureArgs(cam, FULL, FULL)).toEqual(videoCaptureArgs(cam, FULL));
    const file: VideoSource = { type: 'file', path: '/clip.ivf' };
    expect(videoCaptureArgs(file, FULL, videoLayerOutput('small', FULL))).toEqual(
      videoCaptureArgs(file, FULL),
    );
  });
});

describe('the room follows its video layer', () => {
  it('small restarts the encoder at the thumbnail, full back at the configured settings', async () => {
    const { media, link, encoders, sources, clock } = start();
    expect(encoders()).toHaveLength(1);
    const full = encoders()[0]!;
    expect(arg(sources()[0]!.args, '-i')).toContain('testsrc2=size=1280x720:rate=30');
    expect(full.args).not.toContain('-vf');
    expect(arg(full.args, '-b:v')).toBe('1200k');

    link.relaySays('small');
    expect(full.child.running).toBe(false);
    // The new encoder takes over at once; the picture's source runs on untouched.
    expect(encoders()).toHaveLength(2);
    expect(sources()).toHaveLength(1);
    expect(sources()[0]!.child.running).toBe(true);
    const small = encoders()[1]!;
    expect(small.child.running).toBe(true);
    // The source is the same picture, scaled and thinned to the thumbnail.
    expect(arg(small.args, '-i')).toBe(arg(full.args, '-i'));
    expect(arg(small.args, '-vf')).toBe('scale=320:180,fps=15');
    expect(arg(small.args, '-b:v')).toBe('150k');
    expect(arg(small.args, '-g')).toBe('30');
    expect(media.video.output).toEqual({ width: 320, height: 180, framerate: 15, bitrateKbps: 150 });

    // The new encoder's frames go out; whatever the old one still writes is ignored.
    small.child.stdout.write(
      writeIvfHeader({ codec: 'vp8', width: 320, height: 180, timebaseDen: 15, timebaseNum: 1 }),
    );
    small.child.stdout.write(writeIvfFrame(Uint8Array.of(0x10, 0x02, 0x00, 0x9d), 0));
    full.child.stdout.write(writeIvfFrame(Uint8Array.of(0x11, 0x02, 0x00), 99));
    await flush();
    expect(link.sent).toHaveLength(1);
    expect(link.sent[0]!.keyframe).toBe(true);

    // Within LAYER_MIN_INTERVAL_MS of the last change: followed when the interval is over.
    link.relaySays('full');
    expect(small.child.running).toBe(true);
    clock.advance(LAYER_MIN_INTERVAL_MS);
    await flush();
    expect(small.child.running).toBe(false);
    expect(encoders()).toHaveLength(3);
    expect(encoders()[2]!.args).toEqual(full.args);
    expect(media.video.status().state).not.toBe('stopped');
    await media.video.stop();
  });

  it('a room admitted while small starts at the thumbnail', async () => {
    const { media, encoders } = start({ layer: 'small' });
    expect(encoders()).toHaveLength(1);
    expect(arg(encoders()[0]!.args, '-vf')).toBe('scale=320:180,fps=15');
    await media.video.stop();
  });

  it('a camera that is off stays off; its next start uses the layer of that moment', async () => {
    const { media, link, encoders, clock } = start({ cameraOn: false });
    link.relaySays('small');
    expect(encoders()).toHaveLength(0);
    expect(media.video.status().state).toBe('stopped');
    media.video.start();
    expect(encoders()).toHaveLength(1);
    expect(arg(encoders()[0]!.args, '-b:v')).toBe('150k');

    // Turned off while small (Room.setCamera(false) stops the capture): flips start nothing.
    await media.video.stop();
    link.relaySays('full');
    link.relaySays('small');
    link.relaySays('full');
    clock.advance(LAYER_MIN_INTERVAL_MS);
    await flush();
    expect(encoders()).toHaveLength(1);
    expect(media.video.status().state).toBe('stopped');
    media.video.start();
    expect(encoders()).toHaveLength(2);
    expect(arg(encoders()[1]!.args, '-b:v')).toBe('1200k');
    expect(encoders()[1]!.args).not.toContain('-vf');
    await media.video.stop();
  });

  it('flips leave one encoder running and one listener, none after unsubscribing', async () => {
    const { media, link, encoders, sources, clock } = start();
    for (let i = 0; i < 20; i++) {
      sources()[0]!.child.stdout.write(Uint8Array.of(0)); // the picture flows: the source is not stalled
      link.relaySays(i % 2 === 0 ? 'small' : 'full');
      clock.advance(LAYER_MIN_INTERVAL_MS);
      await flush();
    }
    expect(encoders()).toHaveLength(21);
    expect(encoders().filter((e) => e.child.running)).toHaveLength(1);
    expect(link.listeners.size).toBe(1);
    // The same layer again changes nothing.
    expect(media.video.reconfigure(videoLayerOutput('full', FULL))).toBe(false);
    expect(encoders()).toHaveLength(21);

    // Twenty flips at once: the first is followed now, the other nineteen by one restart to the
    // last layer when the interval is over.
    for (let i = 0; i < 20; i++) link.relaySays(i % 2 === 0 ? 'small' : 'full');
    await flush();
    expect(encoders()).toHaveLength(22);
    clock.advance(LAYER_MIN_INTERVAL_MS);
    await flush();
    expect(encoders()).toHaveLength(23);
    expect(arg(encoders()[22]!.args, '-b:v')).toBe('1200k');
    expect(encoders().filter((e) => e.child.running)).toHaveLength(1);

    media.offVideoLayer();
    expect(link.listeners.size).toBe(0);
    await media.video.stop();
    expect(encoders().filter((e) => e.child.running)).toHaveLength(0);
  });

  it('a file source ignores the layer', async () => {
    const { media, link, copies } = start({ video: { type: 'file', path: '/clip.ivf', loop: true } });
    expect(copies()).toHaveLength(1);
    link.relaySays('small');
    expect(copies()).toHaveLength(1);
    expect(copies()[0]!.child.running).toBe(true);
    expect(media.video.output).toEqual({ width: 1280, height: 720, framerate: 30, bitrateKbps: 1200 });
    await media.video.stop();
  });
});

describe('a video capture waiting on its camera', () => {
  it('starts at the output set while its precheck ran', async () => {
    const { runner, encoders } = recordingRunner();
    let present: (yes: boolean) => void = () => {};
    const cap = createVideoCapture({ type: 'v4l2', device: '/dev/video0' }, FULL, {
      runner,
      clock: new FakeClock(),
      logger: silentLogger(),
      deviceExists: () => new Promise((r) => (present = r)),
    });
    cap.start();
    expect(cap.reconfigure(videoLayerOutput('small', FULL))).toBe(false); // no child to replace yet
    expect(encoders()).toHaveLength(0);
    present(true);
    await flush();
    expect(encoders()).toHaveLength(1);
    expect(arg(encoders()[0]!.args, '-vf')).toBe('scale=320:180,fps=15');
    expect(arg(encoders()[0]!.args, '-video_size')).toBe('1280x720');
    await cap.stop();
  });
});

describe('the room follows its uplink rate', () => {
  it('maps a target to size, frame rate and bitrate, never above the layer', () => {
    const full = { width: 1280, height: 720, framerate: 30, bitrateKbps: 2500 };
    expect(rateOutput(full, 2500)).toBe(full);
    expect(rateOutput(full, 9000)).toBe(full);
    expect(rateOutput(full, 1200)).toEqual({ ...full, bitrateKbps: 1200 });
    expect(rateOutput(full, 500)).toEqual({ width: 640, height: 360, framerate: 30, bitrateKbps: 500 });
    expect(rateOutput(full, 250)).toEqual({ width: 480, height: 270, framerate: 15, bitrateKbps: 250 });
    expect(rateOutput(full, 150)).toEqual({ width: 320, height: 180, framerate: 15, bitrateKbps: 150 });
    // Up a rung only with a margin (a bigger picture's keyframes cost more); down at once.
    const at480 = rateOutput(full, 250);
    expect(rateOutput(full, 444, at480)).toEqual({ ...at480, bitrateKbps: 444 });
    expect(rateOutput(full, 500, at480)).toEqual({
      width: 640,
      height: 360,
      framerate: 30,
      bitrateKbps: 500,
    });
    expect(rateOutput(full, 199, at480).width).toBe(320);
    expect(rateOutput(full, 1000, rateOutput(full, 500)).width).toBe(640);
    expect(rateOutput(full, 1125, rateOutput(full, 500)).width).toBe(1280);
    // The thumbnail layer is already below every rung: only its bitrate can go lower.
    const thumb = videoLayerOutput('small', { ...FULL, bitrateKbps: 2500 });
    expect(rateOutput(thumb, 100)).toEqual({ ...thumb, bitrateKbps: 100 });
  });

  it('a new target switches the encoder to it, at most every RATE_MIN_INTERVAL_MS, the latest winning', async () => {
    const { media, link, encoders, clock } = start();
    expect(arg(encoders()[0]!.args, '-b:v')).toBe('1200k');
    link.rateSays(500);
    await flush();
    expect(encoders()).toHaveLength(2);
    expect(arg(encoders()[1]!.args, '-b:v')).toBe('500k');
    expect(arg(encoders()[1]!.args, '-vf')).toBe('scale=640:360,fps=30');
    // Two more within the second: one restart when it is over, at the last one.
    link.rateSays(300);
    link.rateSays(700);
    await flush();
    expect(encoders()).toHaveLength(2);
    clock.advance(RATE_MIN_INTERVAL_MS);
    await flush();
    expect(encoders()).toHaveLength(3);
    expect(arg(encoders()[2]!.args, '-b:v')).toBe('700k');
    // A small rise at the same size waits to add up (each switch costs a keyframe); a fall never waits.
    clock.advance(RATE_MIN_INTERVAL_MS);
    link.rateSays(800);
    await flush();
    expect(encoders()).toHaveLength(3);
    clock.advance(RATE_MIN_INTERVAL_MS);
    link.rateSays(880);
    await flush();
    expect(encoders()).toHaveLength(4);
    expect(arg(encoders()[3]!.args, '-b:v')).toBe('880k');
    clock.advance(RATE_MIN_INTERVAL_MS);
    link.rateSays(860);
    await flush();
    expect(encoders()).toHaveLength(5);
    // Past the configured bitrate: the configured settings, exactly.
    clock.advance(RATE_MIN_INTERVAL_MS);
    link.rateSays(5000);
    await flush();
    expect(encoders()[5]!.args).toEqual(encoders()[0]!.args);
    // A rate and a layer together: the thumbnail, at the lower of the two bitrates.
    clock.advance(LAYER_MIN_INTERVAL_MS);
    link.rateSays(100);
    link.relaySays('small');
    await flush();
    expect(arg(encoders().at(-1)!.args, '-b:v')).toBe('100k');
    expect(arg(encoders().at(-1)!.args, '-vf')).toBe('scale=320:180,fps=15');
    await media.video.stop();
  });
});
