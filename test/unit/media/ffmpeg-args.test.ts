/** Video encoded beforehand as a capture source: replayed at its own pace, copied, never encoded (src/media/ffmpeg-args.ts). */
import { describe, expect, it } from 'vitest';
import { videoCaptureArgs } from '../../../src/media/ffmpeg-args.ts';

describe('videoCaptureArgs: a file source', () => {
  const settings = { width: 1280, height: 720, framerate: 30, bitrateKbps: 2500, niceness: 5 };

  it('replays a VP8 clip in real time as IVF on stdout, looped, without encoding', () => {
    const a = videoCaptureArgs(
      { type: 'file', path: '/tmp/clip.ivf', loop: true },
      { ...settings, codec: 'vp8' },
    );
    const input = a.indexOf('-i');
    expect(a.slice(input - 6, input + 2)).toEqual([
      '-nostdin',
      '-re',
      '-stream_loop',
      '-1',
      '-f',
      'ivf',
      '-i',
      '/tmp/clip.ivf',
    ]);
    expect(a.slice(input + 2)).toEqual(['-an', '-c:v', 'copy', '-f', 'ivf', '-flush_packets', '1', 'pipe:1']);
    const s = a.join(' ');
    for (const encoding of ['libvpx', '-b:v', 'lavfi', '-vf', '-g ', '-pix_fmt'])
      expect(s).not.toContain(encoding);
  });

  it('plays once without loop, and H.264 as Annex B at the settings frame rate', () => {
    const once = videoCaptureArgs({ type: 'file', path: 'clip.ivf' }, { ...settings, codec: 'vp8' });
    expect(once).not.toContain('-stream_loop');
    expect(once).toContain('-re');
    const h264 = videoCaptureArgs(
      { type: 'file', path: 'clip.h264', loop: true },
      { ...settings, codec: 'h264' },
    );
    const s = h264.join(' ');
    expect(s).toContain('-re -stream_loop -1 -f h264 -framerate 30 -i clip.h264 -an -c:v copy -f h264');
    expect(h264.at(-1)).toBe('pipe:1');
    expect(s).not.toContain('libx264');
  });

  it('keeps a path with spaces or quotes as one argument', () => {
    const a = videoCaptureArgs({ type: 'file', path: "/tmp/a b'c.ivf" }, { ...settings, codec: 'vp8' });
    expect(a[a.indexOf('-i') + 1]).toBe("/tmp/a b'c.ivf");
  });
});
