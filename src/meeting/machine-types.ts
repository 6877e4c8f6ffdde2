/**
 * Events into and effects out of the meeting client's state machine (machine.ts; docs/protocol.md
 * §Session flow). Events are what the shell (session.ts) observes — the relay connection's events, its
 * timers firing, the caller's requests; effects are what the shell carries out, in order. Pure data,
 * except the key bytes of `meeting-key`.
 */
import type { ErrorCode, ErrorContext } from '../core/errors.ts';
import type { MeetingPolicy, ProtocolParams, TrustOptions } from '../e2ee/index.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import type { ClientType, EncryptionMode } from '../protocol/vocabulary.ts';
import type { MeetingSnapshot } from './status.ts';
import type { MinimumSetting } from './policy-gate.ts';

/**
 * How long a join may wait for the meeting service's answer (admitted, waiting or refused) before the
 * room gives up and says so (docs/kiosk-and-admin-api.md §Room screen). A healthy service answers
 * in well under a second, a wrong meeting ID included.
 */
export const JOIN_ANSWER_TIMEOUT_MS = 15_000;

/** A failure as the snapshot and the `ended` event carry it. */
export interface MeetingError {
  code: ErrorCode;
  message: string;
}

export interface MeetingCounters {
  /** E2EE messages (or relay claims) the protocol refused: forged, replayed, misaddressed. */
  e2eeRejected: number;
  rekeys: number;
  reconnects: number;
}

/** The device identity a session joins with: Ed25519, `secretKey` the 32-byte seed. */
export interface SessionIdentity {
  deviceId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface MeetingMachineOptions {
  meetingId: string;
  displayName: string;
  clientType: ClientType;
  identity: SessionIdentity;
  /** The room's `encryption.minimum` (policy-gate.ts; default 'enhanced', for bots). */
  minimumEncryption?: MinimumSetting;
  /** The encryption the meeting was booked with (session-types.ts). */
  bookedEncryption?: EncryptionMode;
  /** The policy pinned for this meeting when the session was made (sets the expected encryption). */
  pinned?: MeetingPolicy;
  e2eeParams?: Partial<ProtocolParams>;
  /** Randomness for each E2EE session. Default: the CSPRNG. */
  e2eeRandom?: (n: number) => Uint8Array;
  trust?: TrustOptions;
  /** How long the code-change banner stays up (ms; default 60 s). */
  codeChangeBannerMs?: number;
  /** How long a join waits for the meeting service's answer (ms; default JOIN_ANSWER_TIMEOUT_MS). */
  joinAnswerTimeoutMs?: number;
  /** How often the shell ticks the machine while joined (ms; default 200). */
  tickMs?: number;
  /**
   * Handed to each E2EE session: a media frame raised the integrity alarm (outside `handle`, from
   * the media path). The shell answers with a `frame-alarm` event so the shield drops at once.
   */
  onFrameAlarm?: () => void;
}

/** What the shell observed. `now` (monotonic ms) comes with every event, as `handle`'s argument. */
export type MeetingEvent =
  /** `join()` was called. */
  | { type: 'join' }
  /** The relay's answer to our join; `wallNow` (epoch ms) stamps `joinedAt`. */
  | { type: 'admission'; message: ServerMessageOf<'admission'>; wallNow: number }
  /**
   * `wallNow`: the trusted wall clock the policy check verifies against; `pinned`: the policy pinned
   * for this meeting right now.
   */
  | {
      type: 'meeting-info';
      message: ServerMessageOf<'meeting-info'>;
      wallNow: number;
      pinned: MeetingPolicy | undefined;
    }
  | { type: 'roster'; message: ServerMessageOf<'roster'> }
  | { type: 'leader'; message: ServerMessageOf<'leader'> }
  /** Enhanced meetings: the relay's meeting key. */
  | { type: 'meeting-key'; keyId: number; key: Uint8Array }
  /** An E2EE envelope the relay routed to us: `payload` is the text as it came. */
  | { type: 'e2ee'; from: string; payload: string }
  | { type: 'relay-error'; code: string; message: string }
  /** The socket dropped (the relay client already closed the media connection). */
  | {
      type: 'disconnected';
      willReconnect: boolean;
      /** Why the connection could not be opened (a proxy or certificate problem), when known. */
      error?: { code: ErrorCode; message: string };
    }
  | { type: 'reconnecting' }
  /** The relay answered a connection (its `hello`): whatever kept the last one from opening is past. */
  | { type: 'connected' }
  /** The shell's interval timer (`start-tick`). */
  | { type: 'tick' }
  /** A media frame raised the integrity alarm (`onFrameAlarm`). */
  | { type: 'frame-alarm' }
  /** Chat wants a one-to-one key with `peer` (docs/protocol.md "Direct messages"). */
  | { type: 'direct-request'; peer: string }
  /** The `arm-join-deadline` timer fired. */
  | { type: 'join-deadline' }
  /** `leave()` was called. */
  | { type: 'leave' }
  /** The person dismissed the code-change banner. */
  | { type: 'acknowledge-code-change' };

/** What the shell does, in the order given. */
export type MeetingEffect =
  /** Start the relay connection (it reconnects by itself until closed). */
  | { type: 'connect' }
  /** Deliver a `tick` event every `everyMs`. */
  | { type: 'start-tick'; everyMs: number }
  | { type: 'stop-tick' }
  /** Deliver a `join-deadline` event after `afterMs`. */
  | { type: 'arm-join-deadline'; afterMs: number }
  | { type: 'disarm-join-deadline' }
  /** Send an opaque E2EE envelope; dropped when not connected (the protocol resends what matters). */
  | { type: 'send-e2ee'; to: string; payload: string }
  /** The snapshot changed: emit it (`state`). */
  | { type: 'state'; snapshot: MeetingSnapshot }
  /** Our senders switched key: receivers need a keyframe under it (`key-switch`). */
  | { type: 'key-switch' }
  | { type: 'resolve-join'; snapshot: MeetingSnapshot }
  /** Reject the join with a `RoomdError` of this code. */
  | { type: 'reject-join'; code: ErrorCode; message: string; context: ErrorContext }
  /** A meeting policy verified: pin it for this meeting. */
  | { type: 'pin-policy'; policy: MeetingPolicy }
  /** Log a warning (never secrets). */
  | { type: 'warn'; fields: Record<string, unknown>; message: string }
  /**
   * The session is over: leave the relay politely (`left`) or close it (`failed`), then emit
   * `ended`. No event after this has any effect.
   */
  | { type: 'end'; status: 'left' | 'failed'; error: MeetingError | null };
