/**
 * The peer connection proxy of the media worker (worker-peer.ts, docs/decisions/0013-media-worker.md)
 * and the Generation it lives in: one worker process and everything it holds. A connection's state
 * is mirrored from the worker's events; when the worker is lost the connection reports `failed`,
 * its channels close, then it reports `closed`.
 */
import type { TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type {
  DataChannel,
  DataChannelOptions,
  IceCandidate,
  MediaPath,
  PeerConnection,
  PeerState,
  SessionDescription,
} from './peer.ts';
import { PeerEvents } from './peer-events.ts';
import { closedError, WorkerDataChannel } from './worker-channel.ts';
import type { MediaWorkerCounters, MediaWorkerHealth } from './worker-counters.ts';
import {
  encodeToWorker,
  type FromWorker,
  FrameReader,
  MAX_CHANNELS_PER_PEER,
  MAX_PENDING_REQUESTS,
  type ToWorker,
} from './worker-protocol.ts';
import type { WorkerLink } from './worker-process.ts';

export const workerGone = () =>
  new RoomdError('transport.worker_failed', { message: 'The media worker stopped; the connection is gone.' });

/** What a connection needs of the factory that made it (worker-peer.ts WorkerPeerConnectionFactory). */
export interface ConnectionSupervisor {
  nextChannelId(): number;
  /** One request to the connection's worker; resolves with what it answered. */
  request(pc: WorkerPeerConnection, body: Record<string, unknown> & { op: string }): Promise<ReplyBody>;
  /** The connection closed (by us, by the worker, or with the worker). */
  connectionClosed(pc: WorkerPeerConnection): void;
}

/** What a successful request answered: a session description, or (`get-path`) the media path. */
export interface ReplyBody {
  sdp?: string | undefined;
  path?: MediaPath | null | undefined;
}

export interface Pending {
  pc: WorkerPeerConnection;
  resolve: (reply: ReplyBody) => void;
  reject: (error: RoomdError) => void;
}

/** A worker event about a connection, a channel or a request: all but the supervisor's own. */
export type PeerEvent = Exclude<FromWorker, { type: 'ready' } | { type: 'pong' }>;

/** One worker process and everything it holds. */
export class Generation {
  link: WorkerLink | undefined;
  readonly queue: Uint8Array[] = [];
  readonly reader = new FrameReader();
  readonly peers = new Map<number, WorkerPeerConnection>();
  readonly channels = new Map<number, WorkerDataChannel>();
  readonly requests = new Map<number, Pending>();
  closedPeers = 0;
  ready = false;
  readyAt = 0;
  retiring = false;
  killed = false;
  dead = false;
  pingN = 0;
  pingSentAt: number | null = null;
  timers: TimerHandle[] = [];
  exitWaiters: (() => void)[] = [];
  referenced = true;

  write(m: ToWorker): void {
    if (this.dead) return;
    const frame = encodeToWorker(m);
    if (this.link === undefined) this.queue.push(frame);
    else this.link.write(frame);
  }

  /** One request about `pc` to this worker; `nextId` names it once it is accepted. */
  request(
    pc: WorkerPeerConnection,
    body: Record<string, unknown> & { op: string },
    nextId: () => number,
  ): Promise<ReplyBody> {
    if (this.dead) return Promise.reject(workerGone());
    if (this.requests.size >= MAX_PENDING_REQUESTS) {
      return Promise.reject(
        new RoomdError('transport.open_failed', {
          message: 'Too many requests are waiting for the media worker.',
        }),
      );
    }
    const req = nextId();
    return new Promise((resolve, reject) => {
      this.requests.set(req, { pc, resolve, reject });
      this.write({ type: 'request', req, pc: pc.id, ...body } as ToWorker);
    });
  }

  /** Rejects the requests still waiting for an answer: all of them, or those about `pc`. */
  rejectRequests(error: () => RoomdError, pc?: WorkerPeerConnection): void {
    for (const [req, p] of this.requests) {
      if (pc !== undefined && p.pc !== pc) continue;
      this.requests.delete(req);
      p.reject(error());
    }
  }

  /** A pong: the worker's own view, or undefined when it answers an older ping (stale). */
  pong(m: Extract<FromWorker, { type: 'pong' }>): MediaWorkerHealth | undefined {
    if (m.n !== this.pingN) return undefined;
    this.pingSentAt = null;
    return {
      pid: this.link?.pid,
      connections: m.pcs,
      channels: m.channels,
      rssBytes: m.rssBytes,
      invalidFromRoomd: m.invalid,
    };
  }

  /** Kills the worker once; its exit (reported by the link) is what fails its connections. */
  kill(): void {
    if (this.killed || this.dead) return;
    this.killed = true;
    this.link?.kill('SIGKILL');
  }

  /** A worker keeps roomd running only while it holds connections, or someone awaits it. */
  updateRef(readyAwaited: boolean): void {
    const want = this.retiring
      ? this.exitWaiters.length > 0
      : this.peers.size > 0 || (!this.ready && readyAwaited);
    if (this.link === undefined || this.referenced === want) return;
    this.referenced = want;
    if (want) this.link.ref();
    else this.link.unref();
  }

  /**
   * Hands one event to what it names (`pc` and `ch`, looked up before it is handled): an event
   * about something already gone is counted stale, one that contradicts what we know invalid.
   */
  deliver(
    m: PeerEvent,
    pc: WorkerPeerConnection | undefined,
    ch: WorkerDataChannel | undefined,
    counters: MediaWorkerCounters,
  ): void {
    switch (m.type) {
      case 'message':
        if (ch === undefined) counters.staleMessages++;
        else ch.received(m.data);
        return;
      case 'buffered':
        if (ch === undefined) counters.staleMessages++;
        else if (!ch.progress(m.taken, m.buffered)) counters.invalidMessages++;
        return;
      case 'reply': {
        const p = this.requests.get(m.req);
        if (p === undefined) {
          counters.staleMessages++;
          return;
        }
        this.requests.delete(m.req);
        if (m.ok) p.resolve({ sdp: m.sdp, path: m.path });
        else p.reject(new RoomdError('transport.open_failed', { message: m.message }));
        return;
      }
      case 'pc-state':
        if (pc === undefined) counters.staleMessages++;
        else pc.reported(m.state);
        return;
      case 'ice':
        if (pc === undefined) counters.staleMessages++;
        else pc.iceCandidate(m.candidate);
        return;
      case 'datachannel':
        if (pc === undefined || this.channels.has(m.ch)) {
          if (pc === undefined) counters.staleMessages++;
          else counters.invalidMessages++;
          this.write({ type: 'close-channel', ch: m.ch });
        } else if (!pc.remoteChannel(m.ch, m.label)) {
          this.write({ type: 'close-channel', ch: m.ch });
        }
        return;
      case 'channel-open':
        if (ch === undefined) counters.staleMessages++;
        else ch.opened();
        return;
      case 'channel-closed':
        if (ch === undefined) counters.staleMessages++;
        else ch.ended();
        return;
    }
  }
}

export class WorkerPeerConnection extends PeerEvents implements PeerConnection {
  readonly gen: Generation;
  readonly #id: number;
  readonly #factory: ConnectionSupervisor;
  readonly #channels = new Map<number, WorkerDataChannel>();
  #state: PeerState = 'new';

  /** @internal */
  constructor(gen: Generation, id: number, factory: ConnectionSupervisor) {
    super();
    this.gen = gen;
    this.#id = id;
    this.#factory = factory;
  }

  get id(): number {
    return this.#id;
  }

  get state(): PeerState {
    return this.#state;
  }

  createDataChannel(label: string, options: DataChannelOptions): DataChannel {
    if (this.#state === 'closed') throw closedError();
    if (this.#channels.size >= MAX_CHANNELS_PER_PEER) {
      throw new RoomdError('transport.open_failed', {
        message: `A connection holds at most ${MAX_CHANNELS_PER_PEER} data channels.`,
      });
    }
    const id = this.#factory.nextChannelId();
    const ch = new WorkerDataChannel(this, id, label.slice(0, 128));
    this.#track(id, ch);
    this.gen.write({
      type: 'create-channel',
      pc: this.#id,
      ch: id,
      label: ch.label,
      ordered: options.ordered,
      ...(options.maxRetransmits === undefined ? {} : { maxRetransmits: options.maxRetransmits }),
    });
    return ch;
  }

  async createOffer(): Promise<SessionDescription> {
    const { sdp } = await this.#request({ op: 'create-offer' });
    return { type: 'offer', sdp: this.#needSdp(sdp) };
  }

  async acceptOffer(offer: SessionDescription): Promise<SessionDescription> {
    const { sdp } = await this.#request({ op: 'accept-offer', sdp: offer.sdp });
    return { type: 'answer', sdp: this.#needSdp(sdp) };
  }

  async acceptAnswer(answer: SessionDescription): Promise<void> {
    await this.#request({ op: 'accept-answer', sdp: answer.sdp });
  }

  async addIceCandidate(candidate: IceCandidate): Promise<void> {
    if (this.#state === 'closed') return;
    await this.#request({
      op: 'add-ice',
      candidate: {
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      },
    });
  }

  async path(): Promise<MediaPath | null> {
    if (this.#state === 'closed') return null;
    return (await this.#request({ op: 'get-path' })).path ?? null;
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.gen.write({ type: 'close-pc', pc: this.#id });
    this.#end();
  }

  /** @internal The worker died, dropped this connection, or never took it: failed, then closed. */
  lost(): void {
    if (this.#state === 'closed') return;
    this.#setState('failed');
    // A listener may have closed us on `failed` already.
    if (this.#state !== 'failed') return;
    this.#end();
  }

  /** @internal A state the worker reported. */
  reported(state: PeerState): void {
    if (this.#state === 'closed') return;
    if (state === 'closed') this.lost();
    else this.#setState(state);
  }

  /** @internal */
  iceCandidate(candidate: IceCandidate): void {
    if (this.#state === 'closed') return;
    this.emitIceCandidate(candidate);
  }

  /** @internal The far end opened a channel. False when it is one too many (the worker closes it). */
  remoteChannel(id: number, label: string): boolean {
    if (this.#state === 'closed' || this.#channels.size >= MAX_CHANNELS_PER_PEER) return false;
    const ch = new WorkerDataChannel(this, id, label);
    this.#track(id, ch);
    this.emitDataChannel(ch);
    return true;
  }

  /** @internal */
  forget(channelId: number): void {
    this.#channels.delete(channelId);
    this.gen.channels.delete(channelId);
  }

  #track(id: number, ch: WorkerDataChannel): void {
    this.#channels.set(id, ch);
    this.gen.channels.set(id, ch);
  }

  #end(): void {
    this.#state = 'closed';
    for (const ch of [...this.#channels.values()]) ch.ended();
    this.#factory.connectionClosed(this);
    this.emitState('closed');
  }

  #setState(state: PeerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emitState(state);
  }

  #needSdp(sdp: string | undefined): string {
    if (sdp !== undefined) return sdp;
    throw new RoomdError('transport.worker_message_invalid', {
      message: 'The media worker answered without a session description.',
    });
  }

  #request(body: Record<string, unknown> & { op: string }): Promise<ReplyBody> {
    if (this.#state === 'closed') return Promise.reject(closedError());
    return this.#factory.request(this, body);
  }
}
