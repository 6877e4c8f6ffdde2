/**
 * The control of one settings field (schema-form.tsx): text (secrets write-only), number, on/off, a
 * choice, a table for lists of objects, JSON for the rest.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Choice, errorFor, type Field } from './schema.ts';
import type { SettingsEditor } from './settings-editor.ts';

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
