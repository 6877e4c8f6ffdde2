/**
 * Forms generated from the settings schema (./schema.ts reads it): one control per field — text,
 * number, on/off, a choice, a table for lists of objects, JSON for the rest — with its help text,
 * default, "needs restart" mark and the server's error for that field shown at the field.
 * Write-only fields (secrets) start empty and are sent only when an admin types a new value.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type ApiError, api, asApiError } from './api.ts';
import {
  type Choice,
  describeDefault,
  errorFor,
  errorsByField,
  type Field,
  fieldsIn,
  getAt,
  type Group,
  groupOf,
  type JsonSchema,
  patchOf,
  sameValue,
  unclaimedErrors,
} from './schema.ts';
import { ErrorText } from './ui.tsx';

/** Section names as facilities people say them; everything else is named from the schema's keys. */
export const GROUP_LABELS: Record<string, string> = {
  room: 'Room',
  kiosk: 'Room screen (kiosk)',
  admin: 'Admin console',
  meetingService: 'Meeting service',
  encryption: 'Encryption',
  identity: 'Organization identity',
  devices: 'Devices',
  'devices.panel': 'Touch panel',
  'devices.camera': 'Camera',
  'devices.speakerphone': 'Speakerphone and speaker',
  media: 'Audio and video',
  log: 'Logging',
};

type Edit = { path: string[]; value: unknown };

export interface SavedNotice {
  group: string;
  restart: string[];
}

export interface SettingsEditor {
  root: Group | null;
  settings: Record<string, unknown> | null;
  loadError: ApiError | null;
  value(f: Field): unknown;
  edited(f: Field): boolean;
  set(f: Field, value: unknown): void;
  /** JSON text that does not parse yet, by field id (blocks saving that field's group). */
  setDraft(f: Field, text: string | null): void;
  errors: Map<string, string>;
  saveError: { group: string; error: ApiError } | null;
  saved: SavedNotice | null;
  busy: boolean;
  dirty(fields: Field[]): boolean;
  save(fields: Field[], group: string): Promise<void>;
  discard(fields: Field[]): void;
}

export function useSettingsEditor(): SettingsEditor {
  const [schema, setSchema] = useState<JsonSchema | null>(null);
  const [settings, setSettings] = useState<Record<string, unknown> | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [edits, setEdits] = useState<Map<string, Edit>>(new Map());
  const [drafts, setDrafts] = useState<Map<string, string>>(new Map());
  const [errors, setErrors] = useState<Map<string, string>>(new Map());
  const [saveError, setSaveError] = useState<{ group: string; error: ApiError } | null>(null);
  const [saved, setSaved] = useState<SavedNotice | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void (async () => {
      try {
        const [sc, st] = await Promise.all([
          api<JsonSchema>('GET', '/api/v1/settings/schema'),
          api<Record<string, unknown>>('GET', '/api/v1/settings'),
        ]);
        setSchema(sc);
        setSettings(st);
      } catch (e) {
        setLoadError(asApiError(e));
      }
    })();
  }, []);

  const root = useMemo(() => (schema === null ? null : groupOf(schema, [], GROUP_LABELS)), [schema]);

  const value = useCallback(
    (f: Field) => {
      const e = edits.get(f.id);
      if (e !== undefined) return e.value;
      if (f.control.kind === 'text' && f.control.secret) return undefined;
      return getAt(settings, f.path);
    },
    [edits, settings],
  );

  const set = useCallback(
    (f: Field, v: unknown) => {
      setEdits((old) => {
        const next = new Map(old);
        const secret = f.control.kind === 'text' && f.control.secret;
        // Back to what is stored: no longer an edit. A secret is unknown, so any value is one.
        if (!secret && sameValue(v, getAt(settings, f.path))) next.delete(f.id);
        else if (secret && v === undefined) next.delete(f.id);
        else next.set(f.id, { path: f.path, value: v });
        return next;
      });
      setSaved(null);
    },
    [settings],
  );

  const setDraft = useCallback((f: Field, text: string | null) => {
    setDrafts((old) => {
      const next = new Map(old);
      if (text === null) next.delete(f.id);
      else next.set(f.id, text);
      return next;
    });
  }, []);

  const dirty = useCallback(
    (fields: Field[]) => fields.some((f) => edits.has(f.id) || drafts.has(f.id)),
    [edits, drafts],
  );

  const discard = useCallback((fields: Field[]) => {
    const ids = new Set(fields.map((f) => f.id));
    setEdits((old) => new Map([...old].filter(([k]) => !ids.has(k))));
    setDrafts((old) => new Map([...old].filter(([k]) => !ids.has(k))));
    setErrors(
      (old) => new Map([...old].filter(([k]) => ![...ids].some((id) => k === id || k.startsWith(`${id}.`)))),
    );
    setSaveError(null);
  }, []);

  const save = useCallback(
    async (fields: Field[], group: string) => {
      setSaved(null);
      setSaveError(null);
      const ids = new Set(fields.map((f) => f.id));
      const bad = [...drafts].filter(([k]) => ids.has(k));
      if (bad.length > 0) {
        setErrors(new Map(bad.map(([k]) => [k, 'is not valid JSON yet'])));
        return;
      }
      const mine = new Map([...edits].filter(([k]) => ids.has(k)));
      if (mine.size === 0) return;
      setBusy(true);
      try {
        const next = await api<Record<string, unknown>>('PATCH', '/api/v1/settings', patchOf(mine));
        setSettings(next);
        setEdits((old) => new Map([...old].filter(([k]) => !ids.has(k))));
        setErrors(new Map());
        setSaved({
          group,
          restart: fields.filter((f) => f.restart && mine.has(f.id)).map((f) => f.id),
        });
      } catch (e) {
        const err = asApiError(e);
        setErrors(errorsByField(err.fields));
        setSaveError({ group, error: err });
      } finally {
        setBusy(false);
      }
    },
    [edits, drafts],
  );

  return {
    root,
    settings,
    loadError,
    value,
    edited: (f) => edits.has(f.id) || drafts.has(f.id),
    set,
    setDraft,
    errors,
    saveError,
    saved,
    busy,
    dirty,
    save,
    discard,
  };
}

