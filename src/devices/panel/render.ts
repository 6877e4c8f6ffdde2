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
  PRESET_BUTTONS,
  type PageSpec,
  SHIELD_PICTURES,
} from './contract.ts';
import { codeGroups, type RoomView, SHIELD_LABELS, type ScheduledMeeting } from './view.ts';

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
  } catch {
    return formatClock(now);
  }
  return { time, date };
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
