/**
 * The encoder half of a split video capture (docs/decisions/0005-media-keyframes-on-demand.md
 * §Spare encoder): raw frames from the source child go, whole, to the stdin of the CURRENT encoder
 * child; a SPARE encoder child at the same output waits idle on its empty stdin. A keyframe now, or
 * a new output, is a switch at a frame boundary: the next frame goes to the spare (or to a new
 * encoder at the new output, started at once), whose first frame is a keyframe; the old current's
 * stdin is ended and it is killed, and whatever it still writes is ignored. The switch is made at
 * once when every frame written to the current has come out of it, else just before the next frame
 * (so a frame still being encoded is not lost to it). A new spare is started at the first frame
 * boundary after the new current's first frame.
 *
 * Bounded: at most MAX_QUEUED_FRAMES frames wait at an encoder's stdin (STARTUP_QUEUE_MS of them
 * while it starts up; a frame that does not fit is dropped whole and counted), and at most KEYFRAME_SWITCH_MIN_MS apart do keyframe requests
 * switch, so no number of receivers can make a storm. Any number of requests before a switched
 * encoder's first frame are answered by that frame.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ChildHandle, ExitInfo, ProcessRunner } from '../system/process.ts';
import type { VideoOutputSettings } from './ffmpeg-args.ts';
import { RawFrameCutter } from './raw-frames.ts';

/** Keyframe requests switch encoders at most this often (ms). */
export const KEYFRAME_SWITCH_MIN_MS = 300;
/** Whole frames allowed to wait at an encoder's stdin; one more is dropped. */
export const MAX_QUEUED_FRAMES = 2;
/**
 * An encoder that has not made its first frame yet (a new one starting up: ffmpeg and the codec
 * take 100–350 ms here) may have this much video waiting at its stdin instead (ms), so a switch
 * to it loses no frame; at most 15 frames.
 */
export const STARTUP_QUEUE_MS = 500;
/** Whole frames the cutter hands over from one chunk at most (older ones are dropped). */
export const MAX_CUT_FRAMES = 3;
/** A spare that died is started again no sooner than this (ms). */
export const SPARE_RETRY_MS = 1000;
/** A retired or stopped encoder gets SIGKILL if still alive this long after SIGTERM (ms). */
const KILL_AFTER_MS = 2000;

export interface EncoderSwitchStats {
  /** Switches to the spare for a keyframe request. */
  readonly keyframeSwitches: number;
  /** Switches to an encoder at a new output. */
  readonly reconfigureSwitches: number;
  /** Raw frames dropped whole because the current encoder's stdin was full. */
  readonly framesDropped: number;
  /** Raw frames dropped because the source wrote faster than they could be cut and handed on. */
  readonly sourceFramesDropped: number;
  /** Encoder children that exited or stalled while current or spare. */
  readonly encoderDeaths: number;
  /** Whether a spare is started now. */
  readonly spareReady: boolean;
}

export interface EncoderSwitchOptions {
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The program (ffmpeg, or nice) and its arguments for an encoder at `output`. */
  readonly command: string;
  readonly args: (output: VideoOutputSettings) => readonly string[];
  /** Bytes of one raw frame from the source. */
  readonly frameBytes: number;
  /** The source's frame interval (ms): how soon a switched encoder gets its first frame. */
  readonly frameIntervalMs: number;
  /** A current encoder fed frames that writes nothing this long is dead (ms; 0 = never). */
  readonly stallTimeoutMs: number;
  /** A new encoder became current: its output is a new stream (starting with a keyframe). */
  readonly onStream: () => void;
  /** Output of the current encoder. */
  readonly onData: (chunk: Uint8Array) => void;
  /** The current encoder died with no spare to take over: the capture restarts everything. */
  readonly onFailed: (reason: string) => void;
}

interface Encoder {
  readonly child: ChildHandle;
  readonly output: VideoOutputSettings;
  /** Frames written to its stdin. */
  framesIn: number;
  /** When its first frame was written (ms), or of its last output bytes. */
  lastProgressAt: number;
  /** Parsed frames handed out from it (as current). */
  framesOut: number;
  retired: boolean;
  readonly stderr: string[];
}

export class EncoderSwitch {
  readonly #o: EncoderSwitchOptions;
  readonly #cutter: RawFrameCutter;
  /** Frames an encoder may hold before its first frame. */
  readonly #startupQueue: number;
  #current: Encoder | undefined;
  #spare: Encoder | undefined;
  /** The encoder that becomes current at the next frame boundary (a switch under way). */
  #next: Encoder | undefined;
  readonly #all = new Set<Encoder>();
  /** A keyframe request waits for a switch. */
  #pending = false;
  #lastSwitchAt = Number.NEGATIVE_INFINITY;
  #spareDiedAt = Number.NEGATIVE_INFINITY;
  #keyframeSwitches = 0;
  #reconfigureSwitches = 0;
  #framesDropped = 0;
  #deaths = 0;
  #stdinErrorLogged = false;

