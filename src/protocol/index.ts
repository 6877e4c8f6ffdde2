/**
 * The client<->relay wire protocol (docs/protocol.md "# Wire protocol"): versions, limits, message
 * schemas and codec, the media chunk header, reassembly and the host proof.
 */
export * from './codec.ts';
export * from './host-proof.ts';
export * from './limits.ts';
export * from './media-header.ts';
export * from './reassembly.ts';
export * from './schemas.ts';
export * from './vocabulary.ts';
