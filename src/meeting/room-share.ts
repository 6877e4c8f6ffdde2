/**
 * The room's content sharing in one meeting (docs/kiosk-and-admin-api.md §Content sharing): the
 * room's screen capture (an HDMI capture dongle, or the demo's test picture) sent on our `screen`
 * stream while the meeting's share arbitration (src/meeting/share.ts, docs/protocol.md "# Content
 * sharing") lets us share, and the current sharer's content on the room screen through the kiosk
 * feed on stream id 2 — ours too, as the room's own content, so the room shows what it shares.
 *
 * Only the sharer the arbitration chose reaches the screen: content a member sends while it is not
 * the sharer (a late frame, a client that ignores the rule) is dropped. Time comes from the clock.
 */
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createVideoCapture, type MediaCapture } from '../media/capture.ts';
import type { VideoEncodeSettings, VideoSource } from '../media/ffmpeg-args.ts';
import type { MediaFrame } from '../media/types.ts';
import type { VideoFeed } from '../media/video-feed.ts';
import { STREAM_ID } from '../protocol/vocabulary.ts';
import type { ProcessRunner } from '../system/process.ts';
import type { MeetingMediaLink } from './media-link.ts';
import type { ShareChannel } from './share.ts';

/** What the room shares: its content source and how that is encoded (src/app/room/config.ts). */
export interface ContentConfig {
  readonly source: VideoSource;
  readonly encode: VideoEncodeSettings;
}

/** The feed id the room's own content is published under (with the self flag). */
export const SELF_CONTENT_ID = 'self';

/** What the room screen says when the meeting's host took the share from the room. */
export const HOST_TOOK_OVER = 'The host took over sharing.';

/** The parts of the meeting's media link sharing uses. */
export type ShareLink = Pick<MeetingMediaLink, 'attach' | 'detach' | 'onFrame'> & {
  readonly share: Pick<
    ShareChannel,
    'start' | 'stop' | 'sharer' | 'sharing' | 'onChange' | 'onPreempted' | 'selfHost'
  >;
};

export interface RoomShareOptions {
  link: ShareLink;
  content: ContentConfig | null;
  /** Whether the content source is there now (an HDMI dongle plugged in); always, when not given. */
  contentPresent?: () => boolean;
  feed: Pick<VideoFeed, 'publish'>;
  clock: Clock;
  runner: ProcessRunner;
  log: Logger;
  /** The sharer changed, or the notice did: the room screen's state is stale. */
  onChange: () => void;
}

/** Content sharing as the room screen shows it (docs/kiosk-and-admin-api.md §Content sharing). */
export interface RoomShareView {
  readonly active: boolean;
  /** The room itself shares. */
  readonly self: boolean;
  /** The sharer's name (its participant id when the roster has no name), null when nobody shares. */
  readonly by: string | null;
  /** The room has a content source to share. */
  readonly canShare: boolean;
  /** The meeting service lists the room as the meeting's host: it may take over someone's share. */
  readonly host: boolean;
  /** Why the room's share ended when it did not end it itself (the host took over), else null. */
  readonly notice: string | null;
}

export class RoomShare {
  readonly #o: RoomShareOptions;
  readonly #off: () => void;
  #capture: MediaCapture | null = null;
  #offCapture: (() => void) | null = null;
  #notice: string | null = null;
  #closed = false;

