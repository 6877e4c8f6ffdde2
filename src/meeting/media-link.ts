/**
 * The meeting's media, every stream kind on one path (docs/protocol.md "Media chunks"): captured
 * frames → a StreamSender per kind (envelope, SFrame seal with the E2EE session's frame keys,
 * chunks) → the relay connection; and the relay connection's chunks → one StreamReceiver
 * (reassembly, order, open against the sender the relay claims, envelope) → consumers, with the
 * `data` kind going to the control channel. Keyframe requests go both ways: receivers ask senders
 * through the relay after a gap; a request, a key switch or a frame of ours that could not be sent
 * asks our encoder for a keyframe.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { MediaCapture } from '../media/capture.ts';
import type { MediaStats } from '../media/stats.ts';
import { type ReceivedFrame, StreamReceiver, type StreamReceiverOptions } from '../media/stream/receiver.ts';
import { RateController, type RateEstimate, type RateSettings } from '../media/stream/rate-control.ts';
import { StreamSender } from '../media/stream/sender.ts';
import type { MediaCodec, MediaFrame } from '../media/types.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import { STREAM_ID, STREAM_KINDS, type StreamKind, streamKindOf } from '../protocol/vocabulary.ts';
import { ChatChannel } from './chat.ts';
import { LagMonitor } from './lag-monitor.ts';
import { ControlChannel } from './control.ts';
import { parseDataMessage } from './data-message.ts';
import { ShareChannel } from './share.ts';
import type { MeetingSession } from './session.ts';

/** docs/protocol.md §Big meetings. */
export type VideoLayer = ServerMessageOf<'video-layer'>['layer'];

/** A decrypted audio or video frame from another participant. */
export interface ReceivedMedia extends Omit<ReceivedFrame, 'codec'> {
  readonly codec: MediaCodec;
}

export interface MediaLinkOptions {
  session: MeetingSession;
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
  readonly #relay: MeetingSession['relay'];
  readonly #listeners = new Set<(frame: ReceivedMedia) => void>();
  readonly #captures = new Map<StreamKind, { capture: MediaCapture; detach: () => void }>();
  readonly #offs: (() => void)[] = [];
  #videoLayer: VideoLayer = 'full';
  /** Whether our downlink keeps up (docs/protocol.md §Big meetings). */
  readonly #lag = new LagMonitor();
  readonly #layerListeners = new Set<(layer: VideoLayer) => void>();
  readonly #rate: RateController | undefined;
  readonly #rateListeners = new Set<(kbps: number) => void>();

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
      random: (n) => new Uint8Array(randomBytes(n)),
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
        this.#setVideoLayer('full');
      }),
      relay.events.on('video-layer', (m) => this.#setVideoLayer(m.layer)),
      relay.events.on('uplink', (m) => {
        if (rate === undefined) return;
        const now = clock.monotonic();
        rate.report(m.streams, now);
        const kbps = rate.tick(now);
        if (kbps !== null) for (const l of this.#rateListeners) l(kbps);
      }),
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
  attach(capture: MediaCapture, kind: StreamKind = capture.kind): void {
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

  #onFrame(f: ReceivedFrame): void {
    const behind = this.#lag.observe(f.participantId, f.latencyMs, this.#clock.monotonic());
    if (behind !== null) this.#relay.downlinkBehind(behind);
    if (f.kind === 'data') {
      const msg = parseDataMessage(f.data);
      if (msg === null) this.malformedData++;
      else if (msg.type === 'chat-ack' || (msg.type === 'chat' && (this.#chatEnabled?.() ?? true)))
        this.chat.receive(f.participantId, msg, this.#clock.monotonic());
      else if (msg.type === 'share') this.share.receive(f.participantId, msg, this.#clock.monotonic());
      else this.control.receive(f.participantId, f.data);
      return;
    }
    if (f.codec === 'control') return; // a control payload on a media stream: refused by the receiver
    const frame: ReceivedMedia = { ...f, codec: f.codec };
    for (const l of this.#listeners) l(frame);
  }
}
