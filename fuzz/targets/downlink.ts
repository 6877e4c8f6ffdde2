/**
 * The Janus plane's downlink (src/transport/downlink.ts, docs/protocol.md §Media planes), driven
 * without sockets: a fake peer connection opens channels labelled as Janus labels them (a feed id,
 * or anything a hostile media server picks) and delivers chunks on them, while the relay's
 * `media-feeds` map changes. Total: nothing throws. Invariants: a chunk is passed on exactly when its
 * channel's label is a feed of the current map (the last entry wins for a repeated feed), with the
 * sender field written from the map and every other byte unchanged; a chunk too short for a header
 * is passed on untouched; every other chunk is dropped and counted.
 */
import fc from 'fast-check';
import { silentLogger } from '../../src/core/logger.ts';
import { MEDIA_HEADER_BYTES } from '../../src/protocol/media-header.ts';
import { Downlink } from '../../src/transport/downlink.ts';
import type { DataChannel, PeerConnection, PeerConnectionFactory } from '../../src/transport/peer.ts';
import { type FuzzTarget, invariant } from '../lib/target.ts';

type Feeds = { feed: number; participantId: string }[];
type Step = { readonly feeds: Feeds } | { readonly label: string; readonly data: Uint8Array };
type Input = { readonly feeds: Feeds; readonly steps: readonly Step[] };

/** The wire's sender field is a u32 (docs/protocol.md §Media chunk); participant ids are written into it. */
const U32 = 0xffff_ffff;

const feedId = fc.oneof(
  fc.constantFrom(1, 17, 2 ** 32, 2 ** 53 - 1, 4_503_599_627_370_497),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
);
const participantId = fc.oneof(
  fc.constantFrom('1', '3', '4294967295'),
  fc.integer({ min: 1, max: U32 }).map(String),
);
const feeds: fc.Arbitrary<Feeds> = fc.array(fc.record({ feed: feedId, participantId }), { maxLength: 6 });

function labels(map: Feeds): fc.Arbitrary<string> {
  const hostile = fc.constantFrom(
    '',
    '0',
    '01',
    '1.0',
    '1e0',
    ' 1',
    '1 ',
    '+1',
    '-1',
    '9007199254740993',
    'JanusDataChannel',
    '__proto__',
    'constructor',
    'toString',
    '\u0000',
  );
  const free = fc.string({ maxLength: 12 });
  return map.length === 0
    ? fc.oneof(hostile, free)
    : fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(...map.map((f) => String(f.feed))) },
        { weight: 2, arbitrary: hostile },
        { weight: 1, arbitrary: free },
      );
}

const chunk = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: MEDIA_HEADER_BYTES, maxLength: 48 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: MEDIA_HEADER_BYTES }) },
);

const input: fc.Arbitrary<Input> = feeds.chain((first) =>
  fc.record({
    feeds: fc.constant(first),
    steps: fc.array(
      fc.oneof(
        { weight: 8, arbitrary: fc.record({ label: labels(first), data: chunk }) },
        { weight: 1, arbitrary: fc.record({ feeds }) },
      ),
      { maxLength: 24 },
    ),
  }),
);

/** A peer connection that never connects; the target opens its channels and delivers messages. */
class FakePeer implements PeerConnection {
  readonly state = 'new' as const;
  #onChannel: ((channel: DataChannel) => void) | undefined;
  readonly #channels = new Map<string, (data: Uint8Array) => void>();
  createDataChannel(label: string): DataChannel {
    return fakeChannel(label, () => undefined);
  }
  createOffer(): Promise<never> {
    return new Promise(() => undefined);
  }
  acceptOffer(): Promise<never> {
    // Never answers: the downlink's listeners are in place before it waits for the answer.
    return new Promise(() => undefined);
  }
  acceptAnswer(): Promise<void> {
    return Promise.resolve();
  }
  addIceCandidate(): Promise<void> {
    return Promise.resolve();
  }
  onIceCandidate(): void {}
  onDataChannel(listener: (channel: DataChannel) => void): void {
    this.#onChannel = listener;
  }
  onStateChange(): void {}
  async path(): Promise<null> {
    return null;
  }
  close(): void {}
  /** Janus's message on the channel labelled `label` (opened on first use, as Janus does). */
  deliver(label: string, data: Uint8Array): void {
    let send = this.#channels.get(label);
    if (send === undefined) {
      let listener: (data: Uint8Array) => void = () => undefined;
      this.#onChannel?.(
        fakeChannel(label, (l) => {
          listener = l;
        }),
      );
      send = (d) => listener(d);
      this.#channels.set(label, send);
    }
    send(data);
  }
}

