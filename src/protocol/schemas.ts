/**
 * TypeBox schemas of every client<->relay signaling message (docs/protocol.md "# Wire protocol"
 * §Messages). JSON over one WebSocket; every message is an object with `v` (the wire version) and
 * `type`. Objects are closed (no unknown fields): a new field is a new wire version.
 */
import { type Static, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import { RoomdError } from '../core/errors.ts';
import { MAX_E2EE_PAYLOAD_CHARS, MAX_SDP_CHARS, WIRE_VERSION } from './limits.ts';
import { CLIENT_TYPES, ENCRYPTION_MODES, MEETING_FEATURES } from './vocabulary.ts';

const closed = { additionalProperties: false } as const;
type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };
const lit = <const T extends readonly string[]>(values: T): TUnion<Literals<T>> =>
  Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<Literals<T>>;

export const MeetingId = Type.String({ pattern: '^[A-Za-z0-9-]{3,64}$' });
/** Chosen by the relay: the decimal form of a u32 >= 1, also the `sender` of media chunk headers. */
/**
 * A decimal u32 ≥ 1 (docs/protocol.md §Limits): the chunk header's sender field is a u32, so an id
 * above 4294967295 could not be told apart from a smaller one there.
 */
export const ParticipantId = Type.String({
  pattern:
    '^(?:[1-9][0-9]{0,8}|[1-3][0-9]{9}|4(?:[01][0-9]{8}|2(?:[0-8][0-9]{7}|9(?:[0-3][0-9]{6}|4(?:[0-8][0-9]{5}|9(?:[0-5][0-9]{4}|6(?:[0-6][0-9]{3}|7(?:[01][0-9]{2}|2(?:[0-8][0-9]|9[0-5])))))))))$',
});
export const DeviceId = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });
export const DisplayName = Type.String({ minLength: 1, maxLength: 64 });
/** 32 bytes, base64url without padding (an Ed25519 public key, a nonce, a meeting key). */
export const Bytes32 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
/** 64 bytes, base64url without padding (an Ed25519 signature). */
export const Bytes64 = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });
export const InstanceId = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });
/** ICE servers in one `ice-servers` message, and URLs in one server (docs/protocol.md §ICE servers). */
export const MAX_ICE_SERVERS = 4;
export const MAX_ICE_URLS = 4;
/**
 * One STUN/TURN server as RTCPeerConnection takes it. URLs are `stun:`, `stuns:`, `turn:` or
 * `turns:` with no spaces; the TURN REST API username is `<expiry>:<participant id>` and the
 * credential is base64 of an HMAC-SHA1 (28 characters), so 256 characters bound them with room.
 */
