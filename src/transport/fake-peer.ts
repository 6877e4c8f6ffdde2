/**
 * In-memory PeerConnectionFactory for unit tests (every OS touchpoint has a fake).
 * Offers name the offering connection; accepting an offer links the two and mirrors the offerer's
 * channels on the answerer. Messages are delivered on a later macrotask; a paused channel keeps them
 * queued so its `bufferedAmount` grows, which is how tests make a slow receiver.
 */
import { RoomdError } from '../core/errors.ts';
import type { ChannelState, DataChannel, DataChannelOptions, IceCandidate } from './peer.ts';
import type {
  MediaPath,
  PeerConnection,
  PeerConnectionFactory,
  PeerState,
  SessionDescription,
} from './peer.ts';
import { ChannelEvents, PeerEvents } from './peer-events.ts';

export class FakeDataChannel extends ChannelEvents implements DataChannel {
  readonly label: string;
  readonly options: DataChannelOptions;
  readyState: ChannelState = 'connecting';
  remote: FakeDataChannel | undefined;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #paused = false;
  #scheduled = false;
  /** Everything sent on this end, for assertions. */
  readonly sent: Uint8Array[] = [];

  constructor(label: string, options: DataChannelOptions) {
    super();
    this.label = label;
    this.options = options;
  }

  get bufferedAmount(): number {
    return this.#buffered;
  }

  send(data: Uint8Array): void {
    if (this.readyState !== 'open')
      throw new RoomdError('transport.closed', { message: 'The fake channel is not open.' });
    const copy = data.slice();
    this.sent.push(copy);
    this.#queue.push(copy);
    this.#buffered += copy.byteLength;
    this.#schedule();
  }

  /** Stop delivering (the receiver is slow); queued bytes count in bufferedAmount. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  close(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.#queue = [];
    this.#buffered = 0;
    this.emitClose();
    this.remote?.close();
  }

  markOpen(): void {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this.emitOpen();
  }

  deliver(data: Uint8Array): void {
    this.emitMessage(data);
  }

  #schedule(): void {
    if (this.#scheduled || this.#paused) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      while (!this.#paused && this.#queue.length > 0 && this.readyState === 'open') {
        const next = this.#queue.shift()!;
        this.#buffered -= next.byteLength;
        this.remote?.deliver(next);
      }
    });
  }
}

export class FakePeerConnection extends PeerEvents implements PeerConnection {
  readonly id: string;
  state: PeerState = 'new';
  peer: FakePeerConnection | undefined;
  readonly channels: FakeDataChannel[] = [];
  readonly #net: FakePeerNetwork;

  constructor(id: string, net: FakePeerNetwork) {
    super();
    this.id = id;
    this.#net = net;
  }

  createDataChannel(label: string, options: DataChannelOptions): DataChannel {
    const ch = new FakeDataChannel(label, options);
    this.channels.push(ch);
    return ch;
  }

  async createOffer(): Promise<SessionDescription> {
    this.#setState('connecting');
    this.#emitCandidate();
    return { type: 'offer', sdp: `fake-offer ${this.id}` };
  }

  async acceptOffer(offer: SessionDescription): Promise<SessionDescription> {
    const offerer = this.#net.byId(offer.sdp.replace(/^fake-offer /, ''));
    if (offerer === undefined || offerer.state === 'closed') {
      throw new RoomdError('transport.open_failed', { message: 'The fake offer names no open connection.' });
    }
    this.peer = offerer;
    this.#setState('connecting');
    this.#emitCandidate();
    return { type: 'answer', sdp: `fake-answer ${this.id}` };
  }

  async acceptAnswer(answer: SessionDescription): Promise<void> {
    const answerer = this.#net.byId(answer.sdp.replace(/^fake-answer /, ''));
    if (answerer === undefined || answerer.peer !== this) {
      throw new RoomdError('transport.open_failed', {
        message: 'The fake answer does not match this offer.',
      });
    }
    this.peer = answerer;
    setImmediate(() => this.#connect(answerer));
  }

  async addIceCandidate(_candidate: IceCandidate): Promise<void> {}

  /** Connected fakes say `path` (default direct UDP). */
  async path(): Promise<MediaPath | null> {
    return this.state === 'connected' ? this.fakePath : null;
  }

  /** What `path()` says once connected. */
  fakePath: MediaPath = 'direct-udp';

  close(): void {
    if (this.state === 'closed') return;
    for (const ch of this.channels) ch.close();
    this.#setState('closed');
    this.#net.released(this);
    const peer = this.peer;
    if (peer !== undefined && peer.state !== 'closed') peer.remoteClosed();
  }

  /**
   * This end dies as a connection in a crashed media worker does: `failed`, then its channels close.
   * The far end is not told and stays as it is (wrtc may never notice); what it sends goes nowhere.
   */
  fail(): void {
    if (this.state === 'closed') return;
    for (const ch of this.channels) {
      if (ch.remote !== undefined) ch.remote.remote = undefined;
      ch.remote = undefined;
    }
    this.peer = undefined;
    this.#setState('failed');
    for (const ch of this.channels) ch.close();
    this.#net.released(this);
  }

  remoteClosed(): void {
    for (const ch of this.channels) ch.close();
    this.#setState('disconnected');
  }

  #connect(answerer: FakePeerConnection): void {
    if (this.state === 'closed' || answerer.state === 'closed') return;
    for (const mine of this.channels) {
      const theirs = new FakeDataChannel(mine.label, mine.options);
      theirs.remote = mine;
      mine.remote = theirs;
      answerer.channels.push(theirs);
      answerer.emitDataChannel(theirs);
    }
    this.#setState('connected');
    answerer.#setState('connected');
    for (const mine of this.channels) {
      mine.markOpen();
      mine.remote?.markOpen();
    }
  }

  #emitCandidate(): void {
    const c = { candidate: `candidate:fake ${this.id}`, sdpMid: '0', sdpMLineIndex: 0 };
    setImmediate(() => {
      this.emitIceCandidate(c);
    });
  }

  #setState(s: PeerState): void {
    if (this.state === s) return;
    this.state = s;
    this.emitState(s);
  }
}

/** One in-memory "network": client and relay in a test share it. */
export class FakePeerNetwork implements PeerConnectionFactory {
  readonly #all = new Map<string, FakePeerConnection>();
  #next = 1;
  #open = 0;

  get openCount(): number {
    return this.#open;
  }

  create(): PeerConnection {
    const pc = new FakePeerConnection(`pc${this.#next++}`, this);
    this.#all.set(pc.id, pc);
    this.#open++;
    return pc;
  }

  byId(id: string): FakePeerConnection | undefined {
    return this.#all.get(id);
  }

  released(pc: FakePeerConnection): void {
    if (this.#all.has(pc.id)) this.#open--;
    this.#all.delete(pc.id);
  }
}
