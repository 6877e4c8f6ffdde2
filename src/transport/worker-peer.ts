/**
 * Peer connections in a supervised media worker process (docs/decisions/0013-media-worker.md).
 * @roamhq/wrtc can crash the process that hosts it (a native data race when the far end closes a
 * channel we are sending on); in the room that process would be the whole daemon. This factory keeps
 * wrtc in a child process (worker-main.ts) and gives roomd proxies with the same interface:
 *
 * - State is mirrored synchronously from the worker's events: `state`, `readyState` and
 *   `bufferedAmount` (bytes still on their way to the worker, plus what wrtc holds) answer at once.
 * - When the worker dies every connection it held reports `failed`, its channels close, then it
 *   reports `closed`; callers open new ones (transport/relay-client.ts does). The worker is started
 *   again with back-off, answered health pings keep it, a hung one is killed.
 * - After `recycleAfter` closed connections, once it holds none, the worker is replaced by a fresh
 *   one: wrtc leaks a little per connection, a worker's lifetime bounds it.
 * - Whatever the worker writes is decoded totally (worker-protocol.ts); a bad frame is counted and
 *   dropped, a broken stream kills the worker, nothing it sends can throw in roomd.
 */
import { type Clock, SystemClock, type TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { MAX_DATA_CHANNEL_MESSAGE } from '../protocol/limits.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import type {
  ChannelState,
  DataChannel,
  DataChannelOptions,
  IceCandidate,
  PeerConnection,
  PeerConnectionFactory,
  PeerConnectionOptions,
  PeerState,
  SessionDescription,
} from './peer.ts';
import {
  decodeFromWorker,
  encodeToWorker,
  type FromWorker,
  FrameReader,
  MAX_CHANNELS_PER_PEER,
  MAX_ID,
  MAX_PEERS_PER_WORKER,
  MAX_PENDING_REQUESTS,
  type ToWorker,
} from './worker-protocol.ts';
import { processWorkerLauncher, type WorkerLauncher, type WorkerLink } from './worker-process.ts';

export type { WorkerLauncher, WorkerLink } from './worker-process.ts';

export interface WorkerPeerFactoryOptions {
  clock?: Clock;
  logger?: Logger;
  /** How a worker is started (default: a child process; tests run one in-process). */
  launcher?: WorkerLauncher;
  /** Replace the worker after this many closed connections, once it holds none (default 50). */
  recycleAfter?: number;
  /** Health ping period (default 2 s) and how long an answer may take (default 10 s). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  /** How long a new worker may take to say it is ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Restart back-off after the first, immediate restart (default 250 ms doubling to 10 s). */
  backoff?: BackoffOptions;
  /** A worker that lived this long resets the back-off (default 30 s). */
  stableMs?: number;
  /** How long a retiring worker gets to exit before it is killed (default 2 s). */
  retireGraceMs?: number;
}

/** What the supervisor saw, since the factory was made (for /metrics and the stress benchmark). */
export interface MediaWorkerCounters {
  /** Workers started, in all. */
  starts: number;
  /** Of those, started to replace one that died. */
  restarts: number;
  /** Workers replaced after `recycleAfter` closed connections. */
  recycles: number;
  /** Workers that died unasked (crashed, killed, hung and killed, broken stream). */
  deaths: number;
  /** Workers killed for not answering a health ping or not starting in time. */
  hangs: number;
  /** Frames from a worker that failed to decode (dropped). */
  invalidMessages: number;
  /** Frames about a connection, channel or request already gone (dropped; normal after a close). */
  staleMessages: number;
  /** Unexpected errors in our listeners, caught by the last-resort guard (that connection closed). */
  guardTrips: number;
}

/** What the last pong said (the worker's own view). */
export interface MediaWorkerHealth {
  pid: number | undefined;
  connections: number;
  channels: number;
  rssBytes: number;
  invalidFromRoomd: number;
}

/** A channel whose bytes in flight to the worker reach this closes, as a wrtc channel with a full buffer does. */
export const MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

const workerGone = () =>
  new RoomdError('transport.worker_failed', { message: 'The media worker stopped; the connection is gone.' });
const closedError = () => new RoomdError('transport.closed', { message: 'The connection is closed.' });

