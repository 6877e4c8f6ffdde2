/**
 * The streaming media parsers (src/media/ivf.ts, annexb.ts, ogg.ts, opus.ts): bytes from the
 * encoder pipe or a file, in whatever pieces reads deliver. IvfParser.push returns frames or throws
 * media.parse_failed (and then fails for good); AnnexBParser and OggOpusParser never throw.
 * Invariants: frames stay under the size limit and memory stays bounded; times are finite; a valid
 * stream (the writers' output) parses to exactly what was written; and the frames do not depend on
 * how the stream was cut.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { FakeClock } from '../../src/core/clock.ts';
import { RoomdError } from '../../src/core/errors.ts';
import { AnnexBParser } from '../../src/media/annexb.ts';
import {
  IVF_FRAME_HEADER_BYTES,
  IvfParser,
  isVp8Keyframe,
  isVp9Keyframe,
  writeIvfFrame,
  writeIvfHeader,
} from '../../src/media/ivf.ts';
import { OGG_MAX_PAGE_BYTES, parseOggPage } from '../../src/media/ogg.ts';
import { OggOpusParser, OggOpusWriter, opusPacketSamples } from '../../src/media/opus.ts';
import type { FrameParser, MediaFrame } from '../../src/media/types.ts';
import { cutPoints, mutatedBytes, tokenBytes } from '../lib/mutate.ts';
import { concatBytes, type FuzzTarget, invariant, sameValue, split, typed } from '../lib/target.ts';

const clock = new FakeClock();

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../test/fixtures/media/${name}`, import.meta.url)));
}

interface Stream {
  readonly bytes: Uint8Array;
  readonly cuts: readonly number[];
}

/** What a frame means, without the wall-clock capture time. */
function meaning(f: MediaFrame): unknown {
  return { codec: f.codec, keyframe: f.keyframe, data: f.data, ptsMs: f.ptsMs, durationMs: f.durationMs };
}

function checkFrame(f: MediaFrame, maxBytes: number): void {
  invariant(f.data.length <= maxBytes, `a ${f.data.length}-byte frame (limit ${maxBytes})`);
  invariant(f.ptsMs === undefined || Number.isFinite(f.ptsMs), `ptsMs ${f.ptsMs}`);
  invariant(
    f.durationMs === undefined || (f.durationMs >= 0 && f.durationMs <= 120),
    `durationMs ${f.durationMs}`,
  );
}

/**
 * Feed the pieces; check every frame and the buffer bound. Returns the frames, or null when the
 * parser failed with its typed error (only IVF may).
 */
function feed<P extends FrameParser>(
  p: P,
  chunks: readonly Uint8Array[],
  maxFrame: number,
  maxBuffered: number,
  mayFail: boolean,
): MediaFrame[] | null {
  const frames: MediaFrame[] = [];
  for (const c of chunks) {
    const r = mayFail
      ? typed(['media.parse_failed'], () => p.push(c))
      : { ok: true as const, value: p.push(c) };
    if (!r.ok) {
      // "fails for good": the next push throws the same typed error.
      const again = typed(['media.parse_failed'], () => p.push(Uint8Array.of(0)));
      invariant(!again.ok && again.error instanceof RoomdError, 'a failed parser accepted more input');
      return null;
    }
    for (const f of r.value) {
      checkFrame(f, maxFrame);
      frames.push(f);
    }
    invariant(p.buffered <= maxBuffered, `${p.buffered} bytes buffered (bound ${maxBuffered})`);
  }
  for (const f of p.end()) {
    checkFrame(f, maxFrame);
    frames.push(f);
  }
  return frames;
}

// ---- IVF ----------------------------------------------------------------------------------------

const IVF_MAX = 8192;

type IvfInput =
  | Stream
  | {
      readonly codec: 'vp8' | 'vp9';
      readonly den: number;
      readonly num: number;
      readonly frames: readonly { readonly data: Uint8Array; readonly pts: number }[];
      readonly cuts: readonly number[];
    };

