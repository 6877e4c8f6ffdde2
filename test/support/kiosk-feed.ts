/**
 * Test video for the kiosk page: VP8 frames of ffmpeg's test pattern (IVF container split into
 * frames), to publish into the kiosk media feed (docs/protocol.md "# Kiosk media feed").
 */
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Vp8Frame {
  keyframe: boolean;
  data: Uint8Array;
}

/** Encode `frames` frames of ffmpeg's test pattern as VP8 and split the IVF file into frames. */
export async function makeVp8Frames(frames: number, width = 640, height = 360): Promise<Vp8Frame[]> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-vp8-'));
  try {
    const file = path.join(dir, 'test.ivf');
    await run(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'lavfi',
        '-i',
        `testsrc=size=${width}x${height}:rate=15`,
        '-frames:v',
        String(frames),
        '-c:v',
        'libvpx',
        '-deadline',
        'realtime',
        '-b:v',
        '800k',
        '-f',
        'ivf',
        '-y',
        file,
      ],
      { timeout: 30_000 },
    );
    const ivf = await fsp.readFile(file);
    const headerLength = ivf.readUInt16LE(6);
    const out: Vp8Frame[] = [];
    for (let at = headerLength; at + 12 <= ivf.length; ) {
      const size = ivf.readUInt32LE(at);
      const data = new Uint8Array(ivf.subarray(at + 12, at + 12 + size));
      // VP8 frame tag (RFC 6386 §9.1): bit 0 is 0 for a key frame.
      out.push({ keyframe: ((data[0] ?? 1) & 1) === 0, data });
      at += 12 + size;
    }
    return out;
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}
