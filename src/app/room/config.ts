/**
 * Settings → the shapes the device manager and the room take. One place maps the settings schema
 * onto drivers and media sources, so what an admin sets is what runs.
 */
import type { Settings } from '../../config/settings.ts';
import type { DevicesConfig } from '../../devices/config.ts';
import type { VideoSource } from '../../media/ffmpeg-args.ts';
import type { RoomMediaConfig } from '../../meeting/room.ts';
import type { ContentConfig } from '../../meeting/room-share.ts';
import type { NetworkSettings } from '../../transport/http-proxy.ts';

/**
 * How the room reaches the meeting service and TURN (docs/admin.md §Firewalls): the proxy
 * (`meetingService.proxy` with `proxyPassword`, else HTTPS_PROXY/NO_PROXY) and the service's key pin.
 */
export function networkFrom(s: Settings): NetworkSettings {
  const m = s.meetingService;
  return { proxy: m.proxy === null ? null : withPassword(m.proxy, m.proxyPassword), tlsPin: m.tlsPin };
}

/** The proxy URL with the password put in (the setting itself holds none: it is shown to admins). */
function withPassword(proxy: string, password: string | null): string {
  if (password === null) return proxy;
  const u = new URL(proxy);
  u.password = password;
  return u.toString();
}

export function devicesConfigFrom(s: Settings): DevicesConfig {
  const d = s.devices;
  const camera: DevicesConfig['camera'] =
    d.camera.control === 'visca' && d.camera.controlPath !== null
      ? {
          kind: 'visca',
          path: d.camera.controlPath,
          address: d.camera.viscaAddress,
          model: d.camera.viscaModel,
        }
      : d.camera.control === 'uvc' && (d.camera.controlPath ?? d.camera.video) !== null
        ? { kind: 'uvc', device: (d.camera.controlPath ?? d.camera.video)! }
        : null;
  return {
    panel: d.panel.path === null ? null : { path: d.panel.path, baudRate: d.panel.baudRate },
    camera,
    speakerphone: d.speakerphone.hidraw === null ? null : { hidraw: d.speakerphone.hidraw },
    content: { device: d.content.video },
    usb: true,
  };
}

/** nice(1) level of the room's own video encoder. */
export const ROOM_ENCODER_NICENESS = 10;

/** What the demo's room shares: a test picture, so content sharing can be seen without a dongle. */
export const DEMO_CONTENT_LABEL = 'Slides';

/**
 * The room's content for sharing (docs/kiosk-and-admin-api.md §Content sharing): the HDMI capture
 * dongle when `devices.content.video` is set, the test picture labelled "Slides" with `testContent`
 * (the demo), none otherwise. Encoded for text, not motion: the settings' size at 5 fps, VP8, a
 * keyframe at least every 5 s (a receiver's request brings one sooner).
 */
export function contentConfigFrom(
  s: Settings,
  fontFile: string | null,
  testContent = false,
): ContentConfig | null {
  const device = s.devices.content.video;
  const source: VideoSource | null =
    device !== null
      ? { type: 'v4l2', device }
      : testContent
        ? { type: 'slides', fontFile, label: DEMO_CONTENT_LABEL }
        : null;
  if (source === null) return null;
  return {
    source,
    encode: {
      codec: 'vp8',
      width: s.media.width,
      height: s.media.height,
      framerate: 5,
      bitrateKbps: 800,
      keyframeIntervalMs: 5000,
      niceness: ROOM_ENCODER_NICENESS,
    },
  };
}

/** Real devices where configured, ffmpeg's test sources where not (demo, a box without a camera). */
export function mediaConfigFrom(s: Settings, fontFile: string | null, testContent = false): RoomMediaConfig {
  return {
    video:
      s.devices.camera.video === null
        ? { type: 'test', fontFile, label: s.room.name }
        : { type: 'v4l2', device: s.devices.camera.video },
    encode: {
      codec: s.media.videoCodec,
      width: s.media.width,
      height: s.media.height,
      framerate: s.media.framerate,
      bitrateKbps: s.media.videoBitrateKbps,
      // The camera's encoder yields to what the room shows and plays: on a busy box its frame rate
      // drops before the far end's picture falls behind (docs/decisions/0017-the-screen-before-the-camera.md).
      niceness: ROOM_ENCODER_NICENESS,
    },
    audio:
      s.devices.speakerphone.captureDevice === null
        ? { type: 'test' }
        : { type: 'alsa', device: s.devices.speakerphone.captureDevice },
    audioBitrateKbps: s.media.audioBitrateKbps,
    playbackDevice: s.devices.speakerphone.playbackDevice,
    content: contentConfigFrom(s, fontFile, testContent),
  };
}

export const DEFAULT_FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** The media config with the content source's presence (a watched dongle), when there is one. */
export function withContentPresence(
  media: RoomMediaConfig | null,
  present: (() => boolean) | undefined,
): RoomMediaConfig | null {
  return media === null || present === undefined ? media : { ...media, contentPresent: present };
}
