/**
 * The real PeerConnection over @roamhq/wrtc (docs/protocol.md §Transport), minding its pitfalls:
 * data channels only, binary as Uint8Array, and every connection and channel tracked so close()
 * releases them all (an unclosed wrtc connection keeps the process alive).
 */
import { createRequire } from 'node:module';
import { RoomdError } from '../core/errors.ts';
import {
  type BridgedServer,
  type ChannelState,
  type DataChannel,
  type DataChannelOptions,
  type IceCandidate,
  type MediaPath,
  mediaPathOf,
  type PeerConnection,
  type PeerConnectionFactory,
  type PeerConnectionOptions,
  type PeerState,
  type SessionDescription,
} from './peer.ts';
import { ChannelEvents, PeerEvents } from './peer-events.ts';

// Minimal shapes of the wrtc objects we touch (the package ships no types).
interface WrtcChannel {
  label: string;
  readyState: ChannelState;
  bufferedAmount: number;
  binaryType: string;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onmessage: ((event: { data: ArrayBuffer | string }) => void) | null;
  send(data: Uint8Array): void;
  close(): void;
}
interface WrtcPc {
  connectionState: PeerState;
  localDescription: SessionDescription | null;
  onicecandidate: ((event: { candidate: IceCandidate | null }) => void) | null;
  ondatachannel: ((event: { channel: WrtcChannel }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  createDataChannel(label: string, options: DataChannelOptions): WrtcChannel;
  createOffer(): Promise<SessionDescription>;
  createAnswer(): Promise<SessionDescription>;
  setLocalDescription(d: SessionDescription): Promise<void>;
  setRemoteDescription(d: SessionDescription): Promise<void>;
  addIceCandidate(c: IceCandidate): Promise<void>;
  getStats(): Promise<Map<string, Record<string, unknown>>>;
  close(): void;
}
interface WrtcModule {
  RTCPeerConnection: new (config: { iceServers: unknown[]; iceTransportPolicy?: 'all' | 'relay' }) => WrtcPc;
}

let wrtcModule: WrtcModule | undefined;
function loadWrtc(): WrtcModule {
  // Loaded lazily so code paths that never open a connection never load the native addon.
  wrtcModule ??= createRequire(import.meta.url)('@roamhq/wrtc') as WrtcModule;
  return wrtcModule;
}

function channelClosed(cause?: unknown): RoomdError {
  return new RoomdError('transport.closed', { message: 'The data channel is closed.', cause });
}

class WrtcDataChannel extends ChannelEvents implements DataChannel {
  readonly #ch: WrtcChannel;

  constructor(ch: WrtcChannel) {
    super();
    this.#ch = ch;
    ch.binaryType = 'arraybuffer';
    ch.onopen = () => this.emitOpen();
    ch.onclose = () => this.emitClose();
    ch.onmessage = (event) => {
      if (typeof event.data === 'string') return; // the media channel is binary only
      const data = new Uint8Array(event.data);
      this.emitMessage(data);
    };
  }

  get label(): string {
    return this.#ch.label;
  }
  get readyState(): ChannelState {
    return this.#ch.readyState;
  }
  get bufferedAmount(): number {
    return this.#ch.bufferedAmount;
  }
  send(data: Uint8Array): void {
    if (this.#ch.readyState !== 'open') throw channelClosed();
    try {
      this.#ch.send(data);
    } catch (error) {
      // The channel closed on the network thread since the check (wrtc's InvalidStateError): the
      // same 'transport.closed' every DataChannel throws; anything else is not ours to hide.
      if (this.#ch.readyState !== 'open') throw channelClosed(error);
      throw error;
    }
  }
  close(): void {
    // wrtc's close() has no failure path (it is a no-op on a channel the connection tore down).
    if (this.#ch.readyState === 'closed') return;
    this.#ch.close();
  }
}

class WrtcPeerConnection extends PeerEvents implements PeerConnection {
  readonly #pc: WrtcPc;
  readonly #channels = new Set<WrtcDataChannel>();
  readonly #onClosed: () => void;
  #closed = false;
  #haveRemote = false;
  readonly #pendingCandidates: IceCandidate[] = [];
  /** The room's TURN bridges among its ICE servers (path()). */
  readonly #bridges: readonly BridgedServer[];

  constructor(pc: WrtcPc, onClosed: () => void, bridges: readonly BridgedServer[]) {
    super();
    this.#pc = pc;
    this.#onClosed = onClosed;
    this.#bridges = bridges;
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      if (c === null || c.candidate === '') return;
      const candidate = {
        candidate: c.candidate,
        sdpMid: c.sdpMid ?? null,
        sdpMLineIndex: c.sdpMLineIndex ?? null,
      };
      this.emitIceCandidate(candidate);
    };
    pc.ondatachannel = (event) => {
      const ch = this.#track(new WrtcDataChannel(event.channel));
      this.emitDataChannel(ch);
    };
    pc.onconnectionstatechange = () => {
      this.emitState(this.state);
    };
  }

  get state(): PeerState {
    return this.#closed ? 'closed' : this.#pc.connectionState;
  }

  createDataChannel(label: string, options: DataChannelOptions): DataChannel {
    return this.#track(new WrtcDataChannel(this.#pc.createDataChannel(label, options)));
  }

  async createOffer(): Promise<SessionDescription> {
    const offer = await this.#pc.createOffer();
    await this.#pc.setLocalDescription(offer);
    const local = this.#pc.localDescription ?? offer;
    return { type: 'offer', sdp: local.sdp };
  }

  async acceptOffer(offer: SessionDescription): Promise<SessionDescription> {
    await this.#pc.setRemoteDescription(offer);
    await this.#flushCandidates();
    const answer = await this.#pc.createAnswer();
    await this.#pc.setLocalDescription(answer);
    const local = this.#pc.localDescription ?? answer;
    return { type: 'answer', sdp: local.sdp };
  }

  async acceptAnswer(answer: SessionDescription): Promise<void> {
    await this.#pc.setRemoteDescription(answer);
    await this.#flushCandidates();
  }

  /** Candidates that arrive before the remote description are held and applied after it. */
  async addIceCandidate(candidate: IceCandidate): Promise<void> {
    if (this.#closed) return;
    if (!this.#haveRemote) {
      if (this.#pendingCandidates.length < 64) this.#pendingCandidates.push(candidate);
      return;
    }
    await this.#pc.addIceCandidate(candidate);
  }

  async #flushCandidates(): Promise<void> {
    this.#haveRemote = true;
    const pending = this.#pendingCandidates.splice(0);
    for (const c of pending) {
      if (this.#closed) return;
      await this.#pc.addIceCandidate(c).catch(() => {});
    }
  }

  async path(): Promise<MediaPath | null> {
    if (this.#closed) return null;
    const stats = await this.#pc.getStats();
    // The selected pair: the transport names it; else the nominated pair that succeeded.
    let pair: Record<string, unknown> | undefined;
    for (const s of stats.values()) {
      if (s['type'] === 'transport' && typeof s['selectedCandidatePairId'] === 'string')
        pair = stats.get(s['selectedCandidatePairId']);
    }
    if (pair === undefined) {
      for (const s of stats.values())
        if (s['type'] === 'candidate-pair' && s['nominated'] === true && s['state'] === 'succeeded') pair = s;
    }
    const local =
      typeof pair?.['localCandidateId'] === 'string' ? stats.get(pair['localCandidateId']) : undefined;
    return local === undefined ? null : mediaPathOf(local, this.#bridges);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const ch of this.#channels) ch.close();
    this.#channels.clear();
    this.#pc.onicecandidate = null;
    this.#pc.ondatachannel = null;
    this.#pc.onconnectionstatechange = null;
    try {
      this.#pc.close();
    } finally {
      this.#onClosed();
      this.emitState('closed');
    }
  }

  #track(ch: WrtcDataChannel): WrtcDataChannel {
    this.#channels.add(ch);
    ch.onClose(() => this.#channels.delete(ch));
    return ch;
  }
}

/** The production factory. `openCount` lets shutdown code and tests check nothing is left open. */
export class WrtcPeerConnectionFactory implements PeerConnectionFactory {
  #open = 0;

  get openCount(): number {
    return this.#open;
  }

  create(options: PeerConnectionOptions = {}): PeerConnection {
    const { RTCPeerConnection } = loadWrtc();
    const pc = new RTCPeerConnection({
      iceServers: options.iceServers ?? [],
      ...(options.iceTransportPolicy === undefined ? {} : { iceTransportPolicy: options.iceTransportPolicy }),
    });
    this.#open++;
    return new WrtcPeerConnection(
      pc,
      () => {
        this.#open--;
      },
      options.bridges ?? [],
    );
  }
}
