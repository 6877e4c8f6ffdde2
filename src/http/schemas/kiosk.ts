/**
 * Request and response schemas of the kiosk touch commands (docs/kiosk-and-admin-api.md
 * §Room screen: `POST /api/v1/{join,leave,mute,camera,volume,ptz,react,chat,share}`).
 */
import { type Static, Type } from '@sinclair/typebox';
import type { PtzCommand } from '../../protocol/room-commands.ts';
import { REACTIONS } from '../../protocol/vocabulary.ts';

const strict = { additionalProperties: false } as const;

export const JoinBody = Type.Object(
  {
    meetingId: Type.String({ pattern: '^[0-9][0-9 -]{5,20}[0-9]$', description: 'digits, spaces allowed' }),
    passcode: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  strict,
);
export type JoinBody = Static<typeof JoinBody>;

export const EmptyBody = Type.Object({}, strict);
export const MuteBody = Type.Object({ muted: Type.Boolean() }, strict);
export const CameraBody = Type.Object({ enabled: Type.Boolean() }, strict);
export const VolumeBody = Type.Object({ level: Type.Integer({ minimum: 0, maximum: 100 }) }, strict);
/** Share the room's content or stop (docs/kiosk-and-admin-api.md §Content sharing). */
export const ShareBody = Type.Object({ on: Type.Boolean() }, strict);
export type ShareBody = Static<typeof ShareBody>;

const Axis = Type.Number({ minimum: -1, maximum: 1 });
/** A discriminated union on `op`, so a bad body gets one precise message instead of four. */
export const PtzBody = Type.Unsafe<PtzCommand>({
  type: 'object',
  discriminator: { propertyName: 'op' },
  required: ['op'],
  oneOf: [
    Type.Object({ op: Type.Literal('move'), pan: Axis, tilt: Axis, zoom: Axis }, strict),
    Type.Object({ op: Type.Literal('stop') }, strict),
    Type.Object({ op: Type.Literal('preset'), preset: Type.Integer({ minimum: 0, maximum: 15 }) }, strict),
    Type.Object({ op: Type.Literal('home') }, strict),
  ],
});
export type PtzBody = Static<typeof PtzBody>;

export const ReactBody = Type.Object({ reaction: Type.Union(REACTIONS.map((r) => Type.Literal(r))) }, strict);
export type ReactBody = Static<typeof ReactBody>;

/**
 * A chat message (docs/kiosk-and-admin-api.md §Chat). The schema bounds the characters; the chat
 * channel checks the rest (at most 1000 UTF-8 bytes, no control characters but line breaks) and
 * refuses with `meeting.chat_invalid`.
 */
export const ChatBody = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 1000 }),
    to: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        description: "a participant's id for a private message; absent (or 'all') for everyone",
      }),
    ),
  },
  strict,
);
export type ChatBody = Static<typeof ChatBody>;

export const OkReply = Type.Object({ ok: Type.Literal(true) });
