/**
 * The web client's media connection (web/src/media/connection.ts) over a fake peer: it offers the
 * unordered `media` channel once admitted, applies the answer and candidates, opens only when its
 * channel is open and the relay said `media-ready`, sends a frame's chunks all or none under the
 * bufferedAmount bound, replaces a failed connection with backoff (and at once on `media-lost`),
 * drops text on the media channel, and on the Janus plane answers the downlink offer on a second
 * connection whose chunks get their sender from the relay's feed map (never from the bytes).
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { decodeMediaHeader, encodeMediaChunk } from '../../../src/protocol/media-header.ts';
import type { ClientMessage, ServerMessage, WithoutV } from '../../../src/protocol/schemas.ts';
import {
  type ChannelLike,
  HIGH_WATER_MARK,
  type IceCandidateLike,
  JANUS_SUBSCRIBER_CHANNEL,
  type PeerConfig,
  type PeerLike,
  WebMediaConnection,
} from '../../../web/src/media/connection.ts';

class FakeChannel implements ChannelLike {
  binaryType = 'blob';
  readyState = 'connecting';
  bufferedAmount = 0;
  readonly sent: Uint8Array[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  constructor(
    readonly label: string,
    readonly options: { ordered: boolean; maxRetransmits?: number },
  ) {}
  send(data: Uint8Array<ArrayBuffer>): void {
    this.sent.push(data);
    this.bufferedAmount += data.byteLength;
  }
  close(): void {
    this.readyState = 'closed';
  }
  open(): void {
    this.readyState = 'open';
    this.onopen?.();
  }
}

class FakePeer implements PeerLike {
  connectionState = 'new';
  readonly channels: FakeChannel[] = [];
  remote: { type: string; sdp: string } | null = null;
  local: { type: string; sdp: string } | null = null;
  readonly candidates: IceCandidateLike[] = [];
  closed = false;
  onicecandidate: ((event: { candidate: IceCandidateLike | null }) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  ondatachannel: ((event: { channel: ChannelLike }) => void) | null = null;
  constructor(readonly config: PeerConfig) {}
  createDataChannel(label: string, options: { ordered: boolean; maxRetransmits?: number }): FakeChannel {
    const c = new FakeChannel(label, options);
    this.channels.push(c);
    return c;
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer' };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0 answer' };
  }
  async setLocalDescription(d: { type: 'offer' | 'answer'; sdp: string }) {
    this.local = d;
  }
  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }) {
    this.remote = d;
  }
  async addIceCandidate(c: IceCandidateLike) {
    this.candidates.push(c);
  }
  close(): void {
    this.closed = true;
  }
  state(s: string): void {
    this.connectionState = s;
    this.onconnectionstatechange?.();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

function setup(canSend = true) {
  const clock = new FakeClock();
  const sent: WithoutV<ClientMessage>[] = [];
  const peers: FakePeer[] = [];
  const media = new WebMediaConnection({
    clock,
    send: (m) => {
      if (!canSend) return false;
      sent.push(m);
      return true;
    },
    createPeer: (config) => {
      const p = new FakePeer(config);
      peers.push(p);
      return p;
    },
  });
  const chunks: Uint8Array[] = [];
  media.events.on('chunk', (c) => chunks.push(c));
  let opened = 0;
  media.events.on('media-open', () => opened++);
  const relay = (m: WithoutV<ServerMessage>) => media.handle({ v: 1, ...m } as ServerMessage);
  const admit = () =>
    relay({ type: 'admission', status: 'admitted', participantId: '7', instanceId: 'i1', host: false });
  return { clock, sent, peers, media, chunks, relay, admit, opened: () => opened };
}

describe('the web media connection', () => {
  it('offers after admission with the relay’s ICE servers, applies the answer and candidates, opens on both ends', async () => {
    const t = setup();
    t.relay({
      type: 'ice-servers',
      iceServers: [{ urls: ['turn:turn.test:3478'], username: 'u', credential: 'c' }],
    });
    expect(t.peers).toHaveLength(0);
    t.admit();
    await settle();
    const pc = t.peers[0]!;
    expect(pc.config.iceServers).toEqual([{ urls: ['turn:turn.test:3478'], username: 'u', credential: 'c' }]);
    expect(pc.channels[0]!.label).toBe('media');
    expect(pc.channels[0]!.options).toEqual({ ordered: false, maxRetransmits: 3 });
    expect(t.sent).toContainEqual({ type: 'sdp', sdpType: 'offer', sdp: 'v=0 offer' });
    pc.onicecandidate?.({
      candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    pc.onicecandidate?.({ candidate: null });
    expect(t.sent.filter((m) => m.type === 'ice')).toHaveLength(1);
    t.relay({ type: 'sdp', sdpType: 'answer', sdp: 'v=0 answer' });
    t.relay({
      type: 'ice',
      candidate: 'candidate:2 1 udp 1 10.0.0.2 9 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    await settle();
    expect(pc.remote).toEqual({ type: 'answer', sdp: 'v=0 answer' });
    expect(pc.candidates).toHaveLength(1);
    expect(t.media.participantId).toBe('7');
    // Our end open is not enough: the relay's end must be too.
    pc.channels[0]!.open();
    expect(t.media.mediaOpen).toBe(false);
    t.relay({ type: 'media-ready' });
    expect(t.media.mediaOpen).toBe(true);
    expect(t.opened()).toBe(1);
  });

  it('sends a frame’s chunks all or none under the bound; drops text and counts it', async () => {
    const t = setup();
    t.admit();
    await settle();
    const ch = t.peers[0]!.channels[0]!;
    expect(t.media.sendChunks([new Uint8Array(10)])).toBe(false); // not open yet
    ch.open();
    t.relay({ type: 'media-ready' });
    expect(t.media.sendChunks([new Uint8Array(100), new Uint8Array(100)])).toBe(true);
    expect(ch.sent).toHaveLength(2);
    ch.bufferedAmount = HIGH_WATER_MARK - 150;
    expect(t.media.sendChunks([new Uint8Array(100), new Uint8Array(100)])).toBe(false);
    expect(ch.sent).toHaveLength(2);
    expect(t.media.counters.chunksDropped).toBe(3);
    ch.onmessage?.({ data: 'hello' });
    ch.onmessage?.({ data: new Uint8Array([1, 2, 3]).buffer });
    expect(t.media.counters.textDropped).toBe(1);
    expect(t.chunks).toHaveLength(1);
  });

  it('replaces a failed connection with backoff, and at once on media-lost; an old one is ignored', async () => {
    const t = setup();
    t.admit();
    await settle();
    const first = t.peers[0]!;
    first.channels[0]!.open();
    t.relay({ type: 'media-ready' });
    first.state('failed');
    expect(first.closed).toBe(true);
    expect(t.media.mediaOpen).toBe(false);
    expect(t.peers).toHaveLength(1);
    t.clock.advance(10_000);
    await settle();
    expect(t.peers).toHaveLength(2);
    // A late event of the old connection changes nothing.
    first.state('failed');
    t.clock.advance(10_000);
    expect(t.peers).toHaveLength(2);
    // Open again (which resets the backoff); then the relay loses its end: the first retry is quick.
    t.peers[1]!.channels[0]!.open();
    t.relay({ type: 'media-ready' });
    expect(t.opened()).toBe(2);
    t.relay({ type: 'media-lost', reason: 'failed' });
    expect(t.peers[1]!.closed).toBe(true);
    t.clock.advance(300);
    await settle();
    expect(t.peers).toHaveLength(3);
    expect(t.media.counters.mediaLost).toBe(1);
    // Disconnected for the grace period: replaced; back to connected in time: kept.
    const third = t.peers[2]!;
    third.state('disconnected');
    t.clock.advance(1000);
    third.state('connected');
    t.clock.advance(10_000);
    expect(third.closed).toBe(false);
  });

  it('after the socket is gone nothing is offered again until a new admission', async () => {
    const t = setup();
    t.admit();
    await settle();
    t.media.reset();
    expect(t.peers[0]!.closed).toBe(true);
    t.clock.advance(60_000);
    await settle();
    expect(t.peers).toHaveLength(1);
    t.media.close();
    t.admit();
    expect(t.peers).toHaveLength(1);
  });

  it('Janus plane: answers the downlink, writes each chunk’s sender from the feed map, drops unmapped feeds', async () => {
    const t = setup();
    t.admit();
    await settle();
    t.relay({ type: 'media-down-offer', sdp: 'v=0 janus offer' });
    await settle();
    expect(t.media.janusPlane).toBe(true);
    const down = t.peers[1]!;
    expect(down.remote).toEqual({ type: 'offer', sdp: 'v=0 janus offer' });
    expect(down.channels[0]!.label).toBe(JANUS_SUBSCRIBER_CHANNEL);
    expect(t.sent).toContainEqual({ type: 'media-down-answer', sdp: 'v=0 answer' });
    down.onicecandidate?.({
      candidate: { candidate: 'candidate:3 1 udp 1 10.0.0.3 9 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    });
    expect(t.sent.some((m) => m.type === 'media-down-ice')).toBe(true);
    t.relay({ type: 'media-feeds', feeds: [{ feed: 4242, participantId: '9' }] });
    const feed = new FakeChannel('4242', { ordered: true });
    const stranger = new FakeChannel('5555', { ordered: true });
    down.ondatachannel?.({ channel: feed });
    down.ondatachannel?.({ channel: stranger });
    expect(feed.binaryType).toBe('arraybuffer');
    // The bytes claim sender 1234; the map says 9.
    const chunk = encodeMediaChunk(
      {
        kind: 'audio',
        streamId: 0,
        keyframe: true,
        audioLevel: 127,
        sender: 1234,
        frameNumber: 1,
        chunkIndex: 0,
        chunkCount: 1,
      },
      new Uint8Array([1, 2, 3]),
    );
    feed.onmessage?.({ data: chunk.slice().buffer });
    stranger.onmessage?.({ data: chunk.slice().buffer });
    expect(t.chunks).toHaveLength(1);
    expect(decodeMediaHeader(t.chunks[0]!).sender).toBe(9);
    expect(t.media.counters.unmappedChunks).toBe(1);
    // Speech levels and a lagging downlink go to the relay, which reads no header here.
    t.clock.advance(5000);
    t.media.audioLevelSent(30);
    t.media.audioLevelSent(30);
    t.media.audioLevelSent(90);
    t.media.downlinkBehind(true);
    expect(t.sent.filter((m) => m.type === 'audio-level')).toEqual([{ type: 'audio-level', level: 30 }]);
    expect(t.sent).toContainEqual({ type: 'media-behind', behind: true });
    // A failed downlink replaces all of our media.
    down.state('failed');
    expect(down.closed).toBe(true);
    expect(t.peers[0]!.closed).toBe(true);
  });

  it('embedded plane: no level or lag messages (the relay reads chunk headers)', async () => {
    const t = setup();
    t.admit();
    await settle();
    t.media.audioLevelSent(10);
    t.media.downlinkBehind(true);
    expect(t.sent.some((m) => m.type === 'audio-level' || m.type === 'media-behind')).toBe(false);
  });

  it('ICE servers the browser refuses are dropped and counted; the connection goes without them', async () => {
    const clock = new FakeClock();
    const made: PeerConfig[] = [];
    const media = new WebMediaConnection({
      clock,
      send: () => true,
      createPeer: (config) => {
        if (config.iceServers.length > 0) {
          const e = new Error('turn: without credentials');
          e.name = 'InvalidAccessError';
          throw e;
        }
        made.push(config);
        return new FakePeer(config);
      },
    });
    media.handle({ v: 1, type: 'ice-servers', iceServers: [{ urls: ['turn:turn.test:3478'] }] });
    media.handle({
      v: 1,
      type: 'admission',
      status: 'admitted',
      participantId: '7',
      instanceId: 'i',
      host: false,
    });
    await settle();
    expect(made).toEqual([{ iceServers: [] }]);
    expect(media.counters.iceServersRefused).toBe(1);
  });

  it('a candidate the browser refuses is counted; the connection goes on', async () => {
    const t = setup();
    t.admit();
    await settle();
    t.peers[0]!.addIceCandidate = async () => {
      throw new TypeError('bad candidate');
    };
    t.relay({ type: 'ice', candidate: 'candidate:bad', sdpMid: '0', sdpMLineIndex: 0 });
    await settle();
    expect(t.media.counters.candidatesRefused).toBe(1);
    expect(t.peers[0]!.closed).toBe(false);
  });

  it('an offer that cannot be sent (socket closed) fails the connection and is retried', async () => {
    const t = setup(false);
    t.admit();
    await settle();
    expect(t.peers[0]!.closed).toBe(true);
    t.clock.advance(10_000);
    await settle();
    expect(t.peers).toHaveLength(2);
  });
});
