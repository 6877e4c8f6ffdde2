/**
 * The room's own media in a meeting: its camera and microphone captures, sent on the meeting's
 * media link and shown on the kiosk as self-view, and the speaker's playout mixer. The room starts
 * them once the service let it in and stops them with the meeting.
 *
 * Privacy: a camera that is off or a muted microphone is not started at all.
 *
 * Big meetings (docs/protocol.md §Big meetings): while the relay asks the room for its `small` video
 * layer, the camera's encoder makes a thumbnail (`THUMBNAIL`) instead of its configured video; the
 * switch either way moves to a fresh encoder at the new output, whose first frame is a keyframe; the
 * camera is not reopened (docs/decisions/0005-media-keyframes-on-demand.md §Spare encoder).
 *
 * Rate adaptation (docs/decisions/0021-rate-adaptation.md): the link's video target (kbit/s) sets
 * the encoder's bitrate and, on thin links, a smaller size and frame rate (`rateOutput`), through
 * the same switch of encoder — each change costs one keyframe.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { AudioMixer } from '../media/audio-mixer.ts';
import {
  createAudioCapture,
  createVideoCapture,
  type MediaCapture,
  type VideoCapture,
} from '../media/capture.ts';
import type {
  AudioSource,
  VideoEncodeSettings,
  VideoOutputSettings,
  VideoSource,
} from '../media/ffmpeg-args.ts';
import { FEED_CAMERA_STREAM } from '../media/kiosk-feed.ts';
import type { VideoFeed } from '../media/video-feed.ts';
import type { ProcessRunner } from '../system/process.ts';
import type { MeetingMediaLink, VideoLayer } from './media-link.ts';
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

/**
 * The `small` video layer: a thumbnail 320 pixels wide (the full settings' aspect, height rounded to
 * even), at most 15 frames a second and 150 kbps — never more than the full settings themselves.
 */
export const THUMBNAIL = { width: 320, maxFramerate: 15, bitrateKbps: 150 } as const;

/** Least time between two video layer changes the room's encoder follows. */
export const LAYER_MIN_INTERVAL_MS = 2000;

/** A higher bitrate at the same size is applied once it is this many times the current one. */
export const RATE_STEP = 1.25;
/** Least time between two changes of the encoder for the uplink's rate alone (each costs a keyframe). */
export const RATE_MIN_INTERVAL_MS = 500;

/** The rungs of the rate ladder: from this many kbit/s, at most this wide and this many frames a second. */
const RUNGS: readonly { fromKbps: number; maxWidth: number; maxFramerate: number }[] = [
  { fromKbps: 900, maxWidth: Number.POSITIVE_INFINITY, maxFramerate: Number.POSITIVE_INFINITY },
  { fromKbps: 400, maxWidth: 640, maxFramerate: Number.POSITIVE_INFINITY },
  { fromKbps: 200, maxWidth: 480, maxFramerate: 15 },
  { fromKbps: 0, maxWidth: 320, maxFramerate: 15 },
];
/** Going up a rung takes this many times its threshold: a bigger picture's keyframes cost more. */
export const RUNG_UP_MARGIN = 1.25;

/**
 * The encoder's output at `kbps` (no more than `out`'s own bitrate): the size kept down to 900
 * kbit/s, 640 pixels wide down to 400, 480 wide at most 15 frames a second down to 200, and a
 * 320-wide thumbnail below. Sizes keep the aspect, heights even. Given the output now (`current`),
 * a rung up is taken only at RUNG_UP_MARGIN times its threshold; down, at once.
 */
export function rateOutput(
  out: VideoOutputSettings,
  kbps: number,
  current?: VideoOutputSettings,
): VideoOutputSettings {
  if (kbps >= out.bitrateKbps) return out;
  const bitrateKbps = Math.max(1, Math.round(kbps));
  let rung = RUNGS.findIndex((r) => kbps >= r.fromKbps);
  if (current !== undefined) {
    const now = RUNGS.findIndex((r) => current.width >= Math.min(out.width, r.maxWidth));
    if (now >= 0 && rung < now && kbps < RUNG_UP_MARGIN * RUNGS[rung]!.fromKbps) rung = now;
  }
  const { maxWidth, maxFramerate } = RUNGS[rung]!;
  const width = Math.min(out.width, maxWidth);
  return {
    width,
    height:
      width === out.width ? out.height : Math.max(2, 2 * Math.round((width * out.height) / out.width / 2)),
    framerate: Math.min(out.framerate, maxFramerate),
    bitrateKbps,
  };
}

