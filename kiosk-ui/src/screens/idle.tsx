/**
 * Idle (docs/kiosk-and-admin-api.md §Room screen): room name, clock, the meetings of the next
 * hours with one-touch Join, Join by ID. The tapped Join says "Joining…" at once, until roomd answers.
 */
import { useState } from 'preact/hooks';
import type { RoomState } from '../api.ts';
import { Clock, timeOf, useNow } from '../components/common.tsx';
import { ShieldIcon } from '../components/encryption.tsx';
import { formatMeetingId, JoinByIdPanel } from '../components/keypad.tsx';
import { upcomingMeetings } from './choose.ts';

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
  const upcoming = upcomingMeetings(state.schedule, now.getTime());
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
          <h2>Next meetings</h2>
          {upcoming.length === 0 && <p class="empty">No meetings booked for this room in the next hours.</p>}
          <ul>
            {upcoming.map((m) => {
              const startsAt = new Date(m.start);
              const live = startsAt.getTime() <= now.getTime();
              return (
                <li
                  class={`meeting-row ${live ? 'meeting-live' : ''}`}
                  key={m.meetingId}
                  data-testid="schedule-item"
                >
                  <div class="meeting-time">
                    {startsAt.toDateString() === now.toDateString() ? '' : 'Tomorrow '}
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
