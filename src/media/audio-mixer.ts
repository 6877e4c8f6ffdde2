/**
 * Meeting audio playout: every remote participant's Opus packets go through their
 * own jitter buffer and ffmpeg decoder (Ogg/Opus in, 48 kHz mono PCM out); Node mixes the decoded
 * PCM on a 10 ms clock and writes it to one sink ffmpeg that plays to the ALSA device — so any number
 * of participants share a plain `hw:` device — and always also writes the 8 kHz level-meter stream
 * (the only output with no device: the null sink of demo and tests). Per-participant levels come from
 * their decoded PCM (a speaking indicator for the kiosk).
 *
 * Latency budget: jitter delay (40 ms) + priming (40 ms) + the sink's own buffer. A participant's
 * backlog is capped at `maxBacklogMs` so a burst never turns into lasting delay; an empty participant
 * contributes silence and primes again before it is heard.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import type { ProcessRunner } from '../system/process.ts';
import { decoderArgs, playoutArgs } from './ffmpeg-args.ts';
import { JitterBuffer } from './jitter.ts';
import { OggOpusWriter, opusPacketSamples } from './opus.ts';
import { PcmFifo, mixToS16le } from './pcm.ts';
import { type AudioLevel, LevelMeter } from './level-meter.ts';
import { type RunnerStatus, SupervisedProcess } from './supervisor.ts';

const RATE = 48_000;
const PER_MS = RATE / 1000;

export interface AudioMixerOptions {
  /** ALSA device (null: meter only) and speaker volume 0..100. */
  readonly settings: { readonly device: string | null; readonly volume?: number };
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly jitterDelayMs?: number;
  /** Decoded audio a participant must have before it is mixed in (default 40 ms). */
  readonly primeMs?: number;
  /** Most decoded audio kept per participant (default 120 ms). */
  readonly maxBacklogMs?: number;
  readonly supervisor?: Pick<ConstructorParameters<typeof SupervisedProcess>[0], 'backoff' | 'failedAfter'>;
}

export interface ParticipantAudioStats {
  readonly released: number;
  readonly late: number;
  readonly lost: number;
  readonly underruns: number;
  readonly samplesDropped: number;
}

interface Input {
  readonly id: string;
  readonly jitter: JitterBuffer<Uint8Array>;
  readonly fifo: PcmFifo;
  readonly meter: LevelMeter;
  readonly decoder: SupervisedProcess;
  writer: OggOpusWriter;
  primed: boolean;
  underruns: number;
  samplesDropped: number;
  level: AudioLevel | null;
}

export class AudioMixer {
  readonly #o: AudioMixerOptions;
  readonly #sink: SupervisedProcess;
  readonly #inputs = new Map<string, Input>();
  readonly #levelListeners = new Set<(participant: string | null, level: AudioLevel) => void>();
  #sinkMeter = new LevelMeter();
  #level: AudioLevel | null = null;
  #tick: TimerHandle | undefined;
  #t0: number | undefined;
  #produced = 0;
  #sinkDrops = 0;
  #running = false;

