/**
 * The meeting's media, every stream kind on one path (docs/protocol.md "Media chunks"): captured
 * frames → a StreamSender per kind (envelope, SFrame seal with the E2EE session's frame keys,
 * chunks) → the relay connection; and the relay connection's chunks → one StreamReceiver
 * (reassembly, order, open against the sender the relay claims, envelope) → consumers, with the
 * `data` kind going to the control channel. Keyframe requests go both ways: receivers ask senders
 * through the relay after a gap; a request or a key switch makes our encoder send a keyframe.
 */
import type { Clock } from '../core/clock.ts';
import type { MediaCapture } from '../media/capture.ts';
import type { MediaStats } from '../media/stats.ts';
import { type ReceivedFrame, StreamReceiver, type StreamReceiverOptions } from '../media/stream/receiver.ts';
import { StreamSender } from '../media/stream/sender.ts';
import type { MediaCodec, MediaFrame } from '../media/types.ts';
import { STREAM_ID, STREAM_KINDS, type StreamKind, streamKindOf } from '../protocol/vocabulary.ts';
import { ControlChannel } from './control.ts';
import type { MeetingSession } from './session.ts';

/** A decrypted audio or video frame from another participant. */
export interface ReceivedMedia extends Omit<ReceivedFrame, 'codec'> {
  readonly codec: MediaCodec;
}

export interface MediaLinkOptions {
  session: MeetingSession;
  clock: Clock;
  onFrame?: (frame: ReceivedMedia) => void;
  /** Reassembly and ordering limits (defaults in media/stream/receiver.ts). */
  receiver?: Omit<StreamReceiverOptions, 'clock' | 'keys' | 'onFrame' | 'requestKeyframe'>;
}

type CaptureKind = MediaCapture['kind'];

export class MeetingMediaLink {
  readonly receiver: StreamReceiver;
  /** Mute and camera state and reactions, ours out and everyone else's in, on the `data` stream. */
  readonly control: ControlChannel;
  readonly #senders: Record<StreamKind, StreamSender>;
  readonly #relay: MeetingSession['relay'];
  readonly #listeners = new Set<(frame: ReceivedMedia) => void>();
  readonly #captures = new Map<CaptureKind, { capture: MediaCapture; detach: () => void }>();
  readonly #offs: (() => void)[] = [];

  constructor(options: MediaLinkOptions) {
    const { session, clock } = options;
    const relay = session.relay;
    this.#relay = relay;
    if (options.onFrame !== undefined) this.#listeners.add(options.onFrame);
    const keys = () => session.frames;
    const make = (kind: StreamKind) => new StreamSender({ kind, keys, out: relay });
    this.#senders = {
      audio: make('audio'),
      video: make('video'),
      screen: make('screen'),
      data: make('data'),
    };
    this.control = new ControlChannel(
      (payload) =>
        this.#senders.data.send({ codec: 'control', captureTs: clock.now(), data: payload }, true) === 'sent',
      clock,
    );
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
        if (kind === undefined) return;
        this.#senders[kind].stats.keyframeRequests++;
        if (kind === 'audio' || kind === 'video') this.#captures.get(kind)?.capture.requestKeyframe();
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

  /** Encrypt and send one frame; false when not sent (no key or channel yet, congestion). */
  sendFrame(frame: MediaFrame): boolean {
    return this.#senders[frame.kind].send(frame, frame.keyframe) === 'sent';
  }

  /** Send everything `capture` produces (replacing any capture of the same kind). */
  attach(capture: MediaCapture): void {
    this.detach(capture.kind);
    const detach = capture.onFrame((f) => {
      this.sendFrame(f);
    });
    this.#captures.set(capture.kind, { capture, detach });
  }

  detach(kind: CaptureKind): void {
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
    for (const off of this.#offs.splice(0)) off();
    for (const kind of [...this.#captures.keys()]) this.detach(kind);
    this.receiver.close();
  }

  #onFrame(f: ReceivedFrame): void {
    if (f.kind === 'data') {
      this.control.receive(f.participantId, f.data);
      return;
    }
    if (f.codec === 'control') return; // a control payload on a media stream: refused by the receiver
    const frame: ReceivedMedia = { ...f, codec: f.codec };
    for (const l of this.#listeners) l(frame);
  }
}
