/**
 * The meeting's media, every stream kind on one path (docs/protocol.md "Media chunks"): captured
 * frames → a StreamSender per kind (envelope, SFrame seal with the E2EE session's frame keys,
 * chunks) → the relay connection; and the relay connection's chunks → one StreamReceiver
 * (reassembly, order, open against the sender the relay claims, envelope) → consumers, with the
 * `data` kind going to the control channel. Keyframe requests go both ways: receivers ask senders
 * through the relay after a gap; a request, a key switch or a frame of ours that could not be sent
 * asks our encoder for a keyframe.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Unsubscribe } from '../core/events.ts';
import type { DirectCrypto, FrameCrypto } from '../e2ee/index.ts';
import type { MediaStats } from '../media/stats.ts';
import { type ReceivedFrame, StreamReceiver, type StreamReceiverOptions } from '../media/stream/receiver.ts';
import {
  RateController,
  type RateEstimate,
  type RateSettings,
  type UplinkStreamReport,
} from '../media/stream/rate-control.ts';
import { type ChunkOut, StreamSender } from '../media/stream/sender.ts';
import type { MediaCodec, MediaFrame, MediaKind } from '../media/types.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import { STREAM_ID, STREAM_KINDS, type StreamKind, streamKindOf } from '../protocol/vocabulary.ts';
import { ChatChannel } from './chat.ts';
import { LagMonitor } from './lag-monitor.ts';
import { ControlChannel } from './control.ts';
import { type DataMessage, encodeDataMessage, parseDataMessage } from './data-message.ts';
import { ShareChannel } from './share.ts';
import type { MeetingSnapshot } from './status.ts';

/** Janus plane: a receiver reports what it received at most this often (docs/protocol.md "# Receive reports"). */
export const RX_REPORT_MS = 250;
/** Entries in one receive report, at most. */
export const RX_MAX_ENTRIES = 32;

/** docs/protocol.md §Big meetings. */
export type VideoLayer = ServerMessageOf<'video-layer'>['layer'];

/**
 * What the media link needs of the relay connection: its media channel (chunks out and in), the
 * signaling messages about media, and who we are on it. The room's RelayClient
 * (src/transport/relay-client.ts) and the web client's connection (web/src/media/) both are one.
 */
export interface MediaRelayEvents {
  chunk: Uint8Array;
  'keyframe-request': ServerMessageOf<'keyframe-request'>;
  admission: ServerMessageOf<'admission'>;
  'video-layer': ServerMessageOf<'video-layer'>;
  uplink: ServerMessageOf<'uplink'>;
  roster: ServerMessageOf<'roster'>;
}
export interface MediaRelay extends ChunkOut {
  readonly events: {
    on<K extends keyof MediaRelayEvents>(
      event: K,
      listener: (payload: MediaRelayEvents[K]) => void,
    ): Unsubscribe;
  };
  /** Ours on the current admission, undefined before it. */
  readonly participantId: string | undefined;
  /** Janus plane: nobody reads chunk headers on the way, so receivers report (`rx`). */
  readonly janusPlane: boolean;
  /** Ask a participant for a keyframe on a stream; false when not connected. */
  requestKeyframe(participantId: string, streamId: number): boolean;
  /** The level of an audio frame we sent (the relay hears it as `audio-level`, §Big meetings). */
  audioLevelSent(level: number): void;
  /** Whether our downlink keeps up (§Big meetings). */
  downlinkBehind(behind: boolean): void;
}

/** What the media link needs of the meeting session: its keys, roster and relay connection. */
export interface MediaSession {
  readonly relay: MediaRelay;
  /** The frame keys of the E2EE session (null until it has some). */
  readonly frames: FrameCrypto | null;
  readonly direct: DirectCrypto | null;
  requestDirect(peer: string): void;
  readonly snapshot: MeetingSnapshot;
  readonly events: { on(event: 'key-switch', listener: () => void): Unsubscribe };
}

/** Where a stream's frames come from: the room's capture pipelines, the browser's encoders. */
export interface FrameSource {
  /** What it captures; a screen capture's video goes out as 'screen' (`attach`'s kind). */
  readonly kind: MediaKind;
  onFrame(listener: (frame: MediaFrame) => void): Unsubscribe;
  /** Ask the encoder for a keyframe (repeated requests coalesce). */
  requestKeyframe(): void;
}

/** A decrypted audio or video frame from another participant. */
export interface ReceivedMedia extends Omit<ReceivedFrame, 'codec'> {
  readonly codec: MediaCodec;
}

