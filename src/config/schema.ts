/**
 * The one settings schema (TypeBox) for everything an admin can configure: it drives validation,
 * defaults, `ROOMD_*` environment overrides, the admin settings form and migrations.
 * Fields marked `requiresRestart: true` take effect only after the daemon restarts.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

export const SETTINGS_VERSION = 2;

const restart = { requiresRestart: true } as const;

const Port = (def: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: def, description, ...restart });

const Host = (def: string, description: string) =>
  Type.String({
    minLength: 1,
    maxLength: 253,
    pattern: '^[A-Za-z0-9.:\\-\\[\\]]+$',
    default: def,
    description,
    ...restart,
  });

const DevicePath = (description: string, options: { requiresRestart?: true } = {}) =>
  Type.Union(
    [Type.String({ minLength: 1, maxLength: 512, pattern: '^(/|tcp://|hidstream:/)' }), Type.Null()],
    {
      ...options,
      default: null,
      description: `${description} (an absolute path, ideally /dev/serial/by-id/… or /dev/v4l/by-id/…; tcp://host:port for a serial server; hidstream:/path for the speakerphone emulator; null when absent)`,
    },
  );

const Enum = <T extends string>(values: readonly T[], def: T, description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { default: def, description },
  );

/**
 * Shapes of the organization identity settings (docs/admin.md §Organization identities). These are
 * the structural limits only; what they mean (a certificate for this room's own key, signed by one
 * of the anchors) is checked above this layer with the E2EE parsers, where the room's key is known.
 */
export const IDENTITY_LIMITS = Object.freeze({ maxAnchors: 64, maxOrgLength: 128, maxNameLength: 128 });

/** 32 bytes in base64url without padding (an Ed25519 public key). */
const Key32 = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
const OrgText = (max: number) => Type.String({ minLength: 1, maxLength: max });

export const TrustAnchorSetting = Type.Object(
  {
    org: OrgText(IDENTITY_LIMITS.maxOrgLength),
    publicKey: Key32,
  },
  { additionalProperties: false },
);

