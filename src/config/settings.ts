/**
 * Settings: defaults, migrations from older schema versions, `ROOMD_*` environment overrides,
 * validation, and persistence in `<state dir>/settings.json` (atomic, with a last-good copy).
 *
 * Environment names come from the schema: `kiosk.port` → `ROOMD_KIOSK_PORT`,
 * `meetingService.url` → `ROOMD_MEETING_SERVICE_URL`.
 */
import * as path from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { hasCode, RoomdError } from '../core/errors.ts';
import { JsonFileStore } from '../core/store.ts';
import { SETTINGS_VERSION, type Settings, SettingsSchema, settingLeaves } from './schema.ts';
import { assertValid, type FieldError, fieldErrors } from './validate.ts';

export type { Settings } from './schema.ts';
export { SETTINGS_VERSION, SettingsSchema } from './schema.ts';

export function defaultSettings(): Settings {
  return Value.Default(SettingsSchema, {}) as Settings;
}

/** Fill in defaults for anything missing (a copy; the input is not changed). */
export function withDefaults(partial: unknown): unknown {
  return Value.Default(SettingsSchema, structuredClone(partial ?? {}));
}

// ---- migrations ---------------------------------------------------------------------------

type Json = Record<string, unknown>;

/** Migration from version `from` to `from + 1`. Never edit a shipped one; add the next. */
const MIGRATIONS: Record<number, (old: Json) => Json> = {
  // v1 (first field units) kept everything flat: roomName, kioskPort, relayUrl, videoCodec.
  1: (old) => {
    const next: Json = { schemaVersion: 2 };
    const set = (section: string, key: string, value: unknown) => {
      if (value === undefined) return;
      next[section] = { ...((next[section] as Json | undefined) ?? {}), [key]: value };
    };
    set('room', 'name', old['roomName']);
    set('kiosk', 'port', old['kioskPort']);
    set('meetingService', 'url', old['relayUrl']);
    set('media', 'videoCodec', old['videoCodec']);
    if (old['e2eeOnly'] === true) set('encryption', 'minimum', 'e2ee');
    return next;
  },
};

/**
 * Settings nest three levels (`devices.panel.path`); a document nested far deeper is refused before
 * anything copies or walks it recursively (structuredClone, validation), which would overflow the
 * stack — a typed config.invalid instead.
 */
export const MAX_SETTINGS_DEPTH = 32;

/** Whether a JSON value nests objects or arrays deeper than `max` (iterative: any depth is safe). */
function deeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

export function migrate(raw: unknown): { value: Json; migratedFrom: number | null } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new RoomdError('config.invalid', { message: 'The settings file does not hold an object.' });
  }
  if (deeperThan(raw, MAX_SETTINGS_DEPTH)) {
    throw new RoomdError('config.invalid', {
      message: `The settings nest deeper than ${MAX_SETTINGS_DEPTH} levels.`,
      context: { limit: MAX_SETTINGS_DEPTH },
    });
  }
  let doc = raw as Json;
  const start = typeof doc['schemaVersion'] === 'number' ? (doc['schemaVersion'] as number) : 1;
  if (!Number.isInteger(start) || start < 1) {
    throw new RoomdError('config.invalid', {
      message: `'schemaVersion' must be a whole number from 1 to ${SETTINGS_VERSION}.`,
    });
  }
  if (start > SETTINGS_VERSION) {
    throw new RoomdError('config.too_new', {
      message: `The settings were written by a newer roomd (schema ${start}; this one knows up to ${SETTINGS_VERSION}).`,
      context: { version: start },
    });
  }
  for (let v = start; v < SETTINGS_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (step === undefined)
      throw new RoomdError('config.migration_failed', { message: `No migration from settings schema ${v}.` });
    try {
      doc = step(doc);
    } catch (error) {
      throw new RoomdError('config.migration_failed', { context: { from: v }, cause: error });
    }
  }
  return { value: doc, migratedFrom: start === SETTINGS_VERSION ? null : start };
}

/** Migrate, default and validate a stored document. Throws RoomdError naming every bad field. */
export function parseSettings(raw: unknown): Settings {
  const { value } = migrate(raw);
  return assertValid<Settings>(SettingsSchema, withDefaults(value));
}

// ---- environment overrides ----------------------------------------------------------------

