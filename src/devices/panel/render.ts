/**
 * Pure rendering of a RoomView onto the panel contract (contract.ts): view + local UI state +
 * time → the page to show and one instruction per component attribute. The controller diffs
 * this against what the panel already has, so only changes go over the wire.
 */
import { ins } from './codec.ts';
import {
  COLOURS,
  IDLE,
  JOINING,
  KEYPAD,
  MEETING,
  PARTICIPANT_LINES,
  PRESET_BUTTONS,
  type PageSpec,
  SHIELD_PICTURES,
} from './contract.ts';
import {
  codeGroups,
  type IdentityMark,
  type ParticipantView,
  type RoomView,
  SHIELD_LABELS,
  type ScheduledMeeting,
  type ShareView,
} from './view.ts';

export interface KeypadState {
  readonly step: 'id' | 'passcode';
  readonly meetingId: string;
  readonly digits: string;
  readonly error: string | null;
}

export interface UiState {
  readonly keypad: KeypadState | null;
  /** A local notice (a failed command) shown instead of the view's notice. */
  readonly notice: string | null;
}

export interface Rendered {
  readonly page: PageSpec;
  /** key (`component.attr`) → instruction. */
  readonly items: ReadonlyMap<string, string>;
}

export const MAX_MEETING_ID_DIGITS = 11;
export const MAX_PASSCODE_DIGITS = 10;

function maxChars(page: PageSpec, name: string): number {
  return page.components.find((c) => c.name === name)?.maxChars ?? 32;
}

export function upcoming(meetings: readonly ScheduledMeeting[], now: number, n = 3): ScheduledMeeting[] {
  return meetings
    .filter((m) => m.end > now)
    .slice()
    .sort((a, b) => a.start - b.start)
    .slice(0, n);
}

export function formatClock(now: number, timeZone?: string): { time: string; date: string } {
  const zone = timeZone === undefined ? {} : { timeZone };
  let time: string;
  let date: string;
  try {
    time = new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
      ...zone,
    }).format(now);
    date = new Intl.DateTimeFormat('en-GB', {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      ...zone,
    }).format(now);
  } catch (error) {
    // An unknown time zone: show the system zone's time.
    if (!(error instanceof RangeError)) throw error;
    return formatClock(now);
  }
  return { time, date };
}

/** Panel words for a client without an identity key (docs/hardware.md, page 3 `meeting`). */
const CLIENT_WORDS: Readonly<Record<string, string>> = {
  room: 'room system',
  desktop: 'desktop app',
  mobile: 'mobile app',
  web: 'web browser',
  phone: 'telephone',
  sip: 'SIP device',
};

const MARKS: Readonly<Record<Exclude<IdentityMark, 'none'>, string>> = {
  'key-changed': 'KEY CHANGED',
  unverified: 'not verified',
  verified: 'verified',
};

const MARK_COLOUR: Readonly<Record<IdentityMark, number>> = {
  'key-changed': COLOURS.alarm,
  unverified: COLOURS.warn,
  verified: COLOURS.ok,
  none: COLOURS.text,
};

/** Alarms first, then the unverified, the verified, and clients without an identity key. */
const SEVERITY: Readonly<Record<IdentityMark, number>> = {
  'key-changed': 0,
  unverified: 1,
  verified: 2,
  none: 3,
};

export interface PanelLine {
  readonly text: string;
  /** Text colour (`pco`, RGB565). */
  readonly colour: number;
}

/**
 * The meeting page's participant lines: everyone but this room, most serious first (so a changed
 * key is never scrolled away), each `<mark>: <name>` — the mark leads, so no display name can pose
 * as one. Participants that do not fit are summed up on one more line, naming the problems among
 * them.
 */
export function participantLines(
  participants: readonly ParticipantView[],
  lines = PARTICIPANT_LINES,
): { lines: PanelLine[]; more: PanelLine | null } {
  const others = participants
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.self !== true)
    .sort((a, b) => SEVERITY[a.p.identity] - SEVERITY[b.p.identity] || a.i - b.i)
    .map(({ p }) => p);
  if (others.length === 0)
    return { lines: [{ text: 'Nobody else has joined yet.', colour: COLOURS.text }], more: null };
  const shown = others.slice(0, lines).map((p) => {
    const name = p.name.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
    const mark = p.identity === 'none' ? (CLIENT_WORDS[p.clientType] ?? p.clientType) : MARKS[p.identity];
    return { text: `${mark}: ${name}`, colour: MARK_COLOUR[p.identity] };
  });
  const hidden = others.slice(lines);
  if (hidden.length === 0) return { lines: shown, more: null };
  const changed = hidden.filter((p) => p.identity === 'key-changed').length;
  const unverified = hidden.filter((p) => p.identity === 'unverified').length;
  const parts = [`+${hidden.length} more`];
  if (changed > 0) parts.push(`${changed} KEY CHANGED`);
  if (unverified > 0) parts.push(`${unverified} not verified`);
  const colour = changed > 0 ? COLOURS.alarm : unverified > 0 ? COLOURS.warn : COLOURS.text;
  return { lines: shown, more: { text: parts.join(', '), colour } };
}

export interface ShareButton {
  readonly text: string;
  /** What a touch asks of the room (`share(on)`); null while the button is disabled. */
  readonly on: boolean | null;
}

const IS_SHARING = ' is sharing';

/**
 * The meeting page's Share button (docs/hardware.md, page 3 `meeting`): `Share` while the room can
 * share and nobody does, `Stop sharing` while the room shares, otherwise disabled with the reason
 * (`<name> is sharing`, `No content source connected`), in the kiosk's words (docs/kiosk-and-admin-api.md
 * §Content sharing). A long name is cut, never ` is sharing`.
 */
