/**
 * The room state the kiosk shows (docs/kiosk-and-admin-api.md §Room screen: `GET /api/v1/state` and
 * the live WebSocket). One TypeBox schema serves validation, the OpenAPI document and the kiosk's
 * types.
 *
 * `RoomSnapshot` is what the app layer supplies (RoomStateSource); `RoomState` is what the kiosk
 * receives: the snapshot plus the parts the HTTP layer owns (claim state, setup code, certificate
 * fingerprint, admin lockout notice).
 */
import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox';
import {
  ENCRYPTION_MODES,
  type EncryptionMode,
  SHIELDS,
  type Shield as ShieldState,
} from '../../protocol/vocabulary.ts';
import { MEDIA_PATHS } from '../../transport/peer.ts';

/** The shield states of src/protocol/vocabulary.ts; the annotation keeps its static type that same union. */
export const Shield: TUnion<TLiteral<ShieldState>[]> = Type.Union(
  SHIELDS.map((s) => Type.Literal(s)),
  {
    description: 'e2ee: keys only on participant devices, proven; enhanced: keys held by the meeting service',
  },
);

export const Encryption: TUnion<TLiteral<EncryptionMode>[]> = Type.Union(
  ENCRYPTION_MODES.map((m) => Type.Literal(m)),
);

/** "ddddd ddddd ddddd ddddd ddddd ddddd ddddd ddddd" */
export const SECURITY_CODE_PATTERN = '^\\d{5}( \\d{5}){7}$';

export const ScheduledMeeting = Type.Object({
  meetingId: Type.String(),
  title: Type.String(),
  start: Type.String({ format: 'date-time' }),
  end: Type.String({ format: 'date-time' }),
  encryption: Encryption,
});
export type ScheduledMeeting = Static<typeof ScheduledMeeting>;

export const ParticipantIdentity = Type.Union(
  [
    Type.Object({
      status: Type.Literal('verified'),
      org: Type.String({ description: 'the organization that certified the key' }),
      certifiedName: Type.String({ description: 'the name in the certificate' }),
      kind: Type.String({ description: 'room, person or bot' }),
      fingerprint: Type.String({ description: 'short identity-key fingerprint' }),
    }),
    Type.Object({
      status: Type.Literal('unverified'),
      fingerprint: Type.String(),
      reason: Type.String({ description: 'why, in plain words (e.g. "no certificate")' }),
    }),
    Type.Object({
      status: Type.Literal('key-changed'),
      org: Type.String(),
      certifiedName: Type.String(),
      kind: Type.String(),
      fingerprint: Type.String({ description: 'fingerprint of the new, unexpected key' }),
    }),
    Type.Object({ status: Type.Literal('none') }),
  ],
  {
    description: 'what is known about whose identity key this is (docs/protocol.md "Identity certificates")',
  },
);
export type ParticipantIdentity = Static<typeof ParticipantIdentity>;

export const Participant = Type.Object({
  id: Type.String(),
  name: Type.String(),
  clientType: Type.String({ description: 'room, desktop, mobile, …' }),
  verified: Type.Boolean({
    description: 'its identity key is certified by an organization this room trusts',
  }),
  keyed: Type.Boolean({ description: 'in the signed E2EE roster and holding the meeting key' }),
  identity: ParticipantIdentity,
  self: Type.Optional(Type.Boolean()),
  muted: Type.Optional(Type.Boolean()),
  videoOn: Type.Optional(Type.Boolean()),
});
export type Participant = Static<typeof Participant>;

export const DisabledFeature = Type.Object({
  feature: Type.String({ description: 'e.g. "Cloud recording"' }),
  reason: Type.String({ description: 'plain words, e.g. "Off in end-to-end encrypted meetings"' }),
});
export type DisabledFeature = Static<typeof DisabledFeature>;

/** A meeting's status as the kiosk shows it (the metrics add `idle` for no meeting). */
export const MEETING_STATUSES = ['joining', 'waiting_for_host', 'in_meeting', 'leaving', 'ended'] as const;
export const MeetingStatus = Type.Union(MEETING_STATUSES.map((s) => Type.Literal(s)));
export type MeetingStatus = Static<typeof MeetingStatus>;

export const JoinStep = Type.Object({
  label: Type.String(),
  state: Type.Union([
    Type.Literal('pending'),
    Type.Literal('active'),
    Type.Literal('done'),
    Type.Literal('failed'),
  ]),
});
export type JoinStep = Static<typeof JoinStep>;

