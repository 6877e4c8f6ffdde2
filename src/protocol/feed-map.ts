/**
 * The Janus plane's feed map (docs/protocol.md §Media planes): Janus labels each publisher's channel
 * with its feed id, and the relay's `media-feeds` says whose feed each is. A chunk's sender field is
 * written from this map, never taken from the chunk; a chunk of a feed the map does not name is
 * refused (null). Pure; the room's downlink (src/transport/downlink.ts) and the web client's share it.
 */
import { MEDIA_HEADER_BYTES, setChunkSender } from './media-header.ts';

export class FeedMap {
  /** Janus feed id (a channel's label) → participant id as a number. */
  #senders = new Map<string, number>();

  /** The relay's current map (replaces the previous one). */
  set(feeds: readonly { feed: number; participantId: string }[]): void {
    this.#senders = new Map(feeds.map((f) => [String(f.feed), Number(f.participantId)]));
  }

  /**
   * The chunk that arrived on the channel labelled `label`, its sender written from the map (in
   * place); null when the map names no such feed. A chunk too short for a header is left as it is:
   * the media layer refuses and counts it.
   */
  relabel(label: string, chunk: Uint8Array): Uint8Array | null {
    const sender = this.#senders.get(label);
    if (sender === undefined) return null;
    if (chunk.byteLength >= MEDIA_HEADER_BYTES) setChunkSender(chunk, sender);
    return chunk;
  }
}
