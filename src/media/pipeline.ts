/**
 * The media path in one place for the meeting client (docs/protocol.md "Media chunks",
 * "Frame envelope (inside SFrame)"): capture frame → envelope → SFrame seal → chunks → data channel,
 * and data channel → reassembly/ordering → SFrame open → envelope → decoded-side consumer, with stats,
 * decrypt-failure handling and keyframe requests. Encryption and the channel are injected, so this
 * runs without wrtc.
 *
 * The SFrame metadata (authenticated, not encrypted) binds the routing fields the relay must not
 * change: stream kind, stream id, keyframe flag and frame number (the relay only writes the sender id).
 */
import type { Clock } from '../core/clock.ts';
import { STREAM_KINDS, type StreamKind } from '../protocol/media-header.ts';
import type { MediaCapture } from './capture.ts';
import { packFrame, unpackFrame } from './envelope.ts';
import { MediaReceiver, type StreamKey } from './receiver.ts';
import { StreamSender } from './sender.ts';
import type { MediaStats } from './stats.ts';
import type { MediaCodec, MediaFrame } from './types.ts';

/** 8 bytes of SFrame metadata: kind (chunk-header code), stream id, flags (bit 0 keyframe), 0, frame number u32 BE. */
export function frameMetadata(
  kind: StreamKind,
  streamId: number,
  keyframe: boolean,
  frameNumber: number,
): Uint8Array {
  const m = new Uint8Array(8);
  m[0] = STREAM_KINDS.indexOf(kind);
  m[1] = streamId & 0xff;
  m[2] = keyframe ? 1 : 0;
  new DataView(m.buffer).setUint32(4, frameNumber >>> 0);
  return m;
}

export interface MediaSendPathOptions {
  readonly kind: 'audio' | 'video';
  readonly streamId: number;
  /** SFrame-encrypt with the current send key, e.g. `(p, m) => sendKey.seal(p, m)`. */
  readonly seal: (plain: Uint8Array, metadata: Uint8Array) => Uint8Array;
  /** Put one chunk on the media channel; false when it was dropped (e.g. backpressure). */
  readonly send: (chunk: Uint8Array) => boolean;
  readonly stats?: MediaStats;
}

export class MediaSendPath {
  readonly sender: StreamSender;
  readonly #o: MediaSendPathOptions;
  /** Frames of which at least one chunk could not be sent. */
  framesDropped = 0;

  constructor(options: MediaSendPathOptions) {
    this.#o = options;
    this.sender = new StreamSender({
      kind: options.kind,
      streamId: options.streamId,
      ...(options.stats === undefined ? {} : { stats: options.stats }),
    });
  }

  get stats(): MediaStats {
    return this.sender.stats;
  }

  /** Encrypt, chunk and send one frame; false if any chunk was dropped. */
  sendFrame(frame: MediaFrame): boolean {
    const n = this.sender.nextFrameNumber;
    const sealed = this.#o.seal(
      packFrame(frame),
      frameMetadata(this.#o.kind, this.#o.streamId, frame.keyframe, n),
    );
    let ok = true;
    for (const chunk of this.sender.chunk(sealed, frame.keyframe)) ok = this.#o.send(chunk) && ok;
    if (!ok) this.framesDropped += 1;
    return ok;
  }

  /** Send every frame `capture` produces; returns the detach function. */
  attach(capture: MediaCapture): () => void {
    return capture.onFrame((f) => {
      this.sendFrame(f);
    });
  }
}

export interface DecodedFrame {
  readonly sender: number;
  readonly kind: StreamKind;
  readonly streamId: number;
  readonly frameNumber: number;
  readonly keyframe: boolean;
  readonly codec: MediaCodec;
  readonly captureTs: number;
  /** This box's clock minus the sender's capture timestamp. */
  readonly latencyMs: number;
  readonly data: Uint8Array;
}

export interface MediaReceivePathOptions {
  readonly clock: Clock;
  /** SFrame-decrypt a frame from `sender` (key by the KID inside); throw on any failure. */
  readonly open: (sender: number, cipher: Uint8Array, metadata: Uint8Array) => Uint8Array;
  /** Decrypted frames, video in decodable order; audio in arrival order (use a JitterBuffer/AudioPlayout). */
  readonly onFrame: (frame: DecodedFrame) => void;
  /** Ask `key.sender` for a keyframe through the control path (already rate-limited). */
  readonly requestKeyframe: (key: StreamKey) => void;
  readonly receiver?: Omit<
    ConstructorParameters<typeof MediaReceiver>[0],
    'clock' | 'onFrame' | 'onKeyframeRequest'
  >;
}

export class MediaReceivePath {
  readonly receiver: MediaReceiver;

  constructor(options: MediaReceivePathOptions) {
    this.receiver = new MediaReceiver({
      ...options.receiver,
      clock: options.clock,
      onKeyframeRequest: options.requestKeyframe,
      onFrame: (f) => {
        const key: StreamKey = { sender: f.sender, kind: f.kind, streamId: f.streamId };
        const stats = this.receiver.stats(key);
        let plain: Uint8Array;
        let unpacked: ReturnType<typeof unpackFrame>;
        try {
          plain = options.open(
            f.sender,
            f.data,
            frameMetadata(f.kind, f.streamId, f.keyframe, f.frameNumber),
          );
          unpacked = unpackFrame(plain);
        } catch {
          stats.recordDecryptFailure();
          this.receiver.markBroken(key);
          return;
        }
        const latencyMs = options.clock.now() - unpacked.captureTs;
        stats.recordLatency(latencyMs);
        options.onFrame({
          sender: f.sender,
          kind: f.kind,
          streamId: f.streamId,
          frameNumber: f.frameNumber,
          keyframe: f.keyframe,
          codec: unpacked.codec,
          captureTs: unpacked.captureTs,
          latencyMs,
          data: unpacked.data,
        });
      },
    });
  }

  /** One message from the media data channel. */
  push(message: Uint8Array): void {
    this.receiver.push(message);
  }

  stats(key: StreamKey): MediaStats {
    return this.receiver.stats(key);
  }

  removeSender(sender: number): void {
    this.receiver.removeSender(sender);
  }

  close(): void {
    this.receiver.close();
  }
}
