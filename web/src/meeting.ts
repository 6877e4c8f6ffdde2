/**
 * The web client's meeting session: the browser's shell around the same pure meeting machine the
 * room runs (src/meeting/machine.ts), the way src/meeting/session.ts is the room's. It speaks the
 * signaling protocol over the browser's WebSocket (docs/protocol.md "# Wire protocol" §Session flow),
 * validating every message with the shared codec, feeds what it observes to the machine and carries
 * out the effects it returns. Once admitted it opens the media connection (media/connection.ts) and
 * runs the room's media link on it (src/meeting/media-link.ts): every stream kind through the same
 * envelope, SFrame and chunk path, with the frame keys of this session's E2EE machine, and the
 * control channel that carries mute and camera state and reactions. A lost socket is reconnected
 * with backoff, each connection a new participant with fresh keys, as the room does
 * (docs/protocol.md §Session flow).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Clock, TimerHandle } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/events.ts';
import { E2EE_PROTOCOL_VERSION, type TrustOptions } from '../../src/e2ee/index.ts';
import { createMeetingMachine, type MeetingMachine } from '../../src/meeting/machine.ts';
import { MachineTimers } from '../../src/meeting/machine-timers.ts';
import type {
  MeetingEffect,
  MeetingError,
  MeetingEvent,
  SessionIdentity,
} from '../../src/meeting/machine-types.ts';
import type { MeetingSnapshot } from '../../src/meeting/status.ts';
import {
  decodeServerMessage,
  encodeClientMessage,
  fromBase64Url,
  toBase64Url,
} from '../../src/protocol/codec.ts';
import { type MediaSession, MeetingMediaLink } from '../../src/meeting/media-link.ts';
import { hostProofMessage, identityProofMessage } from '../../src/protocol/host-proof.ts';
import type { Reaction } from '../../src/protocol/vocabulary.ts';
import { type BackoffOptions, backoffDelay } from '../../src/transport/backoff.ts';
import { type PeerConfig, type PeerLike, WebMediaConnection } from './media/connection.ts';
import type { ClientMessage, ServerMessage, WithoutV } from '../../src/protocol/schemas.ts';

/** The browser's WebSocket as this shell uses it (a fake in tests). */
export interface SignalSocket {
  readonly readyState: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/** What the socket reports: each message's data, and its close code. */
export interface SignalHandlers {
  message(data: unknown): void;
  close(code: number): void;
}

export interface WebMeetingOptions {
  /** ws[s]://host/v1/signal */
  signalUrl: string;
  meetingId: string;
  passcode?: string;
  displayName: string;
  identity: SessionIdentity;
  clock: Clock;
  /** Opens the signaling socket: the browser's WebSocket on the page, a fake in tests. */
  openSocket: (url: string, on: SignalHandlers) => SignalSocket;
  backoff?: BackoffOptions;
  /** Whom to trust for identities, and what to do about people nobody vouches for. */
  trust?: TrustOptions;
  /** Makes the media connection (the browser's RTCPeerConnection); without it, no media. */
  createPeer?: (config: PeerConfig) => PeerLike;
}

const OPEN = 1;
/** Our mute and camera state goes to everyone now, on change, and this often (as the room's). */
export const CONTROL_RESEND_MS = 3000;

export interface WebMeetingEvents {
  state: MeetingSnapshot;
  /** The session is over: left on purpose, or failed (refused, the socket lost, a downgrade…). */
  ended: { status: 'left' | 'failed'; error: MeetingError | null };
  /** Our senders switched key: our encoders owe a keyframe. */
  'key-switch': undefined;
  /** Someone's mute or camera state, a reaction, or who shares changed (read `link.control`, `link.share`). */
  control: undefined;
}

export class WebMeeting {
  readonly events = new EventBus<WebMeetingEvents>();
  readonly #o: WebMeetingOptions;
  readonly #machine: MeetingMachine;
  #socket: SignalSocket | null = null;
  readonly #timers: MachineTimers;
  #retry: TimerHandle | null = null;
  /** Connection attempts since the relay last answered (its hello). */
  #attempt = 0;
  #ended = false;
  /** Messages the relay sent that failed validation (dropped, as the room does). */
  rejected = 0;
  /** The media connection and the stream path on it (null without `createPeer`). */
  readonly media: WebMediaConnection | null;
  readonly link: MeetingMediaLink | null;
  #muted = false;
  #cameraOn = true;
  #controlTimer: TimerHandle | null = null;
  #controlSent = false;

