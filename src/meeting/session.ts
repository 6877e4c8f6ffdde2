/**
 * The meeting client session (docs/protocol.md §Session flow): the shell around the pure state
 * machine in machine.ts. It owns the relay connection (signaling + wrtc media channel), the tick and
 * join-deadline timers of the injected clock and the event bus; it feeds what it observes to the
 * machine as events and carries out the effects the machine returns. Media frames do not pass through
 * here: the media link takes the relay's chunks and the E2EE session's frame keys directly
 * (media-link.ts).
 *
 * Each relay connection is a fresh participant with fresh ephemeral keys (a new E2EE session);
 * after a relay loss the client reconnects with backoff and shows `verifying` until secure again.
 * The first encryption mode the meeting showed is remembered: a later weaker one is a downgrade and
 * the room leaves, saying why.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { RoomdError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import { bareMeetingId, type DirectCrypto, E2EE_PROTOCOL_VERSION, type FrameCrypto } from '../e2ee/index.ts';
import { fromBase64Url, toBase64Url } from '../protocol/codec.ts';
import { hostProofMessage, identityProofMessage } from '../protocol/host-proof.ts';
import { RelayClient } from '../transport/relay-client.ts';
import { createMeetingMachine, type MeetingMachine } from './machine.ts';
import { MachineTimers } from './machine-timers.ts';
import type { MeetingEffect, MeetingEvent } from './machine-types.ts';
import type { MeetingCounters, MeetingSessionEvents, MeetingSessionOptions } from './session-types.ts';
import type { MeetingSnapshot } from './status.ts';

export { JOIN_ANSWER_TIMEOUT_MS } from './machine-types.ts';
export type {
  MeetingCounters,
  MeetingSessionEvents,
  MeetingSessionOptions,
  SessionIdentity,
} from './session-types.ts';

// Meeting ids compare without their dashes (`123-4567-8901` = `12345678901`); one definition, in the E2EE core.
export { bareMeetingId };

export class MeetingSession {
  readonly events: EventBus<MeetingSessionEvents>;
  /** The connection to the meeting service; it connects on join(). */
  readonly relay: RelayClient;
  readonly #o: MeetingSessionOptions;
  readonly #log: Logger;
  readonly #machine: MeetingMachine;
  readonly #timers: MachineTimers;
  #joinResolve: ((s: MeetingSnapshot) => void) | null = null;
  #joinReject: ((e: RoomdError) => void) | null = null;

  constructor(options: MeetingSessionOptions) {
    const o = options;
    this.#o = o;
    this.#log = o.log.child({ component: 'meeting', meetingId: o.meetingId });
    this.events = new EventBus((event, err) =>
      this.#log.error({ event: String(event), err }, 'meeting listener failed'),
    );
    const pinned = o.policies?.get(o.meetingId);
    this.#timers = new MachineTimers(o.clock, (e) => void this.#dispatch(e));
    this.#machine = createMeetingMachine({
      meetingId: o.meetingId,
      displayName: o.displayName,
      clientType: o.clientType,
      identity: o.identity,
      ...(o.minimumEncryption === undefined ? {} : { minimumEncryption: o.minimumEncryption }),
      ...(o.bookedEncryption === undefined ? {} : { bookedEncryption: o.bookedEncryption }),
      ...(pinned === undefined ? {} : { pinned }),
      ...(o.e2eeParams === undefined ? {} : { e2eeParams: o.e2eeParams }),
      ...(o.e2eeRandom === undefined ? {} : { e2eeRandom: o.e2eeRandom }),
      ...(o.trust === undefined ? {} : { trust: o.trust }),
      ...(o.codeChangeBannerMs === undefined ? {} : { codeChangeBannerMs: o.codeChangeBannerMs }),
      ...(o.joinAnswerTimeoutMs === undefined ? {} : { joinAnswerTimeoutMs: o.joinAnswerTimeoutMs }),
      ...(o.tickMs === undefined ? {} : { tickMs: o.tickMs }),
      onFrameAlarm: () => void this.#dispatch({ type: 'frame-alarm' }),
    });
    this.relay = this.#connection();
    this.#wire(this.relay);
  }

  get snapshot(): MeetingSnapshot {
    return this.#machine.snapshot;
  }

  get counters(): MeetingCounters {
    return this.#machine.counters;
  }

  get participantId(): string | null {
    return this.relay.participantId ?? null;
  }

  /** Data-channel counters (bytes, dropped under backpressure). */
  get channelStats(): RelayClient['mediaStats'] {
    return this.relay.mediaStats;
  }

  /** What the relay connection refused or caught on receive (for /metrics; docs/protocol.md §Validation). */
  get relayCounters(): RelayClient['counters'] {
    return this.relay.counters;
  }

  /** The frame keys of this connection's E2EE session, or null while there is none. */
  get frames(): FrameCrypto | null {
    return this.#machine.frames;
  }

  /** One-to-one keys with other members for 1:1 chat, or null (none yet, or an enhanced meeting). */
  get direct(): DirectCrypto | null {
    return this.#machine.direct;
  }

  /** Ask for a one-to-one key with `peer` (the E2EE session sends the hello). */
  requestDirect(peer: string): void {
    void this.#dispatch({ type: 'direct-request', peer });
  }

  /** The epoch our senders currently encrypt under (0 before keys). */
  get sendEpoch(): number {
    return this.#machine.sendEpoch;
  }

  /**
   * Connect and join. Resolves once admitted (or told to wait for the host); rejects with a typed
   * error when refused. The session keeps itself connected until `leave()`.
   */
  join(): Promise<MeetingSnapshot> {
    if (this.#machine.joinRequested) throw new RoomdError('meeting.already_in_meeting');
    const answer = new Promise<MeetingSnapshot>((resolve, reject) => {
      this.#joinResolve = resolve;
      this.#joinReject = reject;
    });
    void this.#dispatch({ type: 'join' });
    return answer;
  }

  /** Dismiss the code-change banner. */
  acknowledgeCodeChange(): void {
    void this.#dispatch({ type: 'acknowledge-code-change' });
  }

  /** Leave politely; resolves once the relay connection is closed and `ended` was emitted. */
  async leave(): Promise<void> {
    await this.#dispatch({ type: 'leave' });
  }

  #connection(): RelayClient {
    const o = this.#o;
    return new RelayClient({
      url: o.relayUrl,
      peers: o.peers,
      clock: o.clock,
      logger: this.#log,
      reconnect: true,
      ...(o.backoff === undefined ? {} : { backoff: o.backoff }),
      ...(o.tap === undefined ? {} : { tap: o.tap }),
      ...(o.network === undefined ? {} : { network: o.network }),
      join: (hello) => {
        const nonce = fromBase64Url(hello.nonce);
        const sign = (message: Uint8Array) => toBase64Url(ed25519.sign(message, o.identity.secretKey));
        return {
          meetingId: o.meetingId,
          ...(o.passcode === undefined ? {} : { passcode: o.passcode }),
          displayName: o.displayName,
          client: o.clientType,
          protocol: o.protocolVersion ?? E2EE_PROTOCOL_VERSION,
          deviceId: o.identity.deviceId,
          identityKey: toBase64Url(o.identity.publicKey),
          hostProof: sign(hostProofMessage(nonce, o.meetingId)),
          // Proves we hold our identity key: wrong-passcode budgets never count our device id
          // against us, only this key (docs/protocol.md §Wrong passcodes).
          identityProof: sign(identityProofMessage(nonce, o.meetingId)),
        };
      },
    });
  }

  /** The relay connection's events, as machine events. */
  #wire(relay: RelayClient): void {
    const o = this.#o;
    const ev = relay.events;
    ev.on(
      'admission',
      (message) => void this.#dispatch({ type: 'admission', message, wallNow: o.clock.now() }),
    );
    ev.on(
      'meeting-info',
      (message) =>
        void this.#dispatch({
          type: 'meeting-info',
          message,
          // Policies verify against the trusted wall clock when the room has one.
          wallNow: o.trust?.wallClock?.() ?? o.clock.now(),
          pinned: o.policies?.get(o.meetingId),
        }),
    );
    ev.on('roster', (message) => void this.#dispatch({ type: 'roster', message }));
    ev.on('leader', (message) => void this.#dispatch({ type: 'leader', message }));
    ev.on('meeting-key', (k) => void this.#dispatch({ type: 'meeting-key', keyId: k.keyId, key: k.key }));
    ev.on('e2ee', (m) => void this.#dispatch({ type: 'e2ee', from: m.from, payload: m.payload }));
    ev.on(
      'relay-error',
      (m) => void this.#dispatch({ type: 'relay-error', code: m.code, message: m.message }),
    );
    ev.on(
      'disconnected',
      ({ willReconnect, error }) =>
        void this.#dispatch({
          type: 'disconnected',
          willReconnect,
          ...(error === undefined ? {} : { error: { code: error.code, message: error.message } }),
        }),
    );
    ev.on('reconnecting', () => void this.#dispatch({ type: 'reconnecting' }));
    ev.on('hello', () => void this.#dispatch({ type: 'connected' }));
  }

  /** Hand one event to the machine and carry out its effects; resolves when an `end` is done. */
  #dispatch(event: MeetingEvent): Promise<void> {
    return this.#apply(this.#machine.handle(event, this.#o.clock.monotonic()));
  }

  #apply(effects: readonly MeetingEffect[]): Promise<void> {
    let ended: Promise<void> | undefined;
    for (const e of effects) {
      switch (e.type) {
        case 'connect':
          this.relay.start();
          break;
        case 'start-tick':
        case 'stop-tick':
        case 'arm-join-deadline':
        case 'disarm-join-deadline':
          this.#timers.apply(e);
          break;
        case 'send-e2ee':
          // Not connected right now: the protocol resends what matters after the reconnect.
          this.relay.sendE2ee(e.to, e.payload);
          break;
        case 'state':
          this.events.emit('state', e.snapshot);
          break;
        case 'key-switch':
          this.events.emit('key-switch', undefined);
          break;
        case 'resolve-join': {
          const resolve = this.#joinResolve;
          this.#joinResolve = null;
          this.#joinReject = null;
          resolve?.(e.snapshot);
          break;
        }
        case 'reject-join': {
          const reject = this.#joinReject;
          this.#joinResolve = null;
          this.#joinReject = null;
          reject?.(new RoomdError(e.code, { message: e.message, context: e.context }));
          break;
        }
        case 'pin-policy':
          this.#o.policies?.pin(e.policy);
          break;
        case 'warn':
          this.#log.warn(e.fields, e.message);
          break;
        case 'end':
          ended = this.#close(e);
          break;
      }
    }
    return ended ?? Promise.resolve();
  }

  async #close({ status, error }: Extract<MeetingEffect, { type: 'end' }>): Promise<void> {
    try {
      await (status === 'left' ? this.relay.leave() : this.relay.close());
    } catch (err) {
      // Last-resort guard, reached at most once per session: closing the socket is not expected to
      // fail, but if it does the session is over all the same and must still say so.
      this.#log.warn({ err }, 'closing the relay connection failed');
    }
    this.events.emit('ended', { status, error });
  }
}
