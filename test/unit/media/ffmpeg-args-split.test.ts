/**
 * The split capture's two command lines (docs/decisions/0005-media-keyframes-on-demand.md §Spare
 * encoder): the source writes raw yuv420p at exactly the settings' size and rate; the encoder reads
 * it from stdin and encodes with the very flags of the one-child capture.
 */
import { describe, expect, it } from 'vitest';
import {
  rawFrameBytes,
  type VideoEncodeSettings,
  videoCaptureArgs,
  videoEncoderArgs,
  videoSourceArgs,
} from '../../../src/media/ffmpeg-args.ts';

const S: VideoEncodeSettings = {
  codec: 'vp8',
  width: 1280,
  height: 720,
  framerate: 30,
  bitrateKbps: 1200,
  keyframeIntervalMs: 2000,
};

function arg(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i < 0 ? undefined : args[i + 1];
}

/** Everything after the input (`-i X`). */
function afterInput(args: readonly string[]): readonly string[] {
  return args.slice(args.indexOf('-i') + 2);
}

describe('rawFrameBytes', () => {
  it('is one yuv420p frame, chroma rounded up for odd sizes', () => {
    expect(rawFrameBytes(1280, 720)).toBe(1_382_400);
    expect(rawFrameBytes(64, 36)).toBe(3456);
    expect(rawFrameBytes(3, 3)).toBe(9 + 2 * 4);
  });
});

describe('videoSourceArgs', () => {
  it('a camera: opened in the settings mode, scaled and thinned to exactly it, raw to stdout', () => {
    const a = videoSourceArgs({ type: 'v4l2', device: '/dev/video0' }, S);
    expect(arg(a, '-video_size')).toBe('1280x720');
    expect(arg(a, '-input_format')).toBe('mjpeg');
    expect(arg(a, '-vf')).toBe('scale=1280:720,fps=30');
    expect(a.slice(-5)).toEqual(['-pix_fmt', 'yuv420p', '-f', 'rawvideo', 'pipe:1']);
    expect(a).not.toContain('-c:v');
    expect(a).not.toContain('-b:v');
  });

  it('the test picture: the same graph as the one-child capture', () => {
    const src = { type: 'test', fontFile: null } as const;
    expect(arg(videoSourceArgs(src, S), '-i')).toBe(arg(videoCaptureArgs(src, S), '-i'));
    expect(videoSourceArgs(src, S)).not.toContain('-vf');
  });
});

describe('videoEncoderArgs', () => {
  it('reads raw frames of the source size from stdin', () => {
    const a = videoEncoderArgs(S);
    expect(a.slice(a.indexOf('-f'), a.indexOf('-i') + 2)).toEqual([
      '-f',
      'rawvideo',
      '-pixel_format',
      'yuv420p',
      '-video_size',
      '1280x720',
      '-framerate',
      '30',
      '-i',
      'pipe:0',
    ]);
    expect(a.at(-1)).toBe('pipe:1');
  });

  it('encodes with exactly the flags of the one-child capture, for both codecs and any output', () => {
    const test = { type: 'test', fontFile: null } as const;
    const small = { width: 320, height: 180, framerate: 15, bitrateKbps: 150 };
    for (const codec of ['vp8', 'h264'] as const) {
      const s = { ...S, codec };
      expect(afterInput(videoEncoderArgs(s))).toEqual(afterInput(videoCaptureArgs(test, s)));
      expect(afterInput(videoEncoderArgs(s, small))).toEqual(afterInput(videoCaptureArgs(test, s, small)));
    }
    const a = videoEncoderArgs(S, small);
    expect(arg(a, '-vf')).toBe('scale=320:180,fps=15');
    expect(arg(a, '-b:v')).toBe('150k');
    expect(arg(a, '-g')).toBe('30');
    expect(arg(a, '-force_key_frames')).toBe('expr:gte(t,n_forced*2)');
    // At the source's own output nothing is scaled.
    expect(videoEncoderArgs(S)).not.toContain('-vf');
  });
});
