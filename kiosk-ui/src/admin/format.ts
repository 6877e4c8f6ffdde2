/**
 * How the console writes things, one way everywhere: the certificate fingerprint exactly as the
 * setup screen shows it (and roomctl --fingerprint takes it), identity-key fingerprints as roomctl
 * identity show prints them, times, durations and the encryption shield in the room screen's words.
 */
import type { ConsoleMeeting } from './types.ts';

/**
 * The admin certificate's SHA-256 fingerprint as two rows of colon-separated upper-case hex, split
 * in the middle as on the setup screen ("AB:CD:…:12" / "34:…:EF").
 */
export function certificateRows(fingerprint: string): [string, string] {
  const bytes = fingerprint.toUpperCase().split(':');
  const half = Math.ceil(bytes.length / 2);
  return [bytes.slice(0, half).join(':'), bytes.slice(half).join(':')];
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${Math.max(0, Math.floor(seconds))} s`;
}

/** "14:05" today, "3 Mar 14:05" on another day, "3 Mar 2036 14:05" in another year. */
export function formatTime(iso: string, now = Date.now()): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const time = t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  if (t.toDateString() === new Date(now).toDateString()) return time;
  const sameYear = t.getFullYear() === new Date(now).getFullYear();
  const date = t.toLocaleDateString([], {
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
  return `${date} ${time}`;
}

/** "2 min ago", "3 h ago". */
export function formatAgo(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  if (ms < 60_000) return 'just now';
  return `${formatDuration(ms / 1000)} ago`;
}

export const SHIELD_WORDS: Record<ConsoleMeeting['shield'], string> = {
  e2ee: 'End-to-end encrypted',
  enhanced: 'Encrypted — keys held by the meeting service',
  partial: 'Not fully verified — someone holding the key is not verified',
  verifying: 'Verifying encryption…',
  none: 'Not encrypted',
};

export const MEETING_STATUS_WORDS: Record<ConsoleMeeting['status'], string> = {
  joining: 'Joining',
  waiting_for_host: 'Waiting for the host',
  in_meeting: 'In the meeting',
  leaving: 'Leaving',
  ended: 'Ended',
};

/** "videoBitrateKbps" → "Video bitrate (kbps)"; a few words kept as people write them. */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(' ')
    .map((w) => w.toLowerCase());
  const known: Record<string, string> = {
    url: 'URL',
    visca: 'VISCA',
    uvc: 'UVC',
    id: 'ID',
    ids: 'IDs',
    hidraw: 'HID device',
    kbps: '(kbps)',
    e2ee: 'E2EE',
  };
  const out = words.map((w) => known[w] ?? w).join(' ');
  return out.charAt(0).toUpperCase() + out.slice(1);
}
