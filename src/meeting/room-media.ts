/**
 * The room's own media in a meeting: its camera and microphone captures, sent on the meeting's
 * media link and shown on the kiosk as self-view, and the speaker's playout mixer. The room starts
 * them once the service let it in and stops them with the meeting.
 *
 * Privacy: a camera that is off or a muted microphone is not started at all.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { AudioMixer } from '../media/audio-mixer.ts';
import { createAudioCapture, createVideoCapture, type MediaCapture } from '../media/capture.ts';
import type { AudioSource, VideoEncodeSettings, VideoSource } from '../media/ffmpeg-args.ts';
import { FEED_CAMERA_STREAM } from '../media/kiosk-feed.ts';
import type { VideoFeed } from '../media/video-feed.ts';
import type { ProcessRunner } from '../system/process.ts';
import type { MeetingMediaLink } from './media-link.ts';
import type { ContentConfig } from './room-share.ts';

export interface RoomMediaConfig {
  video: VideoSource;
  encode: VideoEncodeSettings;
  audio: AudioSource;
  audioBitrateKbps: number;
  /** ALSA playback device, or null for a null sink with a level meter. */
  playbackDevice: string | null;
  /**
   * What the room shares (docs/kiosk-and-admin-api.md §Content sharing): an HDMI capture device
   * or the demo's test picture; null or absent when it has nothing to share.
   */
  content?: ContentConfig | null;
  /** Whether the content source is there now (the HDMI dongle plugged in); always, when not given. */
  contentPresent?: () => boolean;
}

export interface RoomMediaDeps {
  readonly runner: ProcessRunner;
  readonly clock: Clock;
  readonly log: Logger;
  /** The kiosk's video feed: the room's own picture goes there as self-view. */
  readonly feed: VideoFeed;
}

/** The room's running media in one meeting. */
export interface RoomMedia {
  readonly video: MediaCapture;
  readonly audio: MediaCapture;
  readonly mixer: AudioMixer;
}

/**
 * Start the room's media for a meeting: both captures attached to `link` (the camera's started
 * unless `cameraOn` is false, the microphone's unless `muted`) and the playout mixer at `volume`.
 */
export function startRoomMedia(
  m: RoomMediaConfig,
  link: MeetingMediaLink,
  state: { cameraOn: boolean; muted: boolean; volume: number },
  deps: RoomMediaDeps,
): RoomMedia {
  const captureDeps = {
    runner: deps.runner,
    clock: deps.clock,
    logger: deps.log.child({ component: 'media' }),
  };
  const video = createVideoCapture(m.video, m.encode, captureDeps);
  const audio = createAudioCapture(m.audio, { bitrateKbps: m.audioBitrateKbps }, captureDeps);
  link.attach(video);
  link.attach(audio);
  video.onFrame((f) => {
    if (f.codec === 'opus') return;
    // Self-view: our own picture goes to the kiosk too (it never leaves the box unencrypted).
    deps.feed.publish({
      participantId: 'self',
      streamId: FEED_CAMERA_STREAM,
      codec: f.codec,
      keyframe: f.keyframe,
      captureTs: f.captureTs,
      data: f.data,
      self: true,
    });
  });
  if (state.cameraOn) video.start();
  if (!state.muted) audio.start();
  const mixer = new AudioMixer({
    settings: { device: m.playbackDevice, volume: state.volume },
    runner: deps.runner,
    clock: deps.clock,
    logger: deps.log.child({ component: 'playout' }),
  });
  mixer.start();
  return { video, audio, mixer };
}