export const Reaction = Type.Object({
  participantId: Type.String(),
  name: Type.String(),
  reaction: Type.String(),
  at: Type.Number(),
});

/** Chat messages the room state carries at most (the newest). */
export const CHAT_SHOWN = 50;

export const ChatMessage = Type.Object(
  {
    id: Type.String(),
    from: Type.String({ description: "the sender's display name (the room's own for its messages)" }),
    fromId: Type.String({ description: "the sender's participant id: `to` of a private reply" }),
    to: Type.String({
      description: "'everyone', 'room' (privately to this room), or the name the room wrote to privately",
    }),
    text: Type.String(),
    at: Type.Number({ description: "wall-clock ms: the sender's clock for messages received" }),
    mine: Type.Boolean({ description: 'the room sent it' }),
    delivered: Type.Boolean({ description: 'everyone it was for acknowledged it (true for received ones)' }),
    private: Type.Boolean({ description: 'one-to-one, sealed so only the two can read it' }),
  },
  { description: 'one chat message (docs/kiosk-and-admin-api.md §Chat)' },
);
export type ChatMessage = Static<typeof ChatMessage>;

export const ShareState = Type.Object(
  {
    active: Type.Boolean({ description: 'someone shares content (the room screen shows it large)' }),
    self: Type.Boolean({ description: 'the room itself shares' }),
    by: Type.Union([Type.String(), Type.Null()], {
      description: "the sharer's name; null when nobody shares",
    }),
    canShare: Type.Boolean({ description: 'the room has a content source (`devices.content.video`)' }),
    host: Type.Boolean({
      description:
        "the meeting service lists the room as the meeting's host: it may take over another's share",
    }),
    notice: Type.Optional(
      Type.String({
        description: "why the room's share ended when the room did not end it (the host took over)",
      }),
    ),
  },
  { description: 'content sharing (docs/kiosk-and-admin-api.md §Content sharing)' },
);
export type ShareState = Static<typeof ShareState>;

export const MeetingState = Type.Object({
  id: Type.String(),
  title: Type.Optional(Type.String()),
  status: MeetingStatus,
  leaving: Type.Optional(Type.Boolean({ description: 'Leave was tapped; the room is on its way out' })),
  encryption: Encryption,
  encryptionConfirmed: Type.Optional(
    Type.Boolean({
      description:
        'false while joining, before the meeting service said how the meeting is protected; until then `encryption` is only what the room will insist on',
    }),
  ),
  shield: Shield,
  securityCode: Type.Union([Type.String({ pattern: SECURITY_CODE_PATTERN }), Type.Null()]),
  securityCodeChanged: Type.Boolean({ description: 'true after a leader change until acknowledged' }),
  codeChange: Type.Optional(
    Type.Union(
      [
        Type.Object({
          previousLeader: Type.Union([Type.String(), Type.Null()]),
          previousLeaderHost: Type.Boolean(),
          previousLeaderLeft: Type.Boolean(),
          leader: Type.String({ description: 'who holds the meeting keys now' }),
          leaderIsSelf: Type.Boolean({ description: 'this room holds them (it reads the code aloud)' }),
          message: Type.String({ description: 'what the banner says, in plain words' }),
        }),
        Type.Null(),
      ],
      { description: 'the last change of key holder (docs/kiosk-and-admin-api.md §Room screen)' },
    ),
  ),
  rosterCode: Type.Optional(
    Type.Union([Type.String({ pattern: '^\\d{5}( \\d{5}){3}$' }), Type.Null()], {
      description:
        'compare aloud after joins and leaves: differs on a screen whose keys or roster were tampered with',
    }),
  ),
  identityPolicy: Type.Optional(
    Type.Union([Type.Literal('allow'), Type.Literal('warn'), Type.Literal('refuse')], {
      description: 'what this room does about participants without a verified identity',
    }),
  ),
  epoch: Type.Integer({ minimum: 0 }),
  leader: Type.Union([Type.String(), Type.Null()]),
  participants: Type.Array(Participant),
  disabledFeatures: Type.Array(DisabledFeature),
  joinSteps: Type.Optional(Type.Array(JoinStep)),
  muted: Type.Optional(Type.Boolean()),
  cameraOn: Type.Optional(Type.Boolean()),
  volume: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  mediaPath: Type.Optional(
    Type.Union([...MEDIA_PATHS.map((p) => Type.Literal(p)), Type.Null()], {
      description:
        'how the meeting media goes: direct-udp, direct-tcp, or through the TURN server over udp, tcp or tls, or over tls or tcp through the HTTP proxy (turn-tls-proxy, turn-tcp-proxy) (docs/admin.md §Firewalls); null without a connection',
    }),
  ),
  reactions: Type.Optional(Type.Array(Reaction)),
  chat: Type.Optional(
    Type.Array(ChatMessage, {
      maxItems: CHAT_SHOWN,
      description: 'the newest chat messages the room may show, oldest first (none while chat is off)',
    }),
  ),
  chatEnabled: Type.Optional(Type.Boolean({ description: "the room's `room.chat` setting" })),
  share: Type.Optional(ShareState),
});
export type MeetingState = Static<typeof MeetingState>;

