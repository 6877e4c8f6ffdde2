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

export interface DevicesConfig {
  readonly panel?: PanelConfig | null;
  readonly camera?: CameraConfig | null;
  readonly speakerphone?: SpeakerphoneConfig | null;
  /** Watch the USB bus (inventory + hot-plug); default true. */
  readonly usb?: boolean;
  /** How often the camera is asked whether it is alive; default 5000 ms. */
  readonly cameraProbeMs?: number;
}
