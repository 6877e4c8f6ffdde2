/**
 * Joining and waiting for the host (issue 7, kiosk UI): progress steps in plain words, and a way out.
 */
import type { Meeting } from '../api.ts';
import { EncryptionArea } from '../components/encryption.tsx';

export function JoiningScreen({ meeting, onLeave }: { meeting: Meeting; onLeave: () => void }) {
  const steps = meeting.joinSteps ?? [{ label: 'Joining the meeting', state: 'active' as const }];
  return (
    <main class="screen joining" data-testid="screen-joining">
      <h1>Joining {meeting.title ?? 'the meeting'}…</h1>
      <p class="lead">
        {meeting.encryption === 'e2ee'
          ? 'End-to-end encrypted: the security code appears once every participant’s keys are checked.'
          : 'Encrypted in transit; the meeting service holds the keys.'}
      </p>
      <ol class="steps">
        {steps.map((s) => (
          <li class={`step step-${s.state}`} key={s.label}>
            <span class="step-dot" />
            {s.label}
          </li>
        ))}
      </ol>
      <button type="button" class="button button-leave" onClick={onLeave} data-testid="cancel-join">
        Cancel
      </button>
    </main>
  );
}

export function WaitingScreen({ meeting, onLeave }: { meeting: Meeting; onLeave: () => void }) {
  return (
    <main class="screen waiting" data-testid="screen-waiting">
      <h1>Waiting for the host to start {meeting.title ?? 'the meeting'}</h1>
      <p class="lead">
        {meeting.encryption === 'e2ee'
          ? 'End-to-end encrypted meetings cannot start before the host joins.'
          : 'The meeting starts when the host joins.'}
      </p>
      <EncryptionArea meeting={meeting} />
      <button type="button" class="button button-leave" onClick={onLeave} data-testid="leave">
        Leave
      </button>
    </main>
  );
}
