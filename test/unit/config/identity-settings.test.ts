/**
 * The organization identity settings (docs/admin.md §Organization identities): `identity.trustAnchors`,
 * `identity.certificate` and `encryption.unverifiedParticipants` — their defaults and shapes, and the
 * check above the schema that a certificate is for this room's own key and from a configured anchor,
 * with errors that name the field and what is wrong.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  assertIdentitySettings,
  certificateStatus,
  reviewIdentity,
  RoomIdentity,
} from '../../../src/app/room/identity.ts';
import { loadOrCreateIdentity } from '../../../src/config/identity.ts';
import { FileIdentityPins } from '../../../src/config/identity-pins.ts';
import {
  applyEnvOverrides,
  defaultSettings,
  envOverrides,
  parseSettings,
  SETTINGS_VERSION,
  type Settings,
  SettingsStore,
} from '../../../src/config/settings.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { type IdentityCertificate, issueCertificate } from '../../../src/e2ee/index.ts';

const NOW = Date.UTC(2026, 2, 1);
const DAY = 86_400_000;

function orgKey() {
  const secret = ed25519.utils.randomSecretKey();
  return {
    secret,
    anchor: (org: string) => ({
      org,
      publicKey: Buffer.from(ed25519.getPublicKey(secret)).toString('base64url'),
    }),
  };
}
const room = ed25519.utils.randomSecretKey();
const roomKey = ed25519.getPublicKey(room);
const acme = orgKey();

function cert(
  over: Partial<{
    org: string;
    name: string;
    kind: 'room' | 'person' | 'bot';
    key: Uint8Array;
    notBefore: number;
    notAfter: number;
  }> = {},
  secret = acme.secret,
): IdentityCertificate {
  return issueCertificate(
    {
      org: 'Acme',
      name: 'Fjord',
      kind: 'room',
      key: roomKey,
      notBefore: NOW - DAY,
      notAfter: NOW + 365 * DAY,
      ...over,
    },
    secret,
  );
}

function withIdentity(identity: Partial<Settings['identity']>, base = defaultSettings()): Settings {
  return parseSettings({ ...base, identity: { ...base.identity, ...identity } });
}

/** A current-schema document (one without schemaVersion is read as schema 1 and migrated). */
const parse = (doc: Record<string, unknown>) => parseSettings({ schemaVersion: SETTINGS_VERSION, ...doc });

function errorOf(fn: () => unknown): RoomdError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RoomdError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('identity settings: shape', () => {
  it('defaults to no anchors, no certificate and the warn policy, and defaults are not shared', () => {
    const d = defaultSettings();
    expect(d.identity).toEqual({ trustAnchors: [], certificate: null });
    expect(d.encryption.unverifiedParticipants).toBe('warn');
    d.identity.trustAnchors.push(acme.anchor('Acme'));
    expect(defaultSettings().identity.trustAnchors).toEqual([]);
  });

  it('names the field and what is allowed', () => {
    const policy = errorOf(() => parse({ encryption: { unverifiedParticipants: 'sometimes' } }));
    expect(policy.message).toContain(
      `'encryption.unverifiedParticipants' must be one of "allow", "warn", "refuse" (got "sometimes")`,
    );
    const tooMany = Array.from({ length: 65 }, (_, i) => acme.anchor(`Org ${i}`));
    expect(errorOf(() => parse({ identity: { trustAnchors: tooMany } })).message).toContain(
      `'identity.trustAnchors' must be a list of at most 64 entries`,
    );
    const badKey = errorOf(() => parse({ identity: { trustAnchors: [{ org: 'Acme', publicKey: 'abc' }] } }));
    expect(badKey.context['fields']).toEqual([
      {
        field: 'identity.trustAnchors.0.publicKey',
        message: expect.stringContaining('must be text matching'),
      },
    ]);
  });

  it('a malformed certificate object names the fields inside it, not just "an object or null"', () => {
    const { sig: _sig, ...noSig } = cert();
    const e = errorOf(() => parse({ identity: { certificate: { ...noSig, kind: 'robot', extra: 1 } } }));
    const fields = (e.context['fields'] as { field: string }[]).map((f) => f.field).sort();
    expect(fields).toEqual([
      'identity.certificate.extra',
      'identity.certificate.kind',
      'identity.certificate.sig',
    ]);
    expect(errorOf(() => parse({ identity: { certificate: 'yes' } })).message).toContain(
      `'identity.certificate' must be an object or null (got "yes")`,
    );
    const good = cert();
    expect(parse({ identity: { certificate: good } }).identity.certificate).toEqual(good);
  });

  it('anchors come from the environment as JSON; what does not parse names the variable', () => {
    const anchors = [acme.anchor('Acme')];
    const o = envOverrides({ ROOMD_IDENTITY_TRUST_ANCHORS: JSON.stringify(anchors) });
    expect(applyEnvOverrides(defaultSettings(), o).identity.trustAnchors).toEqual(anchors);
    const bad = envOverrides({ ROOMD_IDENTITY_TRUST_ANCHORS: '[{"org":' });
    expect(errorOf(() => applyEnvOverrides(defaultSettings(), bad)).message).toContain(
      'ROOMD_IDENTITY_TRUST_ANCHORS',
    );
    const deep = envOverrides({ ROOMD_IDENTITY_TRUST_ANCHORS: `${'['.repeat(5000)}${']'.repeat(5000)}` });
    expect(errorOf(() => applyEnvOverrides(defaultSettings(), deep)).code).toBe('config.invalid');
  });
});

