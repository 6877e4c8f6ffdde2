/**
 * Encryption policy (docs/kiosk-and-admin-api.md §Admin console): `encryption.minimum` and
 * `encryption.unverifiedParticipants` (and the encryption of meetings booked from the room) in
 * plain words, as choices, saved through the same settings API and field errors as Settings.
 */
import type { ComponentChildren } from 'preact';
import { type Field, fieldsIn, getAt } from '../schema.ts';
import { RestartBadge, SaveOutcome } from '../schema-form.tsx';
import type { SettingsEditor } from '../settings-editor.ts';
import { ErrorText } from '../ui.tsx';

interface Option {
  title: string;
  words: ComponentChildren;
}

const MINIMUM: Record<string, Option> = {
  e2ee: {
    title: 'End-to-end encrypted meetings only',
    words: (
      <>
        The keys that lock sound and video exist only on the devices of the people in the meeting. The meeting
        service passes the media on but cannot see or hear it. The room refuses to join a meeting whose keys
        the service holds, and says so on its screen.
      </>
    ),
  },
  booked: {
    title: 'End-to-end encrypted, unless booked otherwise',
    words: (
      <>
        As above, except for meetings that a host this room trusts — the room itself, or someone your
        organization certified — booked with enhanced encryption and signed that way. The meeting service
        alone can never make the room join with less than end-to-end encryption.
      </>
    ),
  },
  enhanced: {
    title: 'Also meetings with enhanced encryption',
    words: (
      <>
        The room also joins meetings whose keys the meeting service holds — what phone dial-in, recording and
        live captions need. Sound and video are still encrypted on the network, but the service could see and
        hear them. The room screen shows a shield with a check mark and no security code for these.
      </>
    ),
  },
};

const UNVERIFIED: Record<string, Option> = {
  allow: {
    title: 'Allow',
    words: <>The participant list says who is not verified. Nothing else changes.</>,
  },
  warn: {
    title: 'Warn',
    words: (
      <>
        The room screen also warns while anyone is not verified, and its shield is not green while one of them
        holds the meeting key. They still see and hear the meeting.
      </>
    ),
  },
  refuse: {
    title: 'Refuse',
    words: (
      <>
        As Warn, and when this room is the one handing out the meeting key, it gives them none: they stay in
        the list but cannot see or hear the meeting.
      </>
    ),
  },
};

const BOOKED: Record<string, Option> = {
  e2ee: { title: 'End-to-end encrypted', words: <>Only the people in the meeting hold the keys.</> },
  enhanced: { title: 'Enhanced', words: <>The meeting service holds the keys (dial-in, recording work).</> },
};

function Choices({
  f,
  ed,
  words,
  question,
  children,
}: {
  f: Field | undefined;
  ed: SettingsEditor;
  words: Record<string, Option>;
  question: string;
  children?: ComponentChildren;
}) {
  if (f === undefined || f.control.kind !== 'choice') return null;
  const current = ed.value(f);
  const error = ed.errors.get(f.id);
  return (
    <fieldset
      class={`policy${error === undefined ? '' : ' field-invalid'}`}
      data-field={f.id}
      data-testid="field"
    >
      <legend>
        {question} {f.restart && <RestartBadge />} <code class="field-path">{f.id}</code>
      </legend>
      {children}
      <div class="choice-cards">
        {f.control.options.map((o) => {
          const key = String(o);
          const w = words[key];
          return (
            <label key={key} class={`choice-card${current === o ? ' chosen' : ''}`} data-choice={key}>
              <input
                type="radio"
                name={f.id}
                value={key}
                checked={current === o}
                onChange={() => ed.set(f, o)}
              />
              <span>
                <strong>
                  {w?.title ?? key}
                  {o === f.default && <span class="muted"> (default)</span>}
                </strong>
                <span class="choice-words">{w?.words}</span>
              </span>
            </label>
          );
        })}
      </div>
      {error !== undefined && (
        <div class="field-error" role="alert" data-testid="field-error">
          {error}
        </div>
      )}
      {f.description !== undefined && (
        <details class="field-help">
          <summary>As the settings schema says it</summary>
          {f.description}
        </details>
      )}
    </fieldset>
  );
}

export function EncryptionPage({ ed }: { ed: SettingsEditor }) {
  if (ed.root === null || ed.settings === null)
    return ed.loadError !== null ? <ErrorText error={ed.loadError} /> : <p class="muted">Loading…</p>;
  const group = ed.root.groups.find((g) => g.id === 'encryption');
  if (group === undefined) return <p class="muted">This room has no encryption settings.</p>;
  const fields = fieldsIn(group);
  const field = (k: string) => fields.find((f) => f.key === k);
  const anchors = getAt(ed.settings, ['identity', 'trustAnchors']);
  const trustsNobody = !Array.isArray(anchors) || anchors.length === 0;
  const dirty = ed.dirty(fields);
  return (
    <form
      class="page encryption-page"
      data-testid="page-encryption"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void ed.save(fields, group.id);
      }}
    >
      <p class="lead">
        The room joins meetings through a meeting service it does not have to trust. These settings decide how
        much it demands of a meeting, and of the people in it.
      </p>
      <section class="card">
        <Choices
          f={field('minimum')}
          ed={ed}
          words={MINIMUM}
          question="Which meetings does this room join?"
        />
      </section>
      <section class="card">
        <Choices
          f={field('unverifiedParticipants')}
          ed={ed}
          words={UNVERIFIED}
          question="People in an end-to-end encrypted meeting whom no trusted organization vouches for"
        >
          <p class="muted">
            A person is verified when their identity key carries a certificate from an organization this room
            trusts (Settings › Organization identity). Phones and people outside such an organization are not.
          </p>
          {trustsNobody && (
            <div class="notice notice-warn" data-testid="trusts-nobody">
              This room trusts no organization yet, so it cannot verify anyone: under Warn (and Refuse, which
              then works like Warn) its shield is not green while anyone else holds the key, and people
              compare the roster code aloud; Allow shows the green padlock anyway. Add your organization under{' '}
              <a href="#/settings/identity">Settings › Organization identity</a>.
            </div>
          )}
        </Choices>
      </section>
      <section class="card">
        <Choices
          f={field('defaultForNewMeetings')}
          ed={ed}
          words={BOOKED}
          question="Encryption of meetings booked from this room"
        />
      </section>
      <SaveOutcome ed={ed} group={group.id} fields={fields} />
      <div class="row">
        <button type="submit" disabled={!dirty || ed.busy} data-testid="save-encryption">
          {ed.busy ? 'Saving…' : 'Save encryption policy'}
        </button>
        <button type="button" class="secondary" disabled={!dirty} onClick={() => ed.discard(fields)}>
          Discard changes
        </button>
      </div>
    </form>
  );
}