export const IceServerSchema = Type.Object(
  {
    urls: Type.Array(Type.String({ pattern: '^(stun|stuns|turn|turns):[!-~]{1,250}$', maxLength: 256 }), {
      minItems: 1,
      maxItems: MAX_ICE_URLS,
    }),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    credential: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  closed,
);
export type IceServer = Static<typeof IceServerSchema>;
export const ClientTypeSchema = lit(CLIENT_TYPES);
export const EncryptionSchema = lit(ENCRYPTION_MODES);
export const FeatureSchema = lit(MEETING_FEATURES);
export const StreamId = Type.Integer({ minimum: 0, maximum: 255 });
const V = Type.Literal(WIRE_VERSION);

/** The oldest arrival an uplink report names (ms); older ones are left out. */
export const UPLINK_MAX_AGE_MS = 10_000;
const E2eeTarget = Type.Union([Type.Literal('leader'), Type.Literal('all'), ParticipantId]);
const Payload = Type.String({ maxLength: MAX_E2EE_PAYLOAD_CHARS });
/**
 * An organization's identity certificate as it travels (docs/protocol.md "Meeting policy"): shape
 * and sizes only; what it vouches for is checked by the E2EE layer (`src/e2ee/certificate.ts`).
 */
export const IdentityCertificateSchema = Type.Object(
  {
    v: Type.Literal(1),
    org: Type.String({ minLength: 1, maxLength: 128 }),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    kind: lit(['room', 'person', 'bot'] as const),
    key: Bytes32,
    notBefore: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    notAfter: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    issuer: Bytes32,
    sig: Bytes64,
  },
  closed,
);

/**
 * A meeting policy (docs/protocol.md "Meeting policy"): the encryption the meeting was booked with,
 * signed by its host. The relay stores it with the meeting and returns it as it was given; it never
 * needs to verify it (participants do). Bounded: under 2 KiB as JSON.
 */
export const MeetingPolicySchema = Type.Object(
  {
    v: Type.Literal(1),
    meetingId: MeetingId,
    encryption: EncryptionSchema,
    host: Bytes32,
    cert: Type.Optional(IdentityCertificateSchema),
    issuedAt: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    sig: Bytes64,
  },
  closed,
);
export type MeetingPolicyWire = Static<typeof MeetingPolicySchema>;

const Sdp = Type.Object(
  {
    v: V,
    type: Type.Literal('sdp'),
    sdpType: lit(['offer', 'answer'] as const),
    sdp: Type.String({ maxLength: MAX_SDP_CHARS }),
  },
  closed,
);
const Ice = Type.Object(
  {
    v: V,
    type: Type.Literal('ice'),
    candidate: Type.String({ maxLength: 2048 }),
    sdpMid: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    sdpMLineIndex: Type.Union([Type.Integer({ minimum: 0, maximum: 255 }), Type.Null()]),
  },
  closed,
);

// ---- client -> relay ------------------------------------------------------------------------

export const ClientMessages = {
  join: Type.Object(
    {
      v: V,
      type: Type.Literal('join'),
      meetingId: MeetingId,
      passcode: Type.Optional(Type.String({ maxLength: 64 })),
      displayName: DisplayName,
      client: ClientTypeSchema,
      /** The client's E2EE protocol version (0: none). */
      protocol: Type.Integer({ minimum: 0, maximum: 65535 }),
      deviceId: DeviceId,
      /** The device's Ed25519 identity public key; the relay compares it with the meeting's host key. */
      identityKey: Type.Optional(Bytes32),
      /** Ed25519 signature over hostProofMessage(hello nonce, meeting id); required to be recognised as host. */
      hostProof: Type.Optional(Bytes64),
      /**
       * Ed25519 signature over identityProofMessage(hello nonce, meeting id) with the identityKey:
       * proves the device holds its key (wrong-passcode budgets key on proven identities only).
       */
      identityProof: Type.Optional(Bytes64),
    },
    closed,
  ),
  e2ee: Type.Object({ v: V, type: Type.Literal('e2ee'), to: E2eeTarget, payload: Payload }, closed),
  sdp: Sdp,
  ice: Ice,
  'keyframe-request': Type.Object(
    { v: V, type: Type.Literal('keyframe-request'), to: ParticipantId, streamId: StreamId },
    closed,
  ),
  'feature-request': Type.Object(
    { v: V, type: Type.Literal('feature-request'), feature: FeatureSchema },
    closed,
  ),
  /** Janus plane: the answer to `media-down-offer`, from the downlink peer connection. */
  'media-down-answer': Type.Object(
    { v: V, type: Type.Literal('media-down-answer'), sdp: Type.String({ maxLength: MAX_SDP_CHARS }) },
    closed,
  ),
  /** Janus plane: a candidate of the downlink peer connection (`ice` is the uplink's). */
  'media-down-ice': Type.Object({ ...Ice.properties, type: Type.Literal('media-down-ice') }, closed),
  /**
   * Janus plane (docs/protocol.md §Big meetings): the level the client writes into its audio chunks'
   * headers, which no relay reads on the way there. Sent while the client speaks, at most every
   * AUDIO_LEVEL_REPORT_MS; nothing while it is silent.
   */
  'audio-level': Type.Object(
    { v: V, type: Type.Literal('audio-level'), level: Type.Integer({ minimum: 0, maximum: 127 }) },
    closed,
  ),
  /**
   * Janus plane (docs/protocol.md §Big meetings): our downlink is behind (frames arrive ever later)
   * or has caught up. While behind, the relay subscribes it to the most recent speakers only.
   */
  'media-behind': Type.Object({ v: V, type: Type.Literal('media-behind'), behind: Type.Boolean() }, closed),
  leave: Type.Object({ v: V, type: Type.Literal('leave') }, closed),
  ping: Type.Object(
    { v: V, type: Type.Literal('ping'), id: Type.Integer({ minimum: 0, maximum: 2 ** 31 }) },
    closed,
  ),
} satisfies Record<string, TSchema>;

// ---- relay -> client ------------------------------------------------------------------------

export const REFUSAL_REASONS = [
  'meeting_not_found',
  'bad_passcode',
  'locked_out',
  'client_not_allowed',
  'protocol_too_old',
  'e2ee_not_allowed',
  'meeting_ended',
  'bad_host_proof',
  'meeting_full',
  'bad_identity_proof',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export const RosterEntrySchema = Type.Object(
  {
    participantId: ParticipantId,
    displayName: DisplayName,
    client: ClientTypeSchema,
    protocol: Type.Integer({ minimum: 0, maximum: 65535 }),
    deviceId: DeviceId,
    identityKey: Type.Union([Bytes32, Type.Null()]),
    host: Type.Boolean(),
    e2eeCapable: Type.Boolean(),
    /** Relay clock, ms since the epoch. */
    joinedAt: Type.Integer({ minimum: 0 }),
  },
  closed,
);

export const ServerMessages = {
  hello: Type.Object(
    {
      v: V,
      type: Type.Literal('hello'),
      versions: Type.Object({ min: Type.Integer(), max: Type.Integer() }, closed),
      /** Fresh per connection; the host signs it (hostProof). */
      nonce: Bytes32,
      relay: Type.String({ maxLength: 64 }),
    },
    closed,
  ),
  admission: Type.Union([
    Type.Object(
      {
        v: V,
        type: Type.Literal('admission'),
        status: Type.Literal('admitted'),
        participantId: ParticipantId,
        instanceId: InstanceId,
        host: Type.Boolean(),
      },
      closed,
    ),
    Type.Object(
      {
        v: V,
        type: Type.Literal('admission'),
        status: Type.Literal('waiting'),
        reason: Type.Literal('waiting_for_host'),
        message: Type.String({ maxLength: 300 }),
      },
      closed,
    ),
    Type.Object(
      {
        v: V,
        type: Type.Literal('admission'),
        status: Type.Literal('refused'),
        reason: lit(REFUSAL_REASONS),
        message: Type.String({ maxLength: 300 }),
        retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
        attemptsLeft: Type.Optional(Type.Integer({ minimum: 0 })),
      },
      closed,
    ),
  ]),
  'meeting-info': Type.Object(
    {
      v: V,
      type: Type.Literal('meeting-info'),
      meetingId: MeetingId,
      instanceId: InstanceId,
      title: Type.String({ maxLength: 200 }),
      encryption: EncryptionSchema,
      disabledFeatures: Type.Array(
        Type.Object({ feature: FeatureSchema, reason: Type.String({ maxLength: 300 }) }, closed),
        {
          maxItems: 16,
        },
      ),
      hostPresent: Type.Boolean(),
      /** The meeting's host-signed policy, when it was booked with one (opaque to the relay). */
      policy: Type.Optional(MeetingPolicySchema),
    },
    closed,
  ),
  roster: Type.Object(
    {
      v: V,
      type: Type.Literal('roster'),
      version: Type.Integer({ minimum: 0 }),
      participants: Type.Array(RosterEntrySchema, { maxItems: 1000 }),
    },
    closed,
  ),
  leader: Type.Object(
    {
      v: V,
      type: Type.Literal('leader'),
      participantId: Type.Union([ParticipantId, Type.Null()]),
      reason: lit(['host', 'longest_present', 'none'] as const),
    },
    closed,
  ),
  /** Enhanced meetings only: the key the relay made (which is why the relay could decrypt). */
  'meeting-key': Type.Object(
    { v: V, type: Type.Literal('meeting-key'), keyId: Type.Integer({ minimum: 1 }), key: Bytes32 },
    closed,
  ),
  e2ee: Type.Object(
    { v: V, type: Type.Literal('e2ee'), to: E2eeTarget, from: ParticipantId, payload: Payload },
    closed,
  ),
  sdp: Sdp,
  ice: Ice,
  'keyframe-request': Type.Object(
    { v: V, type: Type.Literal('keyframe-request'), from: ParticipantId, streamId: StreamId },
    closed,
  ),
  'feature-result': Type.Object(
    {
      v: V,
      type: Type.Literal('feature-result'),
      feature: FeatureSchema,
      granted: Type.Literal(false),
      reason: lit(['disabled_in_e2ee', 'not_offered'] as const),
      message: Type.String({ maxLength: 300 }),
    },
    closed,
  ),
  error: Type.Object(
    {
      v: V,
      type: Type.Literal('error'),
      code: Type.String({ maxLength: 64 }),
      message: Type.String({ maxLength: 500 }),
      /** The `type` of the message that caused it, when known. */
      ref: Type.Optional(Type.String({ maxLength: 64 })),
    },
    closed,
  ),
  pong: Type.Object(
    { v: V, type: Type.Literal('pong'), id: Type.Integer({ minimum: 0, maximum: 2 ** 31 }) },
    closed,
  ),
  /** The relay's end of this participant's media channel is open: chunks now flow both ways. */
  'media-ready': Type.Object({ v: V, type: Type.Literal('media-ready') }, closed),
  /**
   * The relay's end of this participant's media connection is gone (it failed, or the relay's media
   * worker died): offer a new one now (docs/protocol.md §Session flow). Added to wire version 1; a
   * client that does not know it drops it and notices the loss by its own connection state.
   */
  'media-lost': Type.Object(
    { v: V, type: Type.Literal('media-lost'), reason: lit(['failed', 'setup_failed'] as const) },
    closed,
  ),
  /**
   * The STUN/TURN servers for this participant's media connections, with time-limited TURN
   * credentials (docs/protocol.md §ICE servers). Sent just before `admission {status:'admitted'}`,
   * and only by a relay configured with TURN. Added to wire version 1 as a type of its own, not a
   * field of `admission`: objects are closed, so an older client would refuse the whole admission;
   * this way it drops only this message.
   */
  'ice-servers': Type.Object(
    {
      v: V,
      type: Type.Literal('ice-servers'),
      iceServers: Type.Array(IceServerSchema, { maxItems: MAX_ICE_SERVERS }),
    },
    closed,
  ),
  /**
   * Janus plane (docs/protocol.md §Media planes): the media server's offer for the participant's
   * downlink peer connection. Added to wire version 1; a client that does not know it drops it.
   */
  'media-down-offer': Type.Object(
    { v: V, type: Type.Literal('media-down-offer'), sdp: Type.String({ maxLength: MAX_SDP_CHARS }) },
    closed,
  ),
  /**
   * Janus plane: which participant each downlink channel's feed id is. The client writes a chunk's
   * sender from this map, never from the payload, and drops chunks of feeds not in it.
   */
  'media-feeds': Type.Object(
    {
      v: V,
      type: Type.Literal('media-feeds'),
      feeds: Type.Array(
        Type.Object(
          {
            feed: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
            participantId: ParticipantId,
          },
          closed,
        ),
        { maxItems: 1000 },
      ),
    },
    closed,
  ),
  /**
   * Big meetings (docs/protocol.md §Big meetings): which layer of its video the relay wants from this
   * participant, `full` (the default) while it is among the last N active speakers, `small`
   * otherwise. Added to wire version 1; a client that does not know it drops it and stays full.
   */
  'video-layer': Type.Object(
    { v: V, type: Type.Literal('video-layer'), layer: lit(['full', 'small'] as const) },
    closed,
  ),
  /**
   * Rate adaptation (docs/protocol.md §Uplink reports), embedded plane: per stream of this
   * participant, the newest frame number whose chunks reached the relay and how long ago (ms) the
   * last of them did. Added to wire version 1; a client that does not know it drops it.
   */
  uplink: Type.Object(
    {
      v: V,
      type: Type.Literal('uplink'),
      streams: Type.Array(
        Type.Object(
          {
            streamId: Type.Integer({ minimum: 0, maximum: 255 }),
            frameNumber: Type.Integer({ minimum: 0, maximum: 0xffff_ffff }),
            ageMs: Type.Integer({ minimum: 0, maximum: UPLINK_MAX_AGE_MS }),
          },
          closed,
        ),
        { minItems: 1, maxItems: 8 },
      ),
    },
    closed,
  ),
} satisfies Record<string, TSchema>;

/** The relay reports a participant's uplink at most this often (docs/protocol.md §Uplink reports). */
export const UPLINK_REPORT_MS = 200;

/** A level at or below this (−dBov, RFC 6464) is speech (docs/protocol.md §Big meetings). */
export const SPEAKING_LEVEL = 50;
/** Janus plane: a speaking client reports its level at most this often. */
export const AUDIO_LEVEL_REPORT_MS = 250;
/**
 * …except the second report of a speech onset (the first after a second without one), which
 * follows this soon: a speaker starts on two loud levels this far apart (relay/speakers.ts).
 */
export const AUDIO_LEVEL_ONSET_MS = 100;

type Values<T> = T[keyof T];
export type ClientMessage = Values<{
  [K in keyof typeof ClientMessages]: Static<(typeof ClientMessages)[K]>;
}>;
export type ServerMessage = Values<{
  [K in keyof typeof ServerMessages]: Static<(typeof ServerMessages)[K]>;
}>;
export type ClientMessageOf<K extends ClientMessage['type']> = Extract<ClientMessage, { type: K }>;
export type ServerMessageOf<K extends ServerMessage['type']> = Extract<ServerMessage, { type: K }>;
export type RosterEntry = Static<typeof RosterEntrySchema>;
export type AdmissionMessage = ServerMessageOf<'admission'>;
export type MeetingInfoMessage = ServerMessageOf<'meeting-info'>;
export type E2eeTargetValue = Static<typeof E2eeTarget>;

/** Distributes Omit over a union, so `Body<ServerMessage>` keeps each variant's fields. */
export type WithoutV<T> = T extends unknown ? Omit<T, 'v'> : never;

/** The typed error of a refused join (undefined for any other admission). */
export function admissionError(m: ServerMessageOf<'admission'>): RoomdError | undefined {
  if (m.status !== 'refused') return undefined;
  const code =
    m.reason === 'locked_out'
      ? 'relay.locked_out'
      : m.reason === 'bad_passcode'
        ? 'relay.bad_passcode'
        : m.reason === 'meeting_not_found'
          ? 'relay.meeting_not_found'
          : m.reason === 'e2ee_not_allowed'
            ? 'relay.e2ee_not_allowed'
            : m.reason === 'meeting_ended'
              ? 'relay.meeting_ended'
              : m.reason === 'bad_host_proof'
                ? 'relay.bad_host_proof'
                : 'relay.client_not_allowed';
  return new RoomdError(code, { message: m.message, context: { reason: m.reason } });
}
