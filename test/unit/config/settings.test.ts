import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import {
  applyEnvOverrides,
  defaultSettings,
  envOverrides,
  envVariableNames,
  MAX_SETTINGS_DEPTH,
  parseSettings,
  restartRequiredFor,
  SETTINGS_VERSION,
  SettingsStore,
} from '../../../src/config/settings.ts';
import { MAX_REPORTED_FIELDS } from '../../../src/config/validate.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-settings-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

function errorOf(fn: () => unknown): RoomdError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RoomdError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('settings validation', () => {
  it('has complete defaults that validate', () => {
    const d = defaultSettings();
    expect(d.schemaVersion).toBe(SETTINGS_VERSION);
    expect(d.kiosk).toEqual({ host: '127.0.0.1', port: 8080, allowRemote: false });
    expect(parseSettings({ schemaVersion: SETTINGS_VERSION })).toEqual(d);
  });

  it('names the field and the expected type for a bad type', () => {
    const e = errorOf(() => parseSettings({ schemaVersion: 2, kiosk: { port: 'eighty' } }));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain(`'kiosk.port' must be a whole number from 1 to 65535 (got "eighty")`);
  });

  it('names the allowed values of an enumeration', () => {
    const e = errorOf(() => parseSettings({ schemaVersion: 2, media: { videoCodec: 'av1' } }));
    expect(e.message).toContain(`'media.videoCodec' must be one of "vp8", "h264" (got "av1")`);
  });

  it('gives the range for out-of-range values and lists every bad field', () => {
    const e = errorOf(() => parseSettings({ schemaVersion: 2, media: { framerate: 240, volume: -1 } }));
    expect(e.message).toContain(`'media.framerate' must be a whole number from 1 to 60 (got 240)`);
    expect(e.message).toContain(`'media.volume' must be a whole number from 0 to 100 (got -1)`);
    expect((e.context['fields'] as unknown[]).length).toBe(2);
  });

  it('rejects unknown keys by name', () => {
    const e = errorOf(() =>
      parseSettings({ schemaVersion: 2, room: { name: 'A', colour: 'red' }, extra: 1 }),
    );
    expect(e.code).toBe('config.unknown_key');
    expect(e.message).toContain(`'room.colour' is not a setting roomd knows`);
    expect(e.message).toContain(`'extra' is not a setting roomd knows`);
  });

  it('refuses settings from a newer schema', () => {
    expect(errorOf(() => parseSettings({ schemaVersion: 99 })).code).toBe('config.too_new');
  });

  it('refuses a deeply nested document with a typed error, not a stack overflow', () => {
    const deep = JSON.parse(`{"schemaVersion":2,"media":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);
    const e = errorOf(() => parseSettings(deep));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toContain(`deeper than ${MAX_SETTINGS_DEPTH} levels`);
  });

  it('names at most MAX_REPORTED_FIELDS bad fields, and handles very many in linear time', () => {
    const raw = {
      schemaVersion: 2,
      ...Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`k${i}`, i])),
    };
    const t0 = performance.now();
    const e = errorOf(() => parseSettings(raw));
    // Quadratic bookkeeping took seconds here; linear takes milliseconds.
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(e.code).toBe('config.unknown_key');
    expect(e.context['fields']).toHaveLength(MAX_REPORTED_FIELDS);
    expect(e.context['more']).toBe(40_000 - MAX_REPORTED_FIELDS);
    expect(e.message).toContain(`and ${40_000 - MAX_REPORTED_FIELDS} more`);
    expect(e.message.length).toBeLessThan(2000);
  });
});

describe('migrations', () => {
  it('upgrades a version 1 (flat) document', () => {
    const s = parseSettings({
      roomName: 'Boardroom',
      kioskPort: 9000,
      relayUrl: 'wss://meet.example/ws',
      e2eeOnly: true,
    });
    expect(s.room.name).toBe('Boardroom');
    expect(s.kiosk.port).toBe(9000);
    expect(s.meetingService.url).toBe('wss://meet.example/ws');
    expect(s.encryption.minimum).toBe('e2ee');
    expect(s.schemaVersion).toBe(2);
  });

  it('rewrites an old file in the current schema on load', async () => {
    await fsp.writeFile(
      path.join(dir, 'settings.json'),
      JSON.stringify({ schemaVersion: 1, roomName: 'Huddle' }),
    );
    const loaded = await new SettingsStore(dir).load({});
    expect(loaded.migratedFrom).toBe(1);
    expect(loaded.settings.room.name).toBe('Huddle');
    const onDisk = JSON.parse(await fsp.readFile(path.join(dir, 'settings.json'), 'utf8'));
    expect(onDisk.schemaVersion).toBe(2);
    expect((await new SettingsStore(dir).load({})).migratedFrom).toBeNull();
  });
});

describe('environment overrides', () => {
  it('derives ROOMD_* names from the schema and coerces types', () => {
    const names = envVariableNames().map((v) => v.env);
    expect(names).toContain('ROOMD_KIOSK_PORT');
    expect(names).toContain('ROOMD_MEETING_SERVICE_URL');
    expect(names).toContain('ROOMD_DEVICES_PANEL_PATH');
    const o = envOverrides({
      ROOMD_KIOSK_PORT: '9090',
      ROOMD_KIOSK_ALLOW_REMOTE: 'true',
      ROOMD_ROOM_NAME: 'Lab',
      ROOMD_DEVICES_PANEL_PATH: '',
    });
    const s = applyEnvOverrides(defaultSettings(), o);
    expect(s.kiosk.port).toBe(9090);
    expect(s.kiosk.allowRemote).toBe(true);
    expect(s.room.name).toBe('Lab');
    expect(s.devices.panel.path).toBeNull();
  });

  it('names the variable when an override is invalid', () => {
    const e = errorOf(() =>
      applyEnvOverrides(defaultSettings(), envOverrides({ ROOMD_KIOSK_PORT: '70000' })),
    );
    expect(e.message).toContain(
      `ROOMD_KIOSK_PORT: 'kiosk.port' must be a whole number from 1 to 65535 (got 70000)`,
    );
  });
});

describe('restart marks', () => {
  it('lists changed fields that need a restart, not the others', () => {
    const a = defaultSettings();
    const b = structuredClone(a);
    b.kiosk.port = 9999;
    b.room.name = 'Other';
    expect(restartRequiredFor(a, b)).toEqual(['kiosk.port']);
  });
});

describe('SettingsStore', () => {
  it('starts from defaults without a file and saves atomically with a last-good copy', async () => {
    const store = new SettingsStore(dir);
    const first = await store.load({});
    expect(first.source).toBe('defaults');
    const next = structuredClone(first.settings);
    next.room.name = 'Studio';
    await store.save(next);
    expect((await store.load({})).settings.room.name).toBe('Studio');
    expect(await fsp.readFile(`${store.file}.last-good`, 'utf8')).toContain('Studio');
  });

  it('never writes invalid settings', async () => {
    const store = new SettingsStore(dir);
    await store.save({ ...defaultSettings(), room: { name: 'Kept' } });
    await expect(store.save({ ...defaultSettings(), room: { name: '' } })).rejects.toMatchObject({
      code: 'config.invalid',
    });
    expect((await store.load({})).settings.room.name).toBe('Kept');
  });

  it('uses and reports the last good copy when the file is corrupt', async () => {
    const store = new SettingsStore(dir);
    await store.save({ ...defaultSettings(), room: { name: 'Good' } });
    await fsp.writeFile(store.file, '{ broken');
    const loaded = await store.load({});
    expect(loaded.source).toBe('last-good');
    expect(loaded.settings.room.name).toBe('Good');
    expect(loaded.problems[0]?.code).toBe('core.store_corrupt');
    expect(loaded.safeMode).toBeNull();
  });

  it('enters safe mode with defaults when nothing usable is stored', async () => {
    await fsp.writeFile(
      path.join(dir, 'settings.json'),
      JSON.stringify({ schemaVersion: 2, kiosk: { port: 0 } }),
    );
    const loaded = await new SettingsStore(dir).load({});
    expect(loaded.safeMode?.message).toContain("'kiosk.port' must be a whole number from 1 to 65535 (got 0)");
    expect(loaded.settings).toEqual(defaultSettings());
  });

  it('enters safe mode when an environment override is invalid', async () => {
    const loaded = await new SettingsStore(dir).load({ ROOMD_MEDIA_VIDEO_CODEC: 'theora' });
    expect(loaded.safeMode?.message).toContain('ROOMD_MEDIA_VIDEO_CODEC');
  });
});
