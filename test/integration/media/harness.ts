/**
 * Shared pieces of the media integration tests: a real-ffmpeg capture pushed through the stream path
 * without encryption (StreamSender: envelope → identity seal → chunks → optional loss → StreamReceiver:
 * reassembly → order → envelope) and ffprobe checks of what came out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { MediaCapture } from '../../../src/media/capture.ts';
import { type ReceivedFrame, type StreamKey, StreamReceiver } from '../../../src/media/stream/receiver.ts';
import { StreamSender } from '../../../src/media/stream/sender.ts';
import type { MediaFrame } from '../../../src/media/types.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { plainKeys } from '../../support/stream-keys.ts';

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
  readonly received: ReceivedFrame[];
  readonly requests: StreamKey[];
  readonly receiver: StreamReceiver;
  close(): void;
}

/**
 * Run `count` frames of `capture` through the stream path, dropping every chunk of the frames in
 * `lose`. Chunks keep sender id 0 (no relay stamps them), so frames arrive from participant '0'.
 */
export async function throughWire(
  capture: MediaCapture,
  count: number,
  lose: ReadonlySet<number> = new Set(),
): Promise<WirePath> {
  const clock = new SystemClock();
  const keys = plainKeys();
  const received: ReceivedFrame[] = [];
  const requests: StreamKey[] = [];
  const receiver = new StreamReceiver({
    clock,
    keys: () => keys,
    reorderWindowMs: 60,
    onFrame: (f) => received.push(f),
    requestKeyframe: (k) => requests.push(k),
  });
  let losing = false;
  const sender = new StreamSender({
    kind: capture.kind,
    keys: () => keys,
    out: {
      mediaOpen: true,
      sendChunks: (chunks) => {
        if (!losing) for (const c of chunks) receiver.push(c);
        return true;
      },
    },
  });
  const sent: MediaFrame[] = [];
  const off = capture.onFrame((frame) => {
    if (sent.length >= count) return;
    losing = lose.has(sender.nextFrameNumber);
    sent.push(frame);
    sender.send(frame, frame.keyframe);
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
