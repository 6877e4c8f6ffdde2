/**
 * Transport layer (docs/protocol.md §Transport): peer connections through the supervised media
 * worker process (wrtc itself is loaded only there: worker-main.ts, wrtc-peer.ts) and an in-memory
 * fake, the media channel's size and backpressure
 * rules, the signaling socket and the relay client.
 */
export * from './backoff.ts';
export * from './fake-peer.ts';
export * from './media-channel.ts';
export * from './peer.ts';
export * from './relay-client.ts';
export * from './signaling-client.ts';
export { MAX_IN_FLIGHT_BYTES, WorkerDataChannel } from './worker-channel.ts';
export { WorkerPeerConnection } from './worker-connection.ts';
export * from './worker-counters.ts';
export * from './worker-peer.ts';
