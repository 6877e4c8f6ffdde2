/**
 * The media worker's side of the pipe (docs/decisions/0013-media-worker.md): it holds the real peer
 * connections (a WrtcPeerConnectionFactory in the worker process, worker-main.ts) and does what
 * roomd asks, reporting back every event. Each data channel belongs to a ChannelOwner, so no send
 * is made after a close has started. It trusts roomd no more than roomd trusts it: every frame is
 * decoded totally, a bad one is counted and dropped, unknown ids are ignored and every count is
 * bounded (worker-protocol.ts).
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { ChannelOwner } from './channel-owner.ts';
import { ProgressReport } from './worker-progress.ts';
import type { PeerConnection, PeerConnectionFactory, PeerState } from './peer.ts';
import {
  decodeToWorker,
  encodeFromWorker,
  type FromWorker,
  FrameReader,
  MAX_CHANNELS_PER_PEER,
  MAX_ID,
  MAX_PEERS_PER_WORKER,
  type ToWorker,
} from './worker-protocol.ts';
import { MAX_DATA_CHANNEL_MESSAGE } from '../protocol/limits.ts';

export interface WorkerHostOptions {
  peers: PeerConnectionFactory;
  /** Writes one encoded frame to roomd. */
  write: (frame: Uint8Array) => void;
  clock: Clock;
  /** Called once when the host is done (roomd asked it to stop, or the stream broke). */
  exit: (code: number) => void;
  pid: number;
  /** Resident memory, reported in pongs. */
  memory?: () => number;
  /** One line for stderr (never message contents). */
  log?: (line: string) => void;
}

export interface WorkerHostCounters {
  /** Frames from roomd that failed to decode (dropped). */
  invalid: number;
  /** Frames naming a connection or channel that no longer exists (dropped; normal after a close). */
  stale: number;
  /** Messages from the far end over the 64 KiB limit (dropped: they cannot be framed). */
  oversized: number;
  /** Unexpected errors caught by the last-resort guard (that connection was closed). */
  guardTrips: number;
}

interface PeerEntry {
  id: number;
  pc: PeerConnection;
  channels: Set<number>;
}

interface OwnerEntry {
  id: number;
  peer: PeerEntry;
  owner: ChannelOwner;
  /** What roomd was told of its send progress, and when to tell it more (worker-progress.ts). */
  progress: ProgressReport;
}

/** How often channels with bytes still buffered in wrtc are checked for their drain. */
export const BUFFERED_POLL_MS = 5;

export class WorkerHost {
  readonly counters: WorkerHostCounters = { invalid: 0, stale: 0, oversized: 0, guardTrips: 0 };
  readonly #o: WorkerHostOptions;
  readonly #reader = new FrameReader();
  readonly #peers = new Map<number, PeerEntry>();
  readonly #channels = new Map<number, OwnerEntry>();
  readonly #dirty = new Set<OwnerEntry>();
  #nextRemoteChannel = -1;
  #poll: TimerHandle | null = null;
  /** When the pending check runs (clock.monotonic()). */
  #pollAt = 0;
  #done = false;
  #loggedInvalid = false;
  #loggedGuard = false;

  constructor(options: WorkerHostOptions) {
    this.#o = options;
  }

  start(): void {
    this.#emit({ type: 'ready', pid: this.#o.pid });
  }

