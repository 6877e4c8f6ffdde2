/**
 * Forms generated from the settings schema (./schema.ts reads it): one control per field — text,
 * number, on/off, a choice, a table for lists of objects, JSON for the rest — with its help text,
 * default, "needs restart" mark and the server's error for that field shown at the field.
 * Write-only fields (secrets) start empty and are sent only when an admin types a new value.
 * The editor state is in settings-editor.ts, the controls per kind of field in field-controls.tsx.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { type ApiError, api, asApiError } from './api.ts';
import { FieldControl } from './field-controls.tsx';
import {
  describeDefault,
  errorFor,
  type Field,
  fieldsIn,
  type Group,
  sameValue,
  unclaimedErrors,
} from './schema.ts';
import type { SettingsEditor } from './settings-editor.ts';
import { ErrorText } from './ui.tsx';

export function RestartBadge() {
  return (
    <span
      class="badge badge-restart"
      data-testid="needs-restart"
      title="Takes effect after the room restarts"
    >
      needs restart
    </span>
  );
}

/** One field: label, "needs restart", the control, the server's error for it, help and default. */
export function FieldRow({ f, ed }: { f: Field; ed: SettingsEditor }) {
  if (f.control.kind === 'fixed') return null;
  const inputId = `field-${f.id.replace(/\./g, '-')}`;
  const error = f.control.kind === 'rows' ? ed.errors.get(f.id) : errorFor(ed.errors, f.id);
  const secret = f.control.kind === 'text' && f.control.secret;
  const showDefault = f.default !== undefined && !secret && f.control.kind !== 'rows';
  return (
    <div
      class={`field${error === undefined ? '' : ' field-invalid'}`}
      data-testid="field"
      data-field={f.id}
      data-edited={String(ed.edited(f))}
    >
      <div class="field-label">
        <label for={inputId}>{f.label}</label>
        {f.restart && <RestartBadge />}
        {secret && (
          <span class="badge" title="Never shown back">
            secret
          </span>
        )}
        {ed.edited(f) && <span class="badge badge-changed">changed</span>}
        <code class="field-path">{f.id}</code>
      </div>
      <div class="field-control">
        <FieldControl f={f} ed={ed} inputId={inputId} />
        {error !== undefined && (
          <div class="field-error" role="alert" data-testid="field-error">
            {error}
          </div>
        )}
        {f.description !== undefined && <div class="field-help">{f.description}</div>}
        {showDefault && (
          <div class="field-help">
            Default: <span class="mono">{describeDefault(f.default)}</span>
            {!sameValue(ed.value(f), f.default) && (
              <button type="button" class="link-button" onClick={() => ed.set(f, f.default)}>
                Use the default
              </button>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

/** What saving a group said: saved (and what needs a restart), or the errors no field claimed. */
export function SaveOutcome({ ed, group, fields }: { ed: SettingsEditor; group: string; fields: Field[] }) {
  const [restarting, setRestarting] = useState<ApiError | 'asked' | null>(null);
  if (ed.saved?.group === group)
    return (
      <div class="notice notice-good" role="status" data-testid="saved">
        Saved.
        {ed.saved.restart.length > 0 && (
          <>
            {' '}
            Takes effect after a restart: {ed.saved.restart.join(', ')}.{' '}
            {restarting === 'asked' ? (
              <strong>The room is restarting.</strong>
            ) : (
              <button
                type="button"
                class="small-button danger"
                onClick={() =>
                  void api('POST', '/api/v1/restart')
                    .then(() => setRestarting('asked'))
                    .catch((e: unknown) => setRestarting(asApiError(e)))
                }
              >
                Restart now
              </button>
            )}
            {restarting !== null && restarting !== 'asked' && <ErrorText error={restarting} />}
          </>
        )}
      </div>
    );
  if (ed.saveError === null || ed.saveError.group !== group) return null;
  const err = ed.saveError.error;
  const rest = unclaimedErrors(
    ed.errors,
    fields.map((f) => f.id),
  );
  return (
    <div class="notice notice-bad" role="alert" data-testid="save-error">
      <strong>Not saved.</strong> {err.fields.length === 0 ? err.message : 'See the fields marked in red.'}
      {rest.length > 0 && (
        <ul>
          {rest.map(([k, m]) => (
            <li key={k}>
              <code>{k}</code> {m}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function GroupFields({ g, ed }: { g: Group; ed: SettingsEditor }) {
  return (
    <>
      {g.fields.map((f) => (
        <FieldRow key={f.id} f={f} ed={ed} />
      ))}
      {g.groups.map((sub) => (
        <fieldset key={sub.id} class="subgroup" data-group={sub.id}>
          <legend>{sub.label}</legend>
          <GroupFields g={sub} ed={ed} />
        </fieldset>
      ))}
    </>
  );
}

/** A settings section with its own Save and Discard. */
export function GroupForm({ g, ed, intro }: { g: Group; ed: SettingsEditor; intro?: ComponentChildren }) {
  const fields = fieldsIn(g);
  const dirty = ed.dirty(fields);
  return (
    <form
      class="card settings-group"
      id={`section-${g.id}`}
      data-testid={`settings-${g.id}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void ed.save(fields, g.id);
      }}
    >
      <div class="card-head">
        <h2>{g.label}</h2>
      </div>
      {intro}
      <GroupFields g={g} ed={ed} />
      <SaveOutcome ed={ed} group={g.id} fields={fields} />
      <div class="row">
        <button type="submit" disabled={!dirty || ed.busy} data-testid={`save-${g.id}`}>
          {ed.busy ? 'Saving…' : `Save ${g.label.toLowerCase()}`}
        </button>
        <button type="button" class="secondary" disabled={!dirty} onClick={() => ed.discard(fields)}>
          Discard changes
        </button>
      </div>
    </form>
  );
}