function fakeChannel(label: string, onMessage: (listener: (data: Uint8Array) => void) => void): DataChannel {
  return {
    label,
    readyState: 'open',
    bufferedAmount: 0,
    send: () => undefined,
    onOpen: () => undefined,
    onMessage,
    onClose: () => undefined,
    close: () => undefined,
  };
}

export const downlink: FuzzTarget<Input> = {
  name: 'downlink',
  about: 'src/transport/downlink.ts Downlink: media-feeds map and chunks on any channel label (total)',
  arbitrary: () => input,
  run(inp) {
    const peer = new FakePeer();
    const factory: PeerConnectionFactory = { create: () => peer, openCount: 0 };
    const out: Uint8Array[] = [];
    const d = new Downlink({
      peers: factory,
      log: silentLogger(),
      send: () => true,
      onChunk: (c) => out.push(c),
      onFailed: () => undefined,
    });
    d.setFeeds(inp.feeds);
    void d.offer('v=0\r\n');
    let map = new Map(inp.feeds.map((f) => [String(f.feed), Number(f.participantId)]));
    let dropped = 0;
    for (const step of inp.steps) {
      if ('feeds' in step) {
        d.setFeeds(step.feeds);
        map = new Map(step.feeds.map((f) => [String(f.feed), Number(f.participantId)]));
        continue;
      }
      const before = Uint8Array.from(step.data);
      const data = Uint8Array.from(step.data);
      const n = out.length;
      peer.deliver(step.label, data);
      const sender = map.get(step.label);
      if (sender === undefined) {
        dropped++;
        invariant(out.length === n, `a chunk on unmapped channel "${step.label}" was passed on`);
        continue;
      }
      invariant(out.length === n + 1 && out[n] === data, 'a chunk on a mapped channel was not passed on');
      if (data.byteLength < MEDIA_HEADER_BYTES) {
        invariant(Buffer.from(data).equals(before), 'a chunk shorter than a header was changed');
        continue;
      }
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      invariant(view.getUint32(4) === sender, `sender ${view.getUint32(4)} written, the map says ${sender}`);
      before.set(data.subarray(4, 8), 4);
      invariant(Buffer.from(data).equals(before), 'bytes other than the sender field changed');
    }
    invariant(d.counters.unmappedChunks === dropped, 'dropped chunks miscounted');
    invariant(d.counters.offers === 1, 'offers miscounted');
    d.close();
  },
  fromBytes: (bytes) => ({
    feeds: [{ feed: 1, participantId: '3' }],
    steps: [{ label: '1', data: bytes }],
  }),
  seeds: () => [
    {
      note: 'two mapped feeds, one unmapped channel',
      input: {
        feeds: [
          { feed: 4_503_599_627_370_497, participantId: '3' },
          { feed: 17, participantId: '4294967295' },
        ],
        steps: [
          { label: '4503599627370497', data: new Uint8Array(20).fill(9) },
          { label: '17', data: new Uint8Array(16) },
          { label: '18', data: new Uint8Array(16) },
        ],
      },
    },
    {
      note: 'labels that are numbers only to a lenient parser',
      input: {
        feeds: [{ feed: 1, participantId: '3' }],
        steps: ['01', '1.0', '1e0', ' 1', '+1', '__proto__'].map((label) => ({
          label,
          data: new Uint8Array(16),
        })),
      },
    },
    {
      note: 'the map replaced: a feed dropped from it is refused after',
      input: {
        feeds: [{ feed: 5, participantId: '3' }],
        steps: [
          { label: '5', data: new Uint8Array(16) },
          { feeds: [{ feed: 6, participantId: '3' }] },
          { label: '5', data: new Uint8Array(16) },
          { label: '6', data: new Uint8Array(3) },
        ],
      },
    },
  ],
};