/** What the room's encoder makes for `layer`: the configured settings, or their thumbnail. */
export function videoLayerOutput(layer: VideoLayer, full: VideoEncodeSettings): VideoOutputSettings {
  if (layer === 'full') return full;
  const width = Math.min(full.width, THUMBNAIL.width);
  return {
    width,
    height: Math.max(2, 2 * Math.round((width * full.height) / full.width / 2)),
    framerate: Math.min(full.framerate, THUMBNAIL.maxFramerate),
    bitrateKbps: Math.min(full.bitrateKbps, THUMBNAIL.bitrateKbps),
  };
}

/** The room's running media in one meeting. */
export interface RoomMedia {
  readonly video: VideoCapture;
  readonly audio: MediaCapture;
  readonly mixer: AudioMixer;
  /** Stop following the link's video layer (the captures and mixer are stopped by their owner). */
  readonly offVideoLayer: () => void;
}

/**
 * Start the room's media for a meeting: both captures attached to `link` (the camera's started
 * unless `cameraOn` is false, the microphone's unless `muted`) and the playout mixer at `volume`.
 * The camera's encoder follows the link's video layer from the start.
 */
export function startRoomMedia(
  m: RoomMediaConfig,
  link: Pick<MeetingMediaLink, 'attach' | 'videoLayer' | 'onVideoLayer' | 'videoRateKbps' | 'onVideoRate'>,
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
  const wanted = () => {
    const layered = videoLayerOutput(link.videoLayer, m.encode);
    const kbps = link.videoRateKbps;
    return kbps === undefined ? layered : rateOutput(layered, kbps, video.output);
  };
  // Admitted into a big meeting already outside its speakers: the first start makes the thumbnail.
  video.reconfigure(wanted());
  // Each change switches encoders (one keyframe): at most one every LAYER_MIN_INTERVAL_MS for a layer (one a
  // every RATE_MIN_INTERVAL_MS for the rate alone), the latest word winning, so a meeting whose speakers churn or a
  // link that flaps cannot keep the encoder switching.
  let appliedAt = Number.NEGATIVE_INFINITY;
  let appliedLayer = link.videoLayer;
  let pending: TimerHandle | null = null;
  const apply = () => {
    pending = null;
    const out = wanted();
    const cur = video.output;
    // A small rise at the same size and frame rate is not worth a keyframe: it waits to add up.
    if (
      link.videoLayer === appliedLayer &&
      out.width === cur.width &&
      out.height === cur.height &&
      out.framerate === cur.framerate &&
      out.bitrateKbps > cur.bitrateKbps &&
      out.bitrateKbps < RATE_STEP * cur.bitrateKbps &&
      out.bitrateKbps < m.encode.bitrateKbps
    )
      return;
    appliedAt = deps.clock.monotonic();
    appliedLayer = link.videoLayer;
    // A camera that is off stays off: its next start encodes at this layer and rate.
    const restarted = video.reconfigure(out);
    captureDeps.logger.info(
      { layer: appliedLayer, width: out.width, height: out.height, kbps: out.bitrateKbps, restarted },
      'video output changed',
    );
  };
  const changed = () => {
    if (pending !== null) return; // it reads the latest layer and rate when it runs
    const interval = link.videoLayer !== appliedLayer ? LAYER_MIN_INTERVAL_MS : RATE_MIN_INTERVAL_MS;
    const wait = appliedAt + interval - deps.clock.monotonic();
    if (wait <= 0) apply();
    else pending = deps.clock.setTimeout(apply, wait);
  };
  const offLayer = link.onVideoLayer(changed);
  const offRate = link.onVideoRate(changed);
  const offVideoLayer = () => {
    offLayer();
    offRate();
    if (pending !== null) deps.clock.clear(pending);
    pending = null;
  };
  video.onFrame((f) => {
    if (f.codec === 'opus') return;
    // Self-view: our own picture goes to the kiosk too (it never leaves the box unencrypted). It is
    // the encoder's output, so while the room sends its small layer the self-view is that thumbnail
    // scaled up: the room sees what the others get.
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
  return { video, audio, mixer, offVideoLayer };
}
