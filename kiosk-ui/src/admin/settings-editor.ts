/**
 * The settings editor state behind the generated forms (schema-form.tsx): the schema and stored
 * settings loaded from the admin API, the admin's edits and unparsed JSON drafts by field, the
 * server's errors by field, and saving or discarding one group at a time
 * (docs/kiosk-and-admin-api.md).
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { type ApiError, api, asApiError } from './api.ts';
import {
  errorsByField,
  type Field,
  getAt,
  type Group,
  groupOf,
  type JsonSchema,
  patchOf,
  sameValue,
} from './schema.ts';

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