function envName(p: string[]): string {
  return `ROOMD_${p.map((s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

export interface EnvOverride {
  env: string;
  field: string;
  value: unknown;
}

function coerce(text: string, schema: TSchema): unknown {
  const kinds = ((schema['anyOf'] as TSchema[] | undefined) ?? [schema]).map((s) =>
    'const' in s ? typeof s['const'] : (s['type'] as string),
  );
  if (kinds.includes('null') && (text === '' || text === 'null')) return null;
  // Lists and objects (`ROOMD_IDENTITY_TRUST_ANCHORS`) are given as JSON; what does not parse stays
  // text, and validation then names the variable.
  if (kinds.includes('array') || kinds.includes('object')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      return deeperThan(parsed, MAX_SETTINGS_DEPTH) ? text : parsed;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      return text;
    }
  }
  if (kinds.includes('boolean') && /^(true|false|1|0|yes|no)$/i.test(text))
    return /^(true|1|yes)$/i.test(text);
  if ((kinds.includes('integer') || kinds.includes('number')) && /^-?\d+(\.\d+)?$/.test(text))
    return Number(text);
  return text;
}

/** Every `ROOMD_*` variable that names a setting, with its value coerced to the field's type. */
export function envOverrides(env: NodeJS.ProcessEnv = process.env): EnvOverride[] {
  const out: EnvOverride[] = [];
  for (const leaf of settingLeaves()) {
    if (leaf.path[0] === 'schemaVersion') continue;
    const name = envName(leaf.path);
    const text = env[name];
    if (text === undefined) continue;
    out.push({ env: name, field: leaf.path.join('.'), value: coerce(text, leaf.schema) });
  }
  return out;
}

/** Names of all environment variables that override settings, for docs and `--help`. */
export function envVariableNames(): { env: string; field: string }[] {
  return settingLeaves()
    .filter((l) => l.path[0] !== 'schemaVersion')
    .map((l) => ({ env: envName(l.path), field: l.path.join('.') }));
}

export function setPath(target: Json, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (typeof child !== 'object' || child === null) node[part] = {};
    node = node[part] as Json;
  }
  node[parts[parts.length - 1]!] = value;
}

export function getPath(source: unknown, dotted: string): unknown {
  let node: unknown = source;
  for (const part of dotted.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Json)[part];
  }
  return node;
}

/** Apply overrides to validated settings; the result is validated again, naming the variable. */
export function applyEnvOverrides(settings: Settings, overrides: EnvOverride[]): Settings {
  if (overrides.length === 0) return settings;
  const next = structuredClone(settings) as unknown as Json;
  for (const o of overrides) setPath(next, o.field, o.value);
  const errors = fieldErrors(SettingsSchema, next);
  if (errors.length > 0) {
    const byField = new Map(overrides.map((o) => [o.field, o.env]));
    throw new RoomdError('config.invalid', {
      message: `Environment overrides are not valid: ${errors
        .map((e) => (byField.has(e.field) ? `${byField.get(e.field)}: ${e.message}` : e.message))
        .join('; ')}.`,
      context: { fields: errors },
    });
  }
  return next as unknown as Settings;
}

// ---- restart marks ------------------------------------------------------------------------

/** Dotted paths of fields marked `requiresRestart` whose values differ between a and b. */
export function restartRequiredFor(a: Settings, b: Settings): string[] {
  return settingLeaves()
    .filter((l) => l.schema['requiresRestart'] === true)
    .map((l) => l.path.join('.'))
    .filter((p) => JSON.stringify(getPath(a, p)) !== JSON.stringify(getPath(b, p)));
}

// ---- loading and saving -------------------------------------------------------------------

export interface LoadedSettings {
  /** What the daemon runs with (defaults in safe mode). */
  settings: Settings;
  /** What was stored, before environment overrides (for the admin form). */
  stored: Settings;
  source: 'file' | 'last-good' | 'defaults';
  migratedFrom: number | null;
  overrides: EnvOverride[];
  /** Things an admin should see; the daemon still runs. */
  problems: RoomdError[];
  /** Set when the configuration cannot be used at all: the daemon runs in safe mode and shows it. */
  safeMode: RoomdError | null;
}

export interface SettingsStoreOptions {
  /**
   * Checks above the schema that need more than the settings (the room's identity certificate must
   * be for the room's own key: docs/admin.md §Organization identities). Throws a `config.*`
   * RoomdError; `save` then stores nothing.
   */
  check?: (settings: Settings) => void;
}

export class SettingsStore {
  readonly #store: JsonFileStore<Settings>;
  readonly #check: ((settings: Settings) => void) | undefined;
  #migratedFrom: number | null = null;

  constructor(stateDir: string, options: SettingsStoreOptions = {}) {
    this.#check = options.check;
    this.#store = new JsonFileStore(path.join(stateDir, 'settings.json'), (raw) => {
      const settings = parseSettings(raw);
      this.#migratedFrom = migrate(raw).migratedFrom;
      return settings;
    });
  }

  get file(): string {
    return this.#store.file;
  }

  /** Never throws for bad content: problems become `problems` or `safeMode`. */
  async load(env: NodeJS.ProcessEnv = process.env): Promise<LoadedSettings> {
    const problems: RoomdError[] = [];
    let stored = defaultSettings();
    let source: LoadedSettings['source'] = 'defaults';
    let migratedFrom: number | null = null;
    let safeMode: RoomdError | null = null;

    this.#migratedFrom = null;
    const read = await this.#store.read();
    if (read.value !== undefined) {
      stored = read.value;
      migratedFrom = this.#migratedFrom;
      source = read.source === 'current' ? 'file' : 'last-good';
      if (read.problem !== undefined) problems.push(read.problem);
    } else if (read.problem !== undefined) {
      safeMode = read.problem;
    }

    const overrides = envOverrides(env);
    let settings = stored;
    try {
      settings = applyEnvOverrides(stored, overrides);
    } catch (error) {
      safeMode ??= error as RoomdError;
    }
    if (safeMode !== null) {
      // Defaults, plus the environment's overrides when those alone are valid (ports, addresses).
      try {
        settings = applyEnvOverrides(defaultSettings(), overrides);
      } catch (error) {
        if (!hasCode(error, 'config.invalid')) throw error;
        settings = defaultSettings();
      }
    }
    if (migratedFrom !== null && safeMode === null && source === 'file') {
      // Persist the upgrade so the next start reads the current schema directly.
      await this.save(stored);
    }
    return { settings, stored, source, migratedFrom, overrides, problems, safeMode };
  }

  /**
   * Validate (schema, then the `check` given at construction) and store. Throws `config.invalid`
   * naming each bad field; the file is untouched then.
   */
  async save(candidate: unknown): Promise<Settings> {
    const settings = parseSettings(candidate);
    this.#check?.(settings);
    await this.#store.write(settings);
    return settings;
  }
}

export type { FieldError };
