/**
 * Joining and waiting for the host (docs/kiosk-and-admin-api.md §Room screen): progress steps in
 * plain words, and a way out that says "Cancelling…" / "Leaving…" the moment it is tapped. Nothing
 * is said about the meeting's encryption before the meeting service has confirmed it.
 */
import type { Meeting } from '../api.ts';
import { EncryptionArea } from '../components/encryption.tsx';
import { joiningLead } from '../components/wording.ts';

export function JoiningScreen({
  meeting,
  leaving,
  onLeave,
}: {
  meeting: Meeting;
  leaving: boolean;
  onLeave: () => void;
}) {
  const steps = meeting.joinSteps ?? [{ label: 'Joining the meeting', state: 'active' as const }];
  const confirmed = meeting.encryptionConfirmed !== false;
  return (
    <main class="screen joining" data-testid="screen-joining">
      <h1>Joining {meeting.title || (confirmed ? 'the meeting' : `meeting ${meeting.id}`)}…</h1>
      <p class="lead" data-testid="joining-lead">
        {joiningLead(meeting)}
      </p>
      <ol class="steps">
        {steps.map((s) => (
          <li class={`step step-${s.state}`} key={s.label}>
            <span class="step-dot" />
            {s.label}
          </li>
        ))}
      </ol>
      <button
        type="button"
        class={`button button-leave ${leaving ? 'is-pending' : ''}`}
        disabled={leaving}
        onClick={onLeave}
        data-testid="cancel-join"
      >
        {leaving ? 'Cancelling…' : 'Cancel'}
      </button>
    </main>
  );
}

export function WaitingScreen({
  meeting,
  leaving,
  onLeave,
}: {
  meeting: Meeting;
  leaving: boolean;
  onLeave: () => void;
}) {
  return (
    <main class="screen waiting" data-testid="screen-waiting">
      <h1>Waiting for the host to start {meeting.title || 'the meeting'}</h1>
      <p class="lead">
        {meeting.encryption === 'e2ee'
          ? 'End-to-end encrypted meetings cannot start before the host joins.'
          : 'The meeting starts when the host joins.'}
      </p>
      <EncryptionArea meeting={meeting} />
      <button
        type="button"
        class={`button button-leave ${leaving ? 'is-pending' : ''}`}
        disabled={leaving}
        onClick={onLeave}
        data-testid="leave"
      >
        {leaving ? 'Leaving…' : 'Leave'}
      </button>
    </main>
  );
}
