/**
 * The peer-connection seam (docs/decisions/0006-relay-media-star.md): the small interface the relay and the
 * client use, with a real implementation over @roamhq/wrtc (wrtc-peer.ts) and an in-memory one for
 * unit tests (fake-peer.ts). Only data channels are used: wrtc gives no access to encoded frames and
 * its media tracks crash the process at exit.
 */

export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

export interface IceCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export type PeerState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
export type ChannelState = 'connecting' | 'open' | 'closing' | 'closed';

export interface DataChannelOptions {
  ordered: boolean;
  /** Partial reliability: how often SCTP retransmits a lost message (0 = never). */
  maxRetransmits?: number;
}

export interface DataChannel {
  readonly label: string;
  readonly readyState: ChannelState;
  /** Bytes queued for sending and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Sends as is; callers use MediaChannel for size and backpressure rules. */
  send(data: Uint8Array): void;
  onOpen(listener: () => void): void;
  onMessage(listener: (data: Uint8Array) => void): void;
  onClose(listener: () => void): void;
  close(): void;
}

export interface PeerConnection {
  readonly state: PeerState;
  /** Offerer side: create a channel before createOffer(). */
  createDataChannel(label: string, options: DataChannelOptions): DataChannel;
  /** Creates an offer and sets it as the local description. */
  createOffer(): Promise<SessionDescription>;
  /** Answerer side: sets the remote offer, creates and sets the local answer. */
  acceptOffer(offer: SessionDescription): Promise<SessionDescription>;
  /** Offerer side: sets the remote answer. */
  acceptAnswer(answer: SessionDescription): Promise<void>;
  addIceCandidate(candidate: IceCandidate): Promise<void>;
  onIceCandidate(listener: (candidate: IceCandidate) => void): void;
  onDataChannel(listener: (channel: DataChannel) => void): void;
  onStateChange(listener: (state: PeerState) => void): void;
  /** How its media goes now (the selected ICE candidate pair), or null before one is selected. */
  path(): Promise<MediaPath | null>;
  /** Closes every channel and the connection; idempotent. */
  close(): void;
}

/**
 * How a peer connection's packets go (docs/admin.md §Firewalls): straight to the far end over UDP or
 * TCP, or through a TURN server, reached over UDP, TCP or TLS; the last three through the room's own
 * TURN bridge (transport/turn-bridge.ts): TLS to the TURN server, TLS through the HTTP proxy, plain
 * TCP through the HTTP proxy.
 */
export const MEDIA_PATHS = [
  'direct-udp',
  'direct-tcp',
  'turn-udp',
  'turn-tcp',
  'turn-tls',
  'turn-tls-proxy',
  'turn-tcp-proxy',
] as const;
export type MediaPath = (typeof MEDIA_PATHS)[number];
/** The paths of a TURN bridge (transport/turn-bridge.ts). */
export type BridgedPath = 'turn-tls' | 'turn-tls-proxy' | 'turn-tcp-proxy';

/** A TURN server URL handed to the peer connection in place of one the room bridges, and its path. */
export interface BridgedServer {
  url: string;
  path: BridgedPath;
}

/**
 * The path of a selected candidate pair, from the local candidate's WebRTC stats (`candidateType`,
 * `protocol`, `relayProtocol`, and `url`: the TURN server it came from); null when they name none
 * we know. A relay candidate from one of `bridges` takes that bridge's path.
 */
export function mediaPathOf(
  local: {
    candidateType?: unknown;
    protocol?: unknown;
    relayProtocol?: unknown;
    url?: unknown;
  },
  bridges: readonly BridgedServer[] = [],
): MediaPath | null {
  if (local.candidateType === 'relay' && typeof local.url === 'string') {
    const bridged = bridges.find((b) => b.url === local.url);
    if (bridged !== undefined) return bridged.path;
  }
  const via = local.candidateType === 'relay' ? (local.relayProtocol ?? local.protocol) : local.protocol;
  if (typeof via !== 'string' || typeof local.candidateType !== 'string') return null;
  const path = `${local.candidateType === 'relay' ? 'turn' : 'direct'}-${via}`;
  return (['direct-udp', 'direct-tcp', 'turn-udp', 'turn-tcp', 'turn-tls'] as readonly string[]).includes(
    path,
  )
    ? (path as MediaPath)
    : null;
}

export interface PeerConnectionOptions {
  /** STUN/TURN servers; empty on loopback and in tests (docs/protocol.md §ICE servers). */
  iceServers?: { urls: string | string[]; username?: string; credential?: string }[];
  /**
   * RTCPeerConnection's `iceTransportPolicy`: 'relay' uses TURN candidates only. Default 'all';
   * nothing in roomd sets 'relay' — tests do, to prove media goes through TURN.
   */
  iceTransportPolicy?: 'all' | 'relay';
  /** Servers of `iceServers` that are the room's TURN bridges, for `path()` (≤ 8). */
  bridges?: readonly BridgedServer[];
}

export interface PeerConnectionFactory {
  create(options?: PeerConnectionOptions): PeerConnection;
  /** Peer connections created and not yet closed (tests assert 0 at the end). */
  readonly openCount: number;
}

/** The data channel carrying media chunks: unordered, partially reliable. */
export const MEDIA_CHANNEL_LABEL = 'media';
export const DEFAULT_MEDIA_RETRANSMITS = 3;
export function mediaChannelOptions(maxRetransmits = DEFAULT_MEDIA_RETRANSMITS): DataChannelOptions {
  return { ordered: false, maxRetransmits };
}
