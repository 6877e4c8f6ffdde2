/**
 * Capture + encode: a supervised ffmpeg child whose stdout runs
 * through the matching bitstream parser, handing out MediaFrames by callback or async iteration.
 * A new parser is made for every encoder, so a restarted or switched encoder starts a clean stream
 * (it begins with a keyframe). Keyframe requests follow docs/decisions/0005-media-keyframes-on-demand.md:
 * a camera or test picture runs split — the supervised child is the raw source, and encoder
 * children with a spare among them are switched for a keyframe or a new output (§Spare encoder);
 * a file, slides or single-child capture waits for the scheduled keyframe and restarts for a new
 * output.
 *
 * Audio capture also reads the microphone's level: the same ffmpeg writes an 8 kHz meter stream on
 * its fd 3, and each audio frame handed out carries the latest 20 ms level as `audioLevel` (RFC 6464
 * −dBov), or 127 when there is no reading from the last 200 ms. That stream is always drained and
 * never trusted to keep flowing: when it stops or errs, frames still flow, reading silent (counted
 * in `levelStats`).
 */
import { access } from 'node:fs/promises';
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ChildHandle, ProcessRunner } from '../system/process.ts';
import { AnnexBParser } from './annexb.ts';
import {
  type AudioEncodeSettings,
  type AudioSource,
  audioCaptureArgs,
  type VideoEncodeSettings,
  type VideoOutputSettings,
  rawFrameBytes,
  type VideoSource,
  videoCaptureArgs,
  videoEncoderArgs,
  videoSourceArgs,
} from './ffmpeg-args.ts';
import { FrameQueue } from './frame-queue.ts';
import { IvfParser } from './ivf.ts';
import { CaptureLevel } from './level-meter.ts';
import { OggOpusParser } from './opus.ts';
import { EncoderSwitch, type EncoderSwitchStats } from './spare-encoder.ts';
import { type Precheck, type RunnerStatus, SupervisedProcess } from './supervisor.ts';
import type { FrameParser, MediaFrame, MediaKind } from './types.ts';

export interface CaptureDeps {
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Does this device node exist? (default: fs.access) */
  readonly deviceExists?: (path: string) => Promise<boolean>;
  /** Supervisor tuning (tests shorten the backoff). */
  readonly supervisor?: Pick<
    ConstructorParameters<typeof SupervisedProcess>[0],
    'backoff' | 'stableAfterMs' | 'stallTimeoutMs' | 'failedAfter' | 'recheckMs'
  >;
}

export interface KeyframeRequestResult {
  /** False when nothing is being captured. */
  readonly accepted: boolean;
  /** Upper bound on the wait for the next keyframe, in ms. */
  readonly expectedWithinMs: number;
}

type FrameListener = (frame: MediaFrame) => void;

export interface CaptureLevelStats {
  /** 20 ms meter windows read from the meter stream (all children). */
  readonly readings: number;
  /** Audio frames that carried 127 because no meter reading was fresh (none yet, or stream stopped). */
  readonly staleFrames: number;
  /** Errors on the meter stream (each ignored: the frames go on without a level). */
  readonly streamErrors: number;
}

/** The same runner, but every spawn opens the child's fd 3 for the meter stream. */
function withExtraOutput(runner: ProcessRunner): ProcessRunner {
  return {
    run: (cmd, args, options) => runner.run(cmd, args, options),
    spawn: (cmd, args, options) => runner.spawn(cmd, args, { ...options, extraOutput: true }),
  };
}

export class MediaCapture {
  readonly kind: MediaKind;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #supervisor: SupervisedProcess;
  readonly #makeParser: () => FrameParser;
  readonly #listeners = new Set<FrameListener>();
  readonly #statusListeners = new Set<(s: RunnerStatus) => void>();
  readonly #queues = new Set<FrameQueue>();
  readonly #keyframeIntervalMs: number;
  #parser: FrameParser | undefined;
  #lastKeyframeAt = Number.NEGATIVE_INFINITY;
  #pendingRequestAt: number | undefined;
  #frames = 0;
  /** Audio with a meter stream only. */
  readonly #level: CaptureLevel | undefined;
  /** The child whose meter stream is current (older children's are drained and ignored). */
  #levelChild: ChildHandle | undefined;
  #levelStale = 0;
  #levelErrors = 0;

