/**
 * Wire protocol numbers (docs/protocol.md "# Wire protocol" §Versions and §Limits): the protocol
 * version every message carries and the size limits both ends enforce. The words (client kinds,
 * encryption modes, features) are in ./vocabulary.ts.
 */

/** Version of the client<->relay wire protocol; every JSON message carries it as `v`. */
export const WIRE_VERSION = 1;

/** Lowest E2EE protocol version a client must announce to join an E2EE meeting. */
export const MIN_E2EE_PROTOCOL = 1;

/** Largest signaling (WebSocket) message in bytes, either direction. */
export const MAX_SIGNAL_BYTES = 256 * 1024;

/**
 * Deepest JSON nesting (arrays and objects) a signaling message may have. Ours are at most 3 deep
 * (a roster entry inside `participants`); the bound is checked by a scan before parsing, so no
 * later step (validation, error messages) ever walks a deep structure.
 */
export const MAX_JSON_DEPTH = 32;

/** Largest opaque E2EE payload (a string the relay never looks inside). */
export const MAX_E2EE_PAYLOAD_CHARS = 192 * 1024;

/** Largest SDP blob. */
export const MAX_SDP_CHARS = 32 * 1024;

/** Largest data-channel message anyone may send; larger ones silently close channels in wrtc and Janus. */
export const MAX_DATA_CHANNEL_MESSAGE = 64 * 1024;

/** Largest media chunk payload (after the header). A chunk is header + payload <= 16 KiB. */
export const MAX_CHUNK_BYTES = 16 * 1024;

/** Largest media frame a sender may chunk (u16 chunk count is far above this). */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;
