/**
 * Types of the meeting client session (session.ts, the shell around machine.ts): its options, events
 * and counters.
 */
import type { Clock } from '../core/clock.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ProtocolParams, TrustOptions } from '../e2ee/index.ts';
import type { ClientType, EncryptionMode } from '../protocol/vocabulary.ts';
import type { BackoffOptions } from '../transport/backoff.ts';
import type { NetworkSettings } from '../transport/http-proxy.ts';
import type { PeerConnectionFactory } from '../transport/peer.ts';
import type { SignalingClientOptions } from '../transport/signaling-client.ts';
import type { MeetingPolicyBook } from './policy-pins.ts';
import type { SessionIdentity } from './machine-types.ts';
import type { MeetingSnapshot } from './status.ts';
import type { MinimumSetting } from './policy-gate.ts';

export type { MeetingCounters, SessionIdentity } from './machine-types.ts';

export interface MeetingSessionOptions {
  meetingId: string;
  passcode?: string;
  relayUrl: string;
  displayName: string;
  clientType: ClientType;
  identity: SessionIdentity;
  peers: PeerConnectionFactory;
  clock: Clock;
  log: Logger;
  /** The room's `encryption.minimum` (policy-gate.ts): 'e2ee', 'booked' or 'enhanced'. */
  minimumEncryption?: MinimumSetting;
  /**
   * The encryption the meeting was booked with, when joining a booking from the schedule: 'e2ee'
   * makes 'e2ee' the minimum for this join, whatever `minimumEncryption` says.
   */
  bookedEncryption?: EncryptionMode;
  /**
   * Verified meeting policies pinned per meeting id (docs/protocol.md "Meeting policy"): a pinned
   * `e2ee` policy makes 'e2ee' the minimum, and a verified policy in `meeting-info` is pinned here.
   * Policies verify against `trust.anchors`, or by this session's own identity key.
   */
  policies?: MeetingPolicyBook;
  /** E2EE protocol version announced (tests of old clients use 0). */
  protocolVersion?: number;
  e2eeParams?: Partial<ProtocolParams>;
  backoff?: BackoffOptions;
  tap?: SignalingClientOptions['tap'];
  /** Proxy and TLS trust for the meeting service and TURN (docs/admin.md §Firewalls). */
  network?: NetworkSettings;
  /** How long the code-change banner stays up (ms). */
  codeChangeBannerMs?: number;
  /** How long a join waits for the meeting service's answer before failing (ms; JOIN_ANSWER_TIMEOUT_MS). */
  joinAnswerTimeoutMs?: number;
  tickMs?: number;
  /**
   * Identity certificates (docs/protocol.md "Identity certificates"): the organizations this room
   * trusts, its own certificate, its key pins per (organization, name) and the unverified policy.
   */
  trust?: TrustOptions;
  /** Randomness for the E2EE session; tests record what it draws (blind-relay test). Default: the CSPRNG. */
  e2eeRandom?: (n: number) => Uint8Array;
}

export interface MeetingSessionEvents {
  state: MeetingSnapshot;
  /** We switched to a new send key: receivers need a keyframe under it. */
  'key-switch': undefined;
  /** The session ended (left on purpose, or failed). */
  ended: { status: 'left' | 'failed'; error: { code: ErrorCode; message: string } | null };
}
