/**
 * The admin console's settings form model (kiosk-ui/src/admin/schema.ts) over the real settings
 * schema as the API serves it (JSON): a control for every field of its type, restart and secret
 * marks from the schema, the partial document a save sends, and server field errors found again
 * by their field.
 */
import { describe, expect, test } from 'vitest';
import {
  type Control,
  controlOf,
  errorFor,
  errorsByField,
  fieldsIn,
  groupOf,
  type JsonSchema,
  patchOf,
  setAt,
  unclaimedErrors,
} from '../../../kiosk-ui/src/admin/schema.ts';
import { SettingsSchema, settingLeaves } from '../../../src/config/schema.ts';

const served = JSON.parse(JSON.stringify(SettingsSchema)) as JsonSchema;
const root = groupOf(served);
const fields = new Map(fieldsIn(root).map((f) => [f.id, f]));
const kind = (id: string): Control['kind'] | undefined => fields.get(id)?.control.kind;

describe('settings form model', () => {
  test('every leaf of the schema is one field, in order, with the control its type needs', () => {
    expect([...fields.keys()]).toEqual(settingLeaves().map((l) => l.path.join('.')));
    expect(kind('schemaVersion')).toBe('fixed');
    expect(fields.get('media.width')?.control).toEqual({
      kind: 'number',
      nullable: false,
      integer: true,
      min: 160,
      max: 3840,
    });
    expect(fields.get('encryption.unverifiedParticipants')?.control).toEqual({
      kind: 'choice',
      options: ['allow', 'warn', 'refuse'],
    });
    expect(fields.get('devices.panel.baudRate')?.control).toEqual({
      kind: 'choice',
      options: [9600, 19200, 38400, 57600, 115200],
    });
    expect(kind('kiosk.allowRemote')).toBe('boolean');
    expect(fields.get('meetingService.proxy')?.control).toMatchObject({
      kind: 'text',
      nullable: true,
      secret: false,
    });
    expect(fields.get('meetingService.token')?.control).toMatchObject({
      kind: 'text',
      nullable: true,
      secret: true,
    });
    const anchors = fields.get('identity.trustAnchors')?.control;
    expect(anchors?.kind).toBe('rows');
    if (anchors?.kind === 'rows') expect(anchors.columns.map((c) => c.key)).toEqual(['org', 'publicKey']);
    expect(fields.get('identity.certificate')?.control).toEqual({ kind: 'json', nullable: true });
    // Shapes the schema may grow: a nullable number, a list of plain values (JSON text).
    expect(controlOf({ anyOf: [{ type: 'integer', minimum: 1 }, { type: 'null' }] })).toEqual({
      kind: 'number',
      nullable: true,
      integer: true,
      min: 1,
    });
    expect(controlOf({ type: 'array', items: { type: 'string' } })).toEqual({
      kind: 'json',
      nullable: false,
    });
    // Nothing of the real schema falls back to JSON text but the certificate.
    expect([...fields.values()].filter((f) => f.control.kind === 'json').map((f) => f.id)).toEqual([
      'identity.certificate',
    ]);
  });

  test('labels, help, defaults and the restart mark come from the schema', () => {
    const port = fields.get('kiosk.port')!;
    expect(port).toMatchObject({
      label: 'Port',
      restart: true,
      default: 8080,
      description: 'Port of the kiosk UI.',
    });
    expect(fields.get('room.name')?.restart).toBe(false);
    expect(fields.get('media.videoBitrateKbps')?.label).toBe('Video bitrate (kbps)');
    expect(root.groups.map((g) => g.id)).toEqual([
      'room',
      'kiosk',
      'admin',
      'meetingService',
      'encryption',
      'identity',
      'devices',
      'media',
      'log',
    ]);
    expect(root.groups.find((g) => g.id === 'devices')?.groups.map((g) => g.id)).toEqual([
      'devices.panel',
      'devices.camera',
      'devices.content',
      'devices.speakerphone',
    ]);
  });

  test('a save sends only what changed, nested as the settings are', () => {
    const edits = new Map([
      ['media.width', { path: ['media', 'width'], value: 1920 }],
      ['media.height', { path: ['media', 'height'], value: 1080 }],
      ['devices.panel.path', { path: ['devices', 'panel', 'path'], value: null }],
    ]);
    expect(patchOf(edits)).toEqual({
      media: { width: 1920, height: 1080 },
      devices: { panel: { path: null } },
    });
    expect(setAt({ a: 1 }, ['b', 'c'], 2)).toEqual({ a: 1, b: { c: 2 } });
  });

  test('server field errors are found by their field, a list row’s by its list', () => {
    const errors = errorsByField([
      { path: 'media.width', message: "'media.width' must be a whole number from 160 to 3840 (got 10)" },
      { path: 'identity.trustAnchors.1.publicKey', message: 'must be text matching ^[A-Za-z0-9_-]{43}$' },
      { path: '(root)', message: 'something about the whole' },
    ]);
    expect(errorFor(errors, 'media.width')).toBe('must be a whole number from 160 to 3840 (got 10)');
    expect(errorFor(errors, 'identity.trustAnchors.1.publicKey')).toBe(
      'must be text matching ^[A-Za-z0-9_-]{43}$',
    );
    expect(errorFor(errors, 'identity.trustAnchors')).toBe(
      '1.publicKey: must be text matching ^[A-Za-z0-9_-]{43}$',
    );
    expect(errorFor(errors, 'media.height')).toBeUndefined();
    expect(unclaimedErrors(errors, ['media.width', 'identity.trustAnchors'])).toEqual([
      ['(root)', 'something about the whole'],
    ]);
  });
});
