/**
 * The signaling socket to the relay (docs/protocol.md "# Wire protocol" §Transport): one WebSocket
 * carrying validated JSON messages, reconnecting with backoff on an injectable Clock until closed.
 * Each (re)connection emits `open`; the caller joins again after every one (a new session).
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
  /** The connection is gone; `willReconnect` says whether another attempt is scheduled. */
  close: { code: number; reason: string; willReconnect: boolean };
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
  /** Passed to ws (TLS: `ca`, `rejectUnauthorized`; proxy `agent`). */
  wsOptions?: ClientOptions;
  /** Observe every raw frame (tests of what crosses the wire). */
  tap?: (direction: 'in' | 'out', data: string) => void;
}

export class SignalingClient {
  readonly events = new EventBus<SignalingEvents>();
  readonly #opts: SignalingClientOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  #ws: WebSocket | undefined;
  #timer: TimerHandle | undefined;
  #attempt = 0;
  #closed = false;
  #started = false;

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
      ws.once('close', () => resolve());
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'bye');
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000);
      t.unref();
    });
  }

  #open(): void {
    const attempt = this.#attempt;
    const ws = new WebSocket(this.#opts.url, { maxPayload: MAX_SIGNAL_BYTES, ...this.#opts.wsOptions });
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.events.emit('open', { attempt });
    });
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? '' : data.toString();
      this.#opts.tap?.('in', text);
      const decoded = decodeServerMessage(text);
      if (!decoded.ok) {
        this.#log.warn({ code: decoded.error.code }, 'dropped a malformed message from the relay');
        this.events.emit('protocol-error', decoded.error);
        return;
      }
      this.events.emit('message', decoded.message);
    });
    ws.on('error', (error) => {
      this.#log.debug({ err: error.message }, 'signaling socket error');
    });
    ws.on('close', (code, reason) => {
      if (this.#ws !== ws) return;
      const willReconnect = !this.#closed && this.#opts.reconnect !== false;
      this.events.emit('close', { code, reason: reason.toString(), willReconnect });
      if (willReconnect) this.#scheduleReconnect();
    });
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
