/**
 * Decode check for received video: shows that a headless participant decodes what it receives, and
 * how many frames (to compare with the count sent). Streams frames into an ffmpeg decoder — VP8/VP9 wrapped
 * in IVF, H.264 access units as Annex-B — and counts decoded pictures (one `framecrc` line each) and
 * decoder errors. A verification tool for `roomd bot` and tests, not part of the room's playout.
 */
import type { ChildHandle, ProcessRunner } from '../system/process.ts';
import { writeIvfFrame, writeIvfHeader } from './ivf.ts';
import type { VideoCodec } from './types.ts';

export interface DecodeCheckResult {
  /** Frames handed to the decoder. */
  readonly written: number;
  /** Pictures the decoder produced. */
  readonly decoded: number;
  /** Decoder error lines (ffmpeg -loglevel error), at most 20. */
  readonly errors: readonly string[];
  readonly exitCode: number | null;
}

export class DecodeCheck {
  readonly #codec: VideoCodec;
  readonly #runner: ProcessRunner;
  #child: ChildHandle | undefined;
  #written = 0;
  #decoded = 0;
  #partial = '';
  readonly #errors: string[] = [];

  constructor(options: { codec: VideoCodec; runner: ProcessRunner }) {
    this.#codec = options.codec;
    this.#runner = options.runner;
  }

  /** Pictures decoded so far. */
  get decoded(): number {
    return this.#decoded;
  }

  start(): void {
    if (this.#child !== undefined) return;
    const input = this.#codec === 'h264' ? ['-f', 'h264'] : ['-f', 'ivf'];
    const child = this.#runner.spawn('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      ...input,
      '-i',
      'pipe:0',
      '-f',
      'framecrc',
      'pipe:1',
    ]);
    this.#child = child;
    child.stdout.on('data', (b: Uint8Array) => this.#count(b));
    child.stderr.on('data', (b: Uint8Array) => {
      for (const line of Buffer.from(b).toString('utf8').split('\n')) {
        if (line.trim() !== '' && this.#errors.length < 20) this.#errors.push(line.trim().slice(0, 300));
      }
    });
    if (this.#codec !== 'h264') {
      child.stdin.write(
        writeIvfHeader({ codec: this.#codec, width: 0, height: 0, timebaseDen: 1000, timebaseNum: 1 }),
      );
    }
  }

  /** One received frame, in decode order. */
  push(data: Uint8Array): void {
    const child = this.#child;
    if (child === undefined) throw new Error('DecodeCheck: start() first');
    child.stdin.write(this.#codec === 'h264' ? data : writeIvfFrame(data, this.#written));
    this.#written += 1;
  }

  /** Close the input and wait for the decoder to finish. */
  async finish(): Promise<DecodeCheckResult> {
    const child = this.#child;
    if (child === undefined) return { written: 0, decoded: 0, errors: [], exitCode: null };
    child.stdin.end();
    const exit = await child.exited;
    this.#count(new Uint8Array(0), true);
    return { written: this.#written, decoded: this.#decoded, errors: [...this.#errors], exitCode: exit.code };
  }

  #count(b: Uint8Array, final = false): void {
    const lines = (this.#partial + Buffer.from(b).toString('utf8')).split('\n');
    this.#partial = final ? '' : (lines.pop() ?? '');
    for (const line of lines) if (line !== '' && !line.startsWith('#')) this.#decoded += 1;
  }
}
