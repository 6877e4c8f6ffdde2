/**
 * A headless participant (`roomd bot`, demo far-end people, load and integration tests): joins a
 * meeting through the same MeetingSession the room uses, sends self-verifying synthetic audio and
 * video frames, and counts what it decrypts from each sender. Reports status as plain objects
 * the CLI prints as JSON lines.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { MediaCapture } from '../media/capture.ts';
import type { RateSettings } from '../media/stream/rate-control.ts';
import { MeetingMediaLink, type ReceivedMedia } from './media-link.ts';
import { MeetingSession, type MeetingSessionOptions } from './session.ts';
import type { MeetingSnapshot } from './status.ts';
import { checkSyntheticFrame, makeSyntheticFrame } from './synthetic.ts';

export interface HeadlessOptions extends MeetingSessionOptions {
  /** Synthetic frames per second; 0 sends nothing. */
  videoFps?: number;
  videoFrameBytes?: number;
  audioFps?: number;
  audioFrameBytes?: number;
  /**
   * The level each synthetic audio frame declares (−dBov, docs/protocol.md §Big meetings), read per
   * frame; without it frames carry none (and are never skipped as silent).
   */
  audioLevel?: () => number;
  /** Every how many video frames one is a keyframe. */
  keyframeInterval?: number;
  /** Real encoded media instead of synthetic frames (demo far-end people); started on join. */
  captures?: MediaCapture[];
  /** Rate adaptation of our video (media-link.ts `rate`): measured and counted; nothing here follows it. */
  rate?: RateSettings;
}

export interface ReceiveCounts {
  ok: number;
  bad: number;
  lastSeq: number;
  latencyMsSum: number;
}

export interface HeadlessReport {
  name: string;
  participantId: string | null;
  status: MeetingSnapshot['status'];
  shield: MeetingSnapshot['shield'];
  securityCode: string | null;
  epoch: number;
  sent: { video: number; audio: number };
  received: Record<string, ReceiveCounts>;
}

export class HeadlessParticipant {
  readonly session: MeetingSession;
  readonly media: MeetingMediaLink;
  readonly received = new Map<string, ReceiveCounts>();
  readonly #o: HeadlessOptions;
  readonly #clock: Clock;
  #timers: TimerHandle[] = [];
  #videoSeq = 0;
  #audioSeq = 0;
  #forceKeyframe = true;
  sent = { video: 0, audio: 0 };

  constructor(options: HeadlessOptions) {
    this.#o = options;
    this.#clock = options.clock;
    this.session = new MeetingSession(options);
    this.media = new MeetingMediaLink({
      session: this.session,
      clock: options.clock,
      ...(options.rate === undefined ? {} : { rate: options.rate }),
    });
    this.media.onFrame((f: ReceivedMedia) => {
      const key = `${f.participantId}/${f.kind}`;
      let c = this.received.get(key);
      if (c === undefined) {
        c = { ok: 0, bad: 0, lastSeq: -1, latencyMsSum: 0 };
        this.received.set(key, c);
      }
      const check = this.#o.captures === undefined ? checkSyntheticFrame(f.data) : null;
      if (check === null || check.ok) {
        c.ok++;
        c.lastSeq = check?.seq ?? f.frameNumber;
        c.latencyMsSum += Math.max(0, f.latencyMs);
      } else {
        c.bad++;
      }
    });
    // A key switch or a receiver's request: the next synthetic video frame is a keyframe.
    this.session.events.on('key-switch', () => {
      this.#forceKeyframe = true;
    });
    this.session.relay.events.on('keyframe-request', () => {
      this.#forceKeyframe = true;
    });
    // A new layer starts with a keyframe, as an encoder restarted at another size does.
    this.media.onVideoLayer(() => {
      this.#forceKeyframe = true;
    });
  }

  get name(): string {
    return this.#o.displayName;
  }

  async join(): Promise<MeetingSnapshot> {
    const snap = await this.session.join();
    if (this.#o.captures !== undefined) {
      for (const c of this.#o.captures) {
        this.media.attach(c);
        c.start();
      }
      return snap;
    }
    const vf = this.#o.videoFps ?? 15;
    const af = this.#o.audioFps ?? 50;
    if (vf > 0) this.#timers.push(this.#clock.setInterval(() => this.#sendVideo(), 1000 / vf));
    if (af > 0) this.#timers.push(this.#clock.setInterval(() => this.#sendAudio(), 1000 / af));
    return snap;
  }

  /** Frames decrypted correctly from `senderId` (all kinds). */
  okFrom(senderId: string): number {
    let n = 0;
    for (const [k, c] of this.received) if (k.startsWith(`${senderId}/`)) n += c.ok;
    return n;
  }

  badTotal(): number {
    let n = 0;
    for (const c of this.received.values()) n += c.bad;
    return n;
  }

  report(): HeadlessReport {
    const s = this.session.snapshot;
    return {
      name: this.#o.displayName,
      participantId: this.session.participantId,
      status: s.status,
      shield: s.shield,
      securityCode: s.securityCode,
      epoch: s.epoch,
      sent: { ...this.sent },
      received: Object.fromEntries(this.received),
    };
  }

  /** Leave at once (the others see it now), then stop the capture processes. */
  async leave(): Promise<void> {
    for (const t of this.#timers) this.#clock.clear(t);
    this.#timers = [];
    this.media.close();
    await this.session.leave();
    await Promise.all((this.#o.captures ?? []).map((c) => c.stop()));
  }

  #sendVideo(): void {
    const keyframe = this.#forceKeyframe || this.#videoSeq % (this.#o.keyframeInterval ?? 30) === 0;
    // The small layer (docs/protocol.md §Big meetings) is a thumbnail: an eighth of the bytes.
    const full = (this.#o.videoFrameBytes ?? 1200) * (keyframe ? 4 : 1);
    const size = this.media.videoLayer === 'small' ? Math.max(64, full >> 3) : full;
    const data = makeSyntheticFrame(this.#videoSeq, size, this.#clock.now());
    if (this.media.sendFrame({ kind: 'video', codec: 'vp8', keyframe, captureTs: this.#clock.now(), data })) {
      this.sent.video++;
      this.#videoSeq++;
      if (keyframe) this.#forceKeyframe = false;
    } else {
      // Not sent: the sender sends no delta frame until a keyframe (docs/protocol.md "Media chunks").
      this.#forceKeyframe = true;
    }
  }

  #sendAudio(): void {
    const data = makeSyntheticFrame(this.#audioSeq, this.#o.audioFrameBytes ?? 160, this.#clock.now());
    if (
      this.media.sendFrame({
        kind: 'audio',
        codec: 'opus',
        keyframe: true,
        captureTs: this.#clock.now(),
        data,
        ...(this.#o.audioLevel === undefined ? {} : { audioLevel: this.#o.audioLevel() }),
      })
    ) {
      this.sent.audio++;
      this.#audioSeq++;
    }
  }
}
