/**
 * One error type for all of roomd: a stable string code grouped by layer,
 * a structured `context` (never secrets), and a sentence a person can read on the room screen.
 *
 * Codes are `layer.reason`. Each layer's codes live in its own block below; add codes there,
 * never reuse or rename one that has shipped (admins script against them).
 */

export const ERROR_CODES = {
  // core: lifecycle, state store, generic input
  'core.internal': { http: 500, message: 'Something went wrong inside roomd.' },
  'core.invalid_argument': { http: 400, message: 'A value given to roomd is not valid.' },
  'core.not_found': { http: 404, message: 'That does not exist.' },
  'core.module_start_failed': { http: 500, message: 'A part of roomd failed to start.' },
  'core.module_stop_failed': { http: 500, message: 'A part of roomd failed to stop cleanly.' },
  'core.store_corrupt': { http: 500, message: 'A file in the state directory is damaged.' },
  'core.store_io': { http: 500, message: 'roomd could not read or write its state directory.' },
  'core.timeout': { http: 504, message: 'An operation took too long and was abandoned.' },
  'core.shutting_down': { http: 503, message: 'roomd is shutting down.' },

  // config: settings and identity
  'config.invalid': { http: 400, message: 'The settings are not valid.' },
  'config.unknown_key': { http: 400, message: 'A setting roomd does not know was given.' },
  'config.migration_failed': { http: 500, message: 'Old settings could not be upgraded.' },
  'config.too_new': { http: 500, message: 'The settings file was written by a newer roomd.' },
  'config.identity_corrupt': {
    http: 500,
    message: 'The device identity file is damaged; roomd will not silently make a new identity.',
  },

  // protocol: wire messages
  'protocol.malformed': { http: 400, message: 'A message did not have the expected shape.' },
  'protocol.too_large': { http: 413, message: 'A message was larger than allowed.' },
  'protocol.unsupported_version': {
    http: 400,
    message: 'A message used a protocol version roomd does not speak.',
  },
  'protocol.unexpected': { http: 409, message: 'A message arrived that makes no sense at this point.' },

  // e2ee: frames, keys, roster
  'e2ee.malformed': { http: 400, message: 'Encrypted data was malformed.' },
  'e2ee.decrypt_failed': { http: 400, message: 'A frame could not be decrypted.' },
  'e2ee.replay': { http: 400, message: 'A frame was received twice and rejected.' },
  'e2ee.unknown_key': { http: 400, message: 'A frame was encrypted with a key roomd does not hold.' },
  'e2ee.counter_exhausted': { http: 500, message: 'A sending key has been used up; a new key is needed.' },
  'e2ee.bad_signature': { http: 400, message: 'A signed encryption message failed verification.' },
  'e2ee.stale_epoch': { http: 400, message: 'An old encryption key was offered again and refused.' },
  'e2ee.not_in_roster': { http: 400, message: 'A participant is not in the verified meeting roster.' },
  'e2ee.unsupported_suite': { http: 400, message: 'The cipher suite is not supported.' },
  'e2ee.downgrade': {
    http: 409,
    message: 'The meeting service tried to weaken the encryption of an end-to-end encrypted meeting.',
  },
  'e2ee.policy_mismatch': {
    http: 409,
    message: 'The meeting service sent the signed encryption policy of another meeting.',
  },
  'e2ee.unsupported_version': {
    http: 400,
    message: 'An encryption message used a protocol version roomd does not speak.',
  },
  'e2ee.binding_mismatch': {
    http: 409,
    message: "The meeting service changed this room's encryption keys on the way to the leader.",
  },
  'e2ee.leader_rejected': {
    http: 409,
    message: 'The meeting service named a leader that is not in the verified roster.',
  },
  'e2ee.heartbeat_missing': {
    http: 504,
    message: 'The encryption leader has not been heard from; encryption is not verified.',
  },
  'e2ee.roster_mismatch': {
    http: 409,
    message: 'The meeting service lists people the encryption leader does not.',
  },
  'e2ee.binding_conflict': {
    http: 409,
    message: 'The meeting service offered two different encryption keys for one participant.',
  },
  'e2ee.identity_key_changed': {
    http: 409,
    message: 'Someone in the meeting uses another identity key than the one this room knows for that name.',
  },
  'e2ee.leader_equivocated': {
    http: 409,
    message: 'The encryption leader signed two different versions of the meeting state.',
  },
  'e2ee.frame_tampered': { http: 400, message: 'Media arrived altered or replayed and was dropped.' },
  'e2ee.frame_relabelled': {
    http: 400,
    message: 'A media frame arrived labelled with another sender or stream than its key and was dropped.',
  },
  'e2ee.not_capable': { http: 409, message: 'Someone in the meeting cannot use end-to-end encryption.' },
  'e2ee.unexpected': {
    http: 409,
    message: 'An encryption message arrived that makes no sense at this point.',
  },

  // transport: serial lines, peer connections, signaling socket
  'transport.closed': { http: 503, message: 'The connection is closed.' },
  'transport.open_failed': { http: 503, message: 'The connection could not be opened.' },
  'transport.disconnected': { http: 503, message: 'The device or peer went away.' },
  'transport.message_too_large': {
    http: 413,
    message: 'A message was too large for the connection and was not sent.',
  },
  'transport.worker_failed': {
    http: 503,
    message: 'The media worker stopped; its connections were closed and will be opened again.',
  },
  'transport.worker_message_invalid': {
    http: 502,
    message: 'A message between roomd and its media worker was malformed and was dropped.',
  },
  'transport.proxy_unreachable': { http: 502, message: 'The HTTP proxy cannot be reached.' },
  'transport.proxy_auth': {
    http: 502,
    message:
      'The HTTP proxy refused our credentials or needs some: give them in meetingService.proxy (http://user:password@host:port).',
  },
  'transport.proxy_refused': { http: 502, message: 'The HTTP proxy refused to open the connection.' },
  'transport.proxy_malformed': {
    http: 502,
    message: 'The HTTP proxy answered with something that is not HTTP.',
  },
  'transport.tls_untrusted': {
    http: 502,
    message:
      "The server's certificate is not trusted: add its CA to the system store, or set its key pin (meetingService.tlsPin).",
  },
  'transport.tls_pin_mismatch': {
    http: 502,
    message: "The server's key does not match the pinned one (meetingService.tlsPin).",
  },

  // media
  'media.encoder_failed': { http: 500, message: 'The video or audio encoder stopped.' },
  'media.parse_failed': { http: 400, message: 'Media data could not be parsed.' },
  'media.reassembly_timeout': { http: 400, message: 'Parts of a media frame did not arrive in time.' },

  // devices
  'device.unavailable': { http: 503, message: 'The device is not connected.' },
  'device.timeout': { http: 504, message: 'The device did not answer in time.' },
  'device.protocol_error': { http: 502, message: 'The device answered with an error.' },
  'device.unsupported': { http: 400, message: 'The device cannot do that.' },

  // relay: the meeting service
  'relay.meeting_not_found': { http: 404, message: 'There is no meeting with that ID.' },
  'relay.bad_passcode': { http: 403, message: 'The passcode is wrong.' },
  'relay.locked_out': { http: 429, message: 'Too many wrong passcodes; try again later.' },
  'relay.client_not_allowed': { http: 403, message: 'This kind of client cannot join the meeting.' },
  'relay.e2ee_not_allowed': { http: 403, message: 'End-to-end encryption is not allowed for this account.' },
  'relay.feature_disabled': { http: 409, message: 'That feature is off in end-to-end encrypted meetings.' },
  'relay.meeting_ended': { http: 410, message: 'The meeting has ended.' },
  'relay.not_admitted': { http: 409, message: 'Join the meeting before sending that.' },
  'relay.unknown_participant': { http: 404, message: 'That participant is not in the meeting.' },
  'relay.meeting_exists': { http: 409, message: 'A meeting with that ID already exists.' },
  'relay.bad_host_proof': { http: 403, message: 'The host identity could not be proven.' },
  'relay.rate_limited': { http: 429, message: 'Too many messages; some were dropped.' },
  'relay.media_plane_failed': { http: 502, message: 'The media server refused or failed a request.' },

  // meeting: the client session
  'meeting.join_failed': { http: 502, message: 'The room could not join the meeting.' },
  'meeting.not_in_meeting': { http: 409, message: 'The room is not in a meeting.' },
  'meeting.already_in_meeting': { http: 409, message: 'The room is already in a meeting.' },
  'meeting.relay_unreachable': { http: 502, message: 'The meeting service cannot be reached.' },
  'meeting.wrong_meeting': {
    http: 502,
    message: 'The meeting service answered for another meeting than the one the room asked for.',
  },
  'meeting.chat_off': { http: 409, message: 'Chat is turned off for this room.' },
  'meeting.share_busy': {
    http: 409,
    message: 'Someone else is sharing; only the meeting host can take over.',
  },
  'meeting.share_unavailable': {
    http: 409,
    message: 'This room has no content source to share: connect an HDMI capture device and set it up.',
  },
  'meeting.chat_invalid': {
    http: 400,
    message: 'A chat message must have 1 to 1000 bytes of text, without control characters.',
  },
  'meeting.chat_unknown_recipient': {
    http: 404,
    message: 'Nobody with end-to-end encryption by that id is in the meeting.',
  },
  'meeting.chat_no_private': {
    http: 409,
    message: 'Private messages need an end-to-end encrypted meeting; send it to everyone instead.',
  },
  'meeting.chat_not_ready': {
    http: 503,
    message: 'The meeting is not secure yet; try the message again in a moment.',
  },

  // http: kiosk, admin, control API
  'http.unauthorized': { http: 401, message: 'Sign in first.' },
  'http.forbidden': { http: 403, message: 'You are not allowed to do that.' },
  'http.bad_request': { http: 400, message: 'The request is not valid.' },
  'http.rate_limited': { http: 429, message: 'Too many requests; slow down.' },
  'http.locked': { http: 423, message: 'Admin sign-in is locked after too many failed attempts.' },
  'http.conflict': { http: 409, message: 'That conflicts with the current state.' },
  'http.csrf': { http: 403, message: 'The request did not carry its anti-forgery token; reload the page.' },
  'http.loopback_only': { http: 403, message: 'The room screen API only answers on the room device itself.' },
  'http.not_claimed': { http: 409, message: 'This room device has not been claimed yet.' },
  'http.already_claimed': { http: 409, message: 'This room device has already been claimed.' },
  'http.bad_setup_code': { http: 403, message: 'The setup code is wrong.' },
  'http.bad_credentials': { http: 401, message: 'The password or token is wrong.' },
  'http.bad_bundle': { http: 400, message: 'The provisioning bundle is not valid.' },
  'http.bad_signature': {
    http: 403,
    message: "The provisioning bundle is not signed by this organisation's key.",
  },
  'http.stale_bundle': {
    http: 409,
    message: 'That provisioning bundle is older than the one already applied.',
  },
  'http.tls_unavailable': { http: 500, message: 'The device certificate could not be created or loaded.' },
  'http.ui_missing': { http: 503, message: 'The room screen has not been built yet.' },
} as const satisfies Record<string, { http: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
export type ErrorLayer = ErrorCode extends `${infer L}.${string}` ? L : never;

export type ErrorContext = Readonly<Record<string, unknown>>;

export interface RoomdErrorOptions {
  /** A more specific human sentence than the code's default. */
  message?: string;
  context?: ErrorContext;
  cause?: unknown;
}

export class RoomdError extends Error {
  override readonly name = 'RoomdError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, options: RoomdErrorOptions = {}) {
    super(
      options.message ?? ERROR_CODES[code].message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.code = code;
    this.context = options.context ?? {};
  }

  get layer(): ErrorLayer {
    return this.code.slice(0, this.code.indexOf('.')) as ErrorLayer;
  }

  /** HTTP status the edges map this error to. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): { code: ErrorCode; message: string; context: ErrorContext } {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export function isRoomdError(value: unknown): value is RoomdError {
  return value instanceof RoomdError;
}

export function hasCode<C extends ErrorCode>(value: unknown, code: C): value is RoomdError & { code: C } {
  return value instanceof RoomdError && value.code === code;
}

/** Wrap anything thrown into a RoomdError, keeping an existing one as it is. */
export function toRoomdError(value: unknown, fallback: ErrorCode = 'core.internal'): RoomdError {
  if (value instanceof RoomdError) return value;
  return new RoomdError(fallback, { cause: value });
}

/** The human sentence for anything thrown; never leaks internals of non-roomd errors. */
export function humanMessage(value: unknown): string {
  return value instanceof RoomdError ? value.message : ERROR_CODES['core.internal'].message;
}
