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
import {
  STAMP_CELLS,
  STAMP_CHECK_BITS,
  STAMP_DATA_BITS,
  stampBandHeight,
  stampCellX,
} from './frame-stamp.ts';

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
  /**
   * A synthetic shared slide deck, for content sharing without an HDMI capture dongle (the demo's
   * laptop, tests, benchmarks): a white page whose title and lines of small dark text change every
   * `SLIDE_SECONDS` (slide N of `SLIDE_COUNT`), a moving mouse cursor, a frame counter in the
   * bottom-right corner, and the frame stamp holding the frame's number (`frameStampFilters` in
   * 'frame-index' mode). Without a font the text is drawn as dark boxes and the counter is the stamp
   * alone. Where everything sits: `slidesLayout`. `motion` picks what moves (docs/benchmarks.md
   * §share-quality): 'deck' (the default) as above; 'static' the first slide only, no cursor (the
   * counter and the stamp are all that change); 'scroll' a long page of body text, no title, moving
   * up steadily by `SCROLL_LINES_PER_SECOND` lines a second and repeating every `SCROLL_LINES`
   * lines, no cursor.
   */
  | {
      readonly type: 'slides';
      readonly label?: string;
      readonly fontFile: string | null;
      readonly motion?: 'deck' | 'static' | 'scroll';
    };

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

/** Sample rate of the level-meter stream playout writes to stdout. */
export const METER_RATE = 8000;

const COMMON = ['-hide_banner', '-nostats', '-loglevel', 'warning'] as const;