const choiceLabel = (c: Choice) =>
  c === null ? 'none' : c === true ? 'on' : c === false ? 'off' : String(c);

function TextControl({ f, ed, inputId }: { f: Field; ed: SettingsEditor; inputId: string }) {
  if (f.control.kind !== 'text') return null;
  const c = f.control;
  const v = ed.value(f);
  if (c.secret)
    return (
      <div class="row">
        <input
          id={inputId}
          type="password"
          autocomplete="new-password"
          placeholder={v === null ? 'Will be removed on save' : 'Not shown. Type a new value to replace it.'}
          value={typeof v === 'string' ? v : ''}
          onInput={(e) => {
            const t = (e.currentTarget as HTMLInputElement).value;
            ed.set(f, t === '' ? undefined : t);
          }}
        />
        {c.nullable && (
          <button type="button" class="link-button" onClick={() => ed.set(f, null)}>
            Remove
          </button>
        )}
      </div>
    );
  return (
    <input
      id={inputId}
      type="text"
      value={typeof v === 'string' ? v : ''}
      placeholder={c.nullable ? 'not set' : ''}
      onInput={(e) => {
        const t = (e.currentTarget as HTMLInputElement).value;
        ed.set(f, t === '' && c.nullable ? null : t);
      }}
    />
  );
}

function NumberControl({ f, ed, inputId }: { f: Field; ed: SettingsEditor; inputId: string }) {
  if (f.control.kind !== 'number') return null;
  const c = f.control;
  const v = ed.value(f);
  return (
    <input
      id={inputId}
      type="number"
      class="narrow"
      step={c.integer ? 1 : 'any'}
      {...(c.min === undefined ? {} : { min: c.min })}
      {...(c.max === undefined ? {} : { max: c.max })}
      value={typeof v === 'number' ? String(v) : typeof v === 'string' ? v : ''}
      onInput={(e) => {
        const t = (e.currentTarget as HTMLInputElement).value.trim();
        // Sent as typed: the server says at the field what is allowed (e.g. "from 160 to 3840").
        ed.set(f, t === '' ? null : Number.isNaN(Number(t)) ? t : Number(t));
      }}
    />
  );
}

function ChoiceControl({ f, ed, inputId }: { f: Field; ed: SettingsEditor; inputId: string }) {
  if (f.control.kind !== 'choice') return null;
  const options = f.control.options;
  const v = ed.value(f) as Choice;
  const at = options.indexOf(v);
  return (
    <select
      id={inputId}
      value={String(at)}
      onChange={(e) => ed.set(f, options[Number((e.currentTarget as HTMLSelectElement).value)] ?? null)}
    >
      {at === -1 && <option value="-1">{v === undefined ? '' : `${String(v)} (not allowed)`}</option>}
      {options.map((o, i) => (
        <option key={String(o)} value={String(i)}>
          {choiceLabel(o)}
        </option>
      ))}
    </select>
  );
}

function JsonControl({ f, ed, inputId }: { f: Field; ed: SettingsEditor; inputId: string }) {
  const v = ed.value(f);
  const stored = v === null || v === undefined ? '' : JSON.stringify(v, null, 2);
  const [text, setText] = useState(stored);
  const [bad, setBad] = useState(false);
  // The value as the admin's own typing last set it: not reformatted under their cursor.
  const typed = useRef<string | null>(null);
  // A save or discard replaces the value: show it (unless the admin is mid-edit of bad JSON).
  useEffect(() => {
    if (!bad && stored !== typed.current) setText(stored);
  }, [stored, bad]);
  const nullable = f.control.kind === 'json' && f.control.nullable;
  return (
    <div class="json-control">
      <textarea
        id={inputId}
        rows={Math.min(12, Math.max(3, text.split('\n').length))}
        spellcheck={false}
        placeholder={nullable ? 'none — paste JSON to set' : ''}
        value={text}
        onInput={(e) => {
          const t = (e.currentTarget as HTMLTextAreaElement).value;
          setText(t);
          if (t.trim() === '' && nullable) {
            setBad(false);
            typed.current = '';
            ed.setDraft(f, null);
            ed.set(f, null);
            return;
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(t);
          } catch (error) {
            if (!(error instanceof SyntaxError)) throw error;
            // Not JSON (yet): kept as a draft the field marks, and that cannot be saved.
            setBad(true);
            ed.setDraft(f, t);
            return;
          }
          setBad(false);
          typed.current = JSON.stringify(parsed, null, 2);
          ed.setDraft(f, null);
          ed.set(f, parsed);
        }}
      />
      {bad && <div class="field-hint warn-text">Not valid JSON yet.</div>}
    </div>
  );
}