export const ivf: FuzzTarget<IvfInput> = {
  name: 'ivf',
  about: 'src/media/ivf.ts IvfParser: frames or media.parse_failed (for good)',
  arbitrary: () => {
    const seeds = [fixture('vp8-160x90.ivf'), fixture('vp9-160x90.ivf')];
    const head = Array.from(seeds[0]!.subarray(0, 32));
    return fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({ bytes: mutatedBytes(seeds, { maxLength: 32 * 1024 }), cuts: cutPoints }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          bytes: tokenBytes([head, [0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff]]),
          cuts: cutPoints,
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          codec: fc.constantFrom('vp8' as const, 'vp9' as const),
          den: fc.constantFrom(0, 1, 30, 1000, 90000, 0xffffffff),
          num: fc.constantFrom(0, 1, 1001, 0xffffffff),
          frames: fc.array(
            fc.record({
              data: fc.uint8Array({ minLength: 1, maxLength: 300 }),
              pts: fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32, Number.MAX_SAFE_INTEGER)),
            }),
            { maxLength: 6 },
          ),
          cuts: cutPoints,
        }),
      },
    );
  },
  run(input) {
    const make = () => new IvfParser({ clock, maxFrameBytes: IVF_MAX });
    const bound = IVF_MAX + IVF_FRAME_HEADER_BYTES;
    if ('bytes' in input) {
      const whole = feed(make(), [input.bytes], IVF_MAX, bound, true);
      const cut = feed(make(), split(input.bytes, input.cuts), IVF_MAX, bound, true);
      if (whole !== null && cut !== null) {
        invariant(sameValue(whole.map(meaning), cut.map(meaning)), 'frames depend on how the stream was cut');
      }
      return;
    }
    const bytes = concatBytes([
      writeIvfHeader({
        codec: input.codec,
        width: 160,
        height: 90,
        timebaseDen: input.den,
        timebaseNum: input.num,
      }),
      ...input.frames.map((f) => writeIvfFrame(f.data, f.pts)),
    ]);
    const frames = feed(make(), split(bytes, input.cuts), IVF_MAX, bound, false)!;
    invariant(frames.length === input.frames.length, 'a written frame did not come back');
    frames.forEach((f, i) => {
      const w = input.frames[i]!;
      invariant(Buffer.from(f.data).equals(w.data), 'frame bytes differ');
      invariant(f.codec === input.codec, 'codec differs');
      invariant(
        f.keyframe === (input.codec === 'vp8' ? isVp8Keyframe(w.data) : isVp9Keyframe(w.data)),
        'keyframe flag differs',
      );
      if (input.den > 0 && input.num > 0) {
        invariant(f.ptsMs === (w.pts * input.num * 1000) / input.den, 'pts differs');
      }
    });
  },
  fromBytes: (bytes) => ({ bytes, cuts: [] }),
  seeds: () => [
    {
      note: 'a header and a frame size of 2^32-1',
      input: {
        bytes: concatBytes([
          writeIvfHeader({ codec: 'vp8', width: 1, height: 1, timebaseDen: 1, timebaseNum: 1 }),
          Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0),
        ]),
        cuts: [3],
      },
    },
    {
      note: 'header length 0',
      input: { bytes: Uint8Array.of(0x44, 0x4b, 0x49, 0x46, 0, 0, 0, 0, ...new Array(24).fill(0)), cuts: [] },
    },
    {
      note: 'two VP9 frames, largest pts',
      input: {
        codec: 'vp9',
        den: 1,
        num: 0xffffffff,
        frames: [
          { data: Uint8Array.of(0x82, 0x49), pts: Number.MAX_SAFE_INTEGER },
          { data: Uint8Array.of(0x86), pts: 0 },
        ],
        cuts: [33, 47],
      },
    },
  ],
};

// ---- H.264 Annex-B -----------------------------------------------------------------------------

const ANNEXB_MAX = 2048;

export const annexb: FuzzTarget<Stream> = {
  name: 'annexb',
  about: 'src/media/annexb.ts AnnexBParser (total): access units under maxFrameBytes',
  arbitrary: () => {
    const seeds = [fixture('h264-aud-128x72.h264'), fixture('h264-noaud-128x72.h264')];
    return fc.record({
      bytes: fc.oneof(
        {
          weight: 3,
          arbitrary: mutatedBytes(
            seeds.map((s) => s.subarray(0, 6000)),
            { maxLength: 16 * 1024 },
          ),
        },
        {
          weight: 2,
          arbitrary: tokenBytes(
            [
              [0, 0, 1],
              [0, 0, 0, 1],
              [0, 0, 1, 9, 0xf0],
              [0, 0, 1, 0x67, 0x42],
              [0, 0, 1, 0x68, 0xce],
              [0, 0, 1, 0x65, 0x88],
              [0, 0, 1, 0x41, 0x9a],
              [0, 0, 1, 0x41, 0x1a],
              new Array(300).fill(0x5a),
            ],
            60,
          ),
        },
      ),
      cuts: cutPoints,
    });
  },
  run(input) {
    const make = () => new AnnexBParser({ clock, maxFrameBytes: ANNEXB_MAX });
    const bound = ANNEXB_MAX + 8;
    const a = make();
    const b = make();
    const whole = feed(a, [input.bytes], ANNEXB_MAX, bound, false)!;
    const cut = feed(b, split(input.bytes, input.cuts), ANNEXB_MAX, bound, false)!;
    const source = Buffer.from(input.bytes);
    let total = 0;
    for (const f of whole) {
      total += f.data.length;
      invariant(source.indexOf(f.data) >= 0, 'a unit that is not a piece of the input');
    }
    invariant(total <= input.bytes.length, 'more bytes out than in');
    if (a.droppedFrames === 0 && b.droppedFrames === 0) {
      invariant(sameValue(whole.map(meaning), cut.map(meaning)), 'units depend on how the stream was cut');
    }
  },
  fromBytes: (bytes) => ({ bytes, cuts: [] }),
  seeds: () => [
    {
      note: 'fixture start, byte by byte',
      input: {
        bytes: fixture('h264-aud-128x72.h264').subarray(0, 600),
        cuts: Array.from({ length: 600 }, (_, i) => i),
      },
    },
    {
      note: 'one unit just over the limit',
      input: {
        bytes: concatBytes([
          Uint8Array.of(0, 0, 1, 9, 0xf0, 0, 0, 1, 0x65, 0x88),
          new Uint8Array(ANNEXB_MAX).fill(0x5a),
          Uint8Array.of(0, 0, 1, 9, 0xf0, 0, 0, 1, 0x41, 0x9a, 1),
        ]),
        cuts: [],
      },
    },
    { note: 'zeros only', input: { bytes: new Uint8Array(5000), cuts: [4096] } },
  ],
};

