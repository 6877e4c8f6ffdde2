/**
 * A small client of Janus's WebSocket API (docs/decisions/0018-media-planes.md): one
 * socket and one Janus session, requests matched to replies by transaction, a keepalive every 25 s
 * (a session dies after 60 s without one; data-channel traffic does not count), and per-handle
 * events for everything Janus pushes on its own (`webrtcup`, `hangup`, VideoRoom notifications).
 *
 * - An asynchronous request is answered by an `ack` and then an `event`, in either order: the
 *   request resolves on the event (or on a synchronous `success`), never on the ack.
 * - Every request has a deadline from the injected Clock; a late reply is counted and dropped.
 * - A lost socket (or session) rejects what is pending, says `down`, and the next request connects
 *   again with a new session: handles of the old one are gone, and their owners learn it by `down`.
 * - Everything Janus sends is decoded totally (messages.ts); a bad message is counted and dropped.
 */
import { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import { hasCode, RoomdError } from '../../core/errors.ts';
import { EventBus } from '../../core/events.ts';
import type { Logger } from '../../core/logger.ts';
import type { IceCandidate } from '../../transport/peer.ts';
import { decodeJanusMessage, type JanusMessage, type Jsep } from './messages.ts';

export interface JanusSocket {
  /** Throws RoomdError `transport.closed` when the socket is no longer open; nothing else. */
  send(text: string): void;
  close(): void;
}
export interface JanusSocketListeners {
  message(text: string): void;
  close(): void;
}
/** Opens a socket to Janus (the default speaks WebSocket with subprotocol `janus-protocol`). */
export type JanusConnect = (url: string, on: JanusSocketListeners) => Promise<JanusSocket>;

export interface JanusClientOptions {
  url: string;
  clock: Clock;
  logger: Logger;
  connect?: JanusConnect;
  /** Deadline of each request (default 10 s). */
  requestTimeoutMs?: number;
  /** Keepalive period (default 25 s; Janus drops a session after 60 s without one). */
  keepaliveMs?: number;
}

export interface JanusCounters {
  /** Messages that failed to decode. */
  malformed: number;
  /** Replies to no pending request (late after a timeout, or unknown). */
  unmatched: number;
  /** Requests that got no reply in time. */
  timeouts: number;
  /** Sessions created after the first (each after a lost socket or session). */
  reconnects: number;
}

export interface JanusClientEvents {
  /** Something Janus pushed on one handle (no request of ours waits for it). */
  'handle-event': { handle: number; message: JanusMessage };
  /** The socket or the session is gone: every handle is gone with it. */
  down: { reason: string };
}

/** A plugin's answer to a `message` request: its data, and Janus's SDP when it made one. */
export interface PluginReply {
  data: Record<string, unknown>;
  jsep: Jsep | undefined;
}

type Expect = 'success' | 'ack' | 'plugin';
interface Pending {
  expect: Expect;
  resolve(message: JanusMessage): void;
  reject(error: RoomdError): void;
  timer: TimerHandle;
}

export class JanusClient {
  readonly events = new EventBus<JanusClientEvents>((event, error) =>
    this.#log.error(
      { event: String(event), error: error instanceof Error ? error.name : typeof error },
      'a Janus event listener threw',
    ),
  );
  readonly counters: JanusCounters = { malformed: 0, unmatched: 0, timeouts: 0, reconnects: 0 };
  readonly #url: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #connect: JanusConnect;
  readonly #timeoutMs: number;
  readonly #keepaliveMs: number;
  readonly #pending = new Map<string, Pending>();
  #socket: JanusSocket | undefined;
  #session: number | undefined;
  #opening: Promise<number> | undefined;
  #keepalive: TimerHandle | undefined;
  #next = 1;
  #sessions = 0;
  #closed = false;

  constructor(options: JanusClientOptions) {
    this.#url = options.url;
    this.#clock = options.clock;
    this.#log = options.logger;
    this.#connect = options.connect ?? wsConnect;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#keepaliveMs = options.keepaliveMs ?? 25_000;
  }

  /** The current Janus session id, if one is up. */
  get session(): number | undefined {
    return this.#session;
  }

  /** Connects and creates a session unless one is up; resolves with its id. */
  ready(): Promise<number> {
    if (this.#closed) return Promise.reject(new RoomdError('transport.closed'));
    if (this.#session !== undefined) return Promise.resolve(this.#session);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  /** Attaches a plugin on the session; resolves with the handle id. */
  async attach(plugin: string): Promise<number> {
    const session = await this.ready();
    const reply = await this.#request({ janus: 'attach', plugin, session_id: session }, 'success');
    const id = reply.data?.id;
    if (id === undefined) throw malformedReply('attach');
    return id;
  }

  /** Detaches a handle (its peer connection is closed by Janus). */
  async detach(handle: number): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    await this.#request({ janus: 'detach', session_id: session, handle_id: handle }, 'success');
  }

  /** A plugin request on a handle; resolves with the plugin's reply, synchronous or asynchronous. */
  async message(handle: number, body: Record<string, unknown>, jsep?: Jsep): Promise<PluginReply> {
    const session = this.#session;
    if (session === undefined) throw new RoomdError('transport.closed', { message: 'No Janus session.' });
    const reply = await this.#request(
      {
        janus: 'message',
        session_id: session,
        handle_id: handle,
        body,
        ...(jsep === undefined ? {} : { jsep }),
      },
      'plugin',
    );
    if (reply.plugindata === undefined) throw malformedReply('message');
    return { data: reply.plugindata.data, jsep: reply.jsep };
  }

  /** Trickles one candidate to a handle (or says gathering is complete). */
  async trickle(handle: number, candidate: IceCandidate | null): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    const c = candidate === null ? { completed: true } : candidate;
    await this.#request({ janus: 'trickle', session_id: session, handle_id: handle, candidate: c }, 'ack');
  }

  /** Closes the session and the socket; pending requests fail; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    const session = this.#session;
    if (socket !== undefined && session !== undefined) {
      try {
        socket.send(JSON.stringify({ janus: 'destroy', session_id: session, transaction: this.#txn() }));
      } catch (error) {
        if (!hasCode(error, 'transport.closed')) throw error;
        this.#log.debug('the connection to Janus closed before the goodbye');
      }
    }
    this.#lost('closed');
  }

  async #open(): Promise<number> {
    if (this.#socket === undefined) {
      let socket: JanusSocket | undefined;
      socket = await this.#connect(this.#url, {
        message: (text) => {
          if (this.#socket === socket) this.#receive(text);
        },
        close: () => {
          if (this.#socket === socket) this.#lost('socket closed');
        },
      });
      if (this.#closed) {
        socket.close();
        throw new RoomdError('transport.closed');
      }
      this.#socket = socket;
    }
    const reply = await this.#request({ janus: 'create' }, 'success');
    const id = reply.data?.id;
    if (id === undefined) throw malformedReply('create');
    if (this.#sessions++ > 0) this.counters.reconnects++;
    this.#session = id;
    this.#keepalive = this.#clock.setInterval(() => {
      const session = this.#session;
      if (session === undefined) return;
      this.#request({ janus: 'keepalive', session_id: session }, 'ack').catch((error: unknown) => {
        // A keepalive that times out means the session or socket is gone.
        if (error instanceof RoomdError && error.code === 'core.timeout') this.#lost('keepalive unanswered');
      });
    }, this.#keepaliveMs);
    this.#log.info({ url: this.#url }, 'Janus session created');
    return id;
  }

  #txn(): string {
    return `roomd-${this.#next++}`;
  }

  #request(body: Record<string, unknown>, expect: Expect): Promise<JanusMessage> {
    const socket = this.#socket;
    if (socket === undefined)
      return Promise.reject(new RoomdError('transport.closed', { message: 'Janus is not connected.' }));
    const transaction = this.#txn();
    return new Promise<JanusMessage>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        if (!this.#pending.delete(transaction)) return;
        this.counters.timeouts++;
        reject(
          new RoomdError('core.timeout', {
            message: `Janus did not answer a "${String(body.janus)}" request in time.`,
          }),
        );
      }, this.#timeoutMs);
      this.#pending.set(transaction, { expect, resolve, reject, timer });
      try {
        socket.send(JSON.stringify({ ...body, transaction }));
      } catch (error) {
        this.#settle(transaction);
        if (!hasCode(error, 'transport.closed')) throw error;
        reject(new RoomdError('transport.closed', { message: 'Janus is not connected.', cause: error }));
      }
    });
  }

  #settle(transaction: string): Pending | undefined {
    const p = this.#pending.get(transaction);
    if (p === undefined) return undefined;
    this.#pending.delete(transaction);
    this.#clock.clear(p.timer);
    return p;
  }

  #receive(text: string): void {
    const decoded = decodeJanusMessage(text);
    if (!decoded.ok) {
      if (this.counters.malformed++ === 0)
        this.#log.warn({ code: decoded.error.code }, 'dropped a malformed message from Janus');
      return;
    }
    const m = decoded.value;
    const pending = m.transaction === undefined ? undefined : this.#pending.get(m.transaction);
    if (pending !== undefined && m.transaction !== undefined) {
      if (m.janus === 'error') {
        this.#settle(m.transaction)?.reject(
          new RoomdError('relay.media_plane_failed', {
            message: `Janus refused a request (${m.error?.code ?? 'no code'}).`,
            context: { janusError: m.error?.code ?? -1 },
          }),
        );
        return;
      }
      const done =
        (pending.expect === 'ack' && m.janus === 'ack') ||
        (pending.expect === 'success' && m.janus === 'success') ||
        (pending.expect === 'plugin' &&
          (m.janus === 'event' || (m.janus === 'success' && m.plugindata !== undefined)));
      if (done) this.#settle(m.transaction)?.resolve(m);
      // An `ack` of an asynchronous request: its event comes (or came) separately.
      return;
    }
    if (m.janus === 'timeout' && m.session_id === this.#session) {
      this.#lost('session timed out');
      return;
    }
    if (m.sender !== undefined && m.janus !== 'ack' && m.janus !== 'success') {
      this.events.emit('handle-event', { handle: m.sender, message: m });
      return;
    }
    this.counters.unmatched++;
  }

  #lost(reason: string): void {
    const socket = this.#socket;
    const hadSession = this.#session !== undefined;
    this.#socket = undefined;
    this.#session = undefined;
    if (this.#keepalive !== undefined) this.#clock.clear(this.#keepalive);
    this.#keepalive = undefined;
    for (const t of [...this.#pending.keys()])
      this.#settle(t)?.reject(
        new RoomdError('transport.disconnected', { message: `Janus went away (${reason}).` }),
      );
    socket?.close();
    if (hadSession) {
      this.#log.warn({ reason }, 'Janus session lost');
      this.events.emit('down', { reason });
    }
  }
}

function malformedReply(what: string): RoomdError {
  return new RoomdError('protocol.malformed', {
    message: `Janus answered "${what}" without the expected id.`,
  });
}

/** The WebSocket connection to Janus (subprotocol `janus-protocol`); fails after 5 s. */
export const wsConnect: JanusConnect = (url, on) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'janus-protocol', { handshakeTimeout: 5000, maxPayload: 1024 * 1024 });
    let open = false;
    ws.on('open', () => {
      open = true;
      resolve({
        // Sending on a socket that is no longer open is the one failure a send reports, typed.
        send: (text) => {
          if (ws.readyState !== WebSocket.OPEN)
            throw new RoomdError('transport.closed', { message: 'The connection to Janus is closed.' });
          ws.send(text);
        },
        close: () => ws.close(),
      });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) on.message(data.toString('utf8'));
    });
    ws.on('error', (error) => {
      if (!open)
        reject(
          new RoomdError('transport.open_failed', {
            message: `Could not reach Janus at ${url}.`,
            cause: error,
          }),
        );
    });
    ws.on('close', () => {
      if (open) on.close();
    });
  });
