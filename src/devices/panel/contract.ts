/**
 * The page/component contract between roomd and the panel's HMI project: roomd defines the panel's
 * pages and component ids (documented in docs/hardware.md §Touch panel contract).
 * Page ids, component ids, names, kinds and text limits here are the single source: the
 * controller renders from them and the emulator builds its pages from them. Buttons must have
 * "Send Component ID" ticked for touch release (the panel sends `65 page id 00 FF FF FF`).
 */

export type ComponentKind = 'text' | 'button' | 'number' | 'progress' | 'picture' | 'slider';

export interface ComponentSpec {
  readonly id: number;
  readonly name: string;
  readonly kind: ComponentKind;
  /** Text capacity (txt_maxl) for text and button captions. */
  readonly maxChars?: number;
}

export interface PageSpec {
  readonly id: number;
  readonly name: PageName;
  readonly components: readonly ComponentSpec[];
}

export type PageName = 'idle' | 'keypad' | 'joining' | 'meeting';

const t = (id: number, name: string, maxChars: number): ComponentSpec => ({
  id,
  name,
  kind: 'text',
  maxChars,
});
const b = (id: number, name: string, maxChars = 24): ComponentSpec => ({
  id,
  name,
  kind: 'button',
  maxChars,
});

/** Idle: room name, clock, date, up to three meetings (each a button), Join next, Join by ID. */
export const IDLE: PageSpec = {
  id: 0,
  name: 'idle',
  components: [
    t(1, 'tRoom', 40),
    t(2, 'tClock', 5),
    t(3, 'tDate', 32),
    b(4, 'bMeet0', 48),
    b(5, 'bMeet1', 48),
    b(6, 'bMeet2', 48),
    b(7, 'bJoin', 48),
    b(8, 'bById', 24),
    t(9, 'tNotice', 80),
  ],
};

/** Keypad: a title, the entry so far, digits 0–9, delete, OK, cancel, an error line. */
export const KEYPAD: PageSpec = {
  id: 1,
  name: 'keypad',
  components: [
    t(1, 'tTitle', 32),
    t(2, 'tEntry', 24),
    ...Array.from({ length: 10 }, (_, d) => b(3 + d, `bK${d}`, 1)),
    b(13, 'bDel', 8),
    b(14, 'bOk', 12),
    b(15, 'bCancel', 12),
    t(16, 'tError', 60),
  ],
};

/** Joining: what is being joined, a progress bar, the current step, cancel. */
export const JOINING: PageSpec = {
  id: 2,
  name: 'joining',
  components: [
    t(1, 'tTitle', 48),
    { id: 2, name: 'jProg', kind: 'progress' },
    t(3, 'tStep', 60),
    b(4, 'bCancel', 12),
  ],
};

export const PRESET_BUTTONS = 6;

/** Participant lines on the meeting page (tPart0–tPart3); the rest are summed up on tPartMore. */
export const PARTICIPANT_LINES = 4;

/**
 * In a meeting: title, shield picture + label, 8 code groups, controls, presets; then (added
 * after the first contract, so earlier ids are unchanged) the roster code, one line per
 * participant with what is known about their identity, and the Share button.
 */
export const MEETING: PageSpec = {
  id: 3,
  name: 'meeting',
  components: [
    t(1, 'tTitle', 48),
    { id: 2, name: 'pShield', kind: 'picture' },
    t(3, 'tShield', 32),
    ...Array.from({ length: 8 }, (_, i) => t(4 + i, `tCode${i}`, 5)),
    b(12, 'bMute', 12),
    b(13, 'bCam', 12),
    b(14, 'bVolDn', 2),
    b(15, 'bVolUp', 2),
    { id: 16, name: 'nVol', kind: 'number' },
    { id: 17, name: 'hVol', kind: 'slider' },
    b(18, 'bLeave', 12),
    ...Array.from({ length: PRESET_BUTTONS }, (_, i) => b(19 + i, `bPre${i + 1}`, 12)),
    t(25, 'tNotice', 80),
    t(26, 'tRoster', 36),
    ...Array.from({ length: PARTICIPANT_LINES }, (_, i) => t(27 + i, `tPart${i}`, 40)),
    t(27 + PARTICIPANT_LINES, 'tPartMore', 40),
    b(28 + PARTICIPANT_LINES, 'bShare', 32),
  ],
};

export const PAGES: readonly PageSpec[] = [IDLE, KEYPAD, JOINING, MEETING];

export function pageById(id: number): PageSpec | undefined {
  return PAGES.find((p) => p.id === id);
}

export function pageByName(name: PageName): PageSpec {
  return PAGES.find((p) => p.name === name)!;
}

export function componentById(page: PageSpec, id: number): ComponentSpec | undefined {
  return page.components.find((c) => c.id === id);
}

export function componentByName(page: PageSpec, name: string): ComponentSpec | undefined {
  return page.components.find((c) => c.name === name);
}

/** Picture ids of the shield icon, by shield state. */
export const SHIELD_PICTURES = { e2ee: 1, enhanced: 2, partial: 3, verifying: 4, none: 5 } as const;

/**
 * Colours (RGB565): button backgrounds (`normal`, `active`, `muted`), button captions (`pco`:
 * `caption` black, `disabled` grey for a button that does nothing now) and the participant lines'
 * text (`pco`): `ok` green (verified), `warn` orange (not verified), `alarm` red (key changed),
 * `text` white.
 */
export const COLOURS = {
  normal: 50712,
  active: 63488,
  ok: 2016,
  muted: 63488,
  warn: 62689,
  alarm: 63488,
  text: 65535,
  caption: 0,
  disabled: 33808,
} as const;