export interface MediaLinkOptions {
  session: MediaSession;
  clock: Clock;
  onFrame?: (frame: ReceivedMedia) => void;
  /**
   * Whether chat is on (read at every message; default on). While it is off, chat messages are
   * neither shown nor acknowledged: their senders see them undelivered.
   */
  chatEnabled?: () => boolean;
  /** Reassembly and ordering limits (defaults in media/stream/receiver.ts). */
  receiver?: Omit<StreamReceiverOptions, 'clock' | 'keys' | 'onFrame' | 'requestKeyframe'>;
  /**
   * Adapt our video to the uplink from the relay's reports (docs/protocol.md §Uplink reports):
   * `onVideoRate` then hears each new target. Without it every frame goes out as today.
   */
  rate?: RateSettings;
}

export class MeetingMediaLink {
  readonly receiver: StreamReceiver;
  /** Mute and camera state and reactions, ours out and everyone else's in, on the `data` stream. */
  readonly control: ControlChannel;
  /** Group and one-to-one chat, on the `data` stream (docs/protocol.md "# Chat"). */
  readonly chat: ChatChannel;
  /** Opened `data` frames that were no message we know. */
  malformedData = 0;
  readonly #clock: Clock;
  readonly #chatEnabled: (() => boolean) | undefined;
  /** Who shares content: one sharer at a time (docs/protocol.md "# Content sharing"). */
  readonly share: ShareChannel;
  readonly #tick: TimerHandle;
  /** Participants the meeting service lists as host (its word decides who may take over a share). */
  #hostIds = new Set<string>();
  readonly #senders: Record<StreamKind, StreamSender>;
  readonly #relay: MediaRelay;
  readonly #listeners = new Set<(frame: ReceivedMedia) => void>();
  readonly #captures = new Map<StreamKind, { capture: FrameSource; detach: () => void }>();
  readonly #offs: (() => void)[] = [];
  #videoLayer: VideoLayer = 'full';
  /** Whether our downlink keeps up (docs/protocol.md §Big meetings). */
  readonly #lag = new LagMonitor();
  readonly #layerListeners = new Set<(layer: VideoLayer) => void>();
  readonly #rate: RateController | undefined;
  readonly #rateListeners = new Set<(kbps: number) => void>();
  /** Janus plane: per sender and stream id, the newest frame received and when (for `rx`). */
  readonly #rxSeen = new Map<string, Map<number, { frameNumber: number; at: number }>>();
  #rxSentAt = Number.NEGATIVE_INFINITY;
  /** `rx` messages that were malformed (dropped). */
  malformedRx = 0;

