/**
 * The room: one meeting at a time, the room's own camera and microphone, the speaker and the kiosk
 * video feed, and the commands people give from the touch panel, the kiosk or the API — all with
 * one mute state. Pure composition over MeetingSession, the media layer and the device manager's
 * seams; the app layer adapts it to HTTP and the panel.
 *
 * Privacy: camera off and mute stop the capture process itself, not just the sending.
 *
 * The room's own media is started in room-media.ts, what its screen shows is mapped in
 * room-view.ts, and its chat rules are in room-chat.ts.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import { EventBus } from '../core/events.ts';
import type { Logger } from '../core/logger.ts';
import type { Camera } from '../devices/camera/camera.ts';
import type { TrustOptions } from '../e2ee/index.ts';
import type { MuteState } from '../devices/mute.ts';
import type { AudioMixer } from '../media/audio-mixer.ts';
import type { MediaCapture } from '../media/capture.ts';
import { FEED_CAMERA_STREAM } from '../media/kiosk-feed.ts';
import { VideoFeed } from '../media/video-feed.ts';
import type { PtzCommand, RoomCommands } from '../protocol/room-commands.ts';
import { type ClientType, type Reaction, STREAM_ID } from '../protocol/vocabulary.ts';
import type { ProcessRunner } from '../system/process.ts';
import type { PeerConnectionFactory } from '../transport/peer.ts';
import type { ChatEntry } from './chat.ts';
import { MeetingMediaLink } from './media-link.ts';
import type { MeetingPolicyBook } from './policy-pins.ts';
import { sendChat, visibleChat } from './room-chat.ts';
import { type RoomMediaConfig, startRoomMedia } from './room-media.ts';
import { RoomShare, type RoomShareView } from './room-share.ts';
import { type RoomMeetingState, recentReactions, roomMeetingState } from './room-view.ts';
import type { BookedMeeting, ScheduleSource } from './schedule.ts';
import { bareMeetingId, MeetingSession, type SessionIdentity } from './session.ts';
import type { MinimumSetting } from './policy-gate.ts';
import type { NetworkSettings } from '../transport/http-proxy.ts';
import type { MediaPath } from '../transport/peer.ts';

export { type ChatSender, sendChat, visibleChat } from './room-chat.ts';
export type { RoomMediaConfig } from './room-media.ts';
export type { RoomMeetingState } from './room-view.ts';

export interface RoomOptions {
  roomName: () => string;
  relayUrl: () => string;
  /** Proxy and TLS trust for the meeting service and TURN (docs/admin.md §Firewalls), read at every join. */
  network?: () => NetworkSettings;
  minimumEncryption: () => MinimumSetting;
  identity: SessionIdentity;
  clientType?: ClientType;
  clock: Clock;
  log: Logger;
  peers: PeerConnectionFactory;
  runner: ProcessRunner;
  mute: MuteState;
  camera: () => Camera | null;
  schedule: ScheduleSource;
  media: RoomMediaConfig | null;
  volume: number;
  scheduleRefreshMs?: number;
  /**
   * Identity certificates for each meeting (docs/admin.md §Organization identities): the anchors
   * the room trusts, its own certificate, its key pins and the unverified policy. Read at every
   * join, so changed settings apply from the next meeting on.
   */
  trust?: () => TrustOptions;
  /**
   * Verified meeting policies pinned per meeting id (docs/protocol.md "Meeting policy"): every join
   * checks them, so a meeting its host signed as `e2ee` is never joined with less.
   */
  meetingPolicies?: MeetingPolicyBook;
  /**
   * The room's chat setting (`room.chat`, docs/kiosk-and-admin-api.md §Chat), read at every use:
   * while it is off the room sends no chat and its screen shows none. On when not given.
   */
  chatEnabled?: () => boolean;
}

export interface RoomEvents {
  change: undefined;
}

export class Room implements RoomCommands {
  readonly events = new EventBus<RoomEvents>();
  readonly videoFeed: VideoFeed;
  readonly #o: RoomOptions;
  readonly #log: Logger;
  #session: MeetingSession | null = null;
  #link: MeetingMediaLink | null = null;
  #share: RoomShare | null = null;
  #mixer: AudioMixer | null = null;
  #videoCapture: MediaCapture | null = null;
  #audioCapture: MediaCapture | null = null;
  /** Unsubscribes the camera's encoder from the link's video layer (room-media.ts). */
  #offVideoLayer: (() => void) | null = null;
  #cameraOn = true;
  #volume: number;
  #schedule: BookedMeeting[] = [];
  #scheduleError: string | null = null;
  #refresh: TimerHandle | null = null;
  #lastEnded: RoomMeetingState | null = null;
  #offMute: () => void;
  #controlTimer: TimerHandle | null = null;
  #controlSent = false;
  #leaving = false;
  #leavingDone: Promise<void> | null = null;
  /** Chat messages that were there while chat was off: never shown, even once it is on again. */
  #chatHidden: ReadonlySet<string> = new Set();
  #mediaPath: MediaPath | null = null;

