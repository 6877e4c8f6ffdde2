/**
 * The room's one command port: every touch on the kiosk (docs/kiosk-and-admin-api.md §Room screen),
 * the admin console and the touch panel (docs/hardware.md §Wiring the controller) becomes one of these
 * verbs, and the meeting layer's `Room` carries them out. Type-only and in the shared vocabulary's
 * words, so the panel (devices) and the HTTP servers (http) depend on it, not on the meeting layer
 * above them.
 */
import type { Reaction } from './vocabulary.ts';

/** A camera move: drive towards pan/tilt (or zoom, when `zoom` is not 0), stop, go to a preset or home. */
export type PtzCommand =
  | { op: 'move'; pan: number; tilt: number; zoom: number }
  | { op: 'stop' }
  | { op: 'preset'; preset: number }
  | { op: 'home' };

/**
 * What the room can be asked to do. Each rejects with a `RoomdError` whose sentence the asker shows
 * (the kiosk's error line, the panel's notice line).
 */
export interface RoomCommands {
  /** Join by meeting id; a scheduled meeting needs no passcode (the room knows the schedule's). */
  join(meetingId: string, passcode?: string): Promise<void>;
  leave(): Promise<void>;
  setMute(muted: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  /** 0–100, a whole number. */
  setVolume(level: number): Promise<void>;
  ptz(command: PtzCommand): Promise<void>;
  /** Send a reaction to everyone in the meeting. */
  react(reaction: Reaction): Promise<void>;
  /**
   * Send a chat message (docs/kiosk-and-admin-api.md §Chat): to everyone, or privately to the
   * participant with id `to`, end-to-end encrypted.
   */
  chat(text: string, to?: string): Promise<void>;
  /**
   * Share the room's content (its HDMI input) with the meeting, or stop sharing
   * (docs/kiosk-and-admin-api.md §Content sharing).
   */
  share(on: boolean): Promise<void>;
  /** The people in the room saw the "security code changed" banner. */
  acknowledgeSecurityCode(): Promise<void>;
}