/** A device's health as the admin API and the metrics report it. */
export const DEVICE_STATUSES = ['ok', 'degraded', 'missing'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export const DeviceInfo = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'camera, microphone, speaker, panel, …' }),
  name: Type.String(),
  status: Type.Union(DEVICE_STATUSES.map((s) => Type.Literal(s))),
  detail: Type.Optional(Type.String()),
  state: Type.Optional(
    Type.String({ description: 'what the device is doing: ready, connecting, reconnecting, failed, …' }),
  ),
  since: Type.Optional(Type.String({ format: 'date-time', description: 'when the state last changed' })),
  presets: Type.Optional(Type.Array(Type.Object({ id: Type.Integer(), name: Type.String() }))),
  model: Type.Optional(
    Type.Object(
      {
        family: Type.String({
          description: 'command-format family in use: generic, sony-evi, sony-brc, sony-srg-x',
        }),
        name: Type.Union([Type.String(), Type.Null()]),
        vendorId: Type.Union([Type.String(), Type.Null()]),
        modelId: Type.Union([Type.String(), Type.Null()]),
        source: Type.Union([Type.Literal('detected'), Type.Literal('configured'), Type.Literal('default')]),
      },
      {
        description:
          "a VISCA camera's model, from its version answer or the setting (docs/hardware.md §Conformance)",
      },
    ),
  ),
});
export type DeviceInfo = Static<typeof DeviceInfo>;

export const RoomError = Type.Object({
  code: Type.String(),
  message: Type.String({ description: 'a sentence for the people in the room' }),
  at: Type.Optional(Type.Number()),
});
export type RoomError = Static<typeof RoomError>;

export const MediaStats = Type.Object({
  sendBitrateKbps: Type.Optional(Type.Number()),
  receiveBitrateKbps: Type.Optional(Type.Number()),
  framesDecrypted: Type.Optional(Type.Integer()),
  framesDropped: Type.Optional(Type.Integer()),
  rttMs: Type.Optional(Type.Number()),
});
export type MediaStats = Static<typeof MediaStats>;

const roomFields = {
  schedule: Type.Array(ScheduledMeeting),
  meeting: Type.Union([MeetingState, Type.Null()]),
  devices: Type.Array(DeviceInfo),
  errors: Type.Array(RoomError),
  media: Type.Union([MediaStats, Type.Null()]),
};

/** What the app layer supplies. */
export const RoomSnapshot = Type.Object({
  room: Type.Object({ name: Type.String() }),
  deviceId: Type.String(),
  addresses: Type.Array(Type.String(), { description: 'LAN addresses the admin API answers on' }),
  ...roomFields,
});
export type RoomSnapshot = Static<typeof RoomSnapshot>;

export const SetupInfo = Type.Object({
  setupCode: Type.String(),
  deviceId: Type.String(),
  addresses: Type.Array(Type.String()),
  adminUrls: Type.Array(Type.String()),
  certFingerprint: Type.String({ description: 'SHA-256 of the admin certificate, colon-separated hex' }),
  roomctl: Type.String({
    description: "How the admin runs roomctl: 'roomctl', or 'npx roomctl' from a checkout",
  }),
});
export type SetupInfo = Static<typeof SetupInfo>;

export const AdminNotice = Type.Object({
  loginLocked: Type.Boolean(),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});
export type AdminNotice = Static<typeof AdminNotice>;

/** What the kiosk receives. */
export const RoomState = Type.Object({
  room: Type.Object({ name: Type.String(), provisioned: Type.Boolean() }),
  ...roomFields,
  setup: Type.Union([SetupInfo, Type.Null()], { description: 'present until the device is claimed' }),
  admin: AdminNotice,
  certFingerprint: Type.String(),
});
export type RoomState = Static<typeof RoomState>;

/** Messages on the kiosk WebSocket `/api/v1/live` (text frames); binary frames are video. */
export type LiveMessage = { type: 'state'; state: RoomState };
