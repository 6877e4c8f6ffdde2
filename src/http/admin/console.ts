/**
 * Routes the admin console needs beyond the rest of the admin API (docs/kiosk-and-admin-api.md
 * §Admin console): the room at a glance in one answer (`operator` scope), and device tests — move
 * the camera to a preset or home, play a test tone on the speaker, redraw the touch panel (`admin`
 * scope). A test that ran answers 200 with `ok` and a sentence; `ok: false` when the device did not
 * pass (not connected, no answer, not set up).
 */
import type { FastifyPluginAsync } from 'fastify';
import { type ErrorCode, RoomdError } from '../../core/errors.ts';
import { ErrorBody } from '../errors.ts';
import type { PtzCommand, RoomCommands } from '../../protocol/room-commands.ts';
import type { AdminBackend, RoomStateSource } from '../ports.ts';
import type { MeetingState } from '../schemas/state.ts';
import { type ConsoleMeeting, DeviceTestReply, OverviewReply, PresetBody } from './console-schemas.ts';

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const security = [{ session: [], csrf: [] }, { token: [] }];

/** Tests the room runs on its own devices; each resolves with what happened, in plain words. */
export interface DeviceTests {
  /** Play a short tone on the room's speaker. */
  beep(): Promise<{ ok: boolean; detail: string }>;
  /** Make the touch panel draw its whole page again. */
  redrawPanel(): Promise<{ ok: boolean; detail: string }>;
}

export interface ConsoleDeps {
  backend: AdminBackend;
  source: RoomStateSource;
  commands: RoomCommands;
  certificate: { fingerprint: string; validTo: string };
  deviceId: string;
  lastBundleSerial: () => number;
  tests?: DeviceTests;
}

/** A device that did not do what it was asked: reported as a failed test, not as a failed request. */
const DEVICE_FAILURES: ReadonlySet<ErrorCode> = new Set([
  'device.unavailable',
  'device.timeout',
  'device.protocol_error',
  'device.unsupported',
  'config.invalid',
]);

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function meetingSummary(m: MeetingState): ConsoleMeeting {
  return {
    id: m.id,
    title: m.title ?? null,
    status: m.status,
    encryption: m.encryption,
    shield: m.shield,
    securityCode: m.securityCode,
    securityCodeChanged: m.securityCodeChanged,
    rosterCode: m.rosterCode ?? null,
    identityPolicy: m.identityPolicy ?? null,
    participants: m.participants.length,
    unverified: m.participants.filter(
      (p) => p.identity.status === 'unverified' || p.identity.status === 'key-changed',
    ).length,
    mediaPath: m.mediaPath ?? null,
  };
}

export function consoleRoutes(deps: ConsoleDeps): FastifyPluginAsync {
  const s = (scope: 'operator' | 'admin', extra: Record<string, unknown>) => ({
    config: { scope },
    schema: { tags: ['console'], security, description: `Token scope: ${scope} or above.`, ...extra },
  });
  const run = async (test: () => Promise<{ ok: boolean; detail: string }>) => {
    try {
      return await test();
    } catch (error) {
      if (error instanceof RoomdError && DEVICE_FAILURES.has(error.code))
        return { ok: false, detail: error.message };
      throw error;
    }
  };
  const ptz = (command: PtzCommand, done: string) =>
    run(async () => {
      await deps.commands.ptz(command);
      return { ok: true, detail: done };
    });
  const unsupported = (what: string) =>
    new RoomdError('device.unsupported', { message: `This room cannot ${what}.` });

  return async (app) => {
    app.get('/api/v1/overview', s('operator', { response: { 200: OverviewReply, ...errors } }), async () => {
      const [status, health, devices] = await Promise.all([
        deps.backend.status(),
        deps.backend.health(),
        deps.backend.devices(),
      ]);
      const state = deps.source.getState();
      const safe = status['safeMode'] as { code?: unknown; message?: unknown } | undefined;
      const uptime = status['uptimeSeconds'];
      return {
        room: { name: state.room.name, deviceId: deps.deviceId },
        version: str(status['version']),
        uptimeSeconds: typeof uptime === 'number' && uptime >= 0 ? Math.floor(uptime) : null,
        meetingService: str(status['meetingService']),
        safeMode:
          safe === undefined
            ? null
            : { code: str(safe.code) ?? 'core.internal', message: str(safe.message) ?? '' },
        meeting: state.meeting === null ? null : meetingSummary(state.meeting),
        schedule: state.schedule.slice(0, 5),
        devices,
        health,
        problems: state.errors,
        certificate: { ...deps.certificate },
        identity: { fingerprint: str(status['fingerprint']) },
        lastBundleSerial: deps.lastBundleSerial(),
      };
    });

    const test = { response: { 200: DeviceTestReply, ...errors } };
    app.post<{ Body: { preset: number } }>(
      '/api/v1/devices/camera/preset',
      s('admin', { body: PresetBody, ...test }),
      async (request) =>
        ptz(
          { op: 'preset', preset: request.body.preset },
          `The camera moved to preset ${request.body.preset}.`,
        ),
    );
    app.post('/api/v1/devices/camera/home', s('admin', test), async () =>
      ptz({ op: 'home' }, 'The camera moved to its home position.'),
    );
    app.post('/api/v1/devices/speaker/beep', s('admin', test), async () => {
      const tests = deps.tests;
      if (tests === undefined) throw unsupported('play a test tone');
      return run(() => tests.beep());
    });
    app.post('/api/v1/devices/panel/redraw', s('admin', test), async () => {
      const tests = deps.tests;
      if (tests === undefined) throw unsupported('redraw the touch panel');
      return run(() => tests.redrawPanel());
    });
  };
}