  constructor(options: WebMeetingOptions) {
    this.#o = options;
    this.#timers = new MachineTimers(options.clock, (e) => this.#dispatch(e));
    this.#machine = createMeetingMachine({
      meetingId: options.meetingId,
      displayName: options.displayName,
      clientType: 'web',
      identity: options.identity,
      ...(options.trust === undefined ? {} : { trust: options.trust }),
      onFrameAlarm: () => this.#dispatch({ type: 'frame-alarm' }),
    });
    const createPeer = options.createPeer;
    if (createPeer === undefined) {
      this.media = null;
      this.link = null;
      return;
    }
    const media = new WebMediaConnection({
      clock: options.clock,
      send: (m) => this.#send(m),
      createPeer,
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
    });
    this.media = media;
    const machine = this.#machine;
    const session: MediaSession = {
      relay: media,
      get frames() {
        return machine.frames;
      },
      get direct() {
        return machine.direct;
      },
      requestDirect: (peer) => this.#dispatch({ type: 'direct-request', peer }),
      get snapshot() {
        return machine.snapshot;
      },
      events: { on: (_event, listener) => this.events.on('key-switch', listener) },
    };
    this.link = new MeetingMediaLink({ session, clock: options.clock });
    this.link.control.onChange(() => this.events.emit('control', undefined));
    this.link.share.onChange(() => this.events.emit('control', undefined));
  }

  get muted(): boolean {
    return this.#muted;
  }

  get cameraOn(): boolean {
    return this.#cameraOn;
  }

  /** Mute or unmute: the others see it at once (the capture is paused by the page). */
  setMuted(muted: boolean): void {
    this.#muted = muted;
    this.#sendControl();
  }

  setCamera(on: boolean): void {
    this.#cameraOn = on;
    this.#sendControl();
  }

  /** A reaction to everyone; false when it could not go (not secure yet, no channel). */
  react(reaction: Reaction): boolean {
    return this.link?.control.react(reaction) ?? false;
  }

  #sendControl(): boolean {
    return this.link?.control.send({ muted: this.#muted, cameraOn: this.#cameraOn }) ?? false;
  }

  get snapshot(): MeetingSnapshot {
    return this.#machine.snapshot;
  }

  join(): void {
    this.#dispatch({ type: 'join' });
  }

  leave(): void {
    this.#dispatch({ type: 'leave' });
  }

  acknowledgeCodeChange(): void {
    this.#dispatch({ type: 'acknowledge-code-change' });
  }

  #dispatch(event: MeetingEvent): void {
    this.#apply(this.#machine.handle(event, this.#o.clock.monotonic()));
  }

  /** Sends on the signaling socket; false when it is not open. */
  #send(message: WithoutV<ClientMessage>): boolean {
    const s = this.#socket;
    if (s === null || s.readyState !== OPEN) return false;
    s.send(encodeClientMessage(message));
    return true;
  }

  #connect(): void {
    const socket: SignalSocket = this.#o.openSocket(this.#o.signalUrl, {
      message: (data) => {
        if (this.#socket !== socket) return;
        // Signaling is text only (docs/protocol.md §Transport): anything else is refused like garbage.
        const decoded = typeof data === 'string' ? decodeServerMessage(data) : null;
        if (decoded === null || !decoded.ok) {
          this.rejected++;
          return;
        }
        this.#receive(decoded.message);
      },
      close: (code) => {
        if (this.#socket !== socket) return;
        this.#socket = null;
        this.media?.reset();
        // A new connection is a new participant: it tells its state as soon as it is secure again.
        this.#controlSent = false;
        if (!this.#ended) this.#closed(code);
      },
    });
    this.#socket = socket;
  }

  #closed(code: number): void {
    this.#dispatch({
      type: 'disconnected',
      willReconnect: true,
      ...(code === 1000 || code === 1001
        ? {}
        : {
            error: {
              code: 'transport.disconnected' as const,
              message: `The connection to the meeting service closed (${code}).`,
            },
          }),
    });
    if (this.#ended) return;
    this.#attempt++;
    this.#dispatch({ type: 'reconnecting' });
    this.#retry = this.#o.clock.setTimeout(
      () => {
        this.#retry = null;
        if (!this.#ended) this.#connect();
      },
      backoffDelay(this.#attempt, this.#o.backoff),
    );
  }

  #receive(m: ServerMessage): void {
    const wallNow = this.#o.clock.now();
    switch (m.type) {
      case 'hello':
        this.#attempt = 0;
        this.#dispatch({ type: 'connected' });
        this.#send(this.#joinMessage(m.nonce));
        return;
      case 'admission':
        this.#dispatch({ type: 'admission', message: m, wallNow });
        this.media?.handle(m);
        return;
      case 'meeting-info':
        this.#dispatch({ type: 'meeting-info', message: m, wallNow, pinned: undefined });
        return;
      case 'roster':
        this.#dispatch({ type: 'roster', message: m });
        this.media?.handle(m);
        return;
      case 'leader':
        this.#dispatch({ type: 'leader', message: m });
        return;
      case 'meeting-key':
        this.#dispatch({ type: 'meeting-key', keyId: m.keyId, key: fromBase64Url(m.key) });
        return;
      case 'e2ee':
        this.#dispatch({ type: 'e2ee', from: m.from, payload: m.payload });
        return;
      case 'error':
        this.#dispatch({ type: 'relay-error', code: m.code, message: m.message });
        return;
      default:
        // Media signaling (ice-servers, sdp, ice, media-ready, media-lost) and media control.
        this.media?.handle(m);
        return;
    }
  }

  /** The join, with both proofs over the relay's nonce (docs/protocol.md §Host proof). */
  #joinMessage(nonceText: string): WithoutV<ClientMessage> {
    const o = this.#o;
    const nonce = fromBase64Url(nonceText);
    const sign = (message: Uint8Array) => toBase64Url(ed25519.sign(message, o.identity.secretKey));
    return {
      type: 'join',
      meetingId: o.meetingId,
      ...(o.passcode === undefined || o.passcode === '' ? {} : { passcode: o.passcode }),
      displayName: o.displayName,
      client: 'web',
      protocol: E2EE_PROTOCOL_VERSION,
      deviceId: o.identity.deviceId,
      identityKey: toBase64Url(o.identity.publicKey),
      hostProof: sign(hostProofMessage(nonce, o.meetingId)),
      identityProof: sign(identityProofMessage(nonce, o.meetingId)),
    };
  }

  #apply(effects: readonly MeetingEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'connect':
          this.#connect();
          break;
        case 'start-tick':
        case 'stop-tick':
        case 'arm-join-deadline':
        case 'disarm-join-deadline':
          this.#timers.apply(e);
          break;
        case 'send-e2ee':
          this.#send({ type: 'e2ee', to: e.to, payload: e.payload });
          break;
        case 'state':
          this.#stateChanged(e.snapshot);
          this.events.emit('state', e.snapshot);
          break;
        case 'key-switch':
          this.events.emit('key-switch', undefined);
          break;
        case 'end':
          this.#end(e);
          break;
        case 'resolve-join':
        case 'reject-join':
        case 'pin-policy':
        case 'warn':
          // No caller awaiting the join (the page follows `state`), no policy book, no log.
          break;
      }
    }
  }

  /** Our state goes out once the meeting is secure, then every CONTROL_RESEND_MS (late joiners learn it). */
  #stateChanged(snapshot: MeetingSnapshot): void {
    if (this.link === null) return;
    if (snapshot.status === 'secure' && !this.#controlSent) this.#controlSent = this.#sendControl();
    if (this.#controlTimer === null && (snapshot.status === 'keying' || snapshot.status === 'secure'))
      this.#controlTimer = this.#o.clock.setInterval(() => this.#sendControl(), CONTROL_RESEND_MS);
  }

  #end({ status, error }: Extract<MeetingEffect, { type: 'end' }>): void {
    this.#ended = true;
    if (this.#retry !== null) this.#o.clock.clear(this.#retry);
    this.#retry = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) {
      if (status === 'left' && socket.readyState === OPEN)
        socket.send(encodeClientMessage({ type: 'leave' }));
      socket.close(1000, status);
    }
    this.#timers.clear();
    if (this.#controlTimer !== null) this.#o.clock.clear(this.#controlTimer);
    this.#controlTimer = null;
    this.link?.close();
    this.media?.close();
    this.events.emit('ended', { status, error });
  }
}
