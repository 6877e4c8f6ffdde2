/** Vector tests of the IVF, Annex-B and Ogg/Opus parsers against ffmpeg-made fixtures (test/fixtures/media). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { hasCode } from '../../../src/core/errors.ts';
import { AnnexBParser } from '../../../src/media/annexb.ts';
import { ByteQueue } from '../../../src/media/byte-queue.ts';
import { IvfParser, isVp8Keyframe, isVp9Keyframe, parseIvfHeader } from '../../../src/media/ivf.ts';
import { oggCrc, parseOggPage, writeOggPage } from '../../../src/media/ogg.ts';
import { OggOpusParser, OggOpusWriter, opusPacketSamples } from '../../../src/media/opus.ts';
import type { FrameParser, MediaFrame } from '../../../src/media/types.ts';

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../../fixtures/media/${name}`, import.meta.url)));

/** Feed `bytes` in pieces of the given sizes (cycled) and collect every frame. */
function feed(parser: FrameParser, bytes: Uint8Array, sizes: number[]): MediaFrame[] {
  const out: MediaFrame[] = [];
  let off = 0;
  let i = 0;
  while (off < bytes.length) {
    const n = sizes[i++ % sizes.length]!;
    out.push(...parser.push(bytes.subarray(off, off + n)));
    off += n;
  }
  out.push(...parser.end());
  return out;
}

const SPLITS = [[1], [7, 13], [4096], [100_000]];

