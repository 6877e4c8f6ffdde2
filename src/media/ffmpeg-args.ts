/**
 * ffmpeg command lines for capture+encode and playout (the keyframe interval follows
 * docs/decisions/0005-media-keyframes-on-demand.md). Pure: settings in,
 * argument vector out, so every flag is unit-tested and no shell ever sees them.
 *
 * Encoders are tuned for realtime: VP8 libvpx (deadline realtime, cpu-used 8, error resilient, no
 * lag/alt-ref), H.264 libx264 (ultrafast, zerolatency, constrained baseline, AUD before every unit,
 * SPS/PPS repeated on each IDR), Opus (lowdelay, 20 ms frames, one Ogg page per packet). Every muxer
 * flushes per packet so a frame leaves the pipe as soon as it is encoded.
 */
import { filterQuote, frameStampFilters } from './ffmpeg-filters.ts';
import { type SlidesSource, slidesGraph } from './ffmpeg-slides.ts';
import { STAMP_CELLS } from './frame-stamp.ts';

export { frameStampFilters } from './ffmpeg-filters.ts';
export {
  type Rect,
  SCROLL_LINES,
  SCROLL_LINES_PER_SECOND,
  SLIDE_COUNT,
  SLIDE_LINES,
  SLIDE_SECONDS,
  type SlidesLayout,
  type SlidesSource,
  slidesLayout,
} from './ffmpeg-slides.ts';

export type VideoSource =
  /** A V4L2 camera, ideally a stable `/dev/v4l/by-id/…` path. */
  | {
      readonly type: 'v4l2';
      readonly device: string;
      /** Pixel format asked of the camera (default mjpeg, which USB 2 cameras need for 720p30; auto = driver's choice). */
      readonly inputFormat?: 'mjpeg' | 'yuyv422' | 'h264' | 'auto';
    }
  /**
   * ffmpeg's testsrc2 with a wall-clock overlay when a font is available, and the frame stamp
   * (src/media/frame-stamp.ts) across its top unless `frameStamp` is false: the wall-clock time
   * (true, the default) or the frame's number from 0 ('frame-index', for a clip encoded once and
   * replayed, docs/benchmarks.md §glass-to-glass).
   */
  | {
      readonly type: 'test';
      readonly fontFile?: string | null;
      readonly label?: string;
      readonly frameStamp?: boolean | 'frame-index';
    }
  /**
   * Video encoded beforehand, in the settings' codec (VP8 in IVF, H.264 Annex B), sent as it is at
   * its own frame rate (`-re`, no encoding), from its start again after its end when `loop`.
   */
  | { readonly type: 'file'; readonly path: string; readonly loop?: boolean }
  | SlidesSource;

export type AudioSource =
  | { readonly type: 'alsa'; readonly device: string }
  | { readonly type: 'test'; readonly frequencyHz?: number };

export interface VideoEncodeSettings {
  readonly codec: 'vp8' | 'h264';
  readonly width: number;
  readonly height: number;
  readonly framerate: number;
  readonly bitrateKbps: number;
  /** Longest distance between keyframes (default 2000 ms). */
  readonly keyframeIntervalMs?: number;
  /** Encoder threads (default 2: the appliance has few cores). */
  readonly threads?: number;
  /**
   * The encoder's scheduling priority as nice(1) takes it (default 0): above 0 it yields the CPU to
   * what the room shows and plays (docs/decisions/0017-the-screen-before-the-camera.md).
   */
  readonly niceness?: number;
}

/**
 * What a video layer changes of an encoding (docs/protocol.md §Big meetings): the encoded size, frame
 * rate and bitrate. The source (a camera's capture mode, the test picture) stays at the full settings.
 */
export type VideoOutputSettings = Pick<VideoEncodeSettings, 'width' | 'height' | 'framerate' | 'bitrateKbps'>;

export interface AudioEncodeSettings {
  readonly bitrateKbps: number;
  readonly channels?: 1 | 2;
}

export interface PlayoutSettings {
  /** ALSA playback device, or null for no speaker (demo, tests). */
  readonly device: string | null;
  /** Also write 8 kHz mono s16le to stdout for the level meter. */
  readonly meter: boolean;
  /** 0..100 (the settings' speaker volume); 100 = unity gain. */
  readonly volume?: number;
  /** What arrives on stdin: Ogg/Opus (default) or mixed 48 kHz mono s16le PCM (AudioMixer). */
  readonly input?: 'ogg' | 'pcm';
}

/** Sample rate of the level-meter stream playout writes to stdout (and audio capture to fd 3). */
export const METER_RATE = 8000;

/** The descriptor on which audio capture writes its meter stream (ProcessRunner `extraOutput`). */
export const CAPTURE_LEVEL_FD = 3;

const COMMON = ['-hide_banner', '-nostats', '-loglevel', 'warning'] as const;