  constructor(options: AudioMixerOptions) {
    this.#o = options;
    this.#sink = new SupervisedProcess({
      name: 'audio-sink',
      runner: options.runner,
      clock: options.clock,
      logger: options.logger,
      args: () => playoutArgs({ ...options.settings, meter: true, input: 'pcm' }),
      runningOn: 'spawn',
      stallTimeoutMs: 0,
      ...options.supervisor,
      onSpawn: () => {
        this.#sinkMeter = new LevelMeter();
        this.#t0 = undefined;
      },
      onStdout: (chunk) => {
        for (const l of this.#sinkMeter.push(chunk, options.clock.now())) {
          this.#level = l;
          for (const fn of this.#levelListeners) fn(null, l);
        }
      },
    });
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#sink.start();
    for (const i of this.#inputs.values()) i.decoder.start();
    this.#tick = this.#o.clock.setInterval(() => this.#mix(), 10);
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#tick !== undefined) this.#o.clock.clear(this.#tick);
    this.#tick = undefined;
    await Promise.all([this.#sink.stop(), ...[...this.#inputs.values()].map((i) => i.decoder.stop())]);
    for (const i of this.#inputs.values()) {
      i.jitter.reset();
      i.fifo.clear();
      i.primed = false;
    }
  }

  /** One decrypted Opus packet from `participant` with its frame number. */
  push(participant: string, frameNumber: number, packet: Uint8Array): void {
    const input = this.#input(participant);
    input.jitter.push(frameNumber, packet);
    this.#feed(input);
  }

  /** A participant left: stop their decoder and forget their audio. */
  async removeParticipant(participant: string): Promise<void> {
    const input = this.#inputs.get(participant);
    if (input === undefined) return;
    this.#inputs.delete(participant);
    await input.decoder.stop();
  }

  /** Level of the mix (participant omitted) or of one participant's decoded audio. */
  level(participant?: string): AudioLevel | null {
    return participant === undefined ? this.#level : (this.#inputs.get(participant)?.level ?? null);
  }

  onLevel(listener: (participant: string | null, level: AudioLevel) => void): () => void {
    this.#levelListeners.add(listener);
    return () => this.#levelListeners.delete(listener);
  }

  status(): { readonly sink: RunnerStatus; readonly decoders: Readonly<Record<string, RunnerStatus>> } {
    const decoders: Record<string, RunnerStatus> = {};
    for (const [id, i] of this.#inputs) decoders[id] = i.decoder.status();
    return { sink: this.#sink.status(), decoders };
  }

  stats(participant: string): ParticipantAudioStats | null {
    const i = this.#inputs.get(participant);
    if (i === undefined) return null;
    const j = i.jitter.stats();
    return {
      released: j.released,
      late: j.late,
      lost: j.lost,
      underruns: i.underruns,
      samplesDropped: i.samplesDropped,
    };
  }

  /** Mixed chunks the sink could not take (its pipe was backed up). */
  get sinkDrops(): number {
    return this.#sinkDrops;
  }

  #input(id: string): Input {
    let input = this.#inputs.get(id);
    if (input !== undefined) return input;
    const o = this.#o;
    const created: Input = {
      id,
      jitter: new JitterBuffer({ clock: o.clock, delayMs: o.jitterDelayMs ?? 40 }),
      fifo: new PcmFifo(RATE),
      meter: new LevelMeter(RATE / 10),
      writer: new OggOpusWriter(),
      primed: false,
      underruns: 0,
      samplesDropped: 0,
      level: null,
      decoder: new SupervisedProcess({
        name: 'audio-decoder',
        runner: o.runner,
        clock: o.clock,
        logger: o.logger,
        args: decoderArgs,
        runningOn: 'spawn',
        stallTimeoutMs: 0,
        ...o.supervisor,
        onSpawn: (child) => {
          created.writer = new OggOpusWriter();
          for (const page of created.writer.headers()) child.stdin.write(page);
        },
        onStdout: (chunk) => {
          created.samplesDropped += created.fifo.push(chunk);
          for (const l of created.meter.push(chunk, o.clock.now())) {
            created.level = l;
            for (const fn of this.#levelListeners) fn(id, l);
          }
        },
      }),
    };
    input = created;
    this.#inputs.set(id, input);
    if (this.#running) input.decoder.start();
    return input;
  }

  #feed(input: Input): void {
    const stdin = input.decoder.stdin;
    for (const r of input.jitter.drain()) {
      if (stdin === undefined || input.decoder.state !== 'running') continue;
      stdin.write(input.writer.page(r.value, r.missingBefore * (opusPacketSamples(r.value) || 960)));
    }
  }

  #mix(): void {
    for (const input of this.#inputs.values()) this.#feed(input);
    const now = this.#o.clock.monotonic();
    if (this.#t0 === undefined) {
      this.#t0 = now;
      this.#produced = 0;
    }
    let due = Math.floor((now - this.#t0) * PER_MS) - this.#produced;
    if (due <= 0) return;
    if (due > 100 * PER_MS) {
      // The event loop stalled: skip ahead instead of bursting old audio.
      this.#produced += due - 20 * PER_MS;
      due = 20 * PER_MS;
    }
    const mix = new Int32Array(due);
    const prime = (this.#o.primeMs ?? 40) * PER_MS;
    const backlog = (this.#o.maxBacklogMs ?? 120) * PER_MS;
    for (const input of this.#inputs.values()) {
      input.samplesDropped += input.fifo.trimTo(backlog);
      if (!input.primed) {
        if (input.fifo.samples < prime) continue;
        input.primed = true;
      }
      if (input.fifo.takeInto(mix, due) < due) {
        input.primed = false;
        input.underruns += 1;
      }
    }
    this.#produced += due;
    const stdin = this.#sink.stdin;
    if (stdin === undefined || this.#sink.state !== 'running' || stdin.writableLength > 100 * PER_MS * 2) {
      this.#sinkDrops += 1;
      return;
    }
    stdin.write(mixToS16le(mix));
  }
}