// ---- Ogg / Opus ---------------------------------------------------------------------------------

const OPUS_MAX = 4096;

type OggInput =
  | Stream
  | { readonly packets: readonly Uint8Array[]; readonly preSkip: number; readonly cuts: readonly number[] };

export const oggOpus: FuzzTarget<OggInput> = {
  name: 'ogg-opus',
  about: 'src/media/ogg.ts parseOggPage + src/media/opus.ts OggOpusParser (total)',
  arbitrary: () => {
    const ogg = fixture('opus-sine.ogg');
    const capture = [0x4f, 0x67, 0x67, 0x53, 0];
    return fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          bytes: fc.oneof(
            mutatedBytes([ogg], { maxLength: 96 * 1024 }),
            tokenBytes([capture, Array.from(ogg.subarray(0, 47)), Array.from(ogg.subarray(200, 330))]),
          ),
          cuts: cutPoints,
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          packets: fc.array(
            fc.oneof(
              fc.uint8Array({ minLength: 1, maxLength: 80 }),
              fc.constantFrom(254, 255, 256, 510, 4000).map((n) => new Uint8Array(n).fill(0xfc)),
            ),
            { maxLength: 6 },
          ),
          preSkip: fc.constantFrom(0, 312, 0xffff),
          cuts: cutPoints,
        }),
      },
    );
  },
  run(input) {
    const make = () => new OggOpusParser({ clock, maxPacketBytes: OPUS_MAX });
    const bound = OGG_MAX_PAGE_BYTES + OPUS_MAX;
    if ('bytes' in input) {
      const page = parseOggPage(input.bytes);
      if (page.ok) {
        invariant(page.size <= input.bytes.length, 'a page longer than its input');
        invariant(
          page.page.body.length === page.page.lacing.reduce((n, v) => n + v, 0),
          'body length differs from lacing',
        );
      }
      const whole = feed(make(), [input.bytes], OPUS_MAX, bound, false)!;
      const cut = feed(make(), split(input.bytes, input.cuts), OPUS_MAX, bound, false)!;
      invariant(sameValue(whole.map(meaning), cut.map(meaning)), 'packets depend on how the stream was cut');
      return;
    }
    const w = new OggOpusWriter({ channels: 2, preSkip: input.preSkip, inputSampleRate: 48_000 });
    const bytes = concatBytes([...w.headers(), ...input.packets.map((p) => w.page(p))]);
    const frames = feed(make(), split(bytes, input.cuts), OPUS_MAX, bound, false)!;
    invariant(frames.length === input.packets.length, 'a written packet did not come back');
    let samples = 0;
    frames.forEach((f, i) => {
      const p = input.packets[i]!;
      invariant(Buffer.from(f.data).equals(p), 'packet bytes differ');
      invariant(f.durationMs === (opusPacketSamples(p) * 1000) / 48_000, 'duration differs');
      if (f.ptsMs !== undefined)
        invariant(f.ptsMs === ((samples - input.preSkip) * 1000) / 48_000, 'pts differs');
      samples += opusPacketSamples(p);
    });
  },
  fromBytes: (bytes) => ({ bytes, cuts: [] }),
  seeds: () => {
    const ogg = fixture('opus-sine.ogg');
    return [
      {
        note: 'fixture cut into 7-byte reads',
        input: { bytes: ogg, cuts: Array.from({ length: 440 }, (_, i) => i * 7) },
      },
      {
        note: 'a page claiming 255 x 255 bytes',
        input: {
          bytes: Uint8Array.of(
            0x4f,
            0x67,
            0x67,
            0x53,
            0,
            2,
            ...new Array(20).fill(0),
            255,
            ...new Array(255).fill(255),
          ),
          cuts: [],
        },
      },
      {
        note: 'packets across lacing edges',
        input: {
          packets: [new Uint8Array(255), new Uint8Array(510), Uint8Array.of(0xfc)],
          preSkip: 312,
          cuts: [28, 300],
        },
      },
    ];
  },
};