function RowsControl({ f, ed }: { f: Field; ed: SettingsEditor }) {
  if (f.control.kind !== 'rows') return null;
  const { columns, maxItems } = f.control;
  const raw = ed.value(f);
  const rows = Array.isArray(raw) ? (raw as Record<string, unknown>[]) : [];
  const change = (i: number, key: string, v: unknown) =>
    ed.set(
      f,
      rows.map((r, j) => (j === i ? { ...r, [key]: v } : r)),
    );
  const blank = () =>
    Object.fromEntries(columns.map((c) => [c.key, c.default ?? (c.control.kind === 'number' ? 0 : '')]));
  return (
    <div class="rows-control">
      <table class="table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key}>{c.label}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => {
            const rowError = errorFor(ed.errors, `${f.id}.${i}`);
            return (
              <tr key={i} data-testid="list-row" class={rowError === undefined ? '' : 'row-invalid'}>
                {columns.map((c) => (
                  <td key={c.key} class={c.key === 'publicKey' || c.key === 'key' ? 'wide' : ''}>
                    {c.control.kind === 'choice' ? (
                      <select
                        value={String(c.control.options.indexOf(r[c.key] as Choice))}
                        onChange={(e) =>
                          c.control.kind === 'choice' &&
                          change(
                            i,
                            c.key,
                            c.control.options[Number((e.currentTarget as HTMLSelectElement).value)],
                          )
                        }
                      >
                        {c.control.options.map((o, k) => (
                          <option key={String(o)} value={String(k)}>
                            {choiceLabel(o)}
                          </option>
                        ))}
                      </select>
                    ) : c.control.kind === 'boolean' ? (
                      <input
                        type="checkbox"
                        checked={r[c.key] === true}
                        onChange={(e) => change(i, c.key, (e.currentTarget as HTMLInputElement).checked)}
                      />
                    ) : (
                      <input
                        type="text"
                        inputMode={c.control.kind === 'number' ? 'numeric' : 'text'}
                        aria-label={`${c.label}, row ${i + 1}`}
                        data-column={c.key}
                        class={c.key === 'publicKey' || c.key === 'key' ? 'mono' : ''}
                        value={r[c.key] === undefined || r[c.key] === null ? '' : String(r[c.key])}
                        onInput={(e) => {
                          const t = (e.currentTarget as HTMLInputElement).value;
                          const n = Number(t);
                          change(
                            i,
                            c.key,
                            c.control.kind === 'number' && t !== '' && !Number.isNaN(n) ? n : t,
                          );
                        }}
                      />
                    )}
                    {errorFor(ed.errors, `${f.id}.${i}.${c.key}`) !== undefined && (
                      <div class="field-error" data-testid="field-error">
                        {errorFor(ed.errors, `${f.id}.${i}.${c.key}`)}
                      </div>
                    )}
                  </td>
                ))}
                <td>
                  <button
                    type="button"
                    class="link-button"
                    onClick={() =>
                      ed.set(
                        f,
                        rows.filter((_, j) => j !== i),
                      )
                    }
                  >
                    Remove
                  </button>
                </td>
              </tr>
            );
          })}
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length + 1} class="muted">
                None.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <button
        type="button"
        class="secondary small-button"
        data-testid="add-row"
        disabled={maxItems !== undefined && rows.length >= maxItems}
        onClick={() => ed.set(f, [...rows, blank()])}
      >
        Add
      </button>
    </div>
  );
}

export function FieldControl({ f, ed, inputId }: { f: Field; ed: SettingsEditor; inputId: string }) {
  switch (f.control.kind) {
    case 'text':
      return <TextControl f={f} ed={ed} inputId={inputId} />;
    case 'number':
      return <NumberControl f={f} ed={ed} inputId={inputId} />;
    case 'choice':
      return <ChoiceControl f={f} ed={ed} inputId={inputId} />;
    case 'boolean': {
      const v = ed.value(f) === true;
      return (
        <label class="switch">
          <input
            id={inputId}
            type="checkbox"
            checked={v}
            onChange={(e) => ed.set(f, (e.currentTarget as HTMLInputElement).checked)}
          />
          <span>{v ? 'On' : 'Off'}</span>
        </label>
      );
    }
    case 'rows':
      return <RowsControl f={f} ed={ed} />;
    case 'json':
      return <JsonControl f={f} ed={ed} inputId={inputId} />;
    case 'fixed':
      return null;
  }
}

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
