/**
 * Shared pieces of the media integration tests: a real-ffmpeg capture pushed through the wire path
 * (envelope → chunker → optional loss → receiver → envelope) and ffprobe checks of what came out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { MediaCapture } from '../../../src/media/capture.ts';
import { packFrame, type UnpackedFrame, unpackFrame } from '../../../src/media/envelope.ts';
import { MediaReceiver, type StreamKey } from '../../../src/media/receiver.ts';
import { StreamSender } from '../../../src/media/sender.ts';
import type { MediaFrame } from '../../../src/media/types.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';

export const deps = () => ({
  runner: new NodeProcessRunner(),
  clock: new SystemClock(),
  logger: silentLogger(),
  supervisor: { backoff: { initialMs: 100, maxMs: 400 } },
});

/** Resolve once `cond()` holds, polling every 20 ms; reject after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface WirePath {
  readonly sent: MediaFrame[];
  readonly received: (UnpackedFrame & { frameNumber: number; keyframe: boolean })[];
  readonly requests: StreamKey[];
  readonly receiver: MediaReceiver;
  close(): void;
}

/** Run `count` frames of `capture` through the wire path, dropping every chunk of the frames in `lose`. */
export async function throughWire(
  capture: MediaCapture,
  count: number,
  lose: ReadonlySet<number> = new Set(),
): Promise<WirePath> {
  const clock = new SystemClock();
  const sender = new StreamSender({ kind: capture.kind, streamId: capture.kind === 'video' ? 0 : 1 });
  const received: WirePath['received'] = [];
  const requests: StreamKey[] = [];
  const receiver = new MediaReceiver({
    clock,
    reorderWindowMs: 60,
    onFrame: (f) =>
      received.push({ ...unpackFrame(f.data), frameNumber: f.frameNumber, keyframe: f.keyframe }),
    onKeyframeRequest: (k) => requests.push(k),
  });
  const sent: MediaFrame[] = [];
  const off = capture.onFrame((frame) => {
    if (sent.length >= count) return;
    const n = sender.nextFrameNumber;
    sent.push(frame);
    const chunks = sender.chunk(packFrame(frame), frame.keyframe);
    if (!lose.has(n)) for (const c of chunks) receiver.push(c);
  });
  capture.start();
  await until(() => sent.length >= count, 20_000, `${count} frames`);
  off();
  await capture.stop();
  await new Promise((r) => setTimeout(r, 150)); // let the reorder window close
  return { sent, received, requests, receiver, close: () => receiver.close() };
}

export function tempDir(): {
  dir: string;
  write: (name: string, parts: Uint8Array[]) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'roomd-media-'));
  return {
    dir,
    write: (name, parts) => {
      const path = join(dir, name);
      writeFileSync(path, Buffer.concat(parts));
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Decode a file fully with ffmpeg; returns decoded frame count and any error output. */
export async function decodeCount(path: string): Promise<{ frames: number; errors: string }> {
  const runner = new NodeProcessRunner();
  const r = await runner.run(
    'ffprobe',
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      '0',
      '-show_entries',
      'stream=nb_read_frames',
      '-of',
      'csv=p=0',
      path,
    ],
    { timeoutMs: 20_000 },
  );
  return { frames: Number.parseInt(r.stdout.trim(), 10), errors: r.stderr.trim() };
}
