/**
 * Device configuration as a plain object: which devices the room has
 * and where they are. The lead maps the settings schema onto `DevicesConfig`; see
 * docs/hardware.md §Configuration and §Wiring and stable names.
 */
import type { ViscaModelSetting } from './camera/visca-models.ts';
import type { MuteButtonMode } from './hid/speakerphone.ts';

export interface PanelConfig {
  /** `/dev/serial/by-id/…` or `tcp://host:port`. */
  readonly path: string;
  /** Default 9600 (the panel's factory setting). */
  readonly baudRate?: number;
}

export type CameraConfig =
  | {
      readonly kind: 'visca';
      readonly path: string;
      readonly baudRate?: number;
      readonly address?: number;
      /** Model family; `auto` (default) asks the camera (docs/hardware.md §Conformance). */
      readonly model?: ViscaModelSetting;
    }
  | { readonly kind: 'uvc'; readonly device: string };

export interface SpeakerphoneConfig {
  /** `/dev/hidrawN` or a stable udev symlink to it; `hidstream:<pty>` / `tcp://` for emulators. */
  readonly hidraw: string;
  readonly muteButton?: MuteButtonMode;
}

/**
 * The HDMI capture dongle the room shares content from (docs/hardware.md §Content sharing): a UVC
 * video device like a camera, found by its V4L2 node.
 */
export interface ContentConfig {
  /**
   * The dongle's V4L2 capture node, `/dev/v4l/by-id/…-video-index0`; null: none set, a dongle the
   * catalogue knows is only reported (it cannot be shared from until its node is set).
   */
  readonly device: string | null;
  /**
   * What the node being there stands for: `dongle` (default), the dongle itself — absent since
   * start is `absent` (optional equipment, no laptop), gone after it was there is `disconnected`, a
   * fault; `laptop`, a laptop on a dongle that is always there (the demo's laptop file) — gone is
   * always `absent`, "no laptop connected".
   */
  readonly presence?: 'dongle' | 'laptop';
}

export interface DevicesConfig {
  readonly panel?: PanelConfig | null;
  readonly camera?: CameraConfig | null;
  readonly speakerphone?: SpeakerphoneConfig | null;
  /** Watch the USB bus (inventory + hot-plug); default true. */
  readonly usb?: boolean;
  /** How often the camera is asked whether it is alive; default 5000 ms. */
  readonly cameraProbeMs?: number;
  readonly content?: ContentConfig | null;
  /** How often the content dongle's node is looked for; default 1000 ms. */
  readonly contentProbeMs?: number;
}