function videoInput(src: Exclude<VideoSource, { type: 'file' }>, s: VideoEncodeSettings): string[] {
  if (src.type === 'v4l2') {
    return [
      '-f',
      'v4l2',
      '-thread_queue_size',
      '8',
      ...(src.inputFormat === 'auto' ? [] : ['-input_format', src.inputFormat ?? 'mjpeg']),
      '-framerate',
      String(s.framerate),
      '-video_size',
      `${s.width}x${s.height}`,
      '-i',
      src.device,
    ];
  }
  if (src.type === 'slides') return ['-re', '-f', 'lavfi', '-i', slidesGraph(src, s)];
  let graph = `testsrc2=size=${s.width}x${s.height}:rate=${s.framerate}`;
  if (src.fontFile) {
    const size = Math.max(12, Math.round(s.height / 12));
    const label = (src.label ?? '').replace(/[^A-Za-z0-9 _.-]/g, '').slice(0, 32);
    const text = `${label === '' ? '' : `${label} `}%{localtime:%X} #%{n}`;
    graph +=
      `,drawtext=fontfile=${filterQuote(src.fontFile)}:text=${filterQuote(text)}` +
      `:x=8:y=h-th-8:fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6`;
  }
  // Narrower than two pixels a cell, the stamp would not be readable (and drawbox reads w=0 as "all").
  if (src.frameStamp !== false && s.width >= STAMP_CELLS * 2)
    graph += `,${frameStampFilters(s.width, s.height, s.framerate, src.frameStamp === 'frame-index' ? 'frame-index' : 'wall-clock')}`;
  return ['-re', '-f', 'lavfi', '-i', graph];
}

/**
 * The capture+encode command line. `out` (default: the settings' own) is what the encoder makes: a
 * smaller layer scales and thins the source's frames, so a camera is still opened in the mode the
 * full settings ask for. A file source is sent as it is, whatever `out` says.
 */
export function videoCaptureArgs(
  src: VideoSource,
  s: VideoEncodeSettings,
  out: VideoOutputSettings = s,
): string[] {
  const format = s.codec === 'vp8' ? 'ivf' : 'h264';
  if (src.type === 'file')
    return [
      ...COMMON,
      '-nostdin',
      '-re',
      ...(src.loop === true ? ['-stream_loop', '-1'] : []),
      '-f',
      format,
      // IVF carries each frame's time; an Annex B stream does not, so its rate is the settings'.
      ...(format === 'h264' ? ['-framerate', String(s.framerate)] : []),
      '-i',
      src.path,
      '-an',
      '-c:v',
      'copy',
      '-f',
      format,
      '-flush_packets',
      '1',
      'pipe:1',
    ];
  return [
    ...COMMON,
    '-nostdin',
    ...videoInput(src, s),
    ...encodeArgs(s, out, src.type === 'v4l2' || resizedFrom(s, out)),
  ];
}

function resizedFrom(s: VideoOutputSettings, out: VideoOutputSettings): boolean {
  return out.width !== s.width || out.height !== s.height || out.framerate !== s.framerate;
}

/** Bytes of one raw yuv420p frame of `w`×`h` (the chroma planes round up for odd sizes). */
export function rawFrameBytes(w: number, h: number): number {
  return w * h + 2 * Math.ceil(w / 2) * Math.ceil(h / 2);
}

/**
 * The source half of a split capture (docs/decisions/0005-media-keyframes-on-demand.md §Spare
 * encoder): the camera or test picture as raw yuv420p frames on stdout, exactly the settings' size
 * and frame rate (a camera that opened in another mode is scaled and thinned to it), so every
 * `rawFrameBytes(width, height)` bytes are one frame. Not for a file or slides source.
 */
