/**
 * Idle (docs/kiosk-and-admin-api.md §Room screen): room name, clock, today's meetings with one-touch
 * Join, Join by ID. The tapped Join says "Joining…" at once, until roomd answers.
 */
import { useState } from 'preact/hooks';
import type { RoomState } from '../api.ts';
import { Clock, timeOf, useNow } from '../components/common.tsx';
import { ShieldIcon } from '../components/encryption.tsx';
import { formatMeetingId, JoinByIdPanel } from '../components/keypad.tsx';

export function IdleScreen({
  state,
  joining,
  onJoin,
}: {
  state: RoomState;
  /** A join command is on its way to roomd. */
  joining: boolean;
  onJoin: (meetingId: string, passcode?: string) => void;
}) {
  const now = useNow(30_000);
  const [tapped, setTapped] = useState<string | null>(null);
  const join = (meetingId: string, passcode?: string) => {
    setTapped(meetingId);
    onJoin(meetingId, passcode);
  };
  const today = state.schedule
    .filter(
      (m) =>
        new Date(m.end).getTime() > now.getTime() && new Date(m.start).toDateString() === now.toDateString(),
    )
    .sort((a, b) => a.start.localeCompare(b.start));
  return (
    <main class="screen idle" data-testid="screen-idle">
      <header class="idle-header">
        <div>
          <div class="label">Room</div>
          <h1 class="room-name" data-testid="room-name">
            {state.room.name}
          </h1>
        </div>
        <Clock />
      </header>
      <div class="idle-body">
        <section class="card schedule" data-testid="schedule">
          <h2>Today</h2>
          {today.length === 0 && <p class="empty">No more meetings booked for this room today.</p>}
          <ul>
            {today.map((m) => {
              const startsAt = new Date(m.start);
              const live = startsAt.getTime() <= now.getTime();
              return (
                <li
                  class={`meeting-row ${live ? 'meeting-live' : ''}`}
                  key={m.meetingId}
                  data-testid="schedule-item"
                >
                  <div class="meeting-time">
                    {timeOf(startsAt)}–{timeOf(new Date(m.end))}
                    {live && <span class="pill pill-live">Now</span>}
                  </div>
                  <div class="meeting-main">
                    <div class="meeting-title">{m.title}</div>
                    <div class="meeting-meta">
                      <ShieldIcon kind={m.encryption} size="small" />
                      <span>{m.encryption === 'e2ee' ? 'End-to-end encrypted' : 'Encrypted (enhanced)'}</span>
                      <span class="mono">· {formatMeetingId(m.meetingId)}</span>
                    </div>
                  </div>
                  <button
                    type="button"
                    class={`button button-join ${joining && tapped === m.meetingId ? 'is-pending' : ''}`}
                    disabled={joining}
                    onClick={() => join(m.meetingId)}
                    data-testid={`join-${m.meetingId}`}
                  >
                    {joining && tapped === m.meetingId ? 'Joining…' : 'Join'}
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
        <JoinByIdPanel
          busy={joining}
          pending={joining && tapped === 'keypad'}
          onJoin={(id, passcode) => {
            setTapped('keypad');
            onJoin(id, passcode === '' ? undefined : passcode);
          }}
        />
      </div>
    </main>
  );
}
