/**
 * A headless participant (`roomd bot`, demo far-end people, load and integration tests): joins a
 * meeting through the same MeetingSession the room uses, sends self-verifying synthetic audio and
 * video frames, and counts what it decrypts from each sender. Reports status as plain objects
 * the CLI prints as JSON lines.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { MeetingSession, type MeetingSessionOptions } from './session.ts';
import type { MeetingSnapshot } from './status.ts';
import { checkSyntheticFrame, makeSyntheticFrame } from './synthetic.ts';

export interface HeadlessOptions extends MeetingSessionOptions {
  /** Synthetic frames per second; 0 sends nothing. */
  videoFps?: number;
  videoFrameBytes?: number;
  audioFps?: number;
  audioFrameBytes?: number;
  /** Every how many video frames one is a keyframe. */
  keyframeInterval?: number;
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
    this.session.events.on('frame', (f) => {
      const key = `${f.senderId}/${f.kind}`;
      let c = this.received.get(key);
      if (c === undefined) {
        c = { ok: 0, bad: 0, lastSeq: -1, latencyMsSum: 0 };
        this.received.set(key, c);
      }
      const check = checkSyntheticFrame(f.payload);
      if (check.ok) {
        c.ok++;
        c.lastSeq = check.seq;
        c.latencyMsSum += Math.max(0, f.receivedAt - check.sentAt);
      } else {
        c.bad++;
      }
    });
    this.session.events.on('keyframe-needed', (k) => {
      if (k.kind === 'video') this.#forceKeyframe = true;
    });
  }

  get name(): string {
    return this.#o.displayName;
  }

  async join(): Promise<MeetingSnapshot> {
    const snap = await this.session.join();
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

  async leave(): Promise<void> {
    for (const t of this.#timers) this.#clock.clear(t);
    this.#timers = [];
    await this.session.leave();
  }

  #sendVideo(): void {
    const keyframe = this.#forceKeyframe || this.#videoSeq % (this.#o.keyframeInterval ?? 30) === 0;
    const frame = makeSyntheticFrame(
      this.#videoSeq,
      keyframe ? (this.#o.videoFrameBytes ?? 1200) * 4 : (this.#o.videoFrameBytes ?? 1200),
      this.#clock.now(),
    );
    if (this.session.sendFrame('video', 1, frame, keyframe)) {
      this.sent.video++;
      this.#videoSeq++;
      if (keyframe) this.#forceKeyframe = false;
    }
  }

  #sendAudio(): void {
    const frame = makeSyntheticFrame(this.#audioSeq, this.#o.audioFrameBytes ?? 160, this.#clock.now());
    if (this.session.sendFrame('audio', 0, frame, false)) {
      this.sent.audio++;
      this.#audioSeq++;
    }
  }
}
