/**
 * The signaling socket to the relay (docs/protocol.md "# Wire protocol" §Transport): one WebSocket
 * carrying validated JSON messages, reconnecting with backoff on an injectable Clock until closed.
 * Each (re)connection emits `open`; the caller joins again after every one (a new session).
 * Whatever the relay sends, this end never throws: a message that fails validation (binary frames
 * included: signaling is text only) is dropped and counted; an unexpected error in handling one is a
 * guard trip — logged once per connection, counted, and the connection is closed so the reconnect
 * logic starts a fresh one (docs/protocol.md §Validation).
 */
import WebSocket, { type ClientOptions } from 'ws';
import { type Clock, SystemClock, type TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { decodeServerMessage, encodeClientMessage } from '../protocol/codec.ts';
import { MAX_SIGNAL_BYTES } from '../protocol/limits.ts';
import type { ClientMessage, ServerMessage, WithoutV } from '../protocol/schemas.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';

export interface SignalingEvents {
  /** A connection is up (attempt 0 is the first one). */
  open: { attempt: number };
  message: ServerMessage;
  /**
   * The connection is gone; `willReconnect` says whether another attempt is scheduled; `error` is
   * why it could not be opened, when that was the proxy, TLS or the network (http-proxy.ts).
   */
  close: { code: number; reason: string; willReconnect: boolean; error?: RoomdError };
  reconnecting: { attempt: number; delayMs: number };
  /** The relay sent something that failed validation (dropped, never applied). */
  'protocol-error': RoomdError;
}

export interface SignalingClientOptions {
  url: string;
  clock?: Clock;
  logger?: Logger;
  /** false: no reconnect after a drop. */
  reconnect?: boolean;
  backoff?: BackoffOptions;
  /**
   * Passed to ws. RelayClient sets `agent` (proxy and trust, http-proxy.ts), which makes the
   * connection itself: ws's own TLS options (`ca`, `rejectUnauthorized`) then have no effect.
   */
  wsOptions?: ClientOptions;
  /** Observe every raw frame (tests of what crosses the wire). */
  tap?: (direction: 'in' | 'out', data: string) => void;
}

/** Receive counters since the client was made (all connections). */
export interface SignalingCounters {
  /** Messages from the relay that failed validation and were dropped (binary frames included). */
  messagesRejected: number;
  /** Of those, binary frames. */
  binaryFrames: number;
  /** Unexpected errors caught by the receive guard or thrown by a message listener. */
  guardTrips: number;
}

/** Close code we send when our receive guard tripped (the relay sent something we could not handle). */
const GUARD_TRIP_CLOSE = 1011;

export class SignalingClient {
  readonly events = new EventBus<SignalingEvents>((event, error) => this.#listenerFailed(event, error));
  readonly counters: SignalingCounters = { messagesRejected: 0, binaryFrames: 0, guardTrips: 0 };
  /** Connections that could not be opened, by error code (`transport.tls_untrusted`, …; `other`). */
  readonly openFailures: Record<string, number> = {};
  readonly #opts: SignalingClientOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #ws: WebSocket | undefined;
  #timer: TimerHandle | undefined;
  #attempt = 0;
  #closed = false;
  #started = false;
  /** The connection whose guard trip or listener failure has been logged (log once per connection). */
  #loggedFor: WebSocket | undefined;
  /** The connection whose first rejected message has been logged. */
  #rejectLoggedFor: WebSocket | undefined;

  constructor(options: SignalingClientOptions) {
    this.#opts = options;
    this.#clock = options.clock ?? new SystemClock();
    this.#log = options.logger ?? silentLogger();
  }

  get connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  connect(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#open();
  }

  /** Validates and sends; throws transport.closed when the socket is not open. */
  send(message: WithoutV<ClientMessage>): void {
    const text = encodeClientMessage(message);
    const ws = this.#ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
      throw new RoomdError('transport.closed', {
        message: 'The connection to the meeting service is not open.',
      });
    }
    this.#opts.tap?.('out', text);
    ws.send(text);
  }

  /** Closes for good (no reconnect) and resolves once the socket is closed. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clear(this.#timer);
    this.#timer = undefined;
    const ws = this.#ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const t = this.#clock.setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      ws.once('close', () => {
        this.#clock.clear(t);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'bye');
    });
  }

  #open(): void {
    const attempt = this.#attempt;
    const ws = new WebSocket(this.#opts.url, { maxPayload: MAX_SIGNAL_BYTES, ...this.#opts.wsOptions });
    this.#ws = ws;
    let opened = false;
    let failure: RoomdError | undefined;
    ws.on('open', () => {
      opened = true;
      this.#attempt = 0;
      this.events.emit('open', { attempt });
    });
    ws.on('message', (data, isBinary) => {
      try {
        this.#receive(data, isBinary);
      } catch (error) {
        this.#guardTrip(ws, error);
      }
    });
    ws.on('error', (error) => {
      this.#log.debug({ err: error.message }, 'signaling socket error');
      if (opened) return;
      // Could not connect: the proxy's or TLS's own sentence says what to fix (http-proxy.ts).
      failure =
        error instanceof RoomdError
          ? error
          : new RoomdError('transport.open_failed', {
              message: `The meeting service cannot be reached (${(error as NodeJS.ErrnoException).code ?? error.message.slice(0, 100)}).`,
            });
      const key = error instanceof RoomdError ? error.code : 'other';
      this.openFailures[key] = (this.openFailures[key] ?? 0) + 1;
    });
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      const willReconnect = !this.#closed && this.#opts.reconnect !== false;
      this.events.emit('close', {
        code,
        reason: reason.toString(),
        willReconnect,
        ...(failure === undefined ? {} : { error: failure }),
      });
      if (willReconnect) this.#scheduleReconnect();
    });
  }

  #receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.counters.binaryFrames++;
      this.#rejected(
        new RoomdError('protocol.malformed', {
          message: 'The relay sent a binary frame; signaling is text only.',
        }),
      );
      return;
    }
    const text = data.toString();
    this.#opts.tap?.('in', text);
    const decoded = decodeServerMessage(text);
    if (!decoded.ok) {
      this.#rejected(decoded.error);
      return;
    }
    this.events.emit('message', decoded.message);
  }

  #rejected(error: RoomdError): void {
    this.counters.messagesRejected++;
    // The first of a connection is worth a line; a hostile relay must not flood the log.
    if (this.#rejectLoggedFor !== this.#ws) {
      this.#rejectLoggedFor = this.#ws;
      this.#log.warn({ code: error.code }, 'dropped an invalid message from the relay');
    }
    this.events.emit('protocol-error', error);
  }

  /** Last-resort guard: log once, count, close this connection (reconnect follows). */
  #guardTrip(ws: WebSocket, error: unknown): void {
    this.counters.guardTrips++;
    if (this.#loggedFor !== ws) {
      this.#loggedFor = ws;
      this.#log.error(
        { error: error instanceof Error ? error.name : typeof error },
        'signaling receive guard caught an unexpected error; reconnecting',
      );
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(GUARD_TRIP_CLOSE, 'internal error');
    else ws.terminate();
  }

  /** A message listener threw: the EventBus kept it from us; count it and log once per connection. */
  #listenerFailed(event: PropertyKey, error: unknown): void {
    this.counters.guardTrips++;
    const ws = this.#ws;
    if (ws !== undefined && this.#loggedFor === ws) return;
    this.#loggedFor = ws;
    this.#log.error(
      { event: String(event), error: error instanceof Error ? error.name : typeof error },
      'a signaling listener failed',
    );
  }

  #scheduleReconnect(): void {
    this.#attempt++;
    const delayMs = backoffDelay(this.#attempt, this.#opts.backoff);
    this.events.emit('reconnecting', { attempt: this.#attempt, delayMs });
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.#open();
    }, delayMs);
  }
}
