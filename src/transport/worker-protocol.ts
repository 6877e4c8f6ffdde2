/**
 * The media worker's pipe protocol (docs/decisions/0013-media-worker.md §The pipe): what roomd and
 * its WebRTC worker process say to each other. Small, versioned and bounded, and decoding is total
 * in both directions — a crashed or corrupted worker can write anything, and roomd must only count
 * and drop it (the same holds for the worker reading roomd).
 *
 * A frame is a u32 big-endian body length (1 to MAX_FRAME_BODY) and the body: one byte protocol
 * version, one byte kind, then either fixed binary fields (the per-chunk kinds `send`, `message`,
 * `buffered`) or one UTF-8 JSON object (every other kind) checked against its schema. A body that
 * fails any check is a typed `transport.worker_message_invalid` result and nothing of it is used;
 * a length outside the bounds is a broken stream (the reader cannot find the next frame).
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { RoomdError } from '../core/errors.ts';
import { jsonDeeperThan } from '../protocol/codec.ts';
import { MAX_DATA_CHANNEL_MESSAGE, MAX_SDP_CHARS } from '../protocol/limits.ts';
import { MEDIA_PATHS } from './peer.ts';

export const WORKER_PROTOCOL_VERSION = 1;
/** Largest frame body: one data-channel message (64 KiB) and its few header bytes. */
export const MAX_FRAME_BODY = MAX_DATA_CHANNEL_MESSAGE + 64;
/** Peer connections one worker holds at once; more are refused (reported closed). */
export const MAX_PEERS_PER_WORKER = 512;
/**
 * Data channels per peer connection. The uplink and the embedded plane's connection use one; a
 * Janus downlink has one per publisher in the meeting (docs/protocol.md §Media planes), up to the
 * 1000 a `media-feeds` map can name.
 */
export const MAX_CHANNELS_PER_PEER = 1024;
/** Requests (offers, answers, candidates) awaiting a reply from one worker. */
export const MAX_PENDING_REQUESTS = 2048;
/** Ids are 31-bit: channels roomd opens are positive, channels the far end opens are negative. */
export const MAX_ID = 0x7fffffff;
const MAX_JSON_NESTING = 6;