  constructor(options: RoomShareOptions) {
    this.#o = options;
    const { link } = options;
    this.#off = link.onFrame((f) => {
      if (f.kind !== 'screen' || f.codec === 'opus') return;
      // Only the sharer every screen agrees on is shown (docs/protocol.md "# Content sharing").
      if (link.share.sharer(options.clock.monotonic())?.id !== f.participantId) return;
      options.feed.publish({
        participantId: f.participantId,
        streamId: STREAM_ID.screen,
        codec: f.codec,
        keyframe: f.keyframe,
        captureTs: f.captureTs,
        data: f.data,
      });
    });
    link.share.onChange(() => {
      // The host's share that took ours ended: the notice has said what it had to.
      if (this.#notice === HOST_TOOK_OVER && link.share.sharer(options.clock.monotonic()) === null)
        this.#notice = null;
      options.onChange();
    });
    link.share.onPreempted(() => {
      void this.#stopCapture();
      this.#notice = HOST_TOOK_OVER;
      this.#o.log.info({}, 'the host took over sharing');
      options.onChange();
    });
  }

  /** A content source is configured and, where it is a device, plugged in. */
  get canShare(): boolean {
    return this.#o.content !== null && (this.#o.contentPresent?.() ?? true);
  }

  /** The room's own screen capture while it shares (status, tests). */
  get capture(): MediaCapture | null {
    return this.#capture;
  }

  /** The share now; `nameOf` names a participant by id. */
  view(nameOf: (participantId: string) => string | undefined): RoomShareView {
    const sharer = this.#o.link.share.sharer(this.#o.clock.monotonic());
    return {
      active: sharer !== null,
      self: this.#o.link.share.sharing && this.#capture !== null,
      by: sharer === null ? null : (nameOf(sharer.id) ?? sharer.id),
      canShare: this.canShare,
      host: this.#o.link.share.selfHost,
      notice: this.#notice,
    };
  }

  /**
   * Start sharing the room's content. Refused with `meeting.share_unavailable` without a content
   * source and `meeting.share_busy` while someone else shares (unless the room is the host).
   */
  start(): void {
    const content = this.#o.content;
    if (content === null || !(this.#o.contentPresent?.() ?? true))
      throw new RoomdError('meeting.share_unavailable');
    if (this.#closed) throw new RoomdError('meeting.not_in_meeting');
    if (this.#capture !== null && this.#o.link.share.sharing) return;
    const clock = this.#o.clock;
    const claimed = this.#o.link.share.start(clock.monotonic(), clock.now());
    if (!claimed.ok) throw new RoomdError(claimed.code);
    this.#notice = null;
    // One child for content (docs/decisions/0005-media-keyframes-on-demand.md §Spare encoder): it is
    // never resized, and its keyframes wait for the schedule.
    const capture = createVideoCapture(
      content.source,
      content.encode,
      { runner: this.#o.runner, clock, logger: this.#o.log.child({ component: 'content' }) },
      { encoders: 'single' },
    );
    this.#capture = capture;
    this.#o.link.attach(capture, 'screen');
    // The room screen shows what the room shares (it never leaves the box unencrypted).
    const offFrames = capture.onFrame((f) => this.#publishOwn(f));
    // A source that fails for good (the dongle gone, no signal) ends the share: nobody is left
    // looking at a claim with no picture.
    const offStatus = capture.onStatus((s) => {
      if (s.state !== 'failed' || this.#capture !== capture) return;
      this.#notice = 'The content source stopped, so the room stopped sharing.';
      void this.stop();
    });
    this.#offCapture = () => {
      offFrames();
      offStatus();
    };
    capture.start();
    this.#o.onChange();
  }

  /** Stop sharing (nothing to do when the room does not share). */
  async stop(): Promise<void> {
    const had = this.#capture !== null || this.#o.link.share.sharing;
    this.#o.link.share.stop(this.#o.clock.monotonic());
    await this.#stopCapture();
    if (had) this.#o.onChange();
  }

  /** A keyframe for the room's own content on the screen (the feed skipped frames). */
  requestKeyframe(): void {
    this.#capture?.requestKeyframe();
  }

  /** The meeting is over: tell the others the share ended, stop the capture; the link goes with the meeting. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#o.link.share.stop(this.#o.clock.monotonic());
    this.#off();
    await this.#stopCapture();
  }

  #publishOwn(f: MediaFrame): void {
    if (f.codec === 'opus') return;
    this.#o.feed.publish({
      participantId: SELF_CONTENT_ID,
      streamId: STREAM_ID.screen,
      codec: f.codec,
      keyframe: f.keyframe,
      captureTs: f.captureTs,
      data: f.data,
      self: true,
    });
  }

  async #stopCapture(): Promise<void> {
    const capture = this.#capture;
    if (capture === null) return;
    this.#capture = null;
    this.#offCapture?.();
    this.#offCapture = null;
    this.#o.link.detach('screen');
    await capture.stop();
  }
}
