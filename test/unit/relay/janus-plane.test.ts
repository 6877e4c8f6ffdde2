/**
 * The Janus plane's pure decisions (docs/decisions/0018-media-planes.md) and the client's
 * downlink: feeds wanted, subscription changes, feed maps and ids; a downlink chunk's sender comes
 * from the relay's feed map only, and a chunk of an unmapped feed is dropped and counted.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.ts';
import { decodeMediaHeader, encodeMediaChunk } from '../../../src/protocol/media-header.ts';
import { feedMap, freshId, subscriptionChanges, wantedFeeds } from '../../../src/relay/janus/plane-state.ts';
import { Downlink, JANUS_SUBSCRIBER_CHANNEL } from '../../../src/transport/downlink.ts';
import type { DataChannel, PeerConnection, PeerConnectionFactory } from '../../../src/transport/peer.ts';

const feeds = [
  { participantId: '1', feed: 500, live: true },
  { participantId: '2', feed: 300, live: true },
  { participantId: '3', feed: 400, live: false },
];

describe('Janus plane state', () => {
  it('a participant wants every other live feed, and is sent the map of exactly those', () => {
    expect(wantedFeeds(feeds, '1')).toEqual([300]);
    expect(wantedFeeds(feeds, '3')).toEqual([300, 500]);
    expect(feedMap(feeds, '3')).toEqual([
      { feed: 300, participantId: '2' },
      { feed: 500, participantId: '1' },
    ]);
    expect(feedMap(feeds, '2')).toEqual([{ feed: 500, participantId: '1' }]);
  });

  it('a receiver that is behind wants only the feeds of the participants it is given, never its own', () => {
    expect(wantedFeeds(feeds, '3', new Set(['1']))).toEqual([500]);
    expect(wantedFeeds(feeds, '1', new Set(['1', '2']))).toEqual([300]);
    expect(wantedFeeds(feeds, '2', new Set(['3']))).toEqual([]); // not live
    expect(wantedFeeds(feeds, '3', new Set())).toEqual([]);
  });

  it('subscription changes add new feeds, unsubscribe unwanted ones still published, and forget departed ones', () => {
    const published = new Set([300, 500, 600]);
    expect(subscriptionChanges([300, 500], new Set([300, 600, 700]), (f) => published.has(f))).toEqual({
      subscribe: [500],
      unsubscribe: [600],
      departed: [700],
    });
    expect(subscriptionChanges([300], new Set([300]), () => true)).toEqual({
      subscribe: [],
      unsubscribe: [],
      departed: [],
    });
  });

  it('fresh ids are in [1, 2^31) and skip taken ones', () => {
    const draws = [0, 0, 0.5];
    const id = freshId(
      () => draws.shift()!,
      (n) => n === 1,
    );
    expect(id).toBe(1 + Math.floor(0.5 * 0x7fff_fffe));
    expect(
      freshId(
        () => 0.999999999,
        () => false,
      ),
    ).toBeLessThan(2 ** 31);
  });
});

/** A peer connection that only records what the downlink does with it. */
function stubPeers() {
  const made: { created: string[]; remote: ((ch: DataChannel) => void)[]; closed: boolean }[] = [];
  const peers: PeerConnectionFactory = {
    openCount: 0,
    create() {
      const rec = { created: [] as string[], remote: [] as ((ch: DataChannel) => void)[], closed: false };
      made.push(rec);
      const pc: Partial<PeerConnection> = {
        state: 'new',
        createDataChannel: (label) => {
          rec.created.push(label);
          return {} as DataChannel;
        },
        acceptOffer: async () => ({ type: 'answer', sdp: 'answer-sdp' }),
        onIceCandidate: () => {},
        onStateChange: () => {},
        onDataChannel: (l) => {
          rec.remote.push(l);
        },
        close: () => {
          rec.closed = true;
        },
      };
      return pc as PeerConnection;
    },
  };
  return { peers, made };
}

function remoteChannel(label: string): { ch: DataChannel; deliver: (d: Uint8Array) => void } {
  let listener: ((d: Uint8Array) => void) | undefined;
  const ch = {
    label,
    onMessage: (l: (d: Uint8Array) => void) => {
      listener = l;
    },
  } as unknown as DataChannel;
  return { ch, deliver: (d) => listener?.(d) };
}

describe('the downlink (Janus plane, client side)', () => {
  it('answers with a channel of its own, writes each chunk’s sender from the feed map, drops unmapped feeds', async () => {
    const { peers, made } = stubPeers();
    const sent: unknown[] = [];
    const chunks: Uint8Array[] = [];
    const d = new Downlink({
      peers,
      log: silentLogger(),
      send: (m) => sent.push(m) > 0,
      onChunk: (c) => chunks.push(c),
      onFailed: () => {},
    });
    d.setFeeds([{ feed: 777, participantId: '12' }]);
    await d.offer('offer-sdp');
    expect(made[0]!.created).toEqual([JANUS_SUBSCRIBER_CHANNEL]);
    expect(sent).toEqual([{ type: 'media-down-answer', sdp: 'answer-sdp' }]);
    const mapped = remoteChannel('777');
    const unmapped = remoteChannel('888');
    made[0]!.remote[0]!(mapped.ch);
    made[0]!.remote[0]!(unmapped.ch);
    // The payload claims sender 99; the map says 12.
    const chunk = () =>
      encodeMediaChunk(
        {
          kind: 'audio',
          streamId: 0,
          keyframe: true,
          sender: 99,
          frameNumber: 1,
          chunkIndex: 0,
          chunkCount: 1,
        },
        new Uint8Array([1, 2, 3]),
      );
    mapped.deliver(chunk());
    unmapped.deliver(chunk());
    expect(chunks).toHaveLength(1);
    expect(decodeMediaHeader(chunks[0]!).sender).toBe(12);
    expect(d.counters).toEqual({ offers: 1, unmappedChunks: 1 });
    // A new map relabels nothing already delivered, and applies to what comes next.
    d.setFeeds([]);
    mapped.deliver(chunk());
    expect(chunks).toHaveLength(1);
    expect(d.counters.unmappedChunks).toBe(2);
    // A second offer replaces the connection.
    await d.offer('offer-2');
    expect(made[0]!.closed).toBe(true);
    d.close();
    expect(made[1]!.closed).toBe(true);
  });
});
