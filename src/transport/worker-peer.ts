/**
 * Peer connections in a supervised media worker process (docs/decisions/0013-media-worker.md): the
 * factory and its supervision of the worker; the proxies are in worker-connection.ts and worker-channel.ts.
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
import { type Logger, silentLogger } from '../core/logger.ts';
import { type BackoffOptions, backoffDelay } from './backoff.ts';
import type { PeerConnection, PeerConnectionFactory, PeerConnectionOptions } from './peer.ts';
import { closedError } from './worker-channel.ts';
import {
  type ConnectionSupervisor,
  Generation,
  type ReplyBody,
  WorkerPeerConnection,
  workerGone,
} from './worker-connection.ts';
import {
  type MediaWorkerCounters,
  type MediaWorkerHealth,
  freshHealth,
  noWorkerCounters,
} from './worker-counters.ts';
import { decodeFromWorker, type FromWorker, MAX_ID, MAX_PEERS_PER_WORKER } from './worker-protocol.ts';
import { processWorkerLauncher, type WorkerLauncher } from './worker-process.ts';

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

export class WorkerPeerConnectionFactory implements PeerConnectionFactory, ConnectionSupervisor {
  readonly counters: MediaWorkerCounters = noWorkerCounters();
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #launch: WorkerLauncher;
  readonly #o: Required<Omit<WorkerPeerFactoryOptions, 'clock' | 'logger' | 'launcher'>>;
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
  #health: MediaWorkerHealth = freshHealth(undefined);
  #loggedInvalid = false;
  #loggedGuard = false;
  #lastDeath: { code: number | null; signal: string | null } | null = null;

  constructor(options: WorkerPeerFactoryOptions = {}) {
    this.#clock = options.clock ?? new SystemClock();
    this.#log = options.logger ?? silentLogger();
    this.#launch = options.launcher ?? processWorkerLauncher();
    this.#o = {
      recycleAfter: options.recycleAfter ?? 50,
      pingIntervalMs: options.pingIntervalMs ?? 2000,
      pingTimeoutMs: options.pingTimeoutMs ?? 10_000,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      backoff: options.backoff ?? { initialMs: 250, maxMs: 10_000 },
      stableMs: options.stableMs ?? 30_000,
      retireGraceMs: options.retireGraceMs ?? 2000,
    };
  }

  get openCount(): number {
    return this.#open;
  }

  /** The running worker's process id (undefined between workers). */
  get workerPid(): number | undefined {
    const gen = this.#gen;
    return gen?.ready === true ? gen.link?.pid : undefined;
  }

  /** The running worker's resident memory at its last health report (undefined before one, or between workers). */
  get workerRssBytes(): number | undefined {
    const pid = this.workerPid;
    return pid !== undefined && this.#health.pid === pid ? this.#health.rssBytes : undefined;
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
    gen.write({
      type: 'create-pc',
      pc: id,
      iceServers: options.iceServers ?? [],
      ...(options.iceTransportPolicy === undefined ? {} : { iceTransportPolicy: options.iceTransportPolicy }),
      ...(options.bridges === undefined || options.bridges.length === 0
        ? {}
        : { bridges: options.bridges.map((b) => ({ ...b })) }),
    });
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
  request(pc: WorkerPeerConnection, body: Record<string, unknown> & { op: string }): Promise<ReplyBody> {
    return pc.gen.request(pc, body, () => {
      const req = this.#nextReq;
      this.#nextReq = this.#nextReq >= MAX_ID ? 1 : this.#nextReq + 1;
      return req;
    });
  }

  /** @internal A connection closed (by us, by the worker, or with the worker). */
  connectionClosed(pc: WorkerPeerConnection): void {
    const gen = pc.gen;
    if (gen.peers.get(pc.id) !== pc) return;
    gen.peers.delete(pc.id);
    this.#open--;
    gen.rejectRequests(gen.dead ? workerGone : closedError, pc);
    if (gen.dead) return;
    gen.closedPeers++;
    this.#updateRef(gen);
    if (
      gen === this.#gen &&
      !gen.retiring &&
      gen.peers.size === 0 &&
      gen.closedPeers >= this.#o.recycleAfter &&
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
        gen.kill();
      }, this.#o.readyTimeoutMs),
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
      gen.kill();
    }
  }

  #dispatch(gen: Generation, m: FromWorker): void {
    const pc = 'pc' in m ? gen.peers.get(m.pc) : undefined;
    const ch = 'ch' in m ? gen.channels.get(m.ch) : undefined;
    try {
      if (m.type === 'ready') this.#ready(gen);
      else if (m.type === 'pong') {
        const health = gen.pong(m);
        if (health === undefined) this.counters.staleMessages++;
        else this.#health = health;
      } else gen.deliver(m, pc, ch, this.counters);
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
    this.#health = freshHealth(pid);
    if (gen === this.#gen) {
      for (const w of this.#readyWaiters.splice(0)) w(pid);
    }
    this.#updateRef(gen);
    gen.timers.push(this.#clock.setInterval(() => this.#ping(gen), this.#o.pingIntervalMs));
  }

  #ping(gen: Generation): void {
    if (gen.dead || gen.killed) return;
    if (gen.pingSentAt !== null) {
      if (this.#clock.monotonic() - gen.pingSentAt < this.#o.pingTimeoutMs) return;
      this.counters.hangs++;
      this.#log.warn({ pid: gen.link?.pid }, 'media worker stopped answering; killing it');
      gen.kill();
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
    gen.rejectRequests(workerGone);
    for (const pc of lostConnections) pc.lost();
  }

  /** Restart: at once the first time, then with back-off; a worker that lived long resets it. */
  #scheduleRestart(gen: Generation): void {
    if (gen.ready && this.#clock.monotonic() - gen.readyAt >= this.#o.stableMs) this.#attempts = 0;
    this.#attempts++;
    const delay = this.#attempts <= 1 ? 0 : backoffDelay(this.#attempts - 1, this.#o.backoff);
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
    gen.timers.push(this.#clock.setTimeout(() => gen.kill(), this.#o.retireGraceMs));
    this.#updateRef(gen);
  }

  #updateRef(gen: Generation): void {
    gen.updateRef(this.#readyWaiters.length > 0);
  }
}
