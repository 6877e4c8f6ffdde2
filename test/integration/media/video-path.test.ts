/**
 * Real ffmpeg → parser → chunker → (loss) → reassembler → ffmpeg decode, for VP8/IVF and H.264
 * Annex-B: received video decodes, with a frame count within 5 % of the sent one; after a loss it
 * recovers at the next keyframe without a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createVideoCapture } from '../../../src/media/capture.ts';
import { DecodeCheck } from '../../../src/media/decode-check.ts';
import { writeIvfFrame, writeIvfHeader } from '../../../src/media/ivf.ts';
import { NodeProcessRunner } from '../../../src/system/process.ts';
import { decodeCount, deps, tempDir, throughWire } from './harness.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());
const small = { width: 320, height: 180, framerate: 15, bitrateKbps: 300, keyframeIntervalMs: 1000 };

function ivfFile(name: string, frames: { data: Uint8Array }[]): string {
  const header = writeIvfHeader({ codec: 'vp8', width: 320, height: 180, timebaseDen: 15, timebaseNum: 1 });
  return tmp.write(name, [header, ...frames.map((f, i) => writeIvfFrame(f.data, i))]);
}

describe('VP8 over the wire', () => {
  it('arrives whole and decodes: frame count within 5 %', async () => {
    const cap = createVideoCapture({ type: 'test', fontFile: null }, { ...small, codec: 'vp8' }, deps());
    const wire = await throughWire(cap, 30);
    wire.close();
    expect(wire.sent[0]!.keyframe).toBe(true);
    expect(wire.sent.filter((f) => f.keyframe).length).toBeGreaterThanOrEqual(2); // 1 s GOP over 2 s
    expect(wire.received.map((f) => f.frameNumber)).toEqual(wire.sent.map((_, i) => i));
    expect(wire.received.every((f) => f.codec === 'vp8')).toBe(true);
    const { frames, errors } = await decodeCount(ivfFile('clean.ivf', wire.received));
    expect(errors).toBe('');
    expect(Math.abs(frames - wire.sent.length)).toBeLessThanOrEqual(Math.ceil(wire.sent.length * 0.05));
    const check = new DecodeCheck({ codec: 'vp8', runner: new NodeProcessRunner() });
    check.start();
    for (const f of wire.received) check.push(f.data);
    expect(await check.finish()).toEqual({ written: 30, decoded: frames, errors: [], exitCode: 0 });
  });

  it('after a lost frame drops until the next keyframe, asks for one, and still decodes cleanly', async () => {
    const cap = createVideoCapture({ type: 'test', fontFile: null }, { ...small, codec: 'vp8' }, deps());
    const wire = await throughWire(cap, 25, new Set([4]));
    wire.close();
    const nextKey = wire.sent.findIndex((f, i) => i > 4 && f.keyframe);
    expect(nextKey).toBeGreaterThan(4);
    const numbers = wire.received.map((f) => f.frameNumber);
    expect(numbers.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(numbers[4]).toBe(nextKey); // resumed exactly at the keyframe
    // One request per second at most; a slow machine may stretch the wait past one second.
    expect(wire.requests.length).toBeGreaterThanOrEqual(1);
    for (const r of wire.requests) expect(r).toEqual({ sender: 0, kind: 'video' });
    const st = wire.receiver.stats({ sender: 0, kind: 'video' }).snapshot();
    expect(st.framesLost + st.framesDiscarded).toBe(nextKey - 4);
    const { frames, errors } = await decodeCount(ivfFile('lossy.ivf', wire.received));
    expect(errors).toBe('');
    expect(frames).toBe(wire.received.length);
  });
});

describe('H.264 over the wire', () => {
  it('access units arrive whole and decode: frame count within 5 %', async () => {
    const cap = createVideoCapture({ type: 'test', fontFile: null }, { ...small, codec: 'h264' }, deps());
    const wire = await throughWire(cap, 30);
    wire.close();
    expect(wire.sent[0]!.keyframe).toBe(true);
    expect(wire.received).toHaveLength(30);
    const { frames, errors } = await decodeCount(
      tmp.write(
        'clean.h264',
        wire.received.map((f) => f.data),
      ),
    );
    expect(errors).toBe('');
    expect(Math.abs(frames - 30)).toBeLessThanOrEqual(2);
    // The streaming decode check (what the headless participant uses) agrees.
    const check = new DecodeCheck({ codec: 'h264', runner: new NodeProcessRunner() });
    check.start();
    for (const f of wire.received) check.push(f.data);
    const r = await check.finish();
    expect(r).toMatchObject({ written: 30, exitCode: 0, errors: [] });
    expect(r.decoded).toBe(frames);
  });
});