export function videoSourceArgs(
  src: Exclude<VideoSource, { type: 'file' }>,
  s: VideoEncodeSettings,
): string[] {
  return [
    ...COMMON,
    '-nostdin',
    ...videoInput(src, s),
    '-an',
    ...(src.type === 'v4l2' ? ['-vf', `scale=${s.width}:${s.height},fps=${s.framerate}`] : []),
    '-pix_fmt',
    'yuv420p',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
}

/**
 * The encoder half of a split capture: raw yuv420p frames of the source's size and rate on stdin,
 * encoded at `out` with the same encoder flags as `videoCaptureArgs` (its first frame is a
 * keyframe; its keyframe schedule counts from its own start).
 */
export function videoEncoderArgs(s: VideoEncodeSettings, out: VideoOutputSettings = s): string[] {
  return [
    ...COMMON,
    '-nostdin',
    '-f',
    'rawvideo',
    '-pixel_format',
    'yuv420p',
    '-video_size',
    `${s.width}x${s.height}`,
    '-framerate',
    String(s.framerate),
    '-i',
    'pipe:0',
    ...encodeArgs(s, out, resizedFrom(s, out)),
  ];
}

/** Everything after the input: scaling to `out`, the encoder and its muxer to stdout. */
function encodeArgs(s: VideoEncodeSettings, out: VideoOutputSettings, scale: boolean): string[] {
  const format = s.codec === 'vp8' ? 'ivf' : 'h264';
  const gop = Math.max(1, Math.round(((s.keyframeIntervalMs ?? 2000) * out.framerate) / 1000));
  const gopSeconds = gop / out.framerate;
  const kbps = Math.round(out.bitrateKbps);
  const rate = [
    '-b:v',
    `${kbps}k`,
    '-maxrate',
    `${kbps}k`,
    '-bufsize',
    `${Math.max(1, Math.round(kbps / 2))}k`,
  ];
  const common = [
    '-fflags',
    'nobuffer',
    '-an',
    ...(scale ? ['-vf', `scale=${out.width}:${out.height},fps=${out.framerate}`] : []),
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(gop),
    '-force_key_frames',
    `expr:gte(t,n_forced*${gopSeconds})`,
    '-threads',
    String(s.threads ?? 2),
  ];
  const encoder =
    s.codec === 'vp8'
      ? [
          '-c:v',
          'libvpx',
          '-deadline',
          'realtime',
          '-cpu-used',
          '8',
          '-error-resilient',
          '1',
          '-lag-in-frames',
          '0',
          '-auto-alt-ref',
          '0',
          '-qmin',
          '4',
          '-qmax',
          '56',
          ...rate,
          '-f',
          format,
        ]
      : [
          '-c:v',
          'libx264',
          '-preset',
          'ultrafast',
          '-tune',
          'zerolatency',
          '-profile:v',
          'baseline',
          '-x264-params',
          `aud=1:repeat-headers=1:keyint=${gop}:min-keyint=${gop}:scenecut=0`,
          ...rate,
          '-f',
          format,
        ];
  return [...common, ...encoder, '-flush_packets', '1', 'pipe:1'];
}

/**
 * Microphone (or sine) → Opus in Ogg on stdout, and the same input as the 8 kHz mono s16le meter
 * stream on fd 3 (`pipe:3`), from which the capture reads the level each audio frame carries. The
 * child must be spawned with that pipe open (ProcessRunner `extraOutput`) and it must be drained.
 */
export function audioCaptureArgs(src: AudioSource, s: AudioEncodeSettings): string[] {
  const channels = s.channels ?? 1;
  const input =
    src.type === 'alsa'
      ? [
          '-f',
          'alsa',
          '-thread_queue_size',
          '8',
          '-sample_rate',
          '48000',
          '-channels',
          String(channels),
          '-i',
          src.device,
        ]
      : ['-re', '-f', 'lavfi', '-i', `sine=frequency=${src.frequencyHz ?? 440}:sample_rate=48000`];
  return [
    ...COMMON,
    '-nostdin',
    ...input,
    '-vn',
    '-ac',
    String(channels),
    '-ar',
    '48000',
    '-c:a',
    'libopus',
    '-application',
    'lowdelay',
    '-frame_duration',
    '20',
    '-b:a',
    `${Math.round(s.bitrateKbps)}k`,
    '-page_duration',
    '20000',
    '-flush_packets',
    '1',
    '-f',
    'ogg',
    'pipe:1',
    '-map',
    '0:a',
    '-ac',
    '1',
    '-ar',
    String(METER_RATE),
    '-c:a',
    'pcm_s16le',
    '-f',
    's16le',
    '-flush_packets',
    '1',
    `pipe:${CAPTURE_LEVEL_FD}`,
  ];
}

/** Decode Ogg/Opus from stdin; play to ALSA and/or write the meter stream to stdout. */
export function playoutArgs(s: PlayoutSettings): string[] {
  const gain = Math.min(100, Math.max(0, s.volume ?? 100)) / 100;
  const input =
    s.input === 'pcm'
      ? ['-fflags', 'nobuffer', '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0']
      : ['-probesize', '32', '-analyzeduration', '0', '-fflags', 'nobuffer', '-f', 'ogg', '-i', 'pipe:0'];
  const outputs: string[] = [];
  if (s.device !== null) {
    outputs.push('-map', '0:a', '-af', `volume=${gain.toFixed(2)}`, '-f', 'alsa', s.device);
  }
  if (s.meter || s.device === null) {
    outputs.push(
      '-map',
      '0:a',
      '-ac',
      '1',
      '-ar',
      String(METER_RATE),
      '-f',
      's16le',
      '-flush_packets',
      '1',
      'pipe:1',
    );
  }
  return [...COMMON, ...input, ...outputs];
}

/** Decode one participant's Ogg/Opus from stdin to 48 kHz mono s16le on stdout (AudioMixer input). */
export function decoderArgs(): string[] {
  return [
    ...COMMON,
    '-probesize',
    '32',
    '-analyzeduration',
    '0',
    '-fflags',
    'nobuffer',
    '-f',
    'ogg',
    '-i',
    'pipe:0',
    '-ac',
    '1',
    '-ar',
    '48000',
    '-f',
    's16le',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}
