/**
 * Binds a meeting session to the media layer (docs/protocol.md "Media chunks"): captured frames
 * → SFrame seal with the session's send key → chunks on the media channel, and chunks from the
 * relay → reassembly → SFrame open (sender and stream checked against the authenticated KID) →
 * decoded-side consumers. Keyframe requests go both ways: receivers ask senders through the
 * relay after a gap; a request or a key switch makes our encoder send a keyframe.
 */
import type { Clock } from '../core/clock.ts';
import type { MediaCapture } from '../media/capture.ts';
import { type DecodedFrame, MediaReceivePath, MediaSendPath } from '../media/pipeline.ts';
import type { MediaStats } from '../media/stats.ts';
import type { MediaFrame } from '../media/types.ts';
import { STREAM_KINDS, type StreamKind } from '../protocol/media-header.ts';
import { ControlChannel } from './control.ts';
import type { MeetingSession } from './session.ts';

/** Stream ids per sender: 0 audio, 1 video (the relay routes keyframe requests by them). */
export const AUDIO_STREAM = 0;
export const VIDEO_STREAM = 1;

export interface ReceivedMedia extends DecodedFrame {
  /** The sender as a participant id string (the chunk header carries it as a number). */
  readonly participantId: string;
}

export interface MediaLinkOptions {
  session: MeetingSession;
  clock: Clock;
  onFrame?: (frame: ReceivedMedia) => void;
}

export class MeetingMediaLink {
  readonly video: MediaSendPath;
  readonly audio: MediaSendPath;
  readonly receive: MediaReceivePath;
  /** Mute and camera state, ours out and everyone else's in, end-to-end encrypted. */
  readonly control: ControlChannel;
  readonly #session: MeetingSession;
  readonly #listeners = new Set<(frame: ReceivedMedia) => void>();
  readonly #captures = new Map<'audio' | 'video', { capture: MediaCapture; detach: () => void }>();
  readonly #offs: (() => void)[] = [];
  /** Frames we could not send because no key or channel was ready yet. */
  notReady = 0;

  constructor(options: MediaLinkOptions) {
    const session = options.session;
    this.#session = session;
    if (options.onFrame !== undefined) this.#listeners.add(options.onFrame);
    this.video = new MediaSendPath({
      kind: 'video',
      streamId: VIDEO_STREAM,
      seal: (plain, meta) => session.seal('video', plain, meta),
      send: (chunk) => session.sendChunk(chunk),
    });
    this.audio = new MediaSendPath({
      kind: 'audio',
      streamId: AUDIO_STREAM,
      seal: (plain, meta) => session.seal('audio', plain, meta),
      send: (chunk) => session.sendChunk(chunk),
    });
    this.receive = new MediaReceivePath({
      clock: options.clock,
      open: (sender, cipher, meta) => session.open(sender, STREAM_KINDS[meta[0]!] ?? 'data', cipher, meta),
      requestKeyframe: (key) => session.requestKeyframe(key.sender, key.streamId),
      onFrame: (f) => {
        const frame: ReceivedMedia = { ...f, participantId: String(f.sender) };
        for (const l of this.#listeners) l(frame);
      },
    });
    this.control = new ControlChannel(session);
    this.#offs.push(
      session.events.on('media-chunk', (chunk) => {
        if (!this.control.push(chunk, options.clock.monotonic())) this.receive.push(chunk);
      }),
      session.events.on('keyframe-needed', (k) => {
        if (k.kind === 'video' || k.kind === 'audio') this.#captures.get(k.kind)?.capture.requestKeyframe();
      }),
    );
  }

  onFrame(listener: (frame: ReceivedMedia) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Encrypt and send one frame; false when not sent (no key yet, channel not open, congestion). */
  sendFrame(frame: MediaFrame): boolean {
    if (!this.#session.mediaReady) {
      this.notReady++;
      return false;
    }
    try {
      return (frame.kind === 'video' ? this.video : this.audio).sendFrame(frame);
    } catch {
      this.notReady++;
      return false;
    }
  }

  /** Send everything `capture` produces (replacing any capture of the same kind). */
  attach(capture: MediaCapture): void {
    this.detach(capture.kind);
    const detach = capture.onFrame((f) => {
      this.sendFrame(f);
    });
    this.#captures.set(capture.kind, { capture, detach });
  }

  detach(kind: 'audio' | 'video'): void {
    this.#captures.get(kind)?.detach();
    this.#captures.delete(kind);
  }

  sendStats(kind: 'audio' | 'video'): MediaStats {
    return (kind === 'video' ? this.video : this.audio).stats;
  }

  receiveStats(sender: string, kind: StreamKind): MediaStats {
    return this.receive.stats({
      sender: Number(sender),
      kind,
      streamId: kind === 'audio' ? AUDIO_STREAM : VIDEO_STREAM,
    });
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
    for (const kind of [...this.#captures.keys()]) this.detach(kind);
    this.receive.close();
  }
}
