/**
 * The small interfaces the HTTP layer needs from the rest of roomd. The app layer adapts the real
 * daemon to these; tests and the e2e fixture use fakes. Nothing in src/http imports the meeting,
 * media or device layers directly. The touch commands are the room's one command port,
 * `RoomCommands` in src/protocol/room-commands.ts.
 */
import type { Readable } from 'node:stream';
import type { EncryptionMode } from '../protocol/vocabulary.ts';
import type { DeviceInfo, RoomSnapshot } from './schemas/state.ts';

export type Unsubscribe = () => void;

/** Live room state for the kiosk. `subscribe` fires after every change (coalescing is fine). */
export interface RoomStateSource {
  getState(): RoomSnapshot;
  subscribe(listener: (state: RoomSnapshot) => void): Unsubscribe;
}

/** One kiosk WebSocket as the video feed sees it. */
export interface VideoSink {
  send(message: Uint8Array): void;
  /** Bytes accepted by send() but not yet written out (the socket's bufferedAmount). */
  bufferedBytes(): number;
}

/**
 * Encoded video for the kiosk page, one binary message per frame, layout in docs/protocol.md
 * "# Kiosk media feed". Per connection: the source replays each stream from its last keyframe to a
 * new sink and skips frames for a backed-up sink until the next keyframe (src/media/video-feed.ts
 * `VideoFeed` is such a source as it is).
 */
export interface VideoFeedSource {
  subscribe(sink: VideoSink): Unsubscribe;
}

export interface MeetingToSchedule {
  title: string;
  start: string;
  end: string;
  encryption: EncryptionMode;
  passcode?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'failing';
  checks: { name: string; ok: boolean; detail?: string }[];
}

/**
 * What the admin context needs from the daemon. Settings arrive as `unknown` JSON and are
 * validated by the injected settings schema (throw RoomdError 'config.invalid' with context.fields).
 */
export interface AdminBackend {
  getSettings(): Promise<unknown>;
  /** Validate and apply a complete or partial settings document; return the resulting settings. */
  setSettings(patch: unknown): Promise<unknown>;
  /** JSON Schema of the settings (for the admin form and roomctl). */
  settingsSchema(): unknown;
  /** Called once when the device is claimed; the app stores the room name, marks it provisioned. */
  onClaimed(claim: { roomName?: string }): Promise<void>;
  /** Apply a verified provisioning bundle's settings. */
  applyProvisioning(bundle: { serial: number; settings: unknown; roomName?: string }): Promise<void>;
  status(): Promise<Record<string, unknown>>;
  health(): Promise<HealthReport>;
  devices(): Promise<DeviceInfo[]>;
  /** Recent logs as text, or a stream of text. Secrets are never in logs. */
  logs(options: { lines: number }): Promise<string | Readable>;
  /** Restart the daemon soon after the response was sent. */
  restart(): Promise<void>;
  /** Schedule a meeting for this room on the meeting service; returns its id. */
  scheduleMeeting(meeting: MeetingToSchedule): Promise<{ meetingId: string }>;
}