  constructor(options: {
    name: string;
    kind: MediaKind;
    /** The program (default ffmpeg); `args` follow it. */
    command?: string;
    args: () => readonly string[];
    makeParser: () => FrameParser;
    /**
     * The child writes 8 kHz mono s16le meter PCM on fd 3 (audio): frames carry `audioLevel`.
     * `maxAgeMs` is how old a reading may be and still describe a frame (default 200 ms).
     */
    level?: { readonly maxAgeMs?: number };
    precheck?: Precheck;
    keyframeIntervalMs: number;
    deps: CaptureDeps;
  }) {
    this.kind = options.kind;
    this.#clock = options.deps.clock;
    this.#logger = options.deps.logger;
    this.#makeParser = options.makeParser;
    this.#keyframeIntervalMs = options.keyframeIntervalMs;
    const level = options.level;
    this.#level =
      level === undefined
        ? undefined
        : new CaptureLevel(level.maxAgeMs === undefined ? {} : { maxAgeMs: level.maxAgeMs });
    this.#supervisor = new SupervisedProcess({
      name: options.name,
      runner: level === undefined ? options.deps.runner : withExtraOutput(options.deps.runner),
      clock: options.deps.clock,
      logger: options.deps.logger,
      args: options.args,
      ...(options.command === undefined ? {} : { command: options.command }),
      ...(options.precheck === undefined ? {} : { precheck: options.precheck }),
      ...options.deps.supervisor,
      onSpawn: (child) => this.onChildSpawn(child),
      onStdout: (chunk) => this.onChildData(chunk),
      onStatus: (s) => {
        this.onChildStatus(s);
        for (const l of this.#statusListeners) l(s);
      },
    });
  }

  /** The supervised child was spawned (a subclass that splits the work adds its own children). */
  protected onChildSpawn(child: ChildHandle): void {
    this.beginStream();
    if (this.#level !== undefined) this.#attachLevel(child);
  }

  /** The supervised child's stdout: by default the encoded stream itself. */
  protected onChildData(chunk: Uint8Array): void {
    this.pushEncoded(chunk);
  }

  /** The supervised child's state changed (before the status listeners hear of it). */
  protected onChildStatus(_status: RunnerStatus): void {}

  /** A frame is about to be handed out. */
  protected onFrameOut(_frame: MediaFrame): void {}

  /**
   * A keyframe was asked for and nothing is overdue: the expected wait (ms), or null for the
   * scheduled keyframe's.
   */
  protected keyframeSoon(): number | null {
    return null;
  }

  /** A new encoded stream begins (it starts with a keyframe): a new parser. */
  protected beginStream(): void {
    this.#parser = this.#makeParser();
    // A new encoder starts with a keyframe: a request made to the one before is not overdue here.
    this.#pendingRequestAt = undefined;
  }

  /** Encoded bytes of the current stream. */
  protected pushEncoded(chunk: Uint8Array): void {
    this.#onData(chunk);
  }

  /** The supervisor of the capture's (source) child. */
  protected get supervisor(): SupervisedProcess {
    return this.#supervisor;
  }

  /** Frames handed out since start (all children). */
  get framesOut(): number {
    return this.#frames;
  }

  /** The meter stream's health; null for a capture without one (video). */
  levelStats(): CaptureLevelStats | null {
    if (this.#level === undefined) return null;
    return { readings: this.#level.readings, staleFrames: this.#levelStale, streamErrors: this.#levelErrors };
  }

  status(): RunnerStatus {
    return this.#supervisor.status();
  }

  onFrame(listener: FrameListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onStatus(listener: (s: RunnerStatus) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /**
   * Frames as an async iterable (bounded: a slow consumer loses the oldest frames, counted in
   * `dropped`). Ends when the capture stops.
   */
  frames(capacity = 64): AsyncIterable<MediaFrame> & { readonly dropped: number } {
    const q = new FrameQueue(capacity, () => this.#queues.delete(q));
    this.#queues.add(q);
    return q;
  }

  start(): void {
    this.#supervisor.start();
  }

  async stop(): Promise<void> {
    await this.#supervisor.stop();
    this.#parser = undefined;
    this.#levelChild = undefined;
    this.#level?.reset();
    for (const q of this.#queues) q.close();
    this.#queues.clear();
  }

  /**
   * Replace the running encoder at once (not counted as a failure): the new child reads its
   * arguments again and its first frame is a keyframe. A capture with no child (stopped, in backoff,
   * waiting on its precheck) is left as it is; its next start reads the arguments anyway. Returns
   * whether a child was replaced.
   */
  restart(reason: string): boolean {
    if (this.#supervisor.status().pid === null) return false;
    this.#supervisor.restart(reason);
    return true;
  }

  /**
   * A receiver asked for a keyframe (or the meeting key changed, or a frame could not be sent). The
   * encoder makes one at least every keyframe interval; if none has come by twice that after a
   * request, the encoder is restarted (its first frame is a keyframe). Requests until then — from any
   * number of receivers — are coalesced into that one: they restart nothing.
   */
  requestKeyframe(): KeyframeRequestResult {
    const st = this.#supervisor.state;
    if (st !== 'running' && st !== 'starting') return { accepted: false, expectedWithinMs: 0 };
    const now = this.#clock.monotonic();
    if (this.#pendingRequestAt === undefined) this.#pendingRequestAt = now;
    else if (now - this.#pendingRequestAt > 2 * this.#keyframeIntervalMs) {
      this.#pendingRequestAt = now;
      this.#supervisor.restart('keyframe_overdue');
      return { accepted: true, expectedWithinMs: this.#keyframeIntervalMs };
    }
    const soon = this.keyframeSoon();
    if (soon !== null) return { accepted: true, expectedWithinMs: soon };
    const since = now - this.#lastKeyframeAt;
    const wait = Number.isFinite(since)
      ? Math.max(0, this.#keyframeIntervalMs - since)
      : this.#keyframeIntervalMs;
    return { accepted: true, expectedWithinMs: Math.round(wait) };
  }

  #attachLevel(child: ChildHandle): void {
    const level = this.#level;
    if (level === undefined) return;
    level.reset();
    this.#levelChild = child;
    const meter = child.extraOutput;
    // A runner without the pipe: every frame reads stale (counted), and nothing else changes.
    if (meter === undefined) return;
    // Always read, even once this child is no longer current: ffmpeg blocks on a full pipe.
    meter.on('data', (chunk: Uint8Array) => {
      if (this.#levelChild === child) level.push(chunk, this.#clock.monotonic());
    });
    // Last-resort guard: the meter stream is optional to the capture, so any error on it costs only
    // the level (frames read 127 once the last reading is stale); counted, logged once per child.
    let logged = false;
    meter.on('error', (err: NodeJS.ErrnoException) => {
      this.#levelErrors += 1;
      if (logged) return;
      logged = true;
      this.#logger.warn({ code: err.code ?? null, pid: child.pid ?? null }, 'audio meter stream failed');
    });
  }

  #stamp(frame: MediaFrame): MediaFrame {
    if (this.#level === undefined || frame.kind !== 'audio') return frame;
    const { level, fresh } = this.#level.current(this.#clock.monotonic());
    // No fresh reading (meter stream stalled or broken): no level at all, so the sender neither
    // skips the frame as silent (DTX) nor claims silence for it; its header then says 127.
    if (!fresh) {
      this.#levelStale += 1;
      return frame;
    }
    return { ...frame, audioLevel: level };
  }

  #onData(chunk: Uint8Array): void {
    const parser = this.#parser;
    if (parser === undefined) return;
    let frames: MediaFrame[];
    try {
      frames = parser.push(chunk);
    } catch (err) {
      // The encoder's output stopped making sense: restart it (the parsers fail only this way).
      if (!(err instanceof RoomdError) || err.code !== 'media.parse_failed') throw err;
      this.#parser = undefined;
      this.#supervisor.fail('parse_failed');
      return;
    }
    for (const parsed of frames) {
      const f = this.#stamp(parsed);
      if (f.keyframe) {
        this.#lastKeyframeAt = this.#clock.monotonic();
        this.#pendingRequestAt = undefined;
      }
      this.#frames += 1;
      this.onFrameOut(f);
      for (const l of this.#listeners) l(f);
      for (const q of this.#queues) q.push(f);
    }
  }
}

async function defaultExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return false;
    throw err;
  }
}

/** How a video capture is split into children (docs/decisions/0005-media-keyframes-on-demand.md). */
export interface VideoCaptureOptions {
  /**
   * 'spare' (the default): a camera or test picture is one source child writing raw frames and
   * encoder children fed by us, a spare among them, so a keyframe or a new output costs one switch
   * (§Spare encoder). 'single': one child captures and encodes, and a keyframe waits for the
   * schedule (a file or slides source always runs this way).
   */
  readonly encoders?: 'spare' | 'single';
}

type RawSource = Exclude<VideoSource, { type: 'file' } | { type: 'slides' }>;

/**
 * Camera (V4L2) or test-pattern video, VP8 in IVF or H.264 Annex-B, encoded at the settings or at a
 * smaller output (`reconfigure`, a big meeting's thumbnail layer: docs/protocol.md §Big meetings;
 * rate adaptation). A camera or test picture runs split, with a spare encoder (§Spare encoder in
 * docs/decisions/0005-media-keyframes-on-demand.md): the supervised child is the source, and a
 * keyframe request or a new output switches encoders at a frame boundary without touching it.
 */
export class VideoCapture extends MediaCapture {
  readonly #source: VideoSource;
  readonly #output: { current: VideoOutputSettings };
  readonly #encoders: EncoderSwitch | undefined;

  constructor(
    source: VideoSource,
    settings: VideoEncodeSettings,
    deps: CaptureDeps,
    options: VideoCaptureOptions = {},
  ) {
    const exists = deps.deviceExists ?? defaultExists;
    const precheck: Precheck | undefined =
      source.type === 'v4l2'
        ? async () => ((await exists(source.device)) ? { ok: true } : { ok: false, reason: 'device_missing' })
        : undefined;
    const raw: RawSource | null =
      source.type === 'file' || source.type === 'slides' || options.encoders === 'single' ? null : source;
    const niceness = settings.niceness ?? 0;
    // nice(1) runs ffmpeg in its own place (same pid) at the priority asked for.
    const command = niceness !== 0 ? 'nice' : 'ffmpeg';
    const niced = (args: string[]): string[] =>
      niceness !== 0
        ? ['-n', String(Math.max(-20, Math.min(19, Math.round(niceness)))), 'ffmpeg', ...args]
        : args;
    // Read at every (re)start of the encoder: what `reconfigure` set last.
    const output = { current: outputOf(settings) };
    super({
      name: 'video-capture',
      kind: 'video',
      ...(niceness !== 0 ? { command } : {}),
      args: () =>
        niced(
          raw === null ? videoCaptureArgs(source, settings, output.current) : videoSourceArgs(raw, settings),
        ),
      makeParser: () =>
        settings.codec === 'vp8'
          ? new IvfParser({ clock: deps.clock })
          : new AnnexBParser({ clock: deps.clock }),
      ...(precheck === undefined ? {} : { precheck }),
      keyframeIntervalMs: settings.keyframeIntervalMs ?? 2000,
      deps,
    });
    this.#source = source;
    this.#output = output;
    this.#encoders =
      raw === null
        ? undefined
        : new EncoderSwitch({
            runner: deps.runner,
            clock: deps.clock,
            logger: deps.logger,
            command,
            args: (out) => niced(videoEncoderArgs(settings, out)),
            frameBytes: rawFrameBytes(settings.width, settings.height),
            frameIntervalMs: Math.ceil(1000 / settings.framerate),
            stallTimeoutMs: deps.supervisor?.stallTimeoutMs ?? 10_000,
            onStream: () => this.beginStream(),
            onData: (chunk) => this.pushEncoded(chunk),
            onFailed: (reason) => this.supervisor.fail(reason),
          });
  }

  /** The size, frame rate and bitrate the encoder makes now (or will at its next start). */
  get output(): VideoOutputSettings {
    return this.#output.current;
  }

  /** The encoder switch's counters; null for a capture in one child (file, slides, 'single'). */
  encoderStats(): EncoderSwitchStats | null {
    return this.#encoders?.stats() ?? null;
  }

  /**
   * Encode at `output` from now on. Split: the next frame goes to a new encoder at the new output
   * (its first frame is a keyframe; the picture does not stop). In one child: a controlled restart
   * at the new output. A capture that is not running — a camera turned off stays off — only starts
   * at it next time. Codec, keyframe interval, threads and priority stay the settings'. A file
   * source is sent as it is and ignores this. Returns whether the running encoder was replaced.
   */
  reconfigure(output: VideoOutputSettings): boolean {
    if (this.#source.type === 'file' || sameOutput(output, this.#output.current)) return false;
    this.#output.current = outputOf(output);
    if (this.#encoders === undefined) return this.restart('reconfigured');
    return this.#encoders.reconfigure(this.#output.current);
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.#encoders?.stop();
  }

  protected override onChildSpawn(child: ChildHandle): void {
    super.onChildSpawn(child);
    this.#encoders?.start(this.#output.current);
  }

  protected override onChildData(chunk: Uint8Array): void {
    if (this.#encoders === undefined) super.onChildData(chunk);
    else this.#encoders.push(chunk);
  }

  protected override onChildStatus(status: RunnerStatus): void {
    // The source is gone (or going): so are its encoders; the next source starts new ones.
    if (status.state === 'restarting' || status.state === 'failed' || status.state === 'stopped')
      this.#encoders?.halt();
  }

  protected override onFrameOut(frame: MediaFrame): void {
    this.#encoders?.frameOut(frame.keyframe);
  }

  protected override keyframeSoon(): number | null {
    return this.#encoders?.requestKeyframe() ?? null;
  }
}

function outputOf(s: VideoOutputSettings): VideoOutputSettings {
  return { width: s.width, height: s.height, framerate: s.framerate, bitrateKbps: s.bitrateKbps };
}

function sameOutput(a: VideoOutputSettings, b: VideoOutputSettings): boolean {
  return (
    a.width === b.width &&
    a.height === b.height &&
    a.framerate === b.framerate &&
    a.bitrateKbps === b.bitrateKbps
  );
}

export function createVideoCapture(
  source: VideoSource,
  settings: VideoEncodeSettings,
  deps: CaptureDeps,
  options: VideoCaptureOptions = {},
): VideoCapture {
  return new VideoCapture(source, settings, deps, options);
}

/** ALSA microphone or sine-tone audio, Opus in Ogg, each frame with the microphone's level. */
export function createAudioCapture(
  source: AudioSource,
  settings: AudioEncodeSettings,
  deps: CaptureDeps,
): MediaCapture {
  return new MediaCapture({
    name: 'audio-capture',
    kind: 'audio',
    args: () => audioCaptureArgs(source, settings),
    makeParser: () => new OggOpusParser({ clock: deps.clock }),
    level: {},
    keyframeIntervalMs: 0,
    deps,
  });
}
