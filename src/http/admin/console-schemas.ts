/**
 * Shapes of the routes the admin console needs beyond the rest of the admin API
 * (docs/kiosk-and-admin-api.md §Admin console): the status at a glance and the device tests.
 * TypeBox only, so the console (kiosk-ui/src/admin) can import the types too.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  DeviceInfo,
  Encryption,
  MeetingStatus,
  RoomError,
  ScheduledMeeting,
  Shield,
} from '../schemas/state.ts';
import { MEDIA_PATHS } from '../../transport/peer.ts';

const strict = { additionalProperties: false } as const;
const NullableText = () => Type.Union([Type.String(), Type.Null()]);

export const ConsoleMeeting = Type.Object({
  id: Type.String(),
  title: Type.Union([Type.String(), Type.Null()]),
  status: MeetingStatus,
  encryption: Encryption,
  shield: Shield,
  securityCode: NullableText(),
  securityCodeChanged: Type.Boolean(),
  rosterCode: NullableText(),
  identityPolicy: Type.Union([
    Type.Literal('allow'),
    Type.Literal('warn'),
    Type.Literal('refuse'),
    Type.Null(),
  ]),
  participants: Type.Integer({ minimum: 0 }),
  unverified: Type.Integer({
    minimum: 0,
    description: 'participants whose identity is unverified or changed',
  }),
  mediaPath: Type.Union([...MEDIA_PATHS.map((p) => Type.Literal(p)), Type.Null()], {
    description: 'how the meeting media goes (docs/admin.md §Firewalls); null without a connection',
  }),
});
export type ConsoleMeeting = Static<typeof ConsoleMeeting>;

export const HealthSummary = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('failing')]),
  checks: Type.Array(
    Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.Optional(Type.String()) }),
  ),
});
export type HealthSummary = Static<typeof HealthSummary>;

export const OverviewReply = Type.Object({
  room: Type.Object({ name: Type.String(), deviceId: Type.String() }),
  version: NullableText(),
  uptimeSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  meetingService: NullableText(),
  safeMode: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  meeting: Type.Union([ConsoleMeeting, Type.Null()]),
  schedule: Type.Array(ScheduledMeeting, {
    description: 'the next meetings booked for the room (at most 5)',
  }),
  devices: Type.Array(DeviceInfo),
  health: HealthSummary,
  problems: Type.Array(RoomError, { description: 'what the room screen reports as wrong' }),
  certificate: Type.Object({
    fingerprint: Type.String({
      description:
        'SHA-256 of the admin HTTPS certificate, colon-separated hex: the setup screen and roomctl --fingerprint show the same',
    }),
    validTo: Type.String({ format: 'date-time' }),
  }),
  identity: Type.Object({
    fingerprint: Type.Union([Type.String(), Type.Null()], {
      description:
        "short fingerprint of the room's identity key ('abcd ef01 2345 6789'), as roomctl identity show prints it",
    }),
  }),
  lastBundleSerial: Type.Integer({ minimum: 0 }),
});
export type OverviewReply = Static<typeof OverviewReply>;

export const PresetBody = Type.Object(
  { preset: Type.Integer({ minimum: 0, maximum: 127, description: 'camera preset memory number' }) },
  strict,
);

export const DeviceTestReply = Type.Object({
  ok: Type.Boolean({ description: 'false when the device did not pass the test' }),
  detail: Type.String({ description: 'what happened, in plain words' }),
});
export type DeviceTestReply = Static<typeof DeviceTestReply>;
