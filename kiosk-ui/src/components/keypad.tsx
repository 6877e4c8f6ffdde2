/**
 * Join by ID (docs/kiosk-and-admin-api.md §Room screen): a touch keypad for the meeting ID and an
 * optional passcode.
 */
import { useState } from 'preact/hooks';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'];

/** Show a meeting ID as "812 3456 7890". */
export function formatMeetingId(id: string): string {
  const d = id.replace(/\D/g, '');
  if (d.length <= 3) return d;
  if (d.length <= 7) return `${d.slice(0, 3)} ${d.slice(3)}`;
  return `${d.slice(0, 3)} ${d.slice(3, 7)} ${d.slice(7)}`;
}

export function JoinByIdPanel({
  busy,
  pending = false,
  onJoin,
}: {
  busy: boolean;
  /** This panel's Join was tapped and roomd has not answered yet. */
  pending?: boolean;
  onJoin: (id: string, passcode: string) => void;
}) {
  const [id, setId] = useState('');
  const [passcode, setPasscode] = useState('');
  const [field, setField] = useState<'id' | 'passcode'>('id');
  const value = field === 'id' ? id : passcode;
  const set = field === 'id' ? setId : setPasscode;
  const press = (key: string) => {
    if (key === 'clear') set('');
    else if (key === 'back') set(value.slice(0, -1));
    else if (value.length < (field === 'id' ? 13 : 10)) set(value + key);
  };
  const canJoin = id.length >= 9 && !busy;
  return (
    <section class="card join-by-id" data-testid="join-by-id">
      <h2>Join by meeting ID</h2>
      <button
        type="button"
        class={`entry ${field === 'id' ? 'entry-active' : ''}`}
        onClick={() => setField('id')}
        data-testid="entry-id"
      >
        <span class="entry-label">Meeting ID</span>
        <span class="entry-value">{id === '' ? ' ' : formatMeetingId(id)}</span>
      </button>
      <button
        type="button"
        class={`entry ${field === 'passcode' ? 'entry-active' : ''}`}
        onClick={() => setField('passcode')}
        data-testid="entry-passcode"
      >
        <span class="entry-label">Passcode (if any)</span>
        <span class="entry-value">{passcode === '' ? ' ' : '•'.repeat(passcode.length)}</span>
      </button>
      <div class="keypad">
        {KEYS.map((k) => (
          <button type="button" class="key" key={k} onClick={() => press(k)} data-testid={`key-${k}`}>
            {k === 'back' ? '⌫' : k === 'clear' ? 'Clear' : k}
          </button>
        ))}
      </div>
      <button
        type="button"
        class={`button button-join button-wide ${pending ? 'is-pending' : ''}`}
        disabled={!canJoin}
        onClick={() => onJoin(id, passcode)}
        data-testid="join-by-id-button"
      >
        {pending ? 'Joining…' : 'Join'}
      </button>
    </section>
  );
}
