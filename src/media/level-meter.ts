/**
 * Audio level from 8 kHz mono s16le PCM (the meter stream ffmpeg writes beside playout and capture):
 * RMS and peak in dBFS per window, and the capture side's RFC 6464 level in −dBov that each
 * captured audio MediaFrame carries (`MediaFrame.audioLevel`, 0 loudest … 127 silence).
 *
 * Both are total over any bytes: a stream cut mid-sample or filled with noise only yields levels;
 * time comes in as numbers, so they are tested without ffmpeg or a clock.
 */
import { AUDIO_LEVEL_SILENT } from '../protocol/media-header.ts';
import { METER_RATE } from './ffmpeg-args.ts';

export interface AudioLevel {
  /** RMS over the window, dBFS (−∞ … 0); -120 for digital silence. */
  readonly rmsDbfs: number;
  readonly peakDbfs: number;
  /** Milliseconds (the clock reading passed to `push`) when the window closed. */
  readonly at: number;
}

const WINDOW_SAMPLES = METER_RATE / 10;
const SILENCE_DB = -120;

export class LevelMeter {
  readonly #window: number;
  #sumSq = 0;
  #peak = 0;
  #n = 0;
  #odd: number | undefined;

  /** `windowSamples` per reported level (default 100 ms at the 8 kHz meter rate). */
  constructor(windowSamples = WINDOW_SAMPLES) {
    this.#window = windowSamples;
  }

  /** Feed s16le bytes; returns the levels of any windows completed. */
  push(bytes: Uint8Array, now: number): AudioLevel[] {
    const out: AudioLevel[] = [];
    let i = 0;
    const sample = (lo: number, hi: number): void => {
      const v = ((hi << 24) >> 16) | lo; // sign-extend the high byte
      const x = v / 32768;
      this.#sumSq += x * x;
      this.#peak = Math.max(this.#peak, Math.abs(x));
      this.#n += 1;
      if (this.#n === this.#window) {
        out.push({ rmsDbfs: toDb(Math.sqrt(this.#sumSq / this.#n)), peakDbfs: toDb(this.#peak), at: now });
        this.#sumSq = 0;
        this.#peak = 0;
        this.#n = 0;
      }
    };
    if (this.#odd !== undefined && bytes.length > 0) {
      sample(this.#odd, bytes[0]!);
      this.#odd = undefined;
      i = 1;
    }
    for (; i + 1 < bytes.length; i += 2) sample(bytes[i]!, bytes[i + 1]!);
    if (i < bytes.length) this.#odd = bytes[i]!;
    return out;
  }
}

function toDb(x: number): number {
  return x <= 1e-6 ? SILENCE_DB : Math.max(SILENCE_DB, 20 * Math.log10(x));
}

/**
 * RFC 6464 audio level from an RMS in dBFS: −dBov rounded to an integer in 0..127 (0 loudest). The
 * meter's full scale is the overload point, so dBFS here is dBov; NaN (never from LevelMeter) reads
 * as silence.
 */
export function audioLevelFromDbfs(rmsDbfs: number): number {
  // 127 is kept for "no level" (docs/protocol.md §Media chunks): a measured level is at most 126.
  if (Number.isNaN(rmsDbfs)) return AUDIO_LEVEL_SILENT - 1;
  return Math.min(AUDIO_LEVEL_SILENT - 1, Math.max(0, Math.round(-rmsDbfs)));
}

/** 20 ms windows: one reading per Opus packet the capture sends. */
export const CAPTURE_LEVEL_WINDOW = METER_RATE / 50;
/** A reading older than this no longer describes the frame being sent: the frame reads silent. */
export const CAPTURE_LEVEL_MAX_AGE_MS = 200;

/**
 * The microphone's latest level for the capture: meter PCM in, an RFC 6464 level out for the frame
 * leaving now — AUDIO_LEVEL_SILENT before the first reading and once the latest is older than `maxAgeMs`
 * (the meter stream stopped or fell behind). `now` is one monotonic clock for both calls.
 */
export class CaptureLevel {
  readonly #maxAgeMs: number;
  readonly #window: number;
  #meter: LevelMeter;
  #level = AUDIO_LEVEL_SILENT;
  #at = Number.NEGATIVE_INFINITY;
  #readings = 0;

  constructor(options: { windowSamples?: number; maxAgeMs?: number } = {}) {
    this.#maxAgeMs = options.maxAgeMs ?? CAPTURE_LEVEL_MAX_AGE_MS;
    this.#window = options.windowSamples ?? CAPTURE_LEVEL_WINDOW;
    this.#meter = new LevelMeter(this.#window);
  }

  /** Windows completed since construction (all streams). */
  get readings(): number {
    return this.#readings;
  }

  /** Feed meter bytes read at `now`. */
  push(bytes: Uint8Array, now: number): void {
    const levels = this.#meter.push(bytes, now);
    const last = levels[levels.length - 1];
    if (last === undefined) return;
    this.#readings += levels.length;
    this.#level = audioLevelFromDbfs(last.rmsDbfs);
    this.#at = now;
  }

  /** The level for a frame sent at `now`, and whether it came from a fresh reading. */
  current(now: number): { readonly level: number; readonly fresh: boolean } {
    if (now - this.#at > this.#maxAgeMs) return { level: AUDIO_LEVEL_SILENT, fresh: false };
    return { level: this.#level, fresh: true };
  }

  /** A new meter stream begins (a new encoder): forget the old reading and any partial window. */
  reset(): void {
    this.#meter = new LevelMeter(this.#window);
    this.#level = AUDIO_LEVEL_SILENT;
    this.#at = Number.NEGATIVE_INFINITY;
  }
}
