/**
 * The kiosk video feed message (src/media/video-feed.ts, docs/protocol.md "# Kiosk media feed") and
 * the frame envelope inside SFrame (src/media/envelope.ts): decodeFeedMessage returns a frame or a
 * media.parse_failed error and never throws; unpackFrame returns a value or throws media.parse_failed. Invariants: a decoded message is in its declared ranges
 * (known codec, id of 1..255 bytes, finite time) and re-encodes to the same bytes; encode → decode is
 * the identity.
 */
import fc from 'fast-check';
import { packFrame, unpackFrame } from '../../src/media/envelope.ts';
import { CODEC_IDS, type MediaCodec } from '../../src/media/types.ts';
import { decodeFeedMessage, encodeFeedMessage, type FeedFrame } from '../../src/media/kiosk-feed.ts';
import { mutatedBytes } from '../lib/mutate.ts';
import { type FuzzTarget, invariant, sameValue, typed } from '../lib/target.ts';

type Input =
  | { readonly feed: Uint8Array }
  | { readonly envelope: Uint8Array }
  | { readonly frame: FeedFrame }
  | {
      readonly packed: { readonly codec: MediaCodec; readonly captureTs: number; readonly data: Uint8Array };
    };

const time = fc.oneof(
  fc.constantFrom(0, 1_767_225_600_000, -1, Number.MAX_VALUE, Number.MIN_VALUE),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

const feedFrame: fc.Arbitrary<FeedFrame> = fc.record({
  participantId: fc
    .oneof(
      fc.constantFrom('1', '4294967295', 'é'.repeat(127), 'x'.repeat(255)),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    )
    .filter((s) => {
      const n = Buffer.byteLength(s, 'utf8');
      return n >= 1 && n <= 255;
    }),
  streamId: fc.nat(255),
  codec: fc.constantFrom('vp8' as const, 'vp9' as const, 'h264' as const),
  keyframe: fc.boolean(),
  self: fc.boolean(),
  captureTs: time,
  data: fc.uint8Array({ maxLength: 64 }),
});

const packed = fc.record({
  codec: fc.constantFrom(...(Object.keys(CODEC_IDS) as MediaCodec[])),
  captureTs: time,
  data: fc.uint8Array({ maxLength: 64 }),
});

export const videoFeed: FuzzTarget<Input> = {
  name: 'video-feed',
  about:
    'src/media/kiosk-feed.ts decodeFeedMessage + src/media/envelope.ts unpackFrame: value or media.parse_failed',
  arbitrary: () => {
    const feedSeeds = fc.sample(feedFrame, { numRuns: 20, seed: 6 }).map(encodeFeedMessage);
    const envSeeds = fc.sample(packed, { numRuns: 20, seed: 7 }).map(packFrame);
    return fc.oneof(
      fc.record({ feed: mutatedBytes(feedSeeds, { maxLength: 600 }) }),
      fc.record({ envelope: mutatedBytes(envSeeds, { maxLength: 200 }) }),
      fc.record({ feed: fc.uint8Array({ maxLength: 40 }) }),
      fc.record({ frame: feedFrame }),
      fc.record({ packed }),
    );
  },
  run(input) {
    if ('frame' in input) {
      const back = decodeFeedMessage(encodeFeedMessage(input.frame));
      invariant(back.ok && sameValue(back.frame, input.frame), 'a feed message does not round-trip');
      return;
    }
    if ('packed' in input) {
      const back = unpackFrame(packFrame(input.packed));
      invariant(sameValue({ ...back, kind: undefined }, input.packed), 'an envelope does not round-trip');
      return;
    }
    if ('envelope' in input) {
      const r = typed(['media.parse_failed'], () => unpackFrame(input.envelope));
      if (!r.ok) return;
      invariant(Number.isFinite(r.value.captureTs), 'a non-finite capture time');
      invariant(
        Buffer.from(packFrame(r.value)).equals(input.envelope),
        'an envelope does not re-encode to its bytes',
      );
      return;
    }
    const r = decodeFeedMessage(input.feed);
    if (!r.ok) {
      invariant(r.error.code === 'media.parse_failed', `refused with ${r.error.code}`);
      return;
    }
    const m = r.frame;
    const idBytes = Buffer.byteLength(m.participantId, 'utf8');
    invariant(idBytes >= 1 && idBytes <= 255, 'participant id length out of range');
    invariant(m.codec === 'vp8' || m.codec === 'vp9' || m.codec === 'h264', 'not a video codec');
    invariant(m.streamId >= 0 && m.streamId <= 255, 'stream id out of range');
    invariant(Number.isFinite(m.captureTs), `capture time ${m.captureTs}`);
    invariant(
      Buffer.from(encodeFeedMessage(m)).equals(input.feed),
      'a feed message does not re-encode to its bytes',
    );
  },
  fromBytes: (bytes) => ({ feed: bytes }),
  seeds: () => [
    {
      note: 'valid feed message',
      input: {
        feed: encodeFeedMessage({
          participantId: '7',
          streamId: 0,
          codec: 'vp8',
          keyframe: true,
          self: false,
          captureTs: 1_767_225_600_000,
          data: Uint8Array.of(1, 2, 3),
        }),
      },
    },
    {
      note: 'NaN capture time',
      input: { feed: Uint8Array.of(1, 1, 1, 0, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 1, 0x37) },
    },
    {
      note: 'unknown flag bits',
      input: { feed: Uint8Array.of(1, 0xfc, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x37) },
    },
    {
      note: 'participant id of invalid UTF-8',
      input: { feed: Uint8Array.of(1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0xc3, 0x28) },
    },
    {
      note: 'envelope with Infinity time',
      input: { envelope: Uint8Array.of(1, 4, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0, 9) },
    },
  ],
};
