/**
 * Audio playout: received Opus packets → jitter buffer → Ogg pages → a supervised
 * ffmpeg that decodes them to the configured ALSA device. The same ffmpeg always writes an 8 kHz mono
 * s16le copy to stdout, from which Node computes the level meter (RMS and peak in dBFS per 100 ms); with
 * no ALSA device (demo, tests) that meter is the only output: a null sink you can still watch.
 * Decrypted audio goes only to ffmpeg on this box.
 *
 * One AudioPlayout per remote participant (each has its own jitter buffer, frame numbers and level,
 * which the kiosk can use as a speaking indicator). Several players share the speaker only through a
 * mixing ALSA device (`default`, `dmix:CARD=…`, or PipeWire/Pulse); a bare `hw:` device admits one.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ProcessRunner } from '../system/process.ts';
import { type PlayoutSettings, playoutArgs } from './ffmpeg-args.ts';
import { JitterBuffer, type JitterStats } from './jitter.ts';
import { type AudioLevel, LevelMeter } from './level-meter.ts';
import { OggOpusWriter, opusPacketSamples } from './opus.ts';
import { type RunnerStatus, SupervisedProcess } from './supervisor.ts';

// The meter lives in its own module (capture uses it too); importers of playout keep finding it here.
export { type AudioLevel, LevelMeter } from './level-meter.ts';

export interface AudioPlayoutOptions {
  readonly settings: Omit<PlayoutSettings, 'meter'>;
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly jitterDelayMs?: number;
  /** Bytes queued to ffmpeg above which packets are dropped rather than queued (default 32 KiB). */
  readonly maxQueuedBytes?: number;
  readonly supervisor?: Pick<
    ConstructorParameters<typeof SupervisedProcess>[0],
    'backoff' | 'stableAfterMs' | 'failedAfter'
  >;
}

export class AudioPlayout {
  readonly #clock: Clock;
  readonly #supervisor: SupervisedProcess;
  readonly #jitter: JitterBuffer<Uint8Array>;
  readonly #maxQueued: number;
  #writer = new OggOpusWriter();
  #meter = new LevelMeter();
  #level: AudioLevel | null = null;
  #pump: TimerHandle | undefined;
  readonly #levelListeners = new Set<(l: AudioLevel) => void>();
  #written = 0;
  #dropped = 0;

  constructor(options: AudioPlayoutOptions) {
    this.#clock = options.clock;
    this.#maxQueued = options.maxQueuedBytes ?? 32 * 1024;
    this.#jitter = new JitterBuffer({ clock: options.clock, delayMs: options.jitterDelayMs ?? 60 });
    this.#supervisor = new SupervisedProcess({
      name: 'audio-playout',
      runner: options.runner,
      clock: options.clock,
      logger: options.logger,
      args: () => playoutArgs({ ...options.settings, meter: true }),
      runningOn: 'spawn',
      stallTimeoutMs: 0,
      ...options.supervisor,
      onSpawn: (child) => {
        this.#writer = new OggOpusWriter();
        this.#meter = new LevelMeter();
        for (const page of this.#writer.headers()) child.stdin.write(page);
      },
      onStdout: (chunk) => {
        for (const l of this.#meter.push(chunk, this.#clock.now())) {
          this.#level = l;
          for (const fn of this.#levelListeners) fn(l);
        }
      },
    });
  }

  status(): RunnerStatus {
    return this.#supervisor.status();
  }

  /** The most recent 100 ms level, or null before any audio played. */
  level(): AudioLevel | null {
    return this.#level;
  }

  onLevel(listener: (l: AudioLevel) => void): () => void {
    this.#levelListeners.add(listener);
    return () => this.#levelListeners.delete(listener);
  }

  stats(): JitterStats & { readonly written: number; readonly dropped: number } {
    return { ...this.#jitter.stats(), written: this.#written, dropped: this.#dropped };
  }

  start(): void {
    this.#supervisor.start();
    this.#pump ??= this.#clock.setInterval(() => this.#drain(), 10);
  }

  /** One decrypted Opus packet with its frame number from the chunk header. */
  push(frameNumber: number, packet: Uint8Array): void {
    this.#jitter.push(frameNumber, packet);
    this.#drain();
  }

  async stop(): Promise<void> {
    if (this.#pump !== undefined) this.#clock.clear(this.#pump);
    this.#pump = undefined;
    this.#jitter.reset();
    await this.#supervisor.stop();
  }

  #drain(): void {
    const released = this.#jitter.drain();
    if (released.length === 0) return;
    const stdin = this.#supervisor.stdin;
    for (const r of released) {
      if (
        stdin === undefined ||
        stdin.writableLength > this.#maxQueued ||
        this.#supervisor.state !== 'running'
      ) {
        this.#dropped += 1;
        continue;
      }
      stdin.write(this.#writer.page(r.value, r.missingBefore * (opusPacketSamples(r.value) || 960)));
      this.#written += 1;
    }
  }
}
