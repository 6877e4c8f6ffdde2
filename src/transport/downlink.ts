/**
 * A participant's downlink peer connection on the Janus media plane (docs/protocol.md §Media planes):
 * the relay forwards Janus's offer (`media-down-offer`); this end creates its own data channel
 * labelled `JanusDataChannel` (without it Janus delivers nothing), answers (`media-down-answer`) and
 * trickles its candidates (`media-down-ice`). Janus then opens one channel per publisher, labelled
 * with the publisher's numeric feed id. The relay's `media-feeds` map says whose feed each is: a
 * chunk's sender field is written from that map, never taken from the payload, and a chunk of a feed
 * not in the map is dropped and counted. The E2EE layer still refuses a frame whose key belongs to
 * someone else than the sender written here (`e2ee.frame_relabelled`).
 */
import type { Logger } from '../core/logger.ts';
import { FeedMap } from '../protocol/feed-map.ts';
import type { ClientMessageOf, WithoutV } from '../protocol/schemas.ts';
import type { PeerConnection, PeerConnectionFactory, PeerConnectionOptions } from './peer.ts';

/** The label of the channel the subscriber must create itself (Janus's name for it). */
export const JANUS_SUBSCRIBER_CHANNEL = 'JanusDataChannel';

export interface DownlinkCounters {
  /** Downlink offers taken (each a new peer connection). */
  offers: number;
  /** Chunks from a channel whose label is no feed in the map: dropped. */
  unmappedChunks: number;
}

export interface DownlinkOptions {
  peers: PeerConnectionFactory;
  /** The options of each new downlink connection (the relay's ICE servers; docs/protocol.md §ICE servers). */
  peerOptions?: () => PeerConnectionOptions;
  log: Logger;
  /** Sends on the signaling socket; false when it is not open. */
  send(message: WithoutV<ClientMessageOf<'media-down-answer' | 'media-down-ice'>>): boolean;
  /** One chunk with its sender written from the feed map. */
  onChunk(chunk: Uint8Array): void;
  /** The downlink connection failed: the caller replaces the participant's media. */
  onFailed(error: unknown): void;
}

export class Downlink {
  readonly counters: DownlinkCounters = { offers: 0, unmappedChunks: 0 };
  readonly #o: DownlinkOptions;
  #pc: PeerConnection | undefined;
  readonly #feeds = new FeedMap();

  constructor(options: DownlinkOptions) {
    this.#o = options;
  }

  get open(): boolean {
    return this.#pc?.state === 'connected';
  }

  /** The relay's current feed map (replaces the previous one). */
  setFeeds(feeds: readonly { feed: number; participantId: string }[]): void {
    this.#feeds.set(feeds);
  }

  /** A downlink offer: replaces any previous downlink connection. */
  async offer(sdp: string): Promise<void> {
    this.close();
    this.counters.offers++;
    const pc = this.#o.peers.create(this.#o.peerOptions?.() ?? {});
    this.#pc = pc;
    pc.onIceCandidate((c) => {
      if (this.#pc === pc) this.#o.send({ type: 'media-down-ice', ...c });
    });
    pc.onDataChannel((channel) => {
      const label = channel.label;
      channel.onMessage((data) => this.#receive(label, data));
    });
    pc.onStateChange((state) => {
      if (state === 'failed' && this.#pc === pc)
        this.#o.onFailed(new Error('The downlink connection failed.'));
    });
    pc.createDataChannel(JANUS_SUBSCRIBER_CHANNEL, { ordered: true });
    try {
      const answer = await pc.acceptOffer({ type: 'offer', sdp });
      if (this.#pc !== pc) return;
      this.#o.send({ type: 'media-down-answer', sdp: answer.sdp });
    } catch (error) {
      if (this.#pc === pc) this.#o.onFailed(error);
    }
  }

  #receive(label: string, data: Uint8Array): void {
    const chunk = this.#feeds.relabel(label, data);
    if (chunk === null) {
      if (this.counters.unmappedChunks++ === 0)
        this.#o.log.warn({ label: label.slice(0, 16) }, 'dropped media from a feed the relay did not name');
      return;
    }
    this.#o.onChunk(chunk);
  }

  close(): void {
    const pc = this.#pc;
    this.#pc = undefined;
    pc?.close();
  }
}