  /** Bytes from roomd. */
  receive(chunk: Uint8Array): void {
    if (this.#done) return;
    const { bodies, error } = this.#reader.push(chunk);
    for (const body of bodies) {
      const decoded = decodeToWorker(body);
      if (!decoded.ok) {
        this.counters.invalid++;
        if (!this.#loggedInvalid) {
          this.#loggedInvalid = true;
          this.#log(`dropped a malformed frame from roomd: ${decoded.error.message}`);
        }
        continue;
      }
      const m = decoded.message;
      this.#guarded(this.#peerOf(m), () => this.#handle(m));
      if (this.#done) return;
    }
    this.#reportBuffered();
    if (error !== null) {
      this.#log(`the stream from roomd is broken (${error.message}); stopping`);
      this.stop(2);
    }
  }

  /** Closes every connection and exits (roomd asked, or its end of the pipe closed). */
  stop(code = 0): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#poll !== null) this.#o.clock.clear(this.#poll);
    this.#poll = null;
    for (const peer of [...this.#peers.values()]) this.#closePeer(peer);
    this.#o.exit(code);
  }

  #handle(m: ToWorker): void {
    switch (m.type) {
      case 'send': {
        const entry = this.#channels.get(m.ch);
        if (entry === undefined) {
          this.counters.stale++;
          return;
        }
        entry.owner.send(m.data);
        this.#dirty.add(entry);
        return;
      }
      case 'create-pc':
        this.#createPeer(m);
        return;
      case 'close-pc': {
        const peer = this.#peers.get(m.pc);
        if (peer === undefined) this.counters.stale++;
        else this.#closePeer(peer);
        return;
      }
      case 'create-channel':
        this.#createChannel(m);
        return;
      case 'close-channel': {
        const entry = this.#channels.get(m.ch);
        if (entry === undefined) {
          this.counters.stale++;
          return;
        }
        this.#forgetChannel(entry);
        entry.owner.close();
        return;
      }
      case 'request':
        void this.#request(m);
        return;
      case 'ping':
        this.#emit({
          type: 'pong',
          n: m.n,
          pcs: this.#peers.size,
          channels: this.#channels.size,
          invalid: this.counters.invalid,
          rssBytes: Math.max(0, Math.floor(this.#o.memory?.() ?? 0)),
        });
        return;
      case 'shutdown':
        this.stop(0);
        return;
    }
  }

  /** The connection a message is about, for the guard. */
  #peerOf(m: ToWorker): number | undefined {
    if (m.type === 'send' || m.type === 'close-channel') return this.#channels.get(m.ch)?.peer.id;
    return 'pc' in m ? m.pc : undefined;
  }

  #createPeer(m: Extract<ToWorker, { type: 'create-pc' }>): void {
    const id = m.pc;
    if (this.#peers.has(id)) {
      this.counters.invalid++;
      return;
    }
    if (this.#peers.size >= MAX_PEERS_PER_WORKER) {
      this.#emit({ type: 'pc-state', pc: id, state: 'closed' });
      return;
    }
    const pc = this.#o.peers.create({
      iceServers: m.iceServers.map((s) => ({
        urls: s.urls,
        ...(s.username === undefined ? {} : { username: s.username }),
        ...(s.credential === undefined ? {} : { credential: s.credential }),
      })),
      ...(m.iceTransportPolicy === undefined ? {} : { iceTransportPolicy: m.iceTransportPolicy }),
      ...(m.bridges === undefined ? {} : { bridges: m.bridges }),
    });
    const peer: PeerEntry = { id, pc, channels: new Set() };
    this.#peers.set(id, peer);
    const live = () => this.#peers.get(id) === peer;
    pc.onIceCandidate((candidate) => {
      if (live()) this.#emit({ type: 'ice', pc: id, candidate });
    });
    pc.onStateChange((state) => {
      if (live()) this.#guarded(id, () => this.#peerState(peer, state));
    });
    pc.onDataChannel((channel) => {
      if (!live() || peer.channels.size >= MAX_CHANNELS_PER_PEER || this.#nextRemoteChannel < -MAX_ID) {
        channel.close();
        return;
      }
      const ch = this.#nextRemoteChannel--;
      const entry = this.#own(peer, ch, channel);
      this.#emit({ type: 'datachannel', pc: id, ch, label: entry.owner.label.slice(0, 128) });
      this.#guarded(id, () => entry.owner.start());
    });
  }

  #peerState(peer: PeerEntry, state: PeerState): void {
    this.#emit({ type: 'pc-state', pc: peer.id, state });
    // A failed or closed connection sends nothing more: its channels stop now, before wrtc closes them.
    if (state === 'failed' || state === 'closed') {
      for (const ch of [...peer.channels]) this.#channels.get(ch)?.owner.detach();
    }
  }

  #createChannel(m: Extract<ToWorker, { type: 'create-channel' }>): void {
    const peer = this.#peers.get(m.pc);
    if (peer === undefined || this.#channels.has(m.ch) || peer.channels.size >= MAX_CHANNELS_PER_PEER) {
      if (peer === undefined) this.counters.stale++;
      this.#emit({ type: 'channel-closed', ch: m.ch });
      return;
    }
    let channel: ReturnType<PeerConnection['createDataChannel']>;
    try {
      channel = peer.pc.createDataChannel(m.label, {
        ordered: m.ordered,
        ...(m.maxRetransmits === undefined ? {} : { maxRetransmits: m.maxRetransmits }),
      });
    } catch (error) {
      // wrtc refuses a channel on a closing connection; roomd hears it closed.
      if (!(error instanceof Error && error.name === 'InvalidStateError')) throw error;
      this.#emit({ type: 'channel-closed', ch: m.ch });
      return;
    }
    this.#own(peer, m.ch, channel).owner.start();
  }

  #own(peer: PeerEntry, ch: number, channel: ReturnType<PeerConnection['createDataChannel']>): OwnerEntry {
    const entry: OwnerEntry = {
      id: ch,
      peer,
      owner: undefined as unknown as ChannelOwner,
      progress: new ProgressReport(),
    };
    const live = () => this.#channels.get(ch) === entry;
    entry.owner = new ChannelOwner(channel, {
      open: () => {
        if (live()) this.#emit({ type: 'channel-open', ch });
      },
      message: (data) => {
        if (!live()) return;
        if (data.byteLength > MAX_DATA_CHANNEL_MESSAGE) {
          this.counters.oversized++;
          return;
        }
        this.#emit({ type: 'message', ch, data });
      },
      closed: () => {
        if (!live()) return;
        this.#forgetChannel(entry);
        this.#emit({ type: 'channel-closed', ch });
      },
    });
    this.#channels.set(ch, entry);
    peer.channels.add(ch);
    return entry;
  }

  #forgetChannel(entry: OwnerEntry): void {
    if (this.#channels.get(entry.id) === entry) this.#channels.delete(entry.id);
    entry.peer.channels.delete(entry.id);
    this.#dirty.delete(entry);
  }

  #closePeer(peer: PeerEntry): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    // Owners stop first (no send after this), silently: roomd already counts them closed.
    for (const ch of [...peer.channels]) {
      const entry = this.#channels.get(ch);
      if (entry === undefined) continue;
      this.#forgetChannel(entry);
      entry.owner.detach();
    }
    peer.pc.close();
  }

  async #request(m: Extract<ToWorker, { type: 'request' }>): Promise<void> {
    const peer = this.#peers.get(m.pc);
    if (peer === undefined) {
      this.counters.stale++;
      this.#emit({ type: 'reply', req: m.req, ok: false, message: 'The connection is closed.' });
      return;
    }
    // Every outcome of the wrtc call is the reply: a rejection is roomd's to handle, not ours.
    try {
      switch (m.op) {
        case 'create-offer': {
          const offer = await peer.pc.createOffer();
          this.#emit({ type: 'reply', req: m.req, ok: true, sdp: offer.sdp });
          return;
        }
        case 'accept-offer': {
          const answer = await peer.pc.acceptOffer({ type: 'offer', sdp: m.sdp });
          this.#emit({ type: 'reply', req: m.req, ok: true, sdp: answer.sdp });
          return;
        }
        case 'accept-answer':
          await peer.pc.acceptAnswer({ type: 'answer', sdp: m.sdp });
          break;
        case 'add-ice':
          await peer.pc.addIceCandidate(m.candidate);
          break;
        case 'get-path':
          this.#emit({ type: 'reply', req: m.req, ok: true, path: await peer.pc.path() });
          return;
      }
      this.#emit({ type: 'reply', req: m.req, ok: true });
    } catch (error) {
      const message = error instanceof Error ? error.message : 'The request failed.';
      this.#emit({ type: 'reply', req: m.req, ok: false, message: message.slice(0, 500) });
    }
  }

  /**
   * Checks the send progress of channels that sent or still hold bytes, reports what is due
   * (worker-progress.ts bounds what roomd's figure may over-count), and sets the next check: in
   * BUFFERED_POLL_MS while wrtc holds bytes, else when the oldest unreported change is due.
   */
  #reportBuffered(): void {
    const now = this.#o.clock.monotonic();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#dirty) {
      const buffered = entry.owner.bufferedAmount;
      const taken = entry.owner.taken;
      if (entry.progress.check(taken, buffered, now))
        this.#emit({ type: 'buffered', ch: entry.id, taken, buffered });
      if (buffered > 0) next = Math.min(next, BUFFERED_POLL_MS);
      else if (entry.progress.settled) this.#dirty.delete(entry);
      else next = Math.min(next, entry.progress.dueIn(now));
    }
    if (this.#poll !== null && (next === Number.POSITIVE_INFINITY || this.#pollAt > now + next)) {
      this.#o.clock.clear(this.#poll);
      this.#poll = null;
    }
    if (this.#poll === null && next < Number.POSITIVE_INFINITY && !this.#done) {
      const delay = Math.max(1, next);
      this.#pollAt = now + delay;
      this.#poll = this.#o.clock.setTimeout(() => {
        this.#poll = null;
        this.#reportBuffered();
      }, delay);
    }
  }

  /**
   * Last-resort guard around wrtc callbacks and channel set-up: an unexpected error closes that one
   * connection (roomd hears it closed), is counted and logged once, and the worker carries on.
   */
  #guarded(pcId: number | undefined, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.counters.guardTrips++;
      if (!this.#loggedGuard) {
        this.#loggedGuard = true;
        this.#log(
          `unexpected error, closing that connection: ${error instanceof Error ? error.name : 'non-error'}`,
        );
      }
      if (pcId === undefined) return;
      const peer = this.#peers.get(pcId);
      if (peer !== undefined) this.#closePeer(peer);
      this.#emit({ type: 'pc-state', pc: pcId, state: 'closed' });
    }
  }

  #emit(m: FromWorker): void {
    if (this.#done) return;
    let frame: Uint8Array;
    try {
      frame = encodeFromWorker(m);
    } catch (error) {
      // An SDP over the limit: roomd hears the request failed instead.
      if (!(error instanceof RoomdError) || error.code !== 'transport.message_too_large') throw error;
      if (m.type === 'reply') this.#emit({ type: 'reply', req: m.req, ok: false, message: error.message });
      return;
    }
    this.#o.write(frame);
  }

  #log(line: string): void {
    this.#o.log?.(`roomd media worker: ${line}`);
  }
}