interface Pending {
  pc: WorkerPeerConnection;
  resolve: (sdp: string | undefined) => void;
  reject: (error: RoomdError) => void;
}

/** One worker process and everything it holds. */
class Generation {
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
}

export class WorkerDataChannel implements DataChannel {
  readonly label: string;
  readonly #pc: WorkerPeerConnection;
  readonly #id: number;
  #state: ChannelState = 'connecting';
  #sent = 0;
  #taken = 0;
  #workerBuffered = 0;
  readonly #open: (() => void)[] = [];
  readonly #message: ((d: Uint8Array) => void)[] = [];
  readonly #close: (() => void)[] = [];

  constructor(pc: WorkerPeerConnection, id: number, label: string) {
    this.#pc = pc;
    this.#id = id;
    this.label = label;
  }

  get readyState(): ChannelState {
    return this.#state;
  }

  /** @internal The connection this channel belongs to. */
  get connection(): WorkerPeerConnection {
    return this.#pc;
  }

  /** Bytes sent and not yet taken by the worker, plus what wrtc in the worker still holds. */
  get bufferedAmount(): number {
    return this.#state === 'open' ? this.#sent - this.#taken + this.#workerBuffered : 0;
  }

  send(data: Uint8Array): void {
    if (this.#state !== 'open') throw closedError();
    if (data.byteLength > MAX_DATA_CHANNEL_MESSAGE) {
      throw new RoomdError('transport.message_too_large', {
        message: `A data-channel message of ${data.byteLength} bytes is over the 64 KiB limit and was not sent.`,
        context: { size: data.byteLength, limit: MAX_DATA_CHANNEL_MESSAGE },
      });
    }
    if (this.#sent - this.#taken + data.byteLength > MAX_IN_FLIGHT_BYTES) {
      this.close();
      throw closedError();
    }
    this.#sent += data.byteLength;
    this.#pc.gen.write({ type: 'send', ch: this.#id, data });
  }

  onOpen(listener: () => void): void {
    this.#open.push(listener);
  }
  onMessage(listener: (data: Uint8Array) => void): void {
    this.#message.push(listener);
  }
  onClose(listener: () => void): void {
    this.#close.push(listener);
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#pc.gen.write({ type: 'close-channel', ch: this.#id });
    this.ended();
  }

  /** @internal The worker says it opened. */
  opened(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    for (const l of this.#open) l();
  }

  /** @internal One message from the far end (a copy: the read buffer is not ours to keep). */
  received(data: Uint8Array): void {
    if (this.#state !== 'open') return;
    const copy = data.slice();
    for (const l of this.#message) l(copy);
  }

  /** @internal Send progress; false when it contradicts what we sent (a bad report, ignored). */
  progress(taken: number, buffered: number): boolean {
    if (taken < this.#taken || taken > this.#sent) return false;
    this.#taken = taken;
    this.#workerBuffered = buffered;
    return true;
  }

  /** @internal Closed by anyone: no more events but this one. */
  ended(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#pc.forget(this.#id);
    for (const l of this.#close) l();
  }
}

export class WorkerPeerConnection implements PeerConnection {
  readonly gen: Generation;
  readonly #id: number;
  readonly #factory: WorkerPeerConnectionFactory;
  readonly #channels = new Map<number, WorkerDataChannel>();
  #state: PeerState = 'new';
  readonly #ice: ((c: IceCandidate) => void)[] = [];
  readonly #dc: ((c: DataChannel) => void)[] = [];
  readonly #stateListeners: ((s: PeerState) => void)[] = [];

  /** @internal */
  constructor(gen: Generation, id: number, factory: WorkerPeerConnectionFactory) {
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
    const sdp = await this.#request({ op: 'create-offer' });
    return { type: 'offer', sdp: this.#needSdp(sdp) };
  }

  async acceptOffer(offer: SessionDescription): Promise<SessionDescription> {
    const sdp = await this.#request({ op: 'accept-offer', sdp: offer.sdp });
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

  onIceCandidate(listener: (candidate: IceCandidate) => void): void {
    this.#ice.push(listener);
  }
  onDataChannel(listener: (channel: DataChannel) => void): void {
    this.#dc.push(listener);
  }
  onStateChange(listener: (state: PeerState) => void): void {
    this.#stateListeners.push(listener);
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
    for (const l of this.#ice) l(candidate);
  }

  /** @internal The far end opened a channel. False when it is one too many (the worker closes it). */
  remoteChannel(id: number, label: string): boolean {
    if (this.#state === 'closed' || this.#channels.size >= MAX_CHANNELS_PER_PEER) return false;
    const ch = new WorkerDataChannel(this, id, label);
    this.#track(id, ch);
    for (const l of this.#dc) l(ch);
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
    for (const l of this.#stateListeners) l('closed');
  }

  #setState(state: PeerState): void {
    if (this.#state === state) return;
    this.#state = state;
    for (const l of this.#stateListeners) l(state);
  }

  #needSdp(sdp: string | undefined): string {
    if (sdp !== undefined) return sdp;
    throw new RoomdError('transport.worker_message_invalid', {
      message: 'The media worker answered without a session description.',
    });
  }

  #request(body: Record<string, unknown> & { op: string }): Promise<string | undefined> {
    if (this.#state === 'closed') return Promise.reject(closedError());
    return this.#factory.request(this, body);
  }
}

export class WorkerPeerConnectionFactory implements PeerConnectionFactory {
  readonly counters: MediaWorkerCounters = {
    starts: 0,
    restarts: 0,
    recycles: 0,
    deaths: 0,
    hangs: 0,
    invalidMessages: 0,
    staleMessages: 0,
    guardTrips: 0,
  };
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #launch: WorkerLauncher;
  readonly #recycleAfter: number;
  readonly #pingIntervalMs: number;
  readonly #pingTimeoutMs: number;
  readonly #readyTimeoutMs: number;
  readonly #backoff: BackoffOptions;
  readonly #stableMs: number;
  readonly #retireGraceMs: number;
  #gen: Generation | undefined;
  readonly #retiring = new Set<Generation>();
  #open = 0;
  #nextPc = 1;
  #nextChannel = 1;
  #nextReq = 1;
  #attempts = 0;
  #restartTimer: TimerHandle | null = null;
  #closed = false;
  #readyWaiters: ((pid: number) => void)[] = [];
  #health: MediaWorkerHealth = {
    pid: undefined,
    connections: 0,
    channels: 0,
    rssBytes: 0,
    invalidFromRoomd: 0,
  };
  #loggedInvalid = false;
  #loggedGuard = false;
  #lastDeath: { code: number | null; signal: string | null } | null = null;

  constructor(options: WorkerPeerFactoryOptions = {}) {
    this.#clock = options.clock ?? new SystemClock();
    this.#log = options.logger ?? silentLogger();
    this.#launch = options.launcher ?? processWorkerLauncher();
    this.#recycleAfter = options.recycleAfter ?? 50;
    this.#pingIntervalMs = options.pingIntervalMs ?? 2000;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 10_000;
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
    this.#backoff = options.backoff ?? { initialMs: 250, maxMs: 10_000 };
    this.#stableMs = options.stableMs ?? 30_000;
    this.#retireGraceMs = options.retireGraceMs ?? 2000;
  }

  get openCount(): number {
    return this.#open;
  }

  /** The running worker's process id (undefined between workers). */
  get workerPid(): number | undefined {
    const gen = this.#gen;
    return gen?.ready === true ? gen.link?.pid : undefined;
  }

  /** The last health report of the running worker. */
  get health(): MediaWorkerHealth {
    return this.#health;
  }

  /** How the last worker that died unasked ended (exit code or signal), for logs and benchmarks. */
  get lastDeath(): { code: number | null; signal: string | null } | null {
    return this.#lastDeath;
  }

  /** Starts a worker if none runs and resolves with its pid once it said it is ready. */
  ready(): Promise<number> {
    if (this.#closed) return Promise.reject(closedError());
    const gen = this.#current();
    const pid = gen.link?.pid;
    if (gen.ready && pid !== undefined) return Promise.resolve(pid);
    return new Promise((resolve) => {
      this.#readyWaiters.push(resolve);
      this.#updateRef(gen);
    });
  }

  create(options: PeerConnectionOptions = {}): PeerConnection {
    if (this.#closed) throw closedError();
    const gen = this.#current();
    const id = this.#nextPc;
    this.#nextPc = this.#nextPc >= MAX_ID ? 1 : this.#nextPc + 1;
    const pc = new WorkerPeerConnection(gen, id, this);
    this.#open++;
    if (gen.peers.size >= MAX_PEERS_PER_WORKER) {
      // One too many for a worker: it fails as a connection to a dead worker does, once listened to.
      gen.peers.set(id, pc);
      this.#clock.setTimeout(() => pc.lost(), 0);
      return pc;
    }
    gen.peers.set(id, pc);
    gen.write({ type: 'create-pc', pc: id, iceServers: options.iceServers ?? [] });
    this.#updateRef(gen);
    return pc;
  }

  /** Closes every connection and stops the worker; resolves when it has exited. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#restartTimer !== null) this.#clock.clear(this.#restartTimer);
    this.#restartTimer = null;
    const gen = this.#gen;
    this.#gen = undefined;
    if (gen !== undefined) {
      for (const pc of [...gen.peers.values()]) pc.close();
      this.#retire(gen);
    }
    await Promise.all(
      [...this.#retiring].map(
        (g) =>
          new Promise<void>((resolve) => {
            g.exitWaiters.push(resolve);
            this.#updateRef(g);
          }),
      ),
    );
  }

  /** @internal */
  nextChannelId(): number {
    const id = this.#nextChannel;
    this.#nextChannel = this.#nextChannel >= MAX_ID ? 1 : this.#nextChannel + 1;
    return id;
  }

  /** @internal */
  request(
    pc: WorkerPeerConnection,
    body: Record<string, unknown> & { op: string },
  ): Promise<string | undefined> {
    const gen = pc.gen;
    if (gen.dead) return Promise.reject(workerGone());
    if (gen.requests.size >= MAX_PENDING_REQUESTS) {
      return Promise.reject(
        new RoomdError('transport.open_failed', {
          message: 'Too many requests are waiting for the media worker.',
        }),
      );
    }
    const req = this.#nextReq;
    this.#nextReq = this.#nextReq >= MAX_ID ? 1 : this.#nextReq + 1;
    return new Promise((resolve, reject) => {
      gen.requests.set(req, { pc, resolve, reject });
      gen.write({ type: 'request', req, pc: pc.id, ...body } as ToWorker);
    });
  }

  /** @internal A connection closed (by us, by the worker, or with the worker). */
  connectionClosed(pc: WorkerPeerConnection): void {
    const gen = pc.gen;
    if (gen.peers.get(pc.id) !== pc) return;
    gen.peers.delete(pc.id);
    this.#open--;
    for (const [req, p] of gen.requests) {
      if (p.pc !== pc) continue;
      gen.requests.delete(req);
      p.reject(gen.dead ? workerGone() : closedError());
    }
    if (gen.dead) return;
    gen.closedPeers++;
    this.#updateRef(gen);
    if (
      gen === this.#gen &&
      !gen.retiring &&
      gen.peers.size === 0 &&
      gen.closedPeers >= this.#recycleAfter &&
      !this.#closed
    ) {
      // Replace it now, while it holds nothing; the next connection goes to a fresh worker.
      this.counters.recycles++;
      this.#gen = undefined;
      this.#retire(gen);
      this.#log.info({ closed: gen.closedPeers }, 'media worker recycled');
      this.#current();
    }
  }

  /**
   * The generation new connections go to, running. The back-off only delays a restart nobody is
   * waiting for (it spares the CPU a crash loop); a connection asked for starts the worker at once
   * — callers open connections again with back-offs of their own.
   */
  #current(): Generation {
    const gen = this.#gen;
    if (gen === undefined) {
      const fresh = new Generation();
      this.#gen = fresh;
      this.#spawn(fresh);
      return fresh;
    }
    if (gen.link === undefined) this.#restart(gen);
    return gen;
  }

  #spawn(gen: Generation): void {
    if (gen.dead || gen.link !== undefined) return;
    const link = this.#launch();
    gen.link = link;
    this.counters.starts++;
    link.onData((chunk) => this.#receive(gen, chunk));
    link.onExit((how) => this.#exited(gen, how));
    for (const frame of gen.queue.splice(0)) link.write(frame);
    gen.referenced = true;
    this.#updateRef(gen);
    gen.timers.push(
      this.#clock.setTimeout(() => {
        if (gen.ready || gen.dead || gen.killed) return;
        this.counters.hangs++;
        this.#log.warn({ pid: link.pid }, 'media worker did not start in time; killing it');
        this.#kill(gen);
      }, this.#readyTimeoutMs),
    );
  }

  #receive(gen: Generation, chunk: Uint8Array): void {
    if (gen.dead) return;
    const { bodies, error } = gen.reader.push(chunk);
    for (const body of bodies) {
      const decoded = decodeFromWorker(body);
      if (!decoded.ok) {
        this.counters.invalidMessages++;
        if (!this.#loggedInvalid) {
          this.#loggedInvalid = true;
          this.#log.warn({ err: decoded.error.message }, 'dropped a malformed frame from the media worker');
        }
        continue;
      }
      this.#dispatch(gen, decoded.message);
      if (gen.dead) return;
    }
    if (error !== null) {
      this.counters.invalidMessages++;
      this.#log.warn({ err: error.message }, 'the media worker stream is broken; killing the worker');
      this.#kill(gen);
    }
  }

  #dispatch(gen: Generation, m: FromWorker): void {
    const pc = 'pc' in m ? gen.peers.get(m.pc) : undefined;
    const ch = 'ch' in m ? gen.channels.get(m.ch) : undefined;
    try {
      switch (m.type) {
        case 'message':
          if (ch === undefined) this.counters.staleMessages++;
          else ch.received(m.data);
          return;
        case 'buffered':
          if (ch === undefined) this.counters.staleMessages++;
          else if (!ch.progress(m.taken, m.buffered)) this.counters.invalidMessages++;
          return;
        case 'reply': {
          const p = gen.requests.get(m.req);
          if (p === undefined) {
            this.counters.staleMessages++;
            return;
          }
          gen.requests.delete(m.req);
          if (m.ok) p.resolve(m.sdp);
          else p.reject(new RoomdError('transport.open_failed', { message: m.message }));
          return;
        }
        case 'pc-state':
          if (pc === undefined) this.counters.staleMessages++;
          else pc.reported(m.state);
          return;
        case 'ice':
          if (pc === undefined) this.counters.staleMessages++;
          else pc.iceCandidate(m.candidate);
          return;
        case 'datachannel':
          if (pc === undefined || gen.channels.has(m.ch)) {
            if (pc === undefined) this.counters.staleMessages++;
            else this.counters.invalidMessages++;
            gen.write({ type: 'close-channel', ch: m.ch });
          } else if (!pc.remoteChannel(m.ch, m.label)) {
            gen.write({ type: 'close-channel', ch: m.ch });
          }
          return;
        case 'channel-open':
          if (ch === undefined) this.counters.staleMessages++;
          else ch.opened();
          return;
        case 'channel-closed':
          if (ch === undefined) this.counters.staleMessages++;
          else ch.ended();
          return;
        case 'ready':
          this.#ready(gen);
          return;
        case 'pong':
          if (m.n !== gen.pingN) {
            this.counters.staleMessages++;
            return;
          }
          gen.pingSentAt = null;
          this.#health = {
            pid: gen.link?.pid,
            connections: m.pcs,
            channels: m.channels,
            rssBytes: m.rssBytes,
            invalidFromRoomd: m.invalid,
          };
          return;
      }
    } catch (error) {
      // Last-resort guard: a listener of ours threw while handling a worker event. That connection
      // closes (its owner reconnects), the others carry on; counted, logged once.
      this.counters.guardTrips++;
      if (!this.#loggedGuard) {
        this.#loggedGuard = true;
        this.#log.error(
          { event: m.type, error: error instanceof Error ? error.name : typeof error },
          'a media connection listener failed; that connection was closed',
        );
      }
      (pc ?? ch?.connection)?.close();
    }
  }

  #ready(gen: Generation): void {
    if (gen.ready) {
      this.counters.invalidMessages++;
      return;
    }
    gen.ready = true;
    gen.readyAt = this.#clock.monotonic();
    const pid = gen.link?.pid ?? 0;
    // A new worker: nothing of the last one's report holds for it.
    this.#health = { pid, connections: 0, channels: 0, rssBytes: 0, invalidFromRoomd: 0 };
    if (gen === this.#gen) {
      for (const w of this.#readyWaiters.splice(0)) w(pid);
    }
    this.#updateRef(gen);
    gen.timers.push(this.#clock.setInterval(() => this.#ping(gen), this.#pingIntervalMs));
  }

  #ping(gen: Generation): void {
    if (gen.dead || gen.killed) return;
    if (gen.pingSentAt !== null) {
      if (this.#clock.monotonic() - gen.pingSentAt < this.#pingTimeoutMs) return;
      this.counters.hangs++;
      this.#log.warn({ pid: gen.link?.pid }, 'media worker stopped answering; killing it');
      this.#kill(gen);
      return;
    }
    gen.pingN = gen.pingN >= MAX_ID ? 1 : gen.pingN + 1;
    gen.pingSentAt = this.#clock.monotonic();
    gen.write({ type: 'ping', n: gen.pingN });
  }

  #exited(gen: Generation, how: { code: number | null; signal: string | null }): void {
    if (gen.dead) return;
    gen.dead = true;
    for (const t of gen.timers) this.#clock.clear(t);
    gen.timers = [];
    this.#retiring.delete(gen);
    for (const w of gen.exitWaiters.splice(0)) w();
    const lostConnections = [...gen.peers.values()];
    if (!gen.retiring) {
      this.counters.deaths++;
      this.#lastDeath = { code: how.code, signal: how.signal };
      this.#log.warn(
        { code: how.code, signal: how.signal, connections: lostConnections.length },
        'media worker died; its connections failed',
      );
    }
    // The next worker is in place before anyone hears of the loss, so a connection opened from a
    // listener goes to it.
    if (this.#gen === gen && !this.#closed) this.#scheduleRestart(gen);
    else if (this.#gen === gen) this.#gen = undefined;
    for (const [req, p] of gen.requests) {
      gen.requests.delete(req);
      p.reject(workerGone());
    }
    for (const pc of lostConnections) pc.lost();
  }

  /** Restart: at once the first time, then with back-off; a worker that lived long resets it. */
  #scheduleRestart(gen: Generation): void {
    if (gen.ready && this.#clock.monotonic() - gen.readyAt >= this.#stableMs) this.#attempts = 0;
    this.#attempts++;
    const delay = this.#attempts <= 1 ? 0 : backoffDelay(this.#attempts - 1, this.#backoff);
    const next = new Generation();
    this.#gen = next;
    if (delay === 0) {
      this.#restart(next);
      return;
    }
    this.#restartTimer = this.#clock.setTimeout(() => this.#restart(next), delay);
  }

  #restart(next: Generation): void {
    if (this.#restartTimer !== null) this.#clock.clear(this.#restartTimer);
    this.#restartTimer = null;
    if (this.#gen !== next || this.#closed || next.link !== undefined) return;
    this.counters.restarts++;
    this.#spawn(next);
  }

  #retire(gen: Generation): void {
    if (gen.dead || gen.retiring) return;
    gen.retiring = true;
    if (gen.link === undefined) {
      // Never started: nothing to stop.
      gen.dead = true;
      for (const w of gen.exitWaiters.splice(0)) w();
      return;
    }
    this.#retiring.add(gen);
    gen.write({ type: 'shutdown' });
    gen.timers.push(this.#clock.setTimeout(() => this.#kill(gen), this.#retireGraceMs));
    this.#updateRef(gen);
  }

  /** Kills a worker once; its exit (reported by the link) is what fails its connections. */
  #kill(gen: Generation): void {
    if (gen.killed || gen.dead) return;
    gen.killed = true;
    gen.link?.kill('SIGKILL');
  }

  /** A worker keeps roomd running only while it holds connections, or someone awaits it. */
  #updateRef(gen: Generation): void {
    const want = gen.retiring
      ? gen.exitWaiters.length > 0
      : gen.peers.size > 0 || (!gen.ready && this.#readyWaiters.length > 0);
    if (gen.link === undefined || gen.referenced === want) return;
    gen.referenced = want;
    if (want) gen.link.ref();
    else gen.link.unref();
  }
}