export const CertificateSetting = Type.Object(
  {
    v: Type.Literal(1),
    org: OrgText(IDENTITY_LIMITS.maxOrgLength),
    name: OrgText(IDENTITY_LIMITS.maxNameLength),
    kind: Type.Union([Type.Literal('room'), Type.Literal('person'), Type.Literal('bot')]),
    key: Key32,
    notBefore: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    notAfter: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    issuer: Key32,
    sig: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);

export const SettingsSchema = Type.Object(
  {
    schemaVersion: Type.Literal(SETTINGS_VERSION, { default: SETTINGS_VERSION }),
    room: Type.Object(
      {
        name: Type.String({
          minLength: 1,
          maxLength: 64,
          default: 'Meeting Room',
          description: 'Shown on the room screen and the touch panel.',
        }),
        chat: Type.Boolean({
          default: true,
          description:
            'Meeting chat on the room screen: messages to everyone and to this room, and ready-made replies the room can send with one tap. Off: the room sends no chat and its screen shows none (docs/kiosk-and-admin-api.md §Chat).',
        }),
        autoShare: Type.Boolean({
          default: true,
          description:
            'Share a laptop as soon as it is plugged into the HDMI capture during a meeting, and stop when it is unplugged (docs/kiosk-and-admin-api.md §Content sharing).',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    kiosk: Type.Object(
      {
        host: Host(
          '127.0.0.1',
          'Address the kiosk UI listens on. Keep it on loopback unless a remote screen needs it.',
        ),
        port: Port(8080, 'Port of the kiosk UI.'),
        allowRemote: Type.Boolean({
          default: false,
          description: 'Let non-loopback clients use the kiosk API.',
          ...restart,
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    admin: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve the admin API over HTTPS.', ...restart }),
        host: Host('0.0.0.0', 'Address the admin API listens on.'),
        port: Port(8443, 'Port of the admin API (HTTPS).'),
      },
      { additionalProperties: false, default: {} },
    ),
    meetingService: Type.Object(
      {
        url: Type.String({
          pattern: '^wss?://[^\\s]+$',
          maxLength: 2048,
          default: 'ws://127.0.0.1:7443/v1/signal',
          description: 'WebSocket address of the meeting service (wss:// on port 443 in production).',
        }),
        proxy: Type.Union(
          [Type.String({ pattern: '^https?://([^\\s:@/]+@)?[^\\s@/]+/?$', maxLength: 2048 }), Type.Null()],
          {
            default: null,
            description:
              'HTTP proxy (http://[user@]host:port, or https://) the room reaches the meeting service and TURN through with CONNECT; its password goes in proxyPassword. null: HTTPS_PROXY and NO_PROXY from the environment apply.',
          },
        ),
        proxyPassword: Type.Union(
          [Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\x00-\\x1f]+$' }), Type.Null()],
          {
            default: null,
            writeOnly: true,
            description:
              "The proxy user's password (Basic authentication), with meetingService.proxy naming the user. Secret: never logged, shown or read back.",
          },
        ),
        tlsPin: Type.Union([Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$' }), Type.Null()], {
          default: null,
          description:
            "The meeting service's key pin: base64 SHA-256 of its certificate's public key (SPKI). When set, that key is trusted whatever signed the certificate; null: the certificate must chain to the system's CAs.",
        }),
        token: Type.Union([Type.String({ pattern: '^[A-Za-z0-9._~-]{16,512}$' }), Type.Null()], {
          default: null,
          writeOnly: true,
          description:
            "This room's credential on the meeting service (from 'roomd relay room-token --room DEVICE_ID'): it reads only this room's bookings. Secret: never logged or shown on the room screen.",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    encryption: Type.Object(
      {
        minimum: Enum(
          ['e2ee', 'booked', 'enhanced'] as const,
          'booked',
          "Weakest encryption the room joins. 'e2ee': only end-to-end encrypted meetings. 'booked': end-to-end encrypted ones, and meetings whose keys the service holds only when a host this room trusts (the room itself, or one its organization certified) signed the booking that way — the service alone can never make the room join with less. 'enhanced': also any meeting whose keys the service holds.",
        ),
        defaultForNewMeetings: Enum(
          ['e2ee', 'enhanced'] as const,
          'e2ee',
          'Encryption of meetings scheduled from this room.',
        ),
        unverifiedParticipants: Enum(
          ['allow', 'warn', 'refuse'] as const,
          'warn',
          "People in an end-to-end encrypted meeting whose identity no trusted organization vouches for. 'allow': the participant list says who is not verified, nothing more. 'warn': also a warning on the room screen, and the shield is not green (partial) while one of them holds the meeting key. 'refuse': as 'warn', and when this room hands out the meeting key it gives none to them. A room that trusts no organization cannot verify anyone: under 'warn' its shield is then not green while anyone else holds the key (people compare the roster code aloud); 'refuse' acts as 'warn'.",
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    identity: Type.Object(
      {
        trustAnchors: Type.Array(TrustAnchorSetting, {
          maxItems: IDENTITY_LIMITS.maxAnchors,
          default: [],
          description:
            "Organizations whose identity certificates this room accepts: {org, publicKey} as 'roomctl identity org-init' prints it.",
        }),
        certificate: Type.Union([CertificateSetting, Type.Null()], {
          default: null,
          description:
            "This room's identity certificate ('roomctl identity issue --kind room'), for this room's own identity key and from one of the trust anchors; others see the room as verified by that organization.",
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    devices: Type.Object(
      {
        panel: Type.Object(
          {
            path: DevicePath('Serial line of the touch panel'),
            baudRate: Type.Union(
              [9600, 19200, 38400, 57600, 115200].map((b) => Type.Literal(b)),
              {
                default: 115200,
                description: 'Line speed roomd switches the panel to (found at any speed; not stored on it).',
              },
            ),
          },
          { additionalProperties: false, default: {} },
        ),
        camera: Type.Object(
          {
            control: Enum(
              ['none', 'visca', 'uvc'] as const,
              'none',
              'How the camera is moved: VISCA over serial, UVC controls, or not at all.',
            ),
            controlPath: DevicePath('VISCA serial line, or the /dev/video… node for UVC controls'),
            viscaAddress: Type.Integer({
              minimum: 1,
              maximum: 7,
              default: 1,
              description: 'VISCA camera address.',
            }),
            viscaModel: Enum(
              ['auto', 'generic', 'sony-evi', 'sony-brc', 'sony-srg-x'] as const,
              'auto',
              'VISCA model family: auto asks the camera (CAM_VersionInq); sony-evi = EVI-D70/D80/D90, SRG-300H; sony-brc = BRC-H700/Z700 (5-digit pan); sony-srg-x = SRG-X400/X120; generic = other makers (docs/hardware.md §Conformance).',
            ),
            video: DevicePath('V4L2 capture device of the camera'),
          },
          { additionalProperties: false, default: {} },
        ),
        content: Type.Object(
          {
            video: DevicePath(
              'V4L2 capture device of the HDMI capture dongle the room shares content from (docs/hardware.md §Content sharing)',
              restart,
            ),
          },
          { additionalProperties: false, default: {} },
        ),
        speakerphone: Type.Object(
          {
            hidraw: DevicePath('hidraw node of the speakerphone buttons and LEDs'),
            captureDevice: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()], {
              default: null,
              description: "ALSA capture device, e.g. 'hw:CARD=Speaker'; null uses the synthetic microphone.",
            }),
            playbackDevice: Type.Union([Type.String({ minLength: 1, maxLength: 256 }), Type.Null()], {
              default: null,
              description: 'ALSA playback device; null plays to a null sink with a level meter.',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    media: Type.Object(
      {
        videoCodec: Enum(['vp8', 'h264'] as const, 'vp8', 'Video codec the room sends.'),
        width: Type.Integer({
          minimum: 160,
          maximum: 3840,
          default: 1280,
          description: 'Sent video width in pixels.',
        }),
        height: Type.Integer({
          minimum: 90,
          maximum: 2160,
          default: 720,
          description: 'Sent video height in pixels.',
        }),
        framerate: Type.Integer({
          minimum: 1,
          maximum: 60,
          default: 30,
          description: 'Sent video frames per second.',
        }),
        videoBitrateKbps: Type.Integer({
          minimum: 100,
          maximum: 20000,
          default: 2500,
          description:
            'Video bitrate: the most the camera sends; on a thinner uplink rate adaptation sends less (docs/admin.md §Thin uplinks).',
        }),
        audioBitrateKbps: Type.Integer({
          minimum: 6,
          maximum: 510,
          default: 48,
          description: 'Opus bitrate.',
        }),
        volume: Type.Integer({ minimum: 0, maximum: 100, default: 70, description: 'Speaker volume.' }),
      },
      { additionalProperties: false, default: {} },
    ),
    log: Type.Object(
      {
        level: Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const, 'info', 'Log level.'),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, $id: 'RoomdSettings' },
);

export type Settings = Static<typeof SettingsSchema>;

/** Leaf fields of the schema with their dotted paths, in declaration order. */
export function settingLeaves(
  schema: TSchema = SettingsSchema,
  prefix: string[] = [],
): { path: string[]; schema: TSchema }[] {
  if (schema['type'] === 'object' && schema['properties'] !== undefined) {
    const out: { path: string[]; schema: TSchema }[] = [];
    for (const [key, sub] of Object.entries(schema['properties'] as Record<string, TSchema>)) {
      out.push(...settingLeaves(sub, [...prefix, key]));
    }
    return out;
  }
  return [{ path: prefix, schema }];
}