  constructor(options: EncoderSwitchOptions) {
    this.#o = options;
    this.#cutter = new RawFrameCutter(options.frameBytes, MAX_CUT_FRAMES);
    this.#startupQueue = Math.min(
      15,
      Math.max(MAX_QUEUED_FRAMES, Math.ceil(STARTUP_QUEUE_MS / Math.max(1, options.frameIntervalMs))),
    );
  }

  stats(): EncoderSwitchStats {
    return {
      keyframeSwitches: this.#keyframeSwitches,
      reconfigureSwitches: this.#reconfigureSwitches,
      framesDropped: this.#framesDropped,
      sourceFramesDropped: this.#cutter.dropped,
      encoderDeaths: this.#deaths,
      spareReady: this.#spare !== undefined,
    };
  }

  /** Whether an encoder is current (a source child runs). */
  get running(): boolean {
    return this.#current !== undefined;
  }

  /** A new source child: a new stream of raw frames, encoded by a new current encoder at `output`. */
  start(output: VideoOutputSettings): void {
    this.halt();
    this.#cutter.reset();
    this.#current = this.#spawn(output);
    this.#o.onStream();
  }

  /** End every encoder (the source is gone): nothing is current until the next `start`. */
  halt(): void {
    this.#current = undefined;
    this.#spare = undefined;
    this.#next = undefined;
    this.#pending = false;
    for (const enc of this.#all) this.#retire(enc);
  }

  /** `halt`, then wait until every encoder child has exited. */
  async stop(): Promise<void> {
    const children = [...this.#all].map((e) => e.child.exited);
    this.halt();
    await Promise.all(children);
  }

  /** Raw bytes from the source child. */
  push(chunk: Uint8Array): void {
    for (const frame of this.#cutter.push(chunk)) this.#feed(frame);
  }

  /** The capture handed out a frame parsed from the current encoder's output. */
  frameOut(keyframe: boolean): void {
    const enc = this.#current;
    if (enc === undefined) return;
    enc.framesOut += 1;
    if (keyframe) this.#pending = false;
  }

  /**
   * A keyframe is wanted. Returns the expected wait (ms) when a switch is done, due or already
   * under way, or null when there is no spare to switch to (the scheduled keyframe will do).
   */
  requestKeyframe(): number | null {
    const enc = this.#current;
    if (enc === undefined) return null;
    // Its first frame, still to come, is a keyframe, as is the first of a switch under way: every
    // request until then is answered by it.
    if (enc.framesOut === 0 || this.#next !== undefined) return this.#o.frameIntervalMs;
    this.#pending = true;
    if (this.#trySwitch()) return this.#o.frameIntervalMs;
    if (this.#spare === undefined) return null;
    const wait = this.#lastSwitchAt + KEYFRAME_SWITCH_MIN_MS - this.#o.clock.monotonic();
    return Math.round(Math.max(0, wait) + this.#o.frameIntervalMs);
  }

  /**
   * Encode at `output` from the next frame on: a new encoder at it becomes current at once (the
   * spare, at the old output, is ended too). False when nothing is current.
   */
  reconfigure(output: VideoOutputSettings): boolean {
    if (this.#current === undefined) return false;
    // The spare, and any switch under way, are at the old output.
    for (const old of [this.#spare, this.#next]) if (old !== undefined) this.#retire(old);
    this.#spare = undefined;
    this.#next = undefined;
    this.#reconfigureSwitches += 1;
    this.#switchSoon(this.#spawn(output));
    return true;
  }

  #feed(frame: Uint8Array): void {
    // A frame boundary: a switch decided since the last frame (or just now) is made here.
    this.#trySwitch();
    const next = this.#next;
    if (next !== undefined) {
      this.#next = undefined;
      this.#switchTo(next);
    }
    this.#ensureSpare();
    const enc = this.#current;
    if (enc === undefined) return;
    const now = this.#o.clock.monotonic();
    const limit = this.#o.stallTimeoutMs;
    if (limit > 0 && enc.framesIn > 0 && now - enc.lastProgressAt > limit) {
      this.#o.logger.warn(
        { pid: enc.child.pid ?? null, stderr: enc.stderr.slice(-3) },
        'video encoder stalled',
      );
      this.#died(enc, 'encoder_stalled');
      if (this.#current === undefined) return;
      this.#feed(frame);
      return;
    }
    const stdin = enc.child.stdin;
    const queue = enc.framesOut === 0 ? this.#startupQueue : MAX_QUEUED_FRAMES;
    if (!stdin.writable || stdin.writableLength + frame.length > queue * this.#o.frameBytes) {
      this.#framesDropped += 1;
      return;
    }
    if (enc.framesIn === 0) enc.lastProgressAt = now;
    enc.framesIn += 1;
    stdin.write(frame);
  }

  /** Switch to the spare for a pending keyframe request, if one is allowed now. */
  #trySwitch(): boolean {
    if (!this.#pending || this.#spare === undefined) return false;
    if (this.#o.clock.monotonic() - this.#lastSwitchAt < KEYFRAME_SWITCH_MIN_MS) return false;
    const next = this.#spare;
    this.#spare = undefined;
    this.#keyframeSwitches += 1;
    this.#pending = false;
    this.#lastSwitchAt = this.#o.clock.monotonic();
    this.#switchSoon(next);
    return true;
  }

  /** Start a spare at the current output once the current one has made its first frame. */
  #ensureSpare(): void {
    const enc = this.#current;
    if (enc === undefined || this.#spare !== undefined || this.#next !== undefined || enc.framesOut === 0)
      return;
    if (this.#o.clock.monotonic() - this.#spareDiedAt < SPARE_RETRY_MS) return;
    this.#spare = this.#spawn(enc.output);
  }

  /** Switch now if nothing written to the current is still being encoded, else at the next frame. */
  #switchSoon(next: Encoder): void {
    const cur = this.#current;
    if (cur === undefined || cur.framesIn <= cur.framesOut) this.#switchTo(next);
    else this.#next = next;
  }

  #switchTo(next: Encoder): void {
    const old = this.#current;
    this.#current = next;
    this.#pending = false;
    this.#lastSwitchAt = this.#o.clock.monotonic();
    this.#o.onStream();
    if (old !== undefined) this.#retire(old);
  }

  #spawn(output: VideoOutputSettings): Encoder {
    const child = this.#o.runner.spawn(this.#o.command, this.#o.args(output));
    const enc: Encoder = {
      child,
      output,
      framesIn: 0,
      lastProgressAt: this.#o.clock.monotonic(),
      framesOut: 0,
      retired: false,
      stderr: [],
    };
    this.#all.add(enc);
    // Always read: a child writing to a full pipe blocks. Only the current one's output counts.
    child.stdout.on('data', (chunk: Uint8Array) => {
      if (enc.retired) return;
      enc.lastProgressAt = this.#o.clock.monotonic();
      if (enc === this.#current) this.#o.onData(chunk);
    });
    child.stderr.on('data', (chunk: Uint8Array) => {
      for (const line of Buffer.from(chunk).toString('utf8').split('\n')) {
        const l = line.trim();
        if (l !== '') enc.stderr.push(l.slice(0, 300));
      }
      if (enc.stderr.length > 10) enc.stderr.splice(0, enc.stderr.length - 10);
    });
    // A dying child's pipes may err; its exit is what is acted on (below).
    child.stdout.on('error', () => {});
    child.stderr.on('error', () => {});
    child.stdin.on('error', (err: NodeJS.ErrnoException) => this.#onStdinError(err));
    void child.exited.then((exit) => this.#exited(enc, exit));
    return enc;
  }

  #onStdinError(err: NodeJS.ErrnoException): void {
    // Expected when an encoder dies or is retired while a frame is on its way.
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED' || err.code === 'ECONNRESET') return;
    // Last-resort guard: anything else on an encoder's stdin costs at most that encoder (its exit
    // or stall is handled); logged once.
    if (this.#stdinErrorLogged) return;
    this.#stdinErrorLogged = true;
    this.#o.logger.warn({ code: err.code ?? null }, 'video encoder stdin failed');
  }

  #exited(enc: Encoder, exit: ExitInfo): void {
    this.#all.delete(enc);
    if (enc.retired) return;
    this.#o.logger.warn(
      { pid: enc.child.pid ?? null, code: exit.code, signal: exit.signal, stderr: enc.stderr.slice(-3) },
      'video encoder ended',
    );
    this.#died(enc, 'encoder_exited');
  }

  /** A current or spare encoder is dead: the spare takes over, or the capture restarts. */
  #died(enc: Encoder, reason: string): void {
    this.#deaths += 1;
    this.#retire(enc);
    if (enc === this.#spare) {
      this.#spare = undefined;
      this.#spareDiedAt = this.#o.clock.monotonic();
      return;
    }
    if (enc === this.#next) {
      this.#next = undefined;
      // A spare for a keyframe: the scheduled one will do. At a new output: start over at it.
      if (enc.output === this.#current?.output) this.#spareDiedAt = this.#o.clock.monotonic();
      else this.#fail(reason);
      return;
    }
    if (enc !== this.#current) return;
    // A switch under way takes over at once, else the spare.
    const next = this.#next ?? this.#spare;
    if (next !== undefined) {
      if (next === this.#next) this.#next = undefined;
      else this.#spare = undefined;
      this.#switchTo(next);
      return;
    }
    this.#fail(reason);
  }

  #fail(reason: string): void {
    this.halt();
    this.#o.onFailed(reason);
  }

  #retire(enc: Encoder): void {
    if (enc.retired) return;
    enc.retired = true;
    enc.child.stdin.end();
    try {
      enc.child.kill('SIGTERM');
    } catch (error) {
      // Already gone (Node's own ChildProcess returns false instead; other runners may throw ESRCH).
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
    const hard = this.#o.clock.setTimeout(() => enc.child.kill('SIGKILL'), KILL_AFTER_MS);
    void enc.child.exited.then(() => {
      this.#all.delete(enc);
      this.#o.clock.clear(hard);
    });
  }
}