  constructor(options: MediaLinkOptions) {
    const { session, clock } = options;
    const relay = session.relay;
    this.#relay = relay;
    if (options.onFrame !== undefined) this.#listeners.add(options.onFrame);
    const keys = () => session.frames;
    const rate = options.rate === undefined ? undefined : new RateController(options.rate);
    this.#rate = rate;
    const make = (kind: StreamKind) =>
      new StreamSender({
        kind,
        keys,
        out: relay,
        requestKeyframe: () => this.#captures.get(kind)?.capture.requestKeyframe(),
        clock,
        ...(rate === undefined ? {} : { uplink: rate }),
      });
    this.#senders = {
      audio: make('audio'),
      video: make('video'),
      screen: make('screen'),
      data: make('data'),
    };
    const sendData = (payload: Uint8Array) =>
      this.#senders.data.send({ codec: 'control', captureTs: clock.now(), data: payload }, true) === 'sent';
    this.#clock = clock;
    this.#chatEnabled = options.chatEnabled;
    this.control = new ControlChannel(sendData, clock);
    this.chat = new ChatChannel({
      send: sendData,
      direct: () => session.direct,
      requestDirect: (peer) => session.requestDirect(peer),
      // In enhanced meetings everyone holds the service's key: members are those the relay lists,
      // and we may chat once we hold the key too.
      members: () => {
        const s = session.snapshot;
        const enhanced = s.encryption === 'enhanced';
        return s.participants.map((p) => ({
          id: p.id,
          name: p.name,
          keyed: enhanced ? !p.self || s.shield === 'enhanced' : p.keyed,
          self: p.self,
        }));
      },
      random: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
      privateMessages: () => session.snapshot.encryption === 'e2ee',
    });
    this.share = new ShareChannel({
      send: sendData,
      members: () =>
        session.snapshot.participants.map((p) => ({ id: p.id, self: p.self, host: this.#hostIds.has(p.id) })),
    });
    this.#tick = clock.setInterval(() => {
      this.chat.tick(clock.monotonic());
      this.share.tick(clock.monotonic());
    }, 1000);
    this.receiver = new StreamReceiver({
      ...options.receiver,
      clock,
      keys,
      onFrame: (f) => this.#onFrame(f),
      // Not connected: the receiver asks again on its next gap.
      requestKeyframe: (k) => relay.requestKeyframe(String(k.sender), STREAM_ID[k.kind]),
    });
    this.#offs.push(
      relay.events.on('chunk', (chunk) => this.receiver.push(chunk)),
      relay.events.on('keyframe-request', (m) => {
        const kind = streamKindOf(m.streamId);
        if (kind !== undefined) this.#senders[kind].keyframeRequested();
      }),
      // A new connection: new ids, a fresh downlink, and the relay's view of us starts anew: full,
      // as every joiner is, until it says otherwise.
      relay.events.on('admission', () => {
        this.#lag.reset();
        rate?.newPath();
        this.#setVideoLayer('full');
      }),
      relay.events.on('video-layer', (m) => this.#setVideoLayer(m.layer)),
      relay.events.on('uplink', (m) => this.#uplinkReport(m.streams, 'relay')),
      relay.events.on('roster', (m) => {
        this.#hostIds = new Set(m.participants.filter((p) => p.host).map((p) => p.participantId));
      }),
      session.events.on('key-switch', () => {
        for (const { capture } of this.#captures.values()) capture.requestKeyframe();
      }),
    );
  }

  onFrame(listener: (frame: ReceivedMedia) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Encrypt and send one frame; false when not sent (no key or channel yet, congestion, DTX silence). */
  sendFrame(frame: MediaFrame, kind: StreamKind = frame.kind): boolean {
    const sent = this.#senders[kind].send(frame, frame.keyframe, frame.audioLevel) === 'sent';
    if (sent && kind === 'audio' && frame.audioLevel !== undefined)
      this.#relay.audioLevelSent(frame.audioLevel);
    return sent;
  }

  /**
   * The video layer the relay wants from us (docs/protocol.md §Big meetings): `full` unless a big
   * meeting has us outside its last N active speakers.
   */
  get videoLayer(): VideoLayer {
    return this.#videoLayer;
  }

  /** Called on every change of `videoLayer`; returns the unsubscribe. */
  onVideoLayer(listener: (layer: VideoLayer) => void): () => void {
    this.#layerListeners.add(listener);
    return () => this.#layerListeners.delete(listener);
  }

  /** The video bitrate the uplink carries now, kbit/s (the configured one without rate adaptation). */
  get videoRateKbps(): number | undefined {
    return this.#rate?.targetKbps;
  }

  /** What rate adaptation knows now, and its counters (undefined without it). */
  get rate(): { estimate: RateEstimate; counters: RateController['counters'] } | undefined {
    const r = this.#rate;
    return r === undefined ? undefined : { estimate: r.estimate, counters: r.counters };
  }

  /** Called with each new video target of rate adaptation (kbit/s); returns the unsubscribe. */
  onVideoRate(listener: (kbps: number) => void): () => void {
    this.#rateListeners.add(listener);
    return () => this.#rateListeners.delete(listener);
  }

  /** Send everything `capture` produces on our stream of `kind` (a screen capture: 'screen'). */
  attach(capture: FrameSource, kind: StreamKind = capture.kind): void {
    this.detach(kind);
    const detach = capture.onFrame((f) => {
      this.sendFrame(f, kind);
    });
    this.#captures.set(kind, { capture, detach });
  }

  detach(kind: StreamKind): void {
    this.#captures.get(kind)?.detach();
    this.#captures.delete(kind);
  }

  /** Ask a participant for a keyframe on its stream of `kind` (false when not connected). */
  requestKeyframe(participantId: string, kind: StreamKind): boolean {
    return this.#relay.requestKeyframe(participantId, STREAM_ID[kind]);
  }

  /** Frames not sent because no key or open channel was there yet (all kinds). */
  get notReady(): number {
    let n = 0;
    for (const k of STREAM_KINDS) n += this.#senders[k].notReady;
    return n;
  }

  /** Frames from others that failed to open or unpack, by kind. */
  get decryptFailures(): Readonly<Record<StreamKind, number>> {
    return this.receiver.decryptFailures;
  }

  sendStats(kind: StreamKind): MediaStats {
    return this.#senders[kind].stats;
  }

  receiveStats(sender: string, kind: StreamKind): MediaStats {
    return this.receiver.stats({ sender: Number(sender), kind });
  }

  close(): void {
    this.#clock.clear(this.#tick);
    for (const off of this.#offs.splice(0)) off();
    this.#layerListeners.clear();
    this.#rateListeners.clear();
    for (const kind of [...this.#captures.keys()]) this.detach(kind);
    this.receiver.close();
  }

  #setVideoLayer(layer: VideoLayer): void {
    if (layer === this.#videoLayer) return;
    this.#videoLayer = layer;
    for (const l of this.#layerListeners) l(layer);
  }

  #uplinkReport(streams: readonly UplinkStreamReport[], reporter: string): void {
    const rate = this.#rate;
    if (rate === undefined) return;
    const now = this.#clock.monotonic();
    rate.report(streams, now, reporter);
    // A report may show room for the frames waiting for it.
    this.#senders.video.flush(now);
    this.#senders.screen.flush(now);
    const kbps = rate.tick(now);
    if (kbps !== null) for (const l of this.#rateListeners) l(kbps);
  }

  /**
   * Janus plane: note the frame, and every RX_REPORT_MS tell everyone which frames of whom arrived
   * lately (`rx`, docs/protocol.md "# Receive reports") — the relay cannot, as it never sees them.
   */
  #noteReceived(f: ReceivedFrame, now: number): void {
    if (!this.#relay.janusPlane) return;
    let streams = this.#rxSeen.get(f.participantId);
    if (streams === undefined) {
      streams = new Map();
      this.#rxSeen.set(f.participantId, streams);
    }
    streams.set(STREAM_ID[f.kind], { frameNumber: f.frameNumber, at: now });
    if (now - this.#rxSentAt < RX_REPORT_MS) return;
    const entries: [string, number, number, number][] = [];
    for (const [sender, ss] of this.#rxSeen)
      for (const [streamId, s] of ss)
        if (s.at > this.#rxSentAt && entries.length < RX_MAX_ENTRIES)
          entries.push([sender, streamId, s.frameNumber, Math.round(now - s.at)]);
    this.#rxSentAt = now;
    this.#senders.data.send(
      { codec: 'control', captureTs: this.#clock.now(), data: encodeDataMessage({ type: 'rx', s: entries }) },
      true,
    );
  }

  /** A receive report from `from`: its entries about our streams go to rate adaptation. */
  #receiveRx(from: string, msg: DataMessage): void {
    const mine = this.#relay.participantId;
    const entries = parseRx(msg);
    if (entries === null) {
      this.malformedRx++;
      return;
    }
    if (mine === undefined) return;
    const streams = entries.filter((e) => e.sender === mine);
    if (streams.length > 0) this.#uplinkReport(streams, from);
  }

  #onFrame(f: ReceivedFrame): void {
    const now = this.#clock.monotonic();
    const behind = this.#lag.observe(f.participantId, f.latencyMs, now);
    if (behind !== null) this.#relay.downlinkBehind(behind);
    if (f.kind === 'data') {
      const msg = parseDataMessage(f.data);
      if (msg?.type === 'rx') this.#receiveRx(f.participantId, msg);
      else if (msg === null) this.malformedData++;
      else if (msg.type === 'chat-ack' || (msg.type === 'chat' && (this.#chatEnabled?.() ?? true)))
        this.chat.receive(f.participantId, msg, this.#clock.monotonic());
      else if (msg.type === 'share') this.share.receive(f.participantId, msg, this.#clock.monotonic());
      else this.control.receive(f.participantId, f.data);
      return;
    }
    if (f.codec === 'control') return; // a control payload on a media stream: refused by the receiver
    this.#noteReceived(f, now);
    const frame: ReceivedMedia = { ...f, codec: f.codec };
    for (const l of this.#listeners) l(frame);
  }
}

/**
 * The entries of an `rx` message (`s`: [sender, streamId, frameNumber, ageMs] each), or null when
 * it is not one: at most RX_MAX_ENTRIES, every field in range.
 */
export function parseRx(
  msg: DataMessage,
): { sender: string; streamId: number; frameNumber: number; ageMs: number }[] | null {
  const s = msg['s'];
  if (!Array.isArray(s) || s.length > RX_MAX_ENTRIES) return null;
  const out: { sender: string; streamId: number; frameNumber: number; ageMs: number }[] = [];
  for (const e of s as unknown[]) {
    if (!Array.isArray(e) || e.length !== 4) return null;
    const [sender, streamId, frameNumber, ageMs] = e as unknown[];
    if (
      typeof sender !== 'string' ||
      sender.length === 0 ||
      sender.length > 64 ||
      !isIntIn(streamId, 0, 255) ||
      !isIntIn(frameNumber, 0, 0xffff_ffff) ||
      !isIntIn(ageMs, 0, 10_000)
    )
      return null;
    out.push({ sender, streamId, frameNumber, ageMs });
  }
  return out;
}

function isIntIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}
