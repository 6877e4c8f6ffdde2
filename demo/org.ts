/**
 * The demo organization, "Demo Org" (docs/admin.md §Organization identities): its anchor key is made
 * once in the state directory, the room is provisioned with that anchor and a certificate for its
 * own identity key, and the far-end people's identity keys are kept in the state directory too, so
 * the room's key pins hold from one demo start to the next.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { certify, type ephemeralIdentity } from '../src/app/bot.ts';
import { createOrgKey, type OrgKey, orgAnchor, readOrgKey } from '../src/config/org-key.ts';
import { SettingsStore } from '../src/config/settings.ts';
import type { Clock } from '../src/core/clock.ts';
import type { Logger } from '../src/core/logger.ts';
import { JsonFileStore } from '../src/core/store.ts';
import type { TrustAnchor } from '../src/e2ee/index.ts';
import { toBase64Url } from '../src/protocol/codec.ts';

export const DEMO_ORG = 'Demo Org';
/** The room's demo certificate is valid this long and renewed at a start when less than a month is left. */
const ROOM_CERT_DAYS = 3650;
const RENEW_BEFORE_MS = 30 * 86_400_000;

export type Identity = ReturnType<typeof ephemeralIdentity>;

/** `<state dir>/demo-people.json`: the far-end people's identity keys (Ed25519 seeds, base64url). */
interface PeopleFile {
  version: 1;
  people: Record<string, string>;
}

function parsePeople(raw: unknown): PeopleFile {
  const r = raw as Partial<PeopleFile> | null;
  if (typeof r !== 'object' || r === null || r.version !== 1) throw new Error('unknown version');
  const people = r.people;
  if (typeof people !== 'object' || people === null || Array.isArray(people)) throw new Error('no people');
  const entries = Object.entries(people);
  if (entries.length > 64) throw new Error('too many people');
  for (const [, v] of entries)
    if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(v)) throw new Error('a key is not 32 bytes');
  return { version: 1, people: Object.fromEntries(entries) as Record<string, string> };
}

function identityFrom(seed: Uint8Array, prefix: string): Identity {
  return {
    deviceId: `${prefix}-${Buffer.from(ed25519.getPublicKey(seed).subarray(0, 5)).toString('hex')}`,
    publicKey: ed25519.getPublicKey(seed),
    secretKey: seed,
  };
}

export class DemoOrg {
  readonly key: OrgKey;
  readonly #dir: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  #people: PeopleFile = { version: 1, people: {} };

  private constructor(key: OrgKey, dir: string, clock: Clock, log: Logger) {
    this.key = key;
    this.#dir = dir;
    this.#clock = clock;
    this.#log = log;
  }

  /** The organization of the demo in `dir`: its anchor key (made on the first start) and people. */
  static async open(dir: string, clock: Clock, log: Logger): Promise<DemoOrg> {
    const file = path.join(dir, 'demo-org-key.json');
    const key = existsSync(file) ? await readOrgKey(file) : await createOrgKey(file, DEMO_ORG, clock.now());
    const org = new DemoOrg(key, dir, clock, log);
    await org.#loadPeople();
    return org;
  }

  /** The demo organization's trust anchor (what the room and the far-end people trust). */
  get anchor(): TrustAnchor {
    return orgAnchor(this.key);
  }

  /**
   * Provision the room for Demo Org: its anchor, and a certificate for the room's own key. Kept
   * as it is when it holds a fresh Demo Org certificate or one from another organization an admin
   * installed; (re)issued when there is none, or the Demo Org one is for another key or runs out.
   */
  async provisionRoom(roomKey: Uint8Array): Promise<void> {
    const store = new SettingsStore(this.#dir);
    const loaded = await store.load({});
    // Settings the room cannot use: the daemon shows why (safe mode); nothing to provision.
    if (loaded.safeMode !== null) return;
    const s = loaded.stored;
    const anchor = this.anchor;
    const now = this.#clock.now();
    const c = s.identity.certificate;
    const ours = c !== null && c.issuer === anchor.publicKey;
    const fresh = ours && c.key === toBase64Url(roomKey) && c.notAfter - now > RENEW_BEFORE_MS;
    if (fresh || (c !== null && !ours)) return;
    const anchors = s.identity.trustAnchors.filter(
      (a) => !(a.org === anchor.org && a.publicKey === anchor.publicKey),
    );
    await store.save({
      ...s,
      identity: {
        trustAnchors: [...anchors, anchor],
        certificate: certify(this.key, { publicKey: roomKey }, s.room.name, 'room', now, ROOM_CERT_DAYS),
      },
    });
  }

  /** A far-end person's identity: the same key at every demo start (once `savePeople` ran). */
  personIdentity(name: string): Identity {
    const known = this.#people.people[name];
    if (known !== undefined) return identityFrom(new Uint8Array(Buffer.from(known, 'base64url')), 'demo');
    const seed = ed25519.utils.randomSecretKey();
    this.#people.people[name] = Buffer.from(seed).toString('base64url');
    return identityFrom(seed, 'demo');
  }

  async savePeople(): Promise<void> {
    await this.#peopleStore().write(this.#people);
  }

  #peopleStore(): JsonFileStore<PeopleFile> {
    return new JsonFileStore(path.join(this.#dir, 'demo-people.json'), parsePeople, { mode: 0o600 });
  }

  async #loadPeople(): Promise<void> {
    const read = await this.#peopleStore().read();
    if (read.problem !== undefined)
      this.#log.warn(
        { err: read.problem },
        'demo people keys damaged; new keys make the room show "key changed" for them (roomctl identity forget)',
      );
    this.#people = read.value ?? { version: 1, people: {} };
  }
}
