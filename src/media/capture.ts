/**
 * Capture + encode: a supervised ffmpeg child whose stdout runs
 * through the matching bitstream parser, handing out MediaFrames by callback or async iteration.
 * A new parser is made for every child, so a restarted encoder starts a clean stream (it begins with
 * a keyframe). Keyframe requests follow docs/decisions/0005-media-keyframes-on-demand.md.
 */
import { access } from 'node:fs/promises';
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ProcessRunner } from '../system/process.ts';
import { AnnexBParser } from './annexb.ts';
import {
  type AudioEncodeSettings,
  type AudioSource,
  audioCaptureArgs,
  type VideoEncodeSettings,
  type VideoSource,
  videoCaptureArgs,
} from './ffmpeg-args.ts';
import { FrameQueue } from './frame-queue.ts';
import { IvfParser } from './ivf.ts';
import { OggOpusParser } from './opus.ts';
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

export class MediaCapture {
  readonly kind: MediaKind;
  readonly #clock: Clock;
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

  constructor(options: {
    name: string;
    kind: MediaKind;
    /** The program (default ffmpeg); `args` follow it. */
    command?: string;
    args: () => readonly string[];
    makeParser: () => FrameParser;
    precheck?: Precheck;
    keyframeIntervalMs: number;
    deps: CaptureDeps;
  }) {
    this.kind = options.kind;
    this.#clock = options.deps.clock;
    this.#makeParser = options.makeParser;
    this.#keyframeIntervalMs = options.keyframeIntervalMs;
    this.#supervisor = new SupervisedProcess({
      name: options.name,
      runner: options.deps.runner,
      clock: options.deps.clock,
      logger: options.deps.logger,
      args: options.args,
      ...(options.command === undefined ? {} : { command: options.command }),
      ...(options.precheck === undefined ? {} : { precheck: options.precheck }),
      ...options.deps.supervisor,
      onSpawn: () => {
        this.#parser = this.#makeParser();
        // A new child starts with a keyframe: a request made to the one before is not overdue here.
        this.#pendingRequestAt = undefined;
      },
      onStdout: (chunk) => this.#onData(chunk),
      onStatus: (s) => {
        for (const l of this.#statusListeners) l(s);
      },
    });
  }

  /** Frames handed out since start (all children). */
  get framesOut(): number {
    return this.#frames;
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
    for (const q of this.#queues) q.close();
    this.#queues.clear();
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
    const since = now - this.#lastKeyframeAt;
    const wait = Number.isFinite(since)
      ? Math.max(0, this.#keyframeIntervalMs - since)
      : this.#keyframeIntervalMs;
    return { accepted: true, expectedWithinMs: Math.round(wait) };
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
    for (const f of frames) {
      if (f.keyframe) {
        this.#lastKeyframeAt = this.#clock.monotonic();
        this.#pendingRequestAt = undefined;
      }
      this.#frames += 1;
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

/** Camera (V4L2) or test-pattern video, VP8 in IVF or H.264 Annex-B. */
export function createVideoCapture(
  source: VideoSource,
  settings: VideoEncodeSettings,
  deps: CaptureDeps,
): MediaCapture {
  const exists = deps.deviceExists ?? defaultExists;
  const precheck: Precheck | undefined =
    source.type === 'v4l2'
      ? async () => ((await exists(source.device)) ? { ok: true } : { ok: false, reason: 'device_missing' })
      : undefined;
  const niceness = settings.niceness ?? 0;
  return new MediaCapture({
    name: 'video-capture',
    kind: 'video',
    // nice(1) runs ffmpeg in its own place (same pid) at the priority asked for.
    ...(niceness !== 0 ? { command: 'nice' } : {}),
    args: () =>
      niceness !== 0
        ? [
            '-n',
            String(Math.max(-20, Math.min(19, Math.round(niceness)))),
            'ffmpeg',
            ...videoCaptureArgs(source, settings),
          ]
        : videoCaptureArgs(source, settings),
    makeParser: () =>
      settings.codec === 'vp8'
        ? new IvfParser({ clock: deps.clock })
        : new AnnexBParser({ clock: deps.clock }),
    ...(precheck === undefined ? {} : { precheck }),
    keyframeIntervalMs: settings.keyframeIntervalMs ?? 2000,
    deps,
  });
}

/** ALSA microphone or sine-tone audio, Opus in Ogg. */
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
    keyframeIntervalMs: 0,
    deps,
  });
}