const Id = Type.Integer({ minimum: 1, maximum: MAX_ID });
const ChannelId = Type.Union([
  Type.Integer({ minimum: 1, maximum: MAX_ID }),
  Type.Integer({ minimum: -MAX_ID, maximum: -1 }),
]);
const Sdp = Type.String({ maxLength: MAX_SDP_CHARS });
const Candidate = Type.Object(
  {
    candidate: Type.String({ maxLength: 2048 }),
    sdpMid: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    sdpMLineIndex: Type.Union([Type.Integer({ minimum: 0, maximum: 255 }), Type.Null()]),
  },
  { additionalProperties: false },
);
const IceServer = Type.Object(
  {
    urls: Type.Union([
      Type.String({ maxLength: 512 }),
      Type.Array(Type.String({ maxLength: 512 }), { maxItems: 8 }),
    ]),
    username: Type.Optional(Type.String({ maxLength: 512 })),
    credential: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
const PEER_STATES = ['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed'] as const;
const obj = <P extends Record<string, TSchema>>(p: P) => Type.Object(p, { additionalProperties: false });

/** JSON bodies of the kinds roomd sends, by kind name. */
const ToWorkerJson = {
  'create-pc': obj({
    pc: Id,
    iceServers: Type.Array(IceServer, { maxItems: 8 }),
    iceTransportPolicy: Type.Optional(Type.Union([Type.Literal('all'), Type.Literal('relay')])),
    bridges: Type.Optional(
      Type.Array(
        obj({
          url: Type.String({ maxLength: 512 }),
          path: Type.Union([
            Type.Literal('turn-tls'),
            Type.Literal('turn-tls-proxy'),
            Type.Literal('turn-tcp-proxy'),
          ]),
        }),
        { maxItems: 8 },
      ),
    ),
  }),
  'close-pc': obj({ pc: Id }),
  'create-channel': obj({
    pc: Id,
    ch: Id,
    label: Type.String({ maxLength: 128 }),
    ordered: Type.Boolean(),
    maxRetransmits: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  }),
  request: Type.Union([
    obj({ req: Id, pc: Id, op: Type.Literal('create-offer') }),
    obj({ req: Id, pc: Id, op: Type.Literal('accept-offer'), sdp: Sdp }),
    obj({ req: Id, pc: Id, op: Type.Literal('accept-answer'), sdp: Sdp }),
    obj({ req: Id, pc: Id, op: Type.Literal('add-ice'), candidate: Candidate }),
    obj({ req: Id, pc: Id, op: Type.Literal('get-path') }),
  ]),
  'close-channel': obj({ ch: ChannelId }),
  ping: obj({ n: Id }),
  shutdown: obj({}),
};

/** JSON bodies of the kinds the worker sends, by kind name. */
const FromWorkerJson = {
  ready: obj({ pid: Type.Integer({ minimum: 0, maximum: MAX_ID }) }),
  reply: Type.Union([
    obj({
      req: Id,
      ok: Type.Literal(true),
      sdp: Type.Optional(Sdp),
      /** `get-path`: the connection's media path, null before one is selected. */
      path: Type.Optional(Type.Union([...MEDIA_PATHS.map((p) => Type.Literal(p)), Type.Null()])),
    }),
    obj({ req: Id, ok: Type.Literal(false), message: Type.String({ maxLength: 512 }) }),
  ]),
  'pc-state': obj({ pc: Id, state: Type.Union(PEER_STATES.map((s) => Type.Literal(s))) }),
  ice: obj({ pc: Id, candidate: Candidate }),
  datachannel: obj({
    pc: Id,
    ch: Type.Integer({ minimum: -MAX_ID, maximum: -1 }),
    label: Type.String({ maxLength: 128 }),
  }),
  'channel-open': obj({ ch: ChannelId }),
  'channel-closed': obj({ ch: ChannelId }),
  pong: obj({
    n: Id,
    pcs: Type.Integer({ minimum: 0, maximum: MAX_ID }),
    channels: Type.Integer({ minimum: 0, maximum: MAX_ID }),
    invalid: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    rssBytes: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  }),
};

type Json<S extends Record<string, TSchema>> = {
  [K in keyof S & string]: { type: K } & Static<S[K]>;
}[keyof S & string];

/** Everything roomd sends to its worker. */
export type ToWorker =
  | Json<typeof ToWorkerJson>
  /** One data-channel message to send (binary kind). */
  | { type: 'send'; ch: number; data: Uint8Array };

/** Everything the worker sends to roomd. */
export type FromWorker =
  | Json<typeof FromWorkerJson>
  /** One data-channel message received (binary kind). */
  | { type: 'message'; ch: number; data: Uint8Array }
  /**
   * Send progress of one channel: `taken` counts every byte of `send` the worker has consumed
   * (sent or dropped) since the channel was made; `buffered` is what wrtc still holds.
   */
  | { type: 'buffered'; ch: number; taken: number; buffered: number };

export type ToWorkerType = ToWorker['type'];
export type FromWorkerType = FromWorker['type'];

/** Kind bytes: roomd's below 64, the worker's from 64. Never renumber one that has shipped. */
const TO_WORKER_KINDS: Record<ToWorkerType, number> = {
  'create-pc': 1,
  'close-pc': 2,
  'create-channel': 3,
  request: 4,
  send: 5,
  'close-channel': 6,
  ping: 7,
  shutdown: 8,
};
const FROM_WORKER_KINDS: Record<FromWorkerType, number> = {
  ready: 64,
  reply: 65,
  'pc-state': 66,
  ice: 67,
  datachannel: 68,
  'channel-open': 69,
  'channel-closed': 70,
  message: 71,
  buffered: 72,
  pong: 73,
};

interface Side {
  name: string;
  types: Map<number, string>;
  checks: Map<string, TypeCheck<TSchema>>;
  binary: Record<string, (body: Uint8Array) => WorkerDecode<unknown>>;
}

function side(
  name: string,
  kinds: Record<string, number>,
  schemas: Record<string, TSchema>,
  binary: Side['binary'],
): Side {
  const types = new Map<number, string>();
  for (const [type, kind] of Object.entries(kinds)) types.set(kind, type);
  const checks = new Map<string, TypeCheck<TSchema>>();
  for (const [type, schema] of Object.entries(schemas)) checks.set(type, TypeCompiler.Compile(schema));
  return { name, types, checks, binary };
}

export type WorkerDecode<T> = { ok: true; message: T } | { ok: false; error: RoomdError };

function invalid(message: string, context: Record<string, unknown> = {}): { ok: false; error: RoomdError } {
  return { ok: false, error: new RoomdError('transport.worker_message_invalid', { message, context }) };
}

const HEAD = 2; // version, kind
const CH_BYTES = 4;

/** The signed 32-bit channel id after the head (read by hand: no view allocated per frame). */
function readChannel(body: Uint8Array): number {
  return (body[HEAD]! << 24) | (body[HEAD + 1]! << 16) | (body[HEAD + 2]! << 8) | body[HEAD + 3]!;
}

function validChannelId(ch: number): boolean {
  return ch !== 0 && ch >= -MAX_ID;
}

/** `send` and `message`: channel id, then the data-channel message itself. */
function decodeData(type: 'send' | 'message') {
  return (body: Uint8Array): WorkerDecode<unknown> => {
    if (body.byteLength < HEAD + CH_BYTES) return invalid(`A ${type} frame is too short.`, { type });
    const ch = readChannel(body);
    if (!validChannelId(ch)) return invalid(`A ${type} frame names no channel.`, { type });
    // A plain view (never a Buffer, whatever the body was): callers get one type.
    const data = new Uint8Array(
      body.buffer,
      body.byteOffset + HEAD + CH_BYTES,
      body.byteLength - HEAD - CH_BYTES,
    );
    if (data.byteLength > MAX_DATA_CHANNEL_MESSAGE)
      return invalid(`A ${type} frame is over the message limit.`, { type, size: data.byteLength });
    return { ok: true, message: { type, ch, data } };
  };
}

const BUFFERED_BYTES = HEAD + CH_BYTES + 16;

function decodeBuffered(body: Uint8Array): WorkerDecode<unknown> {
  if (body.byteLength !== BUFFERED_BYTES) return invalid('A buffered frame has the wrong size.');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const ch = view.getInt32(HEAD);
  const taken = view.getFloat64(HEAD + CH_BYTES);
  const buffered = view.getFloat64(HEAD + CH_BYTES + 8);
  if (!validChannelId(ch)) return invalid('A buffered frame names no channel.');
  if (!isCount(taken) || !isCount(buffered)) return invalid('A buffered frame holds a bad count.');
  return { ok: true, message: { type: 'buffered', ch, taken, buffered } };
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

const toWorkerSide = side('roomd', TO_WORKER_KINDS, ToWorkerJson, { send: decodeData('send') });
const fromWorkerSide = side('worker', FROM_WORKER_KINDS, FromWorkerJson, {
  message: decodeData('message'),
  buffered: decodeBuffered,
});

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBody<T>(body: Uint8Array, s: Side): WorkerDecode<T> {
  if (body.byteLength < HEAD) return invalid(`A ${s.name} frame is too short.`);
  if (body.byteLength > MAX_FRAME_BODY) return invalid(`A ${s.name} frame is too large.`);
  if (body[0] !== WORKER_PROTOCOL_VERSION)
    return invalid(`A ${s.name} frame has protocol version ${body[0]}; this end speaks 1.`, {
      version: body[0],
    });
  const type = s.types.get(body[1]!);
  if (type === undefined) return invalid(`A ${s.name} frame has an unknown kind.`, { kind: body[1] });
  const binary = s.binary[type];
  if (binary !== undefined) return binary(body) as WorkerDecode<T>;
  let text: string;
  try {
    text = utf8.decode(body.subarray(HEAD));
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return invalid(`A ${s.name} ${type} frame is not UTF-8.`, { type });
  }
  if (jsonDeeperThan(text, MAX_JSON_NESTING)) return invalid(`A ${s.name} ${type} frame nests too deep.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return invalid(`A ${s.name} ${type} frame is not JSON.`, { type });
  }
  const check = s.checks.get(type);
  if (check === undefined || typeof value !== 'object' || value === null || !check.Check(value))
    return invalid(`A ${s.name} ${type} frame does not match its schema.`, { type });
  return { ok: true, message: { ...(value as object), type } as T };
}

/** A frame body from roomd, as the worker reads it. Never throws. */
export function decodeToWorker(body: Uint8Array): WorkerDecode<ToWorker> {
  return decodeBody<ToWorker>(body, toWorkerSide);
}

/** A frame body from the worker, as roomd reads it. Never throws. */
export function decodeFromWorker(body: Uint8Array): WorkerDecode<FromWorker> {
  return decodeBody<FromWorker>(body, fromWorkerSide);
}

function frame(kind: number, bodyLength: number): Buffer {
  if (bodyLength > MAX_FRAME_BODY) {
    throw new RoomdError('transport.message_too_large', {
      message: `A media worker frame of ${bodyLength} bytes is over the ${MAX_FRAME_BODY}-byte limit.`,
      context: { size: bodyLength, limit: MAX_FRAME_BODY },
    });
  }
  const out = Buffer.allocUnsafe(4 + bodyLength);
  out.writeUInt32BE(bodyLength, 0);
  out[4] = WORKER_PROTOCOL_VERSION;
  out[5] = kind;
  return out;
}

function encodeData(kind: number, ch: number, data: Uint8Array): Uint8Array {
  const out = frame(kind, HEAD + CH_BYTES + data.byteLength);
  out.writeInt32BE(ch, 4 + HEAD);
  out.set(data, 4 + HEAD + CH_BYTES);
  return out;
}

function encodeJson(kind: number, m: { type: string }): Uint8Array {
  const { type: _type, ...rest } = m;
  const json = Buffer.from(JSON.stringify(rest), 'utf8');
  const out = frame(kind, HEAD + json.byteLength);
  out.set(json, 4 + HEAD);
  return out;
}

/** One frame (length prefix included) for the worker. Throws transport.message_too_large. */
export function encodeToWorker(m: ToWorker): Uint8Array {
  const kind = TO_WORKER_KINDS[m.type];
  return m.type === 'send' ? encodeData(kind, m.ch, m.data) : encodeJson(kind, m);
}

/** One frame (length prefix included) for roomd. Throws transport.message_too_large. */
export function encodeFromWorker(m: FromWorker): Uint8Array {
  const kind = FROM_WORKER_KINDS[m.type];
  if (m.type === 'message') return encodeData(kind, m.ch, m.data);
  if (m.type === 'buffered') {
    const out = frame(kind, BUFFERED_BYTES);
    out.writeInt32BE(m.ch, 4 + HEAD);
    out.writeDoubleBE(m.taken, 4 + HEAD + CH_BYTES);
    out.writeDoubleBE(m.buffered, 4 + HEAD + CH_BYTES + 8);
    return out;
  }
  return encodeJson(kind, m);
}

/**
 * Splits a byte stream into frame bodies: views into the chunk pushed (a consumer that keeps one
 * beyond the push copies it). A frame split across chunks is gathered in a buffer of its own size,
 * so at most one frame's bytes (MAX_FRAME_BODY + 4) are held and each byte is copied at most once;
 * the rest of the chunk is never copied. A length of 0 or over the limit breaks the stream for good
 * — there is no way to find the next frame — and every later push returns the same error.
 */
export class FrameReader {
  /** The length prefix of a frame split inside it (its first `#headBytes` bytes). */
  readonly #head = new Uint8Array(4);
  #headBytes = 0;
  /** A frame whose length is known and whose body is still arriving: its first `#filled` bytes. */
  #body: Uint8Array | null = null;
  #filled = 0;
  #broken: RoomdError | null = null;
  readonly #max: number;

  constructor(maxBody = MAX_FRAME_BODY) {
    this.#max = maxBody;
  }

  get broken(): boolean {
    return this.#broken !== null;
  }

  push(chunk: Uint8Array): { bodies: Uint8Array[]; error: RoomdError | null } {
    const bodies: Uint8Array[] = [];
    if (this.#broken !== null) return { bodies, error: this.#broken };
    let off = 0;
    // First the frame split at the end of the last chunk, if any.
    if (this.#headBytes > 0) {
      while (this.#headBytes < 4 && off < chunk.byteLength) this.#head[this.#headBytes++] = chunk[off++]!;
      if (this.#headBytes < 4) return { bodies, error: null };
      this.#headBytes = 0;
      const len = new DataView(this.#head.buffer).getUint32(0);
      if (!this.#startBody(len)) return { bodies, error: this.#broken };
    }
    if (this.#body !== null) {
      const take = Math.min(this.#body.byteLength - this.#filled, chunk.byteLength - off);
      this.#body.set(chunk.subarray(off, off + take), this.#filled);
      this.#filled += take;
      off += take;
      if (this.#filled < this.#body.byteLength) return { bodies, error: null };
      bodies.push(this.#body);
      this.#body = null;
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (chunk.byteLength - off >= 4) {
      const len = view.getUint32(off);
      if (!this.#valid(len)) return { bodies, error: this.#broken };
      if (chunk.byteLength - off - 4 < len) break;
      bodies.push(chunk.subarray(off + 4, off + 4 + len));
      off += 4 + len;
    }
    // A partial frame: its length prefix, or its body once the prefix is whole.
    if (chunk.byteLength - off >= 4) {
      this.#startBody(view.getUint32(off));
      const part = chunk.subarray(off + 4);
      this.#body!.set(part, 0);
      this.#filled = part.byteLength;
    } else {
      while (off < chunk.byteLength) this.#head[this.#headBytes++] = chunk[off++]!;
    }
    return { bodies, error: null };
  }

  #valid(len: number): boolean {
    if (len !== 0 && len <= this.#max) return true;
    this.#broken = new RoomdError('transport.worker_message_invalid', {
      message: `A media worker frame declared ${len} bytes (1 to ${this.#max} allowed); the stream is unusable.`,
      context: { size: len, limit: this.#max },
    });
    return false;
  }

  #startBody(len: number): boolean {
    if (!this.#valid(len)) return false;
    this.#body = new Uint8Array(len);
    this.#filled = 0;
    return true;
  }
}
