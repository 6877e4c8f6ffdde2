/**
 * The words every layer shares, defined once (docs/decisions/0016-one-media-path.md): media stream
 * kinds and their stream ids, shields, encryption modes, client kinds, reactions and meeting
 * features. Everything else — the kiosk included — imports them from here.
 */
import { MIN_E2EE_PROTOCOL } from './limits.ts';

/** Stream kinds, in the order of their code in the chunk header (docs/protocol.md §Media chunks). */
export const STREAM_KINDS = ['audio', 'video', 'screen', 'data'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

/**
 * Each participant sends at most one stream of each kind, on the stream id of its kind: the relay
 * routes keyframe requests by (sender, stream id) and receivers key their state by it.
 */
export const STREAM_ID: Readonly<Record<StreamKind, number>> = { audio: 0, video: 1, screen: 2, data: 3 };

/** The kind a stream id belongs to, or undefined for an id no kind uses. */
export function streamKindOf(streamId: number): StreamKind | undefined {
  return STREAM_KINDS[streamId];
}

/**
 * The five shield states, weakest first (fail-closed; docs/protocol.md "Shield (fail-closed)"): what
 * the room screen, the panel, the admin console and the metrics all show.
 */
export const SHIELDS = ['none', 'verifying', 'partial', 'enhanced', 'e2ee'] as const;
export type Shield = (typeof SHIELDS)[number];

/**
 * How a meeting is protected (docs/protocol.md §Admission rules): keys only on participant devices
 * (`e2ee`) or held by the meeting service (`enhanced`). Fixed when a meeting starts; it may never weaken.
 */
export const ENCRYPTION_MODES = ['e2ee', 'enhanced'] as const;
export type EncryptionMode = (typeof ENCRYPTION_MODES)[number];

/** Client kinds a participant announces in `join` (docs/protocol.md §Messages: client → relay). */
export const CLIENT_TYPES = ['room', 'desktop', 'mobile', 'web', 'phone', 'sip', 'h323'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];

/**
 * Client kinds that may join an E2EE meeting (docs/protocol.md §Admission rules): native clients and
 * the web client that runs the E2EE protocol in the browser (`web/`), each with protocol ≥ 1.
 */
export const E2EE_CAPABLE_CLIENTS: readonly ClientType[] = ['room', 'desktop', 'mobile', 'web'];

/** A client of this kind announcing this E2EE protocol version may join an E2EE meeting. */
export function isE2eeCapable(client: ClientType, protocol: number): boolean {
  return E2EE_CAPABLE_CLIENTS.includes(client) && protocol >= MIN_E2EE_PROTOCOL;
}

/** Reactions a participant can send (the kiosk's `/react`, docs/kiosk-and-admin-api.md §Room screen). */
export const REACTIONS = ['thumbs_up', 'clap', 'heart', 'laugh', 'surprised', 'raise_hand'] as const;
export type Reaction = (typeof REACTIONS)[number];

/** Features an E2EE meeting turns off (docs/protocol.md §Features). */
export const MEETING_FEATURES = [
  'recording',
  'live_streaming',
  'transcription',
  'breakout_rooms',
  'polling',
] as const;
export type MeetingFeature = (typeof MEETING_FEATURES)[number];

/** Each feature's name as people read it (the relay's `disabledFeatures` reasons, the room screen). */
export const FEATURE_NAMES: Readonly<Record<MeetingFeature, string>> = {
  recording: 'Cloud recording',
  live_streaming: 'Live streaming',
  transcription: 'Live transcription',
  breakout_rooms: 'Breakout rooms',
  polling: 'Polling',
};
