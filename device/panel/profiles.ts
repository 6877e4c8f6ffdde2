/**
 * Conformance profiles of the Nextion panel emulator (`emulator.ts`; docs/hardware.md §Emulators):
 * whether power-on is announced with start-up frames, the speed after power-on (`bauds`), the
 * serial buffer size and the answer to `connect`.
 */
export type PanelProfileName = 'classic' | 'editor-1.65';

export interface PanelProfile {
  readonly name: PanelProfileName;
  readonly description: string;
  /** `00 00 00 FF FF FF` and `88 FF FF FF` after power-on. */
  readonly announcesStartup: boolean;
  /** Line speed after power-on (the panel's stored `bauds`). */
  readonly bauds: number;
  /** Serial buffer; more unprocessed bytes than this overflow (`24 FF FF FF`). */
  readonly bufferBytes: number;
  /** What follows `comok ` in the answer to `connect`. */
  readonly comok: string;
}

export const PANEL_PROFILES: Readonly<Record<PanelProfileName, PanelProfile>> = {
  classic: {
    name: 'classic',
    description:
      'A project built before Nextion Editor 1.65 (or one that keeps the start-up printh): announces power-on; bauds=115200 stored by its project.',
    announcesStartup: true,
    bauds: 115200,
    bufferBytes: 1024,
    comok: '1,30601-0,NX4832T035_011R,99,61488,D264B8204F0E1828,16777216',
  },
  'editor-1.65': {
    name: 'editor-1.65',
    description:
      'A project built with Nextion Editor 1.65 or later: silent power-on, factory speed 9600, bkcmd=2.',
    announcesStartup: false,
    bauds: 9600,
    bufferBytes: 1024,
    comok: '1,30614-0,NX4832F035_011R,163,61699,E468CC2C7B4E3A21,33554432',
  },
};
