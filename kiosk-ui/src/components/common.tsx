/**
 * Pieces every kiosk screen shares (docs/kiosk-and-admin-api.md §Room screen): the clock, the room
 * header, notices in plain words (room errors, a failed touch command, the admin sign-in lockout, a
 * lost link to roomd), each said once.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RoomState } from '../api.ts';

export function useNow(intervalMs = 1000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = window.setInterval(() => setNow(new Date()), intervalMs);
    return () => window.clearInterval(t);
  }, [intervalMs]);
  return now;
}

export const timeOf = (d: Date) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function Clock() {
  const now = useNow();
  return (
    <div class="clock">
      <div class="clock-time" data-testid="clock">
        {timeOf(now)}
      </div>
      <div class="clock-date">
        {now.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' })}
      </div>
    </div>
  );
}

export function Notices({
  state,
  commandError,
  connected,
  onDismiss,
}: {
  state: RoomState | null;
  commandError: string | null;
  connected: boolean;
  onDismiss: () => void;
}) {
  const items: { key: string; text: string; tone: 'error' | 'warn'; dismiss?: boolean }[] = [];
  if (!connected)
    items.push({ key: 'link', text: 'Lost contact with the room system. Reconnecting…', tone: 'warn' });
  // A refused command whose reason the room state already shows is said once, not twice.
  const known = new Set((state?.errors ?? []).map((e) => e.message));
  if (commandError !== null && !known.has(commandError))
    items.push({ key: 'cmd', text: commandError, tone: 'error', dismiss: true });
  for (const e of state?.errors ?? []) items.push({ key: `e-${e.code}`, text: e.message, tone: 'error' });
  if (state?.admin.loginLocked === true) {
    const until = state.admin.lockedUntil === null ? null : new Date(state.admin.lockedUntil);
    items.push({
      key: 'lock',
      text: `Admin sign-in is locked after too many wrong passwords${until === null ? '' : ` until ${timeOf(until)}`}.`,
      tone: 'warn',
    });
  }
  if (items.length === 0) return null;
  return (
    <div class="notices" data-testid="notices">
      {items.map((n) => (
        <div class={`notice notice-${n.tone}`} key={n.key} role="status" data-testid={`notice-${n.key}`}>
          <span>{n.text}</span>
          {n.dismiss === true && (
            <button type="button" class="button button-light button-small" onClick={onDismiss}>
              OK
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