describe('identity settings: meaning, for this room', () => {
  const anchored = (identity: Partial<Settings['identity']>) =>
    withIdentity({ trustAnchors: [acme.anchor('Acme')], ...identity });

  it('accepts a room certificate for its own key from a configured anchor, and the room publishes it', () => {
    const s = anchored({ certificate: cert() });
    expect(() => assertIdentitySettings(s, roomKey)).not.toThrow();
    const r = reviewIdentity(s, roomKey);
    expect(r.certificate?.name).toBe('Fjord');
    expect(certificateStatus(s, r, NOW)).toEqual({
      status: 'verified',
      org: 'Acme',
      name: 'Fjord',
      kind: 'room',
      notAfter: new Date(NOW + 365 * DAY).toISOString(),
    });
  });

  it.each([
    [
      'is for another key',
      () => anchored({ certificate: cert({ key: ed25519.getPublicKey(ed25519.utils.randomSecretKey()) }) }),
      /is for the identity key [0-9a-f ]+, not this room's/,
    ],
    [
      'comes from an organization the room does not trust',
      () => withIdentity({ certificate: cert() }),
      /issued by "Acme" with the key [0-9a-f ]+, which is not one of identity.trustAnchors/,
    ],
    [
      'names the trusted key under another organization',
      () => anchored({ certificate: cert({ org: 'Acme Evil' }) }),
      /not one of identity.trustAnchors/,
    ],
    [
      'was altered after signing',
      () => anchored({ certificate: { ...cert(), name: 'Boardroom' } }),
      /not validly signed by the trust anchor of "Acme"/,
    ],
    [
      'certifies a person, not a room',
      () => anchored({ certificate: cert({ kind: 'person' }) }),
      /certifies a person; a room needs a certificate of kind room/,
    ],
  ])('refuses a certificate that %s, naming identity.certificate', (_what, make, why) => {
    const e = errorOf(() => assertIdentitySettings(make(), roomKey));
    expect(e.code).toBe('config.invalid');
    expect(e.message).toMatch(why);
    expect(e.context['fields']).toEqual([
      { field: 'identity.certificate', message: expect.stringMatching(why) },
    ]);
  });

  it('refuses an anchor the E2EE parser rejects (control characters pass the schema, not the parser)', () => {
    const s = withIdentity({ trustAnchors: [{ org: 'Ac\u0007me', publicKey: acme.anchor('x').publicKey }] });
    const e = errorOf(() => assertIdentitySettings(s, roomKey));
    expect(e.context['fields']).toEqual([
      { field: 'identity.trustAnchors.0', message: expect.stringContaining('is not a trust anchor') },
    ]);
  });

  it('an expired certificate is saved (time passes on its own) but shown as a problem', async () => {
    const s = anchored({ certificate: cert({ notBefore: NOW - 10 * DAY, notAfter: NOW - DAY }) });
    expect(() => assertIdentitySettings(s, roomKey)).not.toThrow();
    const r = reviewIdentity(s, roomKey);
    expect(certificateStatus(s, r, NOW)).toEqual({
      status: 'unverified',
      reason: `certificate expired (on ${new Date(NOW - DAY).toISOString()})`,
    });
    const later = anchored({ certificate: cert({ notBefore: NOW + DAY, notAfter: NOW + 2 * DAY }) });
    expect(certificateStatus(later, reviewIdentity(later, roomKey), NOW).status).toBe('unverified');
  });

  it('the room runs with what is valid: a stored certificate that does not fit is left out of its trust and shown', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-idset-'));
    try {
      const { identity } = await loadOrCreateIdentity(dir);
      const clock = new FakeClock(NOW);
      let settings = anchored({ certificate: cert() }); // for another room's key
      const pins = await FileIdentityPins.open(dir, { now: () => clock.now() });
      const ri = new RoomIdentity({ settings: () => settings, identity, clock, pins });
      const trust = ri.trust();
      expect(trust.certificate).toBeUndefined();
      expect(trust.anchors).toEqual([acme.anchor('Acme')]);
      expect(trust.pins).toBe(pins);
      expect(trust.unverified).toBe('warn');
      expect(trust.wallClock?.()).toBe(NOW);
      clock.advance(5000);
      expect(trust.wallClock?.()).toBe(NOW + 5000);
      expect(ri.problems().map((p) => p.message)).toEqual([
        expect.stringMatching(/is for the identity key .* others see this room as not verified/),
      ]);
      // Fixed by an admin: the right certificate and the refuse policy apply to the next meeting.
      settings = anchored({ certificate: cert({ key: identity.publicKey }) });
      settings = { ...settings, encryption: { ...settings.encryption, unverifiedParticipants: 'refuse' } };
      expect(ri.trust().certificate?.key).toBe(Buffer.from(identity.publicKey).toString('base64url'));
      expect(ri.trust().unverified).toBe('refuse');
      expect(ri.problems()).toEqual([]);
      expect((await ri.admin().show()).certificateStatus.status).toBe('verified');
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('a settings store with the check refuses such a save and leaves the file as it was', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-idset-'));
    try {
      const store = new SettingsStore(dir, { check: (s) => assertIdentitySettings(s, roomKey) });
      await store.save(anchored({ certificate: cert() }));
      const before = await fsp.readFile(store.file, 'utf8');
      const wrong = anchored({
        certificate: cert({ key: ed25519.getPublicKey(ed25519.utils.randomSecretKey()) }),
      });
      await expect(store.save(wrong)).rejects.toMatchObject({ code: 'config.invalid' });
      expect(await fsp.readFile(store.file, 'utf8')).toBe(before);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