  constructor(options: RoomOptions) {
    this.#o = options;
    this.#log = options.log.child({ component: 'room' });
    this.#volume = options.volume;
    this.videoFeed = new VideoFeed({
      // The room's own pictures come from its own encoders; the others' from theirs.
      onKeyframeNeeded: (participantId, streamId) => {
        const screen = streamId === STREAM_ID.screen;
        if (participantId === 'self') {
          if (screen) this.#share?.requestKeyframe();
          else this.#videoCapture?.requestKeyframe();
        } else this.#link?.requestKeyframe(participantId, screen ? 'screen' : 'video');
      },
    });
    this.#offMute = options.mute.on('change', (c) => {
      this.#applyMute(c.muted);
      this.#sendControl();
      this.#changed();
    });
  }

  async start(): Promise<void> {
    await this.refreshSchedule();
    this.#refresh = this.#o.clock.setInterval(
      () => void this.refreshSchedule(),
      this.#o.scheduleRefreshMs ?? 30_000,
    );
  }

  async stop(): Promise<void> {
    if (this.#refresh !== null) this.#o.clock.clear(this.#refresh);
    this.#offMute();
    await this.#teardown();
  }

  get schedule(): readonly BookedMeeting[] {
    return this.#schedule;
  }

  get scheduleError(): string | null {
    return this.#scheduleError;
  }

  get session(): MeetingSession | null {
    return this.#session;
  }

  get link(): MeetingMediaLink | null {
    return this.#link;
  }

  /** The room's own capture processes while in a meeting (status, supervision). */
  get captures(): { video: MediaCapture | null; audio: MediaCapture | null } {
    return { video: this.#videoCapture, audio: this.#audioCapture };
  }

  /** The current meeting (or the one that just ended, until the next join), for UIs. */
  meeting(): RoomMeetingState | null {
    const s = this.#session?.snapshot;
    if (s === undefined) return this.#lastEnded;
    const own = {
      muted: this.#o.mute.muted,
      cameraOn: this.#cameraOn,
      volume: this.#volume,
      leaving: this.#leaving,
      mediaPath: this.#mediaPath,
    };
    return roomMeetingState(s, own, this.#link?.control.remote);
  }

  async refreshSchedule(): Promise<void> {
    try {
      this.#schedule = await this.#o.schedule.list();
      this.#scheduleError = null;
    } catch (error) {
      this.#scheduleError = `The meeting schedule could not be loaded (${(error as Error).message}).`;
    }
    this.#changed();
  }

  // ---- commands -----------------------------------------------------------------------------

  async join(meetingId: string, passcode?: string): Promise<void> {
    if (this.#session !== null) throw new RoomdError('meeting.already_in_meeting');
    const booked = this.#schedule.find((m) => bareMeetingId(m.meetingId) === bareMeetingId(meetingId));
    const code = passcode ?? booked?.passcode ?? undefined;
    this.#lastEnded = null;
    const session = new MeetingSession({
      meetingId,
      ...(code === undefined ? {} : { passcode: code }),
      relayUrl: this.#o.relayUrl(),
      displayName: this.#o.roomName(),
      clientType: this.#o.clientType ?? 'room',
      identity: this.#o.identity,
      peers: this.#o.peers,
      clock: this.#o.clock,
      log: this.#o.log,
      minimumEncryption: this.#o.minimumEncryption(),
      // A booked E2EE meeting is never joined with less, whatever the room's minimum says.
      ...(booked === undefined ? {} : { bookedEncryption: booked.encryption }),
      ...(this.#o.trust === undefined ? {} : { trust: this.#o.trust() }),
      ...(this.#o.meetingPolicies === undefined ? {} : { policies: this.#o.meetingPolicies }),
      ...(this.#o.network === undefined ? {} : { network: this.#o.network() }),
    });
    this.#session = session;
    const encode = this.#o.media?.encode;
    const link = new MeetingMediaLink({
      session,
      clock: this.#o.clock,
      chatEnabled: () => this.chatEnabled,
      // The camera's bitrate follows what the uplink carries (docs/decisions/0021-rate-adaptation.md).
      ...(encode === undefined ? {} : { rate: { maxKbps: encode.bitrateKbps } }),
    });
    this.#link = link;
    this.#share = new RoomShare({
      link,
      content: this.#o.media?.content ?? null,
      ...(this.#o.media?.contentPresent === undefined
        ? {}
        : { contentPresent: this.#o.media.contentPresent }),
      feed: this.videoFeed,
      clock: this.#o.clock,
      runner: this.#o.runner,
      log: this.#log,
      onChange: () => this.#changed(),
    });
    link.onFrame((f) => {
      if (f.kind === 'video' && f.codec !== 'opus') {
        this.videoFeed.publish({
          participantId: f.participantId,
          streamId: FEED_CAMERA_STREAM,
          codec: f.codec,
          keyframe: f.keyframe,
          captureTs: f.captureTs,
          data: f.data,
        });
      } else if (f.kind === 'audio') {
        this.#mixer?.push(f.participantId, f.frameNumber, f.data);
      }
    });
    session.events.on('state', () => this.#changed());
    link.control.onChange(() => this.#changed());
    // A message in, or one of ours delivered: the room screen shows it at once. What comes while
    // chat is off stays hidden for this meeting.
    this.#chatHidden = new Set();
    link.chat.onChange(() => {
      if (!this.chatEnabled) this.#chatHidden = new Set(link.chat.messages.map((e) => e.id));
      this.#changed();
    });
    // Our mute and camera state to everyone, end-to-end encrypted: now, on change, and every 3 s.
    // …and, as often, how our media goes (the admin page and /metrics show it).
    this.#controlTimer = this.#o.clock.setInterval(() => {
      this.#sendControl();
      this.#refreshMediaPath(session);
    }, 3000);
    session.events.on('state', (st) => {
      if (st.status === 'secure' && !this.#controlSent) this.#controlSent = this.#sendControl();
    });
    session.events.on('ended', () => void this.#teardown(true));
    // The camera and microphone start once the service let the room in, never before it answered
    // (a refused join opened neither); the room screen shows the meeting from then on.
    const offAdmitted = session.events.on('state', (st) => {
      if (st.status !== 'keying' && st.status !== 'secure' && st.status !== 'rekeying') return;
      offAdmitted();
      if (this.#link === link) this.#startMedia(link);
    });
    this.#changed();
    try {
      await session.join();
    } catch (error) {
      await this.#teardown(true);
      throw error;
    }
  }

  /**
   * Leave: the room says "Leaving…" at once, tells the service, stops sending (the media link
   * closes with the session) and then stops its capture processes. A second Leave while this runs
   * waits for the same leave.
   */
  async leave(): Promise<void> {
    if (this.#leavingDone !== null) return this.#leavingDone;
    const session = this.#session;
    if (session === null) throw new RoomdError('meeting.not_in_meeting');
    this.#leaving = true;
    this.#changed();
    this.#leavingDone = (async () => {
      try {
        await session.leave();
        await this.#teardown(true);
      } finally {
        this.#leaving = false;
        this.#leavingDone = null;
        this.#changed();
      }
    })();
    return this.#leavingDone;
  }

  async setMute(muted: boolean): Promise<void> {
    this.#o.mute.set(muted, 'api');
  }

  async setCamera(on: boolean): Promise<void> {
    this.#cameraOn = on;
    this.#sendControl();
    const cap = this.#videoCapture;
    if (cap !== null) {
      if (on) cap.start();
      else await cap.stop();
    }
    this.#changed();
  }

  async setVolume(level: number): Promise<void> {
    if (!Number.isInteger(level) || level < 0 || level > 100) {
      throw new RoomdError('core.invalid_argument', {
        message: 'Volume must be a whole number from 0 to 100.',
      });
    }
    this.#volume = level;
    this.#changed();
  }

  /**
   * Move the camera. A move drives towards the larger of pan and tilt, or zooms when `zoom` is not 0
   * (docs/kiosk-and-admin-api.md §Room screen).
   */
  async ptz(command: PtzCommand): Promise<void> {
    const camera = this.#o.camera();
    if (camera === null)
      throw new RoomdError('device.unavailable', { message: 'No camera that can move is connected.' });
    if (command.op === 'preset') return camera.recallPreset(command.preset);
    if (command.op === 'home') return camera.home();
    if (command.op === 'stop') return camera.drive('stop');
    if (command.zoom !== 0) return camera.zoom(command.zoom > 0 ? 'tele' : 'wide');
    const { pan, tilt } = command;
    return camera.drive(
      Math.abs(pan) >= Math.abs(tilt) ? (pan < 0 ? 'left' : 'right') : tilt < 0 ? 'down' : 'up',
    );
  }

  /** Send a reaction to everyone in the meeting, end-to-end encrypted. */
  async react(reaction: Reaction): Promise<void> {
    const link = this.#link;
    if (link === null || this.#session === null) throw new RoomdError('meeting.not_in_meeting');
    if (!link.control.react(reaction)) {
      throw new RoomdError('meeting.not_in_meeting', {
        message: 'The meeting is not ready for reactions yet.',
      });
    }
  }

  /** Reactions the others sent in the last minute (for the room screen). */
  reactions(): { participantId: string; name: string; reaction: string; at: number }[] {
    const people = this.#session?.snapshot.participants;
    return recentReactions(this.#link?.control.reactions ?? [], people, this.#o.clock.now());
  }

  /** Send a chat message to everyone or, with `to`, privately to one participant. */
  async chat(text: string, to?: string): Promise<void> {
    const link = this.#session === null ? null : this.#link;
    sendChat(link?.chat ?? null, this.chatEnabled, this.#o.clock, text, to);
  }

  /** Whether the room's setting lets the room chat (docs/kiosk-and-admin-api.md §Chat). */
  get chatEnabled(): boolean {
    return this.#o.chatEnabled?.() ?? true;
  }

  /** The last `limit` chat messages the room screen may show (none while chat is off). */
  chatMessages(limit: number): ChatEntry[] {
    const link = this.#link;
    if (!this.chatEnabled || link === null) return [];
    const self = this.#session?.snapshot.participants.find((p) => p.self)?.id;
    return visibleChat(link.chat.messages, self, limit, this.#chatHidden);
  }

  /**
   * Share the room's content, or stop (docs/kiosk-and-admin-api.md §Content sharing). Refused with
   * `meeting.share_unavailable` without a content source, `meeting.not_in_meeting` without a
   * meeting and `meeting.share_busy` while someone else shares and the room is not the host.
   */
  async share(on: boolean): Promise<void> {
    // The lasting reason first, whatever the meeting's state.
    const content = this.#o.media;
    if (on && ((content?.content ?? null) === null || !(content?.contentPresent?.() ?? true)))
      throw new RoomdError('meeting.share_unavailable');
    const share = this.#session === null ? null : this.#share;
    if (share === null) throw new RoomdError('meeting.not_in_meeting');
    if (on) share.start();
    else await share.stop();
  }

  /** Who shares content now, for the room screen; null outside a meeting. */
  shareView(): RoomShareView | null {
    const people = this.#session?.snapshot.participants;
    if (people === undefined || this.#share === null) return null;
    return this.#share.view((id) => people.find((p) => p.id === id)?.name);
  }

  /** Dismiss the code-change banner. */
  async acknowledgeSecurityCode(): Promise<void> {
    this.#session?.acknowledgeCodeChange();
  }

  // ---- media --------------------------------------------------------------------------------

  #startMedia(link: MeetingMediaLink): void {
    const m = this.#o.media;
    if (m === null) return;
    const state = { cameraOn: this.#cameraOn, muted: this.#o.mute.muted, volume: this.#volume };
    const deps = { runner: this.#o.runner, clock: this.#o.clock, log: this.#o.log, feed: this.videoFeed };
    const media = startRoomMedia(m, link, state, deps);
    this.#videoCapture = media.video;
    this.#audioCapture = media.audio;
    this.#mixer = media.mixer;
    this.#offVideoLayer = media.offVideoLayer;
  }

  #refreshMediaPath(session: MeetingSession): void {
    session.relay.mediaPath().then(
      (path) => {
        if (this.#session !== session || path === this.#mediaPath) return;
        this.#mediaPath = path;
        this.#changed();
      },
      (error: unknown) => {
        // The connection or its worker went away meanwhile: no path until the next one.
        if (!(error instanceof RoomdError)) throw error;
        if (this.#session === session) this.#mediaPath = null;
      },
    );
  }

  #sendControl(): boolean {
    return this.#link?.control.send({ muted: this.#o.mute.muted, cameraOn: this.#cameraOn }) ?? false;
  }

  #applyMute(muted: boolean): void {
    const cap = this.#audioCapture;
    if (cap === null) return;
    if (muted) void cap.stop();
    else cap.start();
  }

  async #teardown(keepLast = false): Promise<void> {
    const session = this.#session;
    if (session === null) return;
    if (keepLast) this.#lastEnded = this.meeting();
    if (this.#controlTimer !== null) this.#o.clock.clear(this.#controlTimer);
    this.#controlTimer = null;
    this.#controlSent = false;
    this.#session = null;
    this.#mediaPath = null;
    const share = this.#share;
    this.#share = null;
    this.#offVideoLayer?.();
    this.#offVideoLayer = null;
    this.#link?.close();
    this.#link = null;
    const caps = [this.#videoCapture, this.#audioCapture];
    this.#videoCapture = null;
    this.#audioCapture = null;
    const mixer = this.#mixer;
    this.#mixer = null;
    await Promise.all([...caps.map((c) => c?.stop()), mixer?.stop(), share?.close()]);
    if (session.snapshot.status !== 'left' && session.snapshot.status !== 'failed') await session.leave();
    this.#log.info({ meetingId: session.snapshot.id, status: session.snapshot.status }, 'meeting over');
    this.#changed();
  }

  #changed(): void {
    this.events.emit('change', undefined);
  }
}