describe('IVF', () => {
  const clock = new FakeClock();
  it('reads the VP8 header', () => {
    const h = parseIvfHeader(fixture('vp8-160x90.ivf'));
    expect(h).toMatchObject({ codec: 'vp8', width: 160, height: 90 });
  });

  for (const sizes of SPLITS) {
    it(`splits VP8 frames with key frames every 5 (reads of ${sizes.join('/')})`, () => {
      const frames = feed(new IvfParser({ clock }), fixture('vp8-160x90.ivf'), sizes);
      expect(frames.map((f) => f.keyframe)).toEqual([
        true,
        false,
        false,
        false,
        false,
        true,
        false,
        false,
        false,
        false,
      ]);
      expect(frames.map((f) => f.data.length)).toEqual([3917, 596, 548, 506, 475, 3812, 640, 607, 508, 555]);
      expect(frames.map((f) => f.ptsMs)).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
      expect(
        frames.every((f) => f.kind === 'video' && f.codec === 'vp8' && f.captureTs === clock.now()),
      ).toBe(true);
    });
  }

  it('splits VP9 frames and finds its key frames', () => {
    const frames = feed(new IvfParser({ clock }), fixture('vp9-160x90.ivf'), [333]);
    expect(frames.map((f) => f.codec)).toEqual(Array(10).fill('vp9'));
    expect(frames.map((f) => f.data.length)).toEqual([3783, 1235, 593, 480, 416, 4241, 455, 422, 357, 411]);
    expect(frames.map((f) => f.keyframe)).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it('classifies frame tags', () => {
    expect(isVp8Keyframe(Uint8Array.of(0x10, 0x02, 0x00))).toBe(true);
    expect(isVp8Keyframe(Uint8Array.of(0x11, 0x02, 0x00))).toBe(false);
    expect(isVp9Keyframe(Uint8Array.of(0x82))).toBe(true); // marker 10, profile 0, show_existing 0, type 0
    expect(isVp9Keyframe(Uint8Array.of(0x86))).toBe(false); // frame_type 1
    expect(isVp9Keyframe(Uint8Array.of(0x88))).toBe(false); // show_existing_frame
  });

  it('skips an empty frame record', () => {
    const vp8 = fixture('vp8-160x90.ivf');
    const withEmpty = new Uint8Array(vp8.length + 12);
    withEmpty.set(vp8.subarray(0, 32));
    withEmpty.set(vp8.subarray(32), 44); // a 12-byte record of size 0 right after the file header
    const frames = feed(new IvfParser({ clock }), withEmpty, [100]);
    expect(frames).toHaveLength(10);
  });

  it('fails for good on a bad signature, and on an oversized frame', () => {
    const bad = fixture('vp8-160x90.ivf').slice();
    bad[0] = 0x45;
    const p = new IvfParser({ clock });
    expect(() => p.push(bad)).toThrow(expect.objectContaining({ code: 'media.parse_failed' }));
    expect(() => p.push(Uint8Array.of(1))).toThrow();
    const small = new IvfParser({ clock, maxFrameBytes: 1000 });
    try {
      small.push(fixture('vp8-160x90.ivf'));
      expect.unreachable();
    } catch (err) {
      expect(hasCode(err, 'media.parse_failed')).toBe(true);
    }
  });
});

describe('Annex-B', () => {
  const clock = new FakeClock();
  for (const name of ['h264-aud-128x72.h264', 'h264-noaud-128x72.h264']) {
    for (const sizes of SPLITS) {
      it(`splits ${name} into 6 access units (reads of ${sizes.join('/')})`, () => {
        const bytes = fixture(name);
        const frames = feed(new AnnexBParser({ clock }), bytes, sizes);
        expect(frames.map((f) => f.keyframe)).toEqual([true, false, false, true, false, false]);
        // Nothing lost or duplicated: the units concatenate back to the stream.
        expect(frames.reduce((n, f) => n + f.data.length, 0)).toBe(bytes.length);
        for (const f of frames) expect(Array.from(f.data.subarray(0, 3))).toEqual([0, 0, 0]);
        if (name.includes('-aud')) for (const f of frames) expect(f.data[4]! & 0x1f).toBe(9);
      });
    }
  }

  it('skips leading garbage and drops an oversized unit whole', () => {
    const bytes = fixture('h264-aud-128x72.h264');
    const withJunk = new Uint8Array(5 + bytes.length);
    withJunk.set([9, 9, 9, 0, 7]);
    withJunk.set(bytes, 5);
    const frames = feed(new AnnexBParser({ clock }), withJunk, [50]);
    expect(frames).toHaveLength(6);
    const small = new AnnexBParser({ clock, maxFrameBytes: 2000 });
    const kept = feed(small, bytes, [512]);
    expect(small.droppedFrames).toBe(2); // the two IDR units are > 2000 bytes
    expect(kept.map((f) => f.keyframe)).toEqual([false, false, false, false]);
    expect(small.buffered).toBe(0);
  });

  it('drops a unit over the limit that completes inside one read', () => {
    const aud = [0, 0, 1, 9, 0xf0];
    const unit = (type: number, n: number) => [...aud, 0, 0, 1, type, 0x88, ...new Array(n).fill(0x5a)];
    const bytes = Uint8Array.from([...unit(0x65, 2058), ...unit(0x41, 10), 0, 0, 1, 9, 0xf0]);
    const p = new AnnexBParser({ clock, maxFrameBytes: 2048 });
    const frames = feed(p, bytes, [100_000]);
    expect(frames.map((f) => f.data.length)).toEqual([20]);
    expect(p.droppedFrames).toBe(1);
  });

  it('finds the same units whether the stream comes whole or byte by byte', () => {
    // A NAL header byte 00 followed by 00 01: it must not start a code in one read pattern only.
    const bytes = Uint8Array.of(0, 0, 1, 0, 0, 1, 0x41, 0x9a);
    const whole = feed(new AnnexBParser({ clock }), bytes, [100]);
    const bytewise = feed(new AnnexBParser({ clock }), bytes, [1]);
    expect(bytewise.map((f) => Array.from(f.data))).toEqual(whole.map((f) => Array.from(f.data)));
  });
});

describe('Ogg/Opus', () => {
  const clock = new FakeClock();
  it('checks the CRC of every fixture page', () => {
    const bytes = fixture('opus-sine.ogg');
    let off = 0;
    let pages = 0;
    while (off < bytes.length) {
      const r = parseOggPage(bytes.subarray(off));
      if (!r.ok) throw new Error(`page at ${off}: ${r.reason}`);
      off += r.size;
      pages += 1;
    }
    expect(pages).toBeGreaterThan(20);
    const bad = bytes.slice();
    bad[40] = bad[40]! ^ 1;
    expect(parseOggPage(bad)).toEqual({ ok: false, reason: 'bad_crc' });
  });

  for (const sizes of SPLITS) {
    it(`yields 20 ms packets with granule-based times (reads of ${sizes.join('/')})`, () => {
      const p = new OggOpusParser({ clock });
      const frames = feed(p, fixture('opus-sine.ogg'), sizes);
      expect(frames).toHaveLength(26);
      expect(p.head).toEqual({ channels: 1, preSkip: 120, inputSampleRate: 48000 });
      expect(
        frames.every((f) => f.kind === 'audio' && f.codec === 'opus' && f.keyframe && f.durationMs === 20),
      ).toBe(true);
      for (const [i, f] of frames.entries()) expect(f.ptsMs).toBeCloseTo(i * 20 - 2.5, 6);
    });
  }

  it('drops a damaged page and carries on', () => {
    const bytes = fixture('opus-sine.ogg').slice();
    bytes[300] = bytes[300]! ^ 0xff; // inside an audio page
    const p = new OggOpusParser({ clock });
    const frames = feed(p, bytes, [64]);
    expect(frames.length).toBe(25);
    expect(p.skippedBytes).toBeGreaterThan(0);
  });

  it('resynchronises on a capture pattern split across reads', () => {
    // A damaged CRC on page 2: the next page begins in the same 2-byte read pattern that ends the
    // damaged one, so "OggS" arrives cut; it must still be found (RFC 3533 §6).
    const bytes = fixture('opus-sine.ogg').slice();
    bytes.fill(0, 623, 627);
    const whole = feed(new OggOpusParser({ clock }), bytes, [100_000]);
    const p = new OggOpusParser({ clock });
    const pairs = feed(p, bytes, [2]);
    expect(pairs.map((f) => f.ptsMs)).toEqual(whole.map((f) => f.ptsMs));
    expect(pairs).toHaveLength(24);
    expect(p.skippedBytes).toBe(225);
  });

  it('takes a large page in one-byte reads in linear time', () => {
    const w = new OggOpusWriter();
    // Two pages of 255 lacing values each (about 60 KB): the most a page can hold.
    const packets = [new Uint8Array(60_000).fill(0xf8), new Uint8Array(60_000).fill(0xf8)];
    const pages = [...w.headers(), ...packets.map((pk) => w.page(pk))];
    const stream = Uint8Array.from(pages.flatMap((pg) => Array.from(pg)));
    const t0 = performance.now();
    const frames = feed(new OggOpusParser({ clock }), stream, [1]);
    expect(frames.map((f) => f.data.length)).toEqual([60_000, 60_000]);
    // Quadratic work per read would take seconds here; linear work takes milliseconds.
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('round-trips packets through the writer', () => {
    const w = new OggOpusWriter();
    const packets = [Uint8Array.of(0xf8, 1, 2, 3), Uint8Array.of(0xf8, ...new Array(600).fill(7))];
    const stream = [...w.headers(), ...packets.map((pk) => w.page(pk))];
    const p = new OggOpusParser({ clock });
    const frames = stream.flatMap((page) => p.push(page));
    expect(frames.map((f) => Array.from(f.data))).toEqual(packets.map((pk) => Array.from(pk)));
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 20]);
  });

  it('computes packet durations and the CRC of a known page', () => {
    expect(opusPacketSamples(Uint8Array.of(0xf8))).toBe(960); // CELT 20 ms, 1 frame
    expect(opusPacketSamples(Uint8Array.of(0x0b, 0x03))).toBe(2880); // SILK 20 ms, code 3, 3 frames
    expect(opusPacketSamples(Uint8Array.of(0x1b, 0x03))).toBe(0); // 3 × 60 ms exceeds 120 ms
    expect(opusPacketSamples(Uint8Array.of(0x01))).toBe(960); // SILK 10 ms × 2
    const page = writeOggPage({ serial: 1, sequence: 0, granule: 0, bos: true, packets: [Uint8Array.of(1)] });
    expect(oggCrc(page, 22)).toBe(new DataView(page.buffer).getUint32(22, true));
  });
});

describe('ByteQueue', () => {
  it('keeps the bytes in order through many one-byte reads (merged as they pile up)', () => {
    const q = new ByteQueue();
    for (let i = 0; i < 1000; i++) q.push(Uint8Array.of(i & 0xff));
    expect(q.length).toBe(1000);
    expect(q.at(999)).toBe(999 & 0xff);
    expect(Array.from(q.peek(3))).toEqual([0, 1, 2]);
    q.skip(500);
    expect(q.at(0)).toBe(500 & 0xff);
    expect(Array.from(q.take(2))).toEqual([500 & 0xff, 501 & 0xff]);
    expect(q.length).toBe(498);
  });
});
