/**
 * Total decoders for what Janus sends over its WebSocket API (docs/decisions/0018-media-planes.md
 * §Janus API): bounded size and depth before parsing, then TypeBox shapes. Janus adds fields freely,
 * so objects are open; every field roomd reads is typed and bounded. Nothing here throws: a bad
 * message is a typed `protocol.malformed` error, counted and dropped by the client.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RoomdError } from '../../core/errors.ts';
import { jsonDeeperThan } from '../../protocol/codec.ts';
import { MAX_SDP_CHARS } from '../../protocol/limits.ts';

/** Largest Janus message roomd reads (an event with an SDP and a list of publishers fits easily). */
export const MAX_JANUS_MESSAGE_BYTES = 256 * 1024;
const MAX_JANUS_DEPTH = 16;
/** Janus ids (sessions, handles, rooms, feeds) are 52-bit random integers: safe in JavaScript. */
export const JanusId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const Transaction = Type.String({ minLength: 1, maxLength: 64 });

export const JsepSchema = Type.Object({
  type: Type.Union([Type.Literal('offer'), Type.Literal('answer')]),
  sdp: Type.String({ maxLength: MAX_SDP_CHARS }),
});
export type Jsep = Static<typeof JsepSchema>;

const Envelope = Type.Object({
  janus: Type.String({ maxLength: 32 }),
  transaction: Type.Optional(Transaction),
  session_id: Type.Optional(JanusId),
  sender: Type.Optional(JanusId),
  data: Type.Optional(Type.Object({ id: Type.Optional(JanusId) })),
  error: Type.Optional(
    Type.Object({ code: Type.Integer(), reason: Type.Optional(Type.String({ maxLength: 1000 })) }),
  ),
  plugindata: Type.Optional(
    Type.Object({
      plugin: Type.String({ maxLength: 64 }),
      data: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
  jsep: Type.Optional(JsepSchema),
  /** `hangup` */
  reason: Type.Optional(Type.String({ maxLength: 200 })),
});
export type JanusMessage = Static<typeof Envelope>;

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: RoomdError };

const malformed = (message: string): { ok: false; error: RoomdError } => ({
  ok: false,
  error: new RoomdError('protocol.malformed', { message }),
});

/** One WebSocket text frame from Janus. */
export function decodeJanusMessage(text: string): Decoded<JanusMessage> {
  if (Buffer.byteLength(text, 'utf8') > MAX_JANUS_MESSAGE_BYTES)
    return malformed('A Janus message is too large.');
  if (jsonDeeperThan(text, MAX_JANUS_DEPTH)) return malformed('A Janus message nests too deep.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return malformed('A Janus message is not JSON.');
    throw error;
  }
  if (!Value.Check(Envelope, value)) return malformed('A Janus message has an unexpected shape.');
  return { ok: true, value };
}

// ---- VideoRoom plugin data -------------------------------------------------------------------

const Publisher = Type.Object({ id: JanusId });
const Publishers = Type.Array(Publisher, { maxItems: 1000 });

/** The VideoRoom replies and events roomd acts on, by their `videoroom` field. */
export const VideoRoomSchemas = {
  created: Type.Object({ videoroom: Type.Literal('created'), room: JanusId }),
  destroyed: Type.Object({ videoroom: Type.Literal('destroyed'), room: JanusId }),
  joined: Type.Object({
    videoroom: Type.Literal('joined'),
    room: JanusId,
    id: JanusId,
    publishers: Type.Optional(Publishers),
  }),
  attached: Type.Object({ videoroom: Type.Literal('attached'), room: JanusId }),
  event: Type.Object({
    videoroom: Type.Literal('event'),
    room: Type.Optional(JanusId),
    configured: Type.Optional(Type.String({ maxLength: 16 })),
    started: Type.Optional(Type.String({ maxLength: 16 })),
    publishers: Type.Optional(Publishers),
    unpublished: Type.Optional(Type.Union([JanusId, Type.String({ maxLength: 16 })])),
    leaving: Type.Optional(Type.Union([JanusId, Type.String({ maxLength: 16 })])),
    error_code: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String({ maxLength: 1000 })),
  }),
  updated: Type.Object({ videoroom: Type.Literal('updated'), room: Type.Optional(JanusId) }),
  /** Sent on a handle whose room went away. */
  destroyedEvent: Type.Object({ videoroom: Type.Literal('destroyed') }),
} as const;

export type VideoRoomData = {
  [K in keyof typeof VideoRoomSchemas]: Static<(typeof VideoRoomSchemas)[K]>;
};

/** The plugin's `data` as one of the shapes roomd expects, or a typed error. */
export function decodeVideoRoom<K extends keyof typeof VideoRoomSchemas>(
  kind: K,
  data: unknown,
): Decoded<VideoRoomData[K]> {
  if (typeof data === 'object' && data !== null && 'error_code' in data && kind !== 'event') {
    // Only an integer code is read: anything else (an object whose toString is not a function
    // would make String() throw, a long string a long message) is "no code", -1.
    const raw = (data as { error_code?: unknown }).error_code;
    const code = Number.isSafeInteger(raw) ? (raw as number) : -1;
    return {
      ok: false,
      error: new RoomdError('relay.media_plane_failed', {
        message: `The media server refused a request (${code === -1 ? 'no code' : code}).`,
        context: { janusError: code },
      }),
    };
  }
  if (!Value.Check(VideoRoomSchemas[kind], data))
    return malformed(`A VideoRoom "${kind}" message has an unexpected shape.`);
  return { ok: true, value: data as VideoRoomData[K] };
}