export function shareButton(share: ShareView, limit = maxChars(MEETING, 'bShare')): ShareButton {
  if (share.self) return { text: 'Stop sharing', on: false };
  // The meeting's host takes a share over (docs/protocol.md "# Content sharing").
  if (share.active && share.host === true && share.canShare) return { text: 'Take over sharing', on: true };
  if (share.active) {
    const name = (share.by ?? '').replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim() || 'Someone';
    return {
      text: `${name.slice(0, Math.max(1, limit - IS_SHARING.length)).trimEnd()}${IS_SHARING}`,
      on: null,
    };
  }
  if (!share.canShare) return { text: 'No content source connected', on: null };
  return { text: 'Share', on: true };
}

class Items {
  readonly map = new Map<string, string>();
  constructor(readonly page: PageSpec) {}
  text(name: string, value: string): void {
    this.map.set(`${name}.txt`, ins.setText(name, value, maxChars(this.page, name)));
  }
  num(name: string, attr: string, value: number): void {
    this.map.set(`${name}.${attr}`, ins.setNumber(`${name}.${attr}`, value));
  }
  vis(name: string, on: boolean): void {
    this.map.set(`${name}.vis`, ins.visible(name, on));
  }
}

export function render(view: RoomView, ui: UiState, now: number): Rendered {
  const notice = ui.notice ?? view.notice ?? '';
  if (view.phase === 'in-meeting') {
    const it = new Items(MEETING);
    const m = view.meeting;
    it.text('tTitle', m.title);
    it.num('pShield', 'pic', SHIELD_PICTURES[m.shield]);
    it.text('tShield', SHIELD_LABELS[m.shield]);
    const groups = codeGroups(m.securityCode);
    for (let i = 0; i < 8; i++) {
      it.text(`tCode${i}`, groups?.[i] ?? '');
      it.vis(`tCode${i}`, groups !== null);
    }
    it.text('bMute', m.muted ? 'Unmute' : 'Mute');
    it.num('bMute', 'bco', m.muted ? COLOURS.muted : COLOURS.normal);
    it.text('bCam', m.cameraOn ? 'Camera off' : 'Camera on');
    it.num('bCam', 'bco', m.cameraOn ? COLOURS.normal : COLOURS.active);
    const vol = Math.max(0, Math.min(100, Math.round(m.volume)));
    it.num('nVol', 'val', vol);
    it.num('hVol', 'val', vol);
    for (let i = 1; i <= PRESET_BUTTONS; i++) {
      const p = view.presets.find((x) => x.preset === i);
      it.text(`bPre${i}`, p?.label ?? String(i));
      it.vis(`bPre${i}`, p !== undefined);
    }
    it.text('tNotice', notice);
    const roster = codeGroups(m.rosterCode, 4);
    it.text('tRoster', roster === null ? '' : `Roster check ${roster.join(' ')}`);
    it.vis('tRoster', roster !== null);
    const people = m.participants === undefined ? null : participantLines(m.participants);
    for (let i = 0; i < PARTICIPANT_LINES; i++) {
      const line = people?.lines[i];
      it.text(`tPart${i}`, line?.text ?? '');
      it.num(`tPart${i}`, 'pco', line?.colour ?? COLOURS.text);
      it.vis(`tPart${i}`, line !== undefined);
    }
    const more = people?.more ?? null;
    it.text('tPartMore', more?.text ?? '');
    it.num('tPartMore', 'pco', more?.colour ?? COLOURS.text);
    it.vis('tPartMore', more !== null);
    const share = m.share ?? null;
    const button = share === null ? null : shareButton(share);
    it.text('bShare', button?.text ?? '');
    it.num('bShare', 'bco', button?.on === false ? COLOURS.active : COLOURS.normal);
    it.num('bShare', 'pco', button === null || button.on !== null ? COLOURS.caption : COLOURS.disabled);
    it.vis('bShare', button !== null);
    return { page: MEETING, items: it.map };
  }
  if (view.phase === 'joining') {
    const it = new Items(JOINING);
    it.text('tTitle', `Joining ${view.joining.title}`);
    it.num('jProg', 'val', Math.max(0, Math.min(100, Math.round(view.joining.progress))));
    it.text('tStep', ui.notice ?? view.joining.step);
    return { page: JOINING, items: it.map };
  }
  if (ui.keypad !== null) {
    const k = ui.keypad;
    const it = new Items(KEYPAD);
    it.text('tTitle', k.step === 'id' ? 'Meeting ID' : 'Passcode (OK if none)');
    it.text('tEntry', k.step === 'id' ? groupDigits(k.digits) : '*'.repeat(k.digits.length));
    it.text('bOk', k.step === 'id' ? 'Next' : 'Join');
    it.text('tError', k.error ?? notice);
    return { page: KEYPAD, items: it.map };
  }
  const it = new Items(IDLE);
  const clock = formatClock(now, view.timeZone);
  it.text('tRoom', view.roomName);
  it.text('tClock', clock.time);
  it.text('tDate', clock.date);
  const next = upcoming(view.meetings, now);
  for (let i = 0; i < 3; i++) {
    const m = next[i];
    const name = `bMeet${i}`;
    it.text(name, m === undefined ? '' : `${formatClock(m.start, view.timeZone).time} ${m.title}`);
    it.vis(name, m !== undefined);
  }
  const first = next[0];
  it.text('bJoin', first === undefined ? 'Join' : `Join ${first.title}`);
  it.vis('bJoin', first !== undefined);
  it.text('tNotice', notice);
  return { page: IDLE, items: it.map };
}

/** "12345678901" → "123 4567 8901" style grouping for readability. */
export function groupDigits(d: string): string {
  return d.replace(/(\d{3})(?=\d)/g, '$1 ').trim();
}
