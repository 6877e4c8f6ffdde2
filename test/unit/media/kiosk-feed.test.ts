/** The kiosk feed message codec shared by roomd and the kiosk page (docs/protocol.md "# Kiosk media feed"). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFeedMessage,
  encodeFeedMessage,
  type FeedDecodeResult,
  type FeedFrame,
} from '../../../src/media/kiosk-feed.ts';
import { MAX_FRAME_BYTES } from '../../../src/protocol/limits.ts';

const frame = (o: Partial<FeedFrame> = {}): FeedFrame => ({
  participantId: 'bot-1 ü',
  streamId: 0,
  codec: 'vp8',
  keyframe: true,
  self: false,
  captureTs: 1_767_225_600_123.5,
  data: Uint8Array.of(0x9d, 0x01, 0x2a, 7),
  ...o,
});

function refused(r: FeedDecodeResult): string {
  if (r.ok) throw new Error(`decoded ${JSON.stringify(r.frame)}`);
  expect(r.error.code).toBe('media.parse_failed');
  return r.error.message;
}

describe('kiosk feed message', () => {
  it('lays the frame out as documented and decodes it back', () => {
    const f = frame({ self: true, codec: 'h264', streamId: 9 });
    const m = encodeFeedMessage(f);
    expect(Array.from(m.subarray(0, 4))).toEqual([1, 3, 3, 9]);
    expect(new DataView(m.buffer).getFloat64(4)).toBe(f.captureTs);
    expect(m[12]).toBe(new TextEncoder().encode(f.participantId).length);
    expect(decodeFeedMessage(m)).toEqual({ ok: true, frame: f });
  });

  it('reads a message inside a larger buffer (a WebSocket message view)', () => {
    const m = encodeFeedMessage(frame());
    const big = new Uint8Array(m.length + 10);
    big.set(m, 7);
    const r = decodeFeedMessage(big.subarray(7, 7 + m.length));
    expect(r).toEqual({ ok: true, frame: frame() });
  });

  it('round-trips any frame the format can carry, byte for byte', () => {
    const arb = fc.record({
      participantId: fc
        .string({ unit: 'grapheme', minLength: 1, maxLength: 60 })
        .filter((s) => new TextEncoder().encode(s).length <= 255),
      streamId: fc.nat(255),
      codec: fc.constantFrom('vp8' as const, 'vp9' as const, 'h264' as const),
      keyframe: fc.boolean(),
      self: fc.boolean(),
      captureTs: fc.double({ noNaN: true, noDefaultInfinity: true }),
      data: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(arb, (f) => {
        const m = encodeFeedMessage(f);
        const r = decodeFeedMessage(m);
        expect(r).toEqual({ ok: true, frame: f });
        if (r.ok) expect(encodeFeedMessage(r.frame)).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a leading BOM in the id: decode then encode gives the same bytes', () => {
    const m = encodeFeedMessage(frame({ participantId: '\ufeffA' }));
    const r = decodeFeedMessage(m);
    expect(r.ok && r.frame.participantId).toBe('\ufeffA');
    if (r.ok) expect(encodeFeedMessage(r.frame)).toEqual(m);
  });

  it('refuses every truncation of a message that cuts into the id', () => {
    const m = encodeFeedMessage(frame());
    const idEnd = 13 + m[12]!;
    for (let n = 0; n < idEnd; n++) refused(decodeFeedMessage(m.subarray(0, n)));
    // Cut inside the frame: still a message, with a shorter frame (the format has no frame length).
    const r = decodeFeedMessage(m.subarray(0, idEnd));
    expect(r.ok && r.frame.data.length).toBe(0);
  });

  it('refuses a bad version, flag, codec, id or capture time, saying which', () => {
    const m = encodeFeedMessage(frame({ participantId: 'ab' }));
    const patched = (...edits: [at: number, value: number][]) => {
      const b = m.slice();
      for (const [at, value] of edits) b[at] = value;
      return decodeFeedMessage(b);
    };
    const timed = (t: number) => {
      const b = m.slice();
      new DataView(b.buffer).setFloat64(4, t);
      return decodeFeedMessage(b);
    };
    expect(refused(patched([0, 2]))).toMatch(/version/);
    expect(refused(patched([1, 0x04]))).toMatch(/flags/);
    expect(refused(patched([1, 0xfd]))).toMatch(/flags/);
    expect(refused(patched([2, 4]))).toMatch(/codec/); // Opus is not video
    expect(refused(patched([2, 0]))).toMatch(/codec/);
    expect(refused(patched([12, 0]))).toMatch(/participant id/);
    expect(refused(patched([12, 200]))).toMatch(/participant id/);
    expect(refused(patched([13, 0xff]))).toMatch(/UTF-8/);
    expect(refused(patched([13, 0xc3], [14, 0x28]))).toMatch(/UTF-8/);
    for (const t of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(refused(timed(t))).toMatch(/capture time/);
  });

  it('refuses a frame over the media frame limit, and will not encode one', () => {
    const data = new Uint8Array(MAX_FRAME_BYTES + 1);
    expect(() => encodeFeedMessage(frame({ data }))).toThrow(RangeError);
    const m = encodeFeedMessage(frame({ participantId: 'x', data: data.subarray(1) }));
    expect(decodeFeedMessage(m).ok).toBe(true);
    const over = new Uint8Array(m.length + 1);
    over.set(m);
    expect(refused(decodeFeedMessage(over))).toMatch(/too large/);
  });

  it('never throws on garbage: random bytes and mutated messages give a frame or media.parse_failed', () => {
    const seeds = [encodeFeedMessage(frame()), encodeFeedMessage(frame({ codec: 'vp9', self: true }))];
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
      )
      .map(([seed, edits, cut]) => {
        const b = seed.slice(0, cut % (seed.length + 1));
        for (const [at, v] of edits) if (b.length > 0) b[at % b.length] = v;
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
        const r = decodeFeedMessage(bytes);
        if (!r.ok) {
          expect(r.error.code).toBe('media.parse_failed');
          return;
        }
        // Whatever decodes is in range and re-encodes to exactly the input.
        expect(Number.isFinite(r.frame.captureTs)).toBe(true);
        expect(encodeFeedMessage(r.frame)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
