/**
 * The admin backend over the daemon: settings through the one schema, claim and provisioning,
 * status, health, devices, logs and restart. Changes that need a restart say so.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DeviceIdentity } from '../../config/identity.ts';
import { type Settings, SettingsSchema, SettingsStore } from '../../config/settings.ts';
import type { TSchema } from '@sinclair/typebox';
import { RoomdError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { DeviceStatus } from '../../devices/status.ts';
import type { AdminBackend, HealthReport, MeetingToSchedule } from '../../http/ports.ts';
import { bookMeeting, ownCertificate } from '../../meeting/booking.ts';
import { networkFrom } from './config.ts';
import type { MeetingPolicyBook } from '../../meeting/policy-pins.ts';
import type { Room } from '../../meeting/room.ts';
import { deviceInfo } from './snapshot.ts';

export interface AdminDeps {
  stateDir: string;
  /** Checks above the schema before a save (the room's identity certificate, src/app/room/identity.ts). */
  checkSettings?: (s: Settings) => void;
  settings: () => Settings;
  setSettings: (s: Settings) => void;
  identity: DeviceIdentity;
  room: Room;
  devices: () => readonly DeviceStatus[];
  logs: (lines: number) => string;
  log: Logger;
  startedAt: number;
  restart: () => void;
  /** Where the room pins the policies of the meetings it books (docs/protocol.md "Meeting policy"). */
  policies?: MeetingPolicyBook;
}

type Json = Record<string, unknown>;

function merge(base: Json, patch: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object'
        ? merge(b as Json, v as Json)
        : v;
  }
  return out;
}

/**
 * Settings as the admin API shows them: every field the schema marks `writeOnly` (secrets such as
 * the meeting-service credential) is left out, so it is never read back; a PATCH that leaves it out
 * keeps it (docs/kiosk-and-admin-api.md §Settings).
 */
export function withoutSecrets(value: unknown, schema: TSchema = SettingsSchema): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (props === undefined) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = props[k];
    if ((sub as { writeOnly?: boolean } | undefined)?.writeOnly === true) continue;
    out[k] = sub === undefined ? v : withoutSecrets(v, sub);
  }
  return out;
}

/** roomd's version from its package.json: beside src/ in a checkout, beside dist/ when installed. */
export function roomdVersion(from: string = import.meta.dirname): string | null {
  for (let dir = from, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    let pkg: unknown;
    try {
      pkg = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      // Not JSON, or not readable (EACCES, EISDIR): the version is unknown, nothing more.
      if (error instanceof SyntaxError || typeof (error as NodeJS.ErrnoException).code === 'string')
        return null;
      throw error;
    }
    const p = pkg as { name?: unknown; version?: unknown } | null;
    if (p?.name === 'roomd' && typeof p.version === 'string') return p.version;
  }
  return null;
}

export function createAdminBackend(d: AdminDeps): AdminBackend {
  const version = roomdVersion() ?? process.env['npm_package_version'] ?? null;
  const store = new SettingsStore(
    d.stateDir,
    d.checkSettings === undefined ? {} : { check: d.checkSettings },
  );
  const save = async (patch: unknown): Promise<Settings> => {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
      throw new RoomdError('config.invalid', { message: 'Settings must be a JSON object.' });
    }
    const next = await store.save(merge(d.settings() as unknown as Json, patch as Json));
    d.setSettings(next);
    d.log.info({ fields: Object.keys(patch) }, 'settings changed');
    return next;
  };
  return {
    async getSettings() {
      return withoutSecrets(d.settings());
    },
    async setSettings(patch) {
      return withoutSecrets(await save(patch));
    },
    settingsSchema() {
      return SettingsSchema;
    },
    async onClaimed(claim) {
      if (claim.roomName !== undefined) await save({ room: { name: claim.roomName } });
    },
    async applyProvisioning(bundle) {
      const patch = (bundle.settings ?? {}) as Json;
      await save(bundle.roomName === undefined ? patch : merge(patch, { room: { name: bundle.roomName } }));
    },
    async status() {
      const m = d.room.meeting();
      return {
        deviceId: d.identity.deviceId,
        fingerprint: d.identity.fingerprint,
        room: d.settings().room.name,
        meetingService: d.settings().meetingService.url,
        uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
        meeting:
          m === null
            ? null
            : { id: m.id, status: m.status, shield: m.shield, participants: m.participants.length },
        version,
      };
    },
    async health(): Promise<HealthReport> {
      const devices = d.devices();
      const checks = [
        {
          name: 'meeting-service',
          ok: d.room.scheduleError === null,
          ...(d.room.scheduleError ? { detail: d.room.scheduleError } : {}),
        },
        // A device is a passing check exactly when /api/v1/devices calls it ok, so the two agree.
        ...devices
          .filter((x) => x.state !== 'not-configured')
          .map((x) => {
            const info = deviceInfo(x);
            const detail = info.detail === undefined ? x.state : `${x.state}: ${info.detail}`;
            return { name: `device:${x.id}`, ok: info.status === 'ok', detail };
          }),
      ];
      const failing = checks.filter((c) => !c.ok).length;
      return { status: failing === 0 ? 'ok' : failing === checks.length ? 'failing' : 'degraded', checks };
    },
    async devices() {
      return d.devices().map(deviceInfo);
    },
    async logs({ lines }) {
      return d.logs(lines);
    },
    async restart() {
      d.log.warn('restart requested by an admin');
      setTimeout(d.restart, 250).unref();
    },
    async scheduleMeeting(m: MeetingToSchedule) {
      const s = d.settings();
      const token = s.meetingService.token;
      if (token === null)
        throw new RoomdError('config.invalid', {
          message:
            "This room has no meeting-service credential (setting meetingService.token, from 'roomd relay room-token --room DEVICE_ID'), so it cannot book meetings.",
        });
      // The room hosts what it books: it signs the meeting policy (docs/protocol.md "Meeting policy")
      // with its identity key and, when it has one, its organization certificate (read defensively).
      const rawCert = (s as { identity?: { certificate?: unknown } }).identity?.certificate;
      const cert = ownCertificate(rawCert, d.identity.publicKey);
      if (rawCert !== undefined && rawCert !== null && cert === undefined) {
        d.log.warn('the identity certificate in the settings is not for this room; booking without it');
      }
      const booked = await bookMeeting(
        {
          title: m.title,
          start: m.start,
          end: m.end,
          encryption: m.encryption,
          ...(m.passcode === undefined ? {} : { passcode: m.passcode }),
        },
        {
          signalUrl: s.meetingService.url,
          room: d.identity.deviceId,
          token,
          identity: d.identity,
          ...(cert === undefined ? {} : { cert }),
          now: () => Date.now(),
          ...(d.policies === undefined ? {} : { policies: d.policies }),
          network: networkFrom(s),
        },
      );
      await d.room.refreshSchedule();
      return { meetingId: booked.meetingId };
    },
  };
}

/** Keeps the last lines the logger wrote, for the admin API's log download. */
export class LogRing {
  readonly #lines: string[] = [];
  readonly #max: number;
  constructor(max = 5000) {
    this.#max = max;
  }
  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      this.#lines.push(line);
      if (this.#lines.length > this.#max) this.#lines.shift();
    }
  }
  tail(n: number): string {
    return `${this.#lines.slice(-Math.max(1, n)).join('\n')}\n`;
  }
}