/** Escape a value for use inside a single-quoted filter-graph option. */
function filterQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`;
}

/** Seconds each slide of the `slides` source is shown. */
export const SLIDE_SECONDS = 4;
/** Slides in the `slides` source's deck; after the last it starts again. */
export const SLIDE_COUNT = 5;
/** Lines of body text on each slide. */
export const SLIDE_LINES = 6;

/** Lines of text in the `slides` source's scrolling page (motion 'scroll') before it repeats. */
export const SCROLL_LINES = 48;
/** How fast the scrolling page moves up, in lines (`linePitch`) a second. */
export const SCROLL_LINES_PER_SECOND = 2.5;

const SLIDE_TITLES = ['Agenda', 'Where we are', 'The numbers', 'Risks', 'Next steps'] as const;

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** Where the `slides` source draws things in a `width`×`height` frame (pixels, integers). */
export interface SlidesLayout {
  /** Left and right page margin. */
  readonly margin: number;
  readonly titleSize: number;
  /** Body text size: 20 px at 1080 lines, 13 at 720, never below 10. */
  readonly bodySize: number;
  /** Distance between the tops of two body lines. */
  readonly linePitch: number;
  readonly title: Rect;
  /** The body text's lines, all of them. */
  readonly body: Rect;
  /** The frame counter's box, bottom right. */
  readonly counter: Rect;
  /** The "Slide N of M" line, bottom left. */
  readonly footer: Rect;
  /** The mouse cursor's size; it moves inside `body`. */
  readonly cursor: { readonly w: number; readonly h: number };
}

export function slidesLayout(width: number, height: number): SlidesLayout {
  const margin = Math.round(width / 24);
  const titleSize = Math.max(14, Math.round(height / 20));
  const bodySize = Math.max(10, Math.round(height / 54));
  const linePitch = Math.round(bodySize * 1.8);
  const top = stampBandHeight(height) + Math.round(height / 12);
  const title = { x: margin, y: top, w: width - 2 * margin, h: titleSize };
  const body = {
    x: margin,
    y: top + 2 * titleSize,
    w: width - 2 * margin,
    h: (SLIDE_LINES - 1) * linePitch + bodySize,
  };
  const counterH = Math.max(12, Math.round(height / 16));
  const counterW = Math.max(40, Math.round(width / 8));
  const counter = {
    x: width - margin - counterW,
    y: height - Math.round(margin / 2) - counterH,
    w: counterW,
    h: counterH,
  };
  const footer = { x: margin, y: counter.y, w: Math.round(width / 3), h: counterH };
  const cursorH = Math.max(6, Math.round(height / 40));
  return {
    margin,
    titleSize,
    bodySize,
    linePitch,
    title,
    body,
    counter,
    footer,
    cursor: { w: Math.max(4, Math.round(cursorH * 0.65)), h: cursorH },
  };
}

/** A line of body text: different on every slide and every line, so a slide change is visible. */
function slideLine(slide: number, line: number): string {
  const words = ['quarterly', 'roadmap', 'budget', 'latency', 'rollout', 'review', 'customers', 'release'];
  const a = words[(slide * 3 + line) % words.length]!;
  const b = words[(slide + line * 5 + 1) % words.length]!;
  return `${line + 1}. The ${a} and the ${b} for item ${slide + 1}.${line + 1}, measured in week ${10 + slide * SLIDE_LINES + line}`;
}

/** The `slides` source's filter graph (see `VideoSource`): one lavfi input, the stamp drawn last. */
function slidesGraph(src: Extract<VideoSource, { type: 'slides' }>, s: VideoEncodeSettings): string {
  const L = slidesLayout(s.width, s.height);
  const rate = s.framerate;
  const motion = src.motion ?? 'deck';
  const label = (src.label ?? '').replace(/[^A-Za-z0-9 _.-]/g, '').slice(0, 32);
  /** On while slide `k` (from 0) is shown; a static page shows its one slide all the time. */
  const on = (k: number) =>
    motion === 'deck' ? `:enable='eq(mod(floor(t/${SLIDE_SECONDS}),${SLIDE_COUNT}),${k})'` : '';
  const dark = '0x202020';
  const font = src.fontFile === null ? null : `fontfile=${filterQuote(src.fontFile)}`;
  const filters: string[] = [];
  const slides = motion === 'deck' ? SLIDE_COUNT : motion === 'static' ? 1 : 0;
  for (let k = 0; k < slides; k++) {
    if (font !== null) {
      const title = `${label === '' ? '' : `${label} - `}${SLIDE_TITLES[k % SLIDE_TITLES.length]}`;
      const lines = Array.from({ length: SLIDE_LINES }, (_, j) => slideLine(k, j)).join('\n');
      filters.push(
        `drawtext=${font}:text=${filterQuote(title)}:x=${L.title.x}:y=${L.title.y}:fontsize=${L.titleSize}:fontcolor=${dark}${on(k)}`,
        `drawtext=${font}:text=${filterQuote(lines)}:x=${L.body.x}:y=${L.body.y}:fontsize=${L.bodySize}` +
          `:line_spacing=${L.linePitch - L.bodySize}:fontcolor=${dark}${on(k)}`,
        `drawtext=${font}:text=${filterQuote(`Slide ${k + 1} of ${SLIDE_COUNT}`)}:x=${L.footer.x}:y=${L.footer.y}` +
          `:fontsize=${Math.round(L.footer.h / 2)}:fontcolor=0x606060${on(k)}`,
      );
    } else {
      // Boxes where the words would be: a title bar, lines of different lengths, one square per
      // slide number in the footer.
      const box = (r: Rect, color: string) =>
        `drawbox=x=${r.x}:y=${r.y}:w=${Math.max(1, r.w)}:h=${Math.max(1, r.h)}:color=${color}:t=fill${on(k)}`;
      filters.push(box({ ...L.title, w: Math.round(L.title.w * (0.35 + 0.08 * k)) }, dark));
      for (let j = 0; j < SLIDE_LINES; j++) {
        const share = 0.45 + 0.1 * ((k * 3 + j * 2) % 6);
        const y = L.body.y + j * L.linePitch + Math.round(L.bodySize * 0.15);
        filters.push(
          box({ x: L.body.x, y, w: Math.round(L.body.w * share), h: Math.round(L.bodySize * 0.7) }, dark),
        );
      }
      const side = Math.max(2, Math.round(L.footer.h / 2));
      for (let i = 0; i <= k; i++)
        filters.push(box({ x: L.footer.x + i * 2 * side, y: L.footer.y, w: side, h: side }, '0x606060'));
    }
  }
  if (motion === 'scroll') {
    // A page of SCROLL_LINES lines moving up; a second copy right under it, so the page wraps
    // around without a gap (drawtext and drawbox clip what falls outside the frame).
    const top = stampBandHeight(s.height) + Math.round(L.margin / 2);
    const block = SCROLL_LINES * L.linePitch;
    const speed = SCROLL_LINES_PER_SECOND * L.linePitch;
    const lines = Array.from({ length: SCROLL_LINES }, (_, i) =>
      slideLine(Math.floor(i / SLIDE_LINES), i % SLIDE_LINES),
    );
    for (const copy of [0, 1]) {
      const y = `${top + copy * block}-mod(t*${speed},${block})`;
      if (font !== null)
        filters.push(
          `drawtext=${font}:text=${filterQuote(lines.join('\n'))}:x=${L.body.x}:y='${y}':fontsize=${L.bodySize}` +
            `:line_spacing=${L.linePitch - L.bodySize}:fontcolor=${dark}`,
        );
      else
        for (let i = 0; i < SCROLL_LINES; i++) {
          const w = Math.max(1, Math.round(L.body.w * (0.45 + 0.1 * ((i * 2) % 6))));
          const h = Math.max(1, Math.round(L.bodySize * 0.7));
          const dy = i * L.linePitch + Math.round(L.bodySize * 0.15);
          filters.push(`drawbox=x=${L.body.x}:y='${y}+${dy}':w=${w}:h=${h}:color=${dark}:t=fill`);
        }
    }
  }
  if (font !== null) {
    // A box of fixed size, so the counter does not grow and shrink with its digits.
    filters.push(
      `drawbox=x=${L.counter.x}:y=${L.counter.y}:w=${L.counter.w}:h=${L.counter.h}:color=${dark}:t=fill`,
      `drawtext=${font}:text=${filterQuote('#%{frame_num}')}` +
        `:x=${L.counter.x}+(${L.counter.w}-tw)/2:y=${L.counter.y}+(${L.counter.h}-th)/2` +
        `:fontsize=${Math.round(L.counter.h * 0.6)}:fontcolor=white`,
    );
  }
  const page = [`color=c=white:size=${s.width}x${s.height}:rate=${rate}`, ...filters].join(',');
  // Narrower than two pixels a cell, the stamp would not be readable (as for the test source).
  const stamp =
    s.width >= STAMP_CELLS * 2 ? `,${frameStampFilters(s.width, s.height, rate, 'frame-index')}` : '';
  if (motion !== 'deck') return `${page}${stamp}`;
  // The cursor sweeps a Lissajous path over the body text (overlay reevaluates x, y every frame).
  const cx = `${L.body.x}+${L.body.w - L.cursor.w}*(0.5+0.45*sin(t*0.9))`;
  const cy = `${L.body.y}+${Math.max(0, L.body.h - L.cursor.h)}*(0.5+0.45*sin(t*1.3))`;
  const cursor = `color=c=black:size=${L.cursor.w}x${L.cursor.h}:rate=${rate}`;
  return `${page}[page];${cursor}[cursor];[page][cursor]overlay=x='${cx}':y='${cy}':shortest=1${stamp}`;
}

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
 * The frame stamp (src/media/frame-stamp.ts, docs/benchmarks.md §glass-to-glass) as a filter chain,
 * drawn after everything else. 'wall-clock': the frame's timestamp becomes the wall clock in ms
 * (`settb` + `setpts=RTCTIME/1000`, RTCTIME being µs), so every cell's `enable=` expression reads the
 * same time `t`, and after the cells the timestamps go back to frame numbers at the frame rate, as
 * testsrc2 made them. 'frame-index': the cells hold the frame's number `n` (0 for the first), and
 * the timestamps are left alone. Then the white reference, a black band over the other cells, one
 * white box per set Gray-code bit or check bit.
 */
export function frameStampFilters(
  width: number,
  height: number,
  framerate: number,
  value: 'wall-clock' | 'frame-index' = 'wall-clock',
): string {
  const band = stampBandHeight(height);
  const wall = value === 'wall-clock';
  const stamped = wall ? 'floor(t*1000+0.5)' : 'n';
  /** Bit k of the Gray code of the stamped value: bit k+1 of (value + 2^k). */
  const gray = (k: number) => `mod(floor((${stamped}+${2 ** k})/${2 ** (k + 1)}),2)`;
  const box = (cell: number, color: string, enable?: string) => {
    const x = stampCellX(cell, width);
    const w = stampCellX(cell + 1, width) - x;
    return `drawbox=x=${x}:y=0:w=${w}:h=${band}:color=${color}:t=fill${enable === undefined ? '' : `:enable='${enable}'`}`;
  };
  const filters = [...(wall ? ['settb=1/1000', 'setpts=RTCTIME/1000'] : []), box(0, 'white')];
  filters.push(
    `drawbox=x=${stampCellX(1, width)}:y=0:w=${stampCellX(STAMP_CELLS, width) - stampCellX(1, width)}:h=${band}:color=black:t=fill`,
  );
  for (let k = STAMP_DATA_BITS - 1; k >= 0; k--)
    filters.push(box(2 + STAMP_DATA_BITS - 1 - k, 'white', gray(k)));
  for (let j = 0; j < STAMP_CHECK_BITS; j++) {
    const terms: string[] = [];
    for (let k = j; k < STAMP_DATA_BITS; k += STAMP_CHECK_BITS) terms.push(gray(k));
    filters.push(box(2 + STAMP_DATA_BITS + j, 'white', `mod(${terms.join('+')},2)`));
  }
  if (wall) filters.push(`settb=1/${framerate}`, 'setpts=N');
  return filters.join(',');
}

export function videoCaptureArgs(src: VideoSource, s: VideoEncodeSettings): string[] {
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
  const gop = Math.max(1, Math.round(((s.keyframeIntervalMs ?? 2000) * s.framerate) / 1000));
  const gopSeconds = gop / s.framerate;
  const kbps = Math.round(s.bitrateKbps);
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
    ...(src.type === 'v4l2' ? ['-vf', `scale=${s.width}:${s.height},fps=${s.framerate}`] : []),
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
          'ivf',
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
          'h264',
        ];
  return [
    ...COMMON,
    '-nostdin',
    ...videoInput(src, s),
    ...common,
    ...encoder,
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

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
