/**
 * What Janus sends the relay over its WebSocket API (src/relay/janus/messages.ts,
 * docs/decisions/0018-media-planes.md §Janus API): decodeJanusMessage, the only parser of incoming
 * text in src/relay/janus/client.ts (the socket hands it each text frame, decoded as UTF-8), and
 * decodeVideoRoom, which the VideoRoom requests (videoroom.ts) apply to a reply's plugin data. The
 * relay must survive whatever a Janus instance sends: both return a value or a typed error
 * (`protocol.malformed`; a plugin refusal is `relay.media_plane_failed`) and never throw.
 * Invariants: what decodes is within the declared bounds (message size, ids safe integers ≥ 1,
 * transaction, SDP and reason lengths, at most 1000 publishers), re-encodes and decodes to the same
 * value; a real Janus reply (below) decodes unchanged, and its plugin data as the kind it is.
 */
import type { TSchema } from '@sinclair/typebox';
import fc from 'fast-check';
import {
  decodeJanusMessage,
  decodeVideoRoom,
  type JanusMessage,
  MAX_JANUS_MESSAGE_BYTES,
  VideoRoomSchemas,
} from '../../src/relay/janus/messages.ts';
import { MAX_SDP_CHARS } from '../../src/protocol/limits.ts';
import { asWire, mutatedJsonText } from '../lib/mutate.ts';
import { schemaArbitrary } from '../lib/schema-arb.ts';
import { type FuzzTarget, invariant, sameValue, typedResult } from '../lib/target.ts';

type Kind = keyof typeof VideoRoomSchemas;
const KINDS = Object.keys(VideoRoomSchemas) as Kind[];

type Input =
  | string
  | Uint8Array
  /** A well-formed message: must decode unchanged (and its plugin data as `kind`, when given). */
  | { readonly valid: Record<string, unknown>; readonly kind?: Kind };

const SESSION = 4_503_599_627_370_495;
const HANDLE = 1_234_567_890_123;
const ROOM = 7_316_402_117;
const FEED = 2_251_799_813_685_249;
const PLUGIN = 'janus.plugin.videoroom';

const OFFER_SDP =
  'v=0\r\no=- 1700000000 1 IN IP4 10.0.0.1\r\ns=VideoRoom 7316402117\r\nt=0 0\r\na=group:BUNDLE 0\r\n' +
  'a=ice-options:trickle\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 10.0.0.1\r\n' +
  'a=mid:0\r\na=sctp-port:5000\r\na=candidate:1 1 udp 2015363327 10.0.0.1 20000 typ host\r\n' +
  'a=end-of-candidates\r\n';
const ANSWER_SDP = OFFER_SDP.replace('a=ice-options:trickle\r\n', '');

const event = (txn: string | undefined, data: Record<string, unknown>, jsep?: Record<string, unknown>) => ({
  janus: 'event',
  session_id: SESSION,
  ...(txn === undefined ? {} : { transaction: txn }),
  sender: HANDLE,
  plugindata: { plugin: PLUGIN, data },
  ...(jsep === undefined ? {} : { jsep }),
});

const publishers = [
  { id: FEED, display: 'Board room', streams: [{ type: 'data', mindex: 0, mid: '0' }], talking: false },
  { id: 17, streams: [{ type: 'data', mindex: 0, mid: '0' }] },
];

/** Real Janus 1.1 replies and events as the relay sees them (/work/shared/design/janus.md). */
const EXAMPLES: readonly { readonly m: Record<string, unknown>; readonly kind?: Kind }[] = [
  // create, attach: synchronous success with the new id.
  { m: { janus: 'success', transaction: 'roomd-1', data: { id: SESSION } } },
  { m: { janus: 'success', session_id: SESSION, transaction: 'roomd-2', data: { id: HANDLE } } },
  // keepalive, trickle, and the first half of an asynchronous request.
  { m: { janus: 'ack', session_id: SESSION, transaction: 'roomd-3' } },
  { m: { janus: 'ack', session_id: SESSION, transaction: 'roomd-4', hint: "I'm taking my time!" } },
  // VideoRoom create / destroy (synchronous, plugin data in a success).
  {
    m: {
      janus: 'success',
      session_id: SESSION,
      transaction: 'roomd-5',
      sender: HANDLE,
      plugindata: { plugin: PLUGIN, data: { videoroom: 'created', room: ROOM, permanent: false } },
    },
    kind: 'created',
  },
  {
    m: {
      janus: 'success',
      session_id: SESSION,
      transaction: 'roomd-6',
      sender: HANDLE,
      plugindata: { plugin: PLUGIN, data: { videoroom: 'destroyed', room: ROOM, permanent: false } },
    },
    kind: 'destroyed',
  },
  // A publisher joins: `joined` with its id, private id and the current publishers.
  {
    m: event('roomd-7', {
      videoroom: 'joined',
      room: ROOM,
      description: `Room ${ROOM}`,
      id: FEED,
      private_id: 3_456_789_012,
      publishers,
      attendees: [],
    }),
    kind: 'joined',
  },
  // publish: `configured` with Janus's answer.
  {
    m: event(
      'roomd-8',
      { videoroom: 'event', room: ROOM, configured: 'ok', streams: [{ type: 'data', mindex: 0, mid: '0' }] },
      { type: 'answer', sdp: ANSWER_SDP },
    ),
    kind: 'event',
  },
  // A subscriber joins: `attached` with Janus's offer.
  {
    m: event(
      'roomd-9',
      { videoroom: 'attached', room: ROOM, streams: [{ type: 'data', mindex: 0, mid: '0', feed_id: FEED }] },
      { type: 'offer', sdp: OFFER_SDP },
    ),
    kind: 'attached',
  },
  { m: event('roomd-10', { videoroom: 'event', room: ROOM, started: 'ok' }), kind: 'event' },
  { m: event('roomd-11', { videoroom: 'updated', room: ROOM, streams: [] }), kind: 'updated' },
  // Pushed notifications: new publishers, one leaving or unpublished, the room gone.
  { m: event(undefined, { videoroom: 'event', room: ROOM, publishers }), kind: 'event' },
  { m: event(undefined, { videoroom: 'event', room: ROOM, unpublished: FEED }), kind: 'event' },
  { m: event(undefined, { videoroom: 'event', room: ROOM, leaving: 'ok', reason: 'kicked' }), kind: 'event' },
  { m: event(undefined, { videoroom: 'destroyed', room: ROOM }), kind: 'destroyedEvent' },
  // Core events on a handle.
  { m: { janus: 'webrtcup', session_id: SESSION, sender: HANDLE } },
  { m: { janus: 'media', session_id: SESSION, sender: HANDLE, type: 'data', receiving: true } },
  { m: { janus: 'slowlink', session_id: SESSION, sender: HANDLE, uplink: true, lost: 12 } },
  { m: { janus: 'hangup', session_id: SESSION, sender: HANDLE, reason: 'DTLS alert' } },
  { m: { janus: 'detached', session_id: SESSION, sender: HANDLE } },
  { m: { janus: 'timeout', session_id: SESSION } },
  // Refusals: core errors, and plugin errors inside plugin data (426 no such room, 428 no such feed).
  {
    m: {
      janus: 'error',
      session_id: SESSION,
      transaction: 'roomd-12',
      error: { code: 458, reason: `No such session ${SESSION}` },
    },
  },
  { m: { janus: 'error', transaction: 'roomd-13', error: { code: 426 } } },
  {
    m: event('roomd-14', { videoroom: 'event', error_code: 426, error: `No such room (${ROOM})` }),
    kind: 'event',
  },
  {
    m: {
      janus: 'success',
      session_id: SESSION,
      transaction: 'roomd-15',
      sender: HANDLE,
      plugindata: {
        plugin: PLUGIN,
        data: { videoroom: 'event', error_code: 428, error: 'No such feed (17)' },
      },
    },
  },
  { m: { janus: 'server_info', transaction: 'roomd-16', name: 'Janus WebRTC Server', version: 1102 } },
];

/** Valid messages from the schemas: an envelope around plugin data of every VideoRoom kind. */
function generatedValid(): fc.Arbitrary<{ valid: Record<string, unknown>; kind: Kind }> {
  return fc.oneof(
    ...KINDS.map((kind) =>
      fc
        .record({
          janus: fc.constantFrom('event', 'success'),
          transaction: fc.string({ minLength: 1, maxLength: 64 }),
          session_id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          sender: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          data: schemaArbitrary(VideoRoomSchemas[kind] as TSchema),
        })
        .map(({ data, ...env }) => ({
          valid: { ...env, plugindata: { plugin: PLUGIN, data } },
          kind,
        })),
    ),
  );
}

const isId = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 1;

function checkMessage(text: string, m: JanusMessage): void {
  invariant(
    Buffer.byteLength(text, 'utf8') <= MAX_JANUS_MESSAGE_BYTES,
    'decoded a message over the size limit',
  );
  invariant(typeof m.janus === 'string' && m.janus.length <= 32, '`janus` out of bounds');
  invariant(
    m.transaction === undefined || (m.transaction.length >= 1 && m.transaction.length <= 64),
    'transaction out of bounds',
  );
  for (const id of [m.session_id, m.sender, m.data?.id])
    invariant(id === undefined || isId(id), `an id that is not a safe integer ≥ 1: ${String(id)}`);
  if (m.error !== undefined) {
    invariant(Number.isInteger(m.error.code), 'error code not an integer');
    invariant(m.error.reason === undefined || m.error.reason.length <= 1000, 'error reason too long');
  }
  if (m.jsep !== undefined) {
    invariant(m.jsep.type === 'offer' || m.jsep.type === 'answer', 'jsep of another type');
    invariant(m.jsep.sdp.length <= MAX_SDP_CHARS, 'jsep SDP too long');
  }
  invariant(m.reason === undefined || m.reason.length <= 200, 'hangup reason too long');
  invariant(({} as Record<string, unknown>)['polluted'] === undefined, 'Object.prototype polluted');
  // What decodes re-encodes and means the same (the client may log or forward it). Plugin data is
  // open (unknown until decodeVideoRoom checks it), so a 1e999 in it re-encodes as null: only the
  // envelope must survive, as JSON (an error code of -0 comes back as 0).
  const back = decodeJanusMessage(JSON.stringify(m));
  const envelope = (x: JanusMessage) => JSON.stringify({ ...x, plugindata: x.plugindata?.plugin });
  invariant(
    back.ok && envelope(back.value) === envelope(m),
    'a decoded message does not survive encode → decode',
  );
  if (m.plugindata === undefined) return;
  const data: unknown = m.plugindata.data;
  invariant(
    typeof data === 'object' && data !== null && !Array.isArray(data) && m.plugindata.plugin.length <= 64,
    'plugin data out of bounds',
  );
  // Every request's expectation applied to every reply: whichever kind, a value or a typed error.
  for (const kind of KINDS) {
    const r = decodeVideoRoom(kind, data);
    typedResult(r, ['protocol.malformed', 'relay.media_plane_failed']);
    if (!r.ok) {
      const e = r.error.context['janusError'];
      invariant(e === undefined || Number.isSafeInteger(e), 'janusError in the context not an integer');
      continue;
    }
    // Objects are open: only the fields a kind declares are read, so only those are bounded.
    const d = r.value as Record<string, unknown>;
    const declared = VideoRoomSchemas[kind].properties as Record<string, unknown>;
    for (const f of ['room', 'id'])
      if (f in declared) invariant(d[f] === undefined || isId(d[f]), `${f} out of bounds`);
    const pubs = 'publishers' in declared ? d['publishers'] : undefined;
    if (pubs !== undefined) {
      invariant(Array.isArray(pubs) && pubs.length <= 1000, 'more than 1000 publishers');
      for (const p of pubs as { id: unknown }[]) invariant(isId(p.id), 'publisher id out of bounds');
    }
  }
}

function decodeText(text: string): void {
  const r = decodeJanusMessage(text);
  typedResult(r, ['protocol.malformed']);
  if (r.ok) checkMessage(text, r.value);
}

export const janus: FuzzTarget<Input> = {
  name: 'janus',
  about:
    'src/relay/janus/messages.ts decodeJanusMessage + decodeVideoRoom: value or protocol.malformed / relay.media_plane_failed',
  arbitrary: (): fc.Arbitrary<Input> => {
    const valid = generatedValid();
    const seeds = [
      ...EXAMPLES.map((e) => e.m),
      ...fc.sample(valid, { numRuns: 30, seed: 18 }).map((v) => v.valid),
    ];
    return fc.oneof(
      {
        weight: 2,
        arbitrary: fc.constantFrom<Input>(
          ...EXAMPLES.map((e) => (e.kind === undefined ? { valid: e.m } : { valid: e.m, kind: e.kind })),
        ),
      },
      { weight: 3, arbitrary: valid },
      { weight: 14, arbitrary: asWire(mutatedJsonText(seeds)) },
      { weight: 1, arbitrary: asWire(fc.string({ unit: 'binary', maxLength: 64 })) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    );
  },
  run(input) {
    if (typeof input === 'string') return decodeText(input);
    // The socket's text frames, decoded as wsConnect does (invalid UTF-8 becomes U+FFFD).
    if (input instanceof Uint8Array) return decodeText(Buffer.from(input).toString('utf8'));
    const text = JSON.stringify(input.valid);
    const r = decodeJanusMessage(text);
    invariant(r.ok, `a real Janus message was refused: ${r.ok ? '' : r.error.message}`);
    invariant(sameValue(r.value, input.valid), 'a real Janus message does not decode unchanged');
    if (input.kind !== undefined) {
      const d = decodeVideoRoom(input.kind, r.value.plugindata?.data);
      invariant(d.ok, `VideoRoom "${input.kind}" data refused: ${d.ok ? '' : d.error.message}`);
    }
    checkMessage(text, r.value);
  },
  fromBytes: (bytes) => bytes,
  seeds: () => [
    ...EXAMPLES.filter((_, i) => i % 4 === 0).map((e) => ({
      note: `real Janus ${String(e.m['janus'])}${e.kind === undefined ? '' : ` ${e.kind}`}`,
      input: JSON.stringify(e.m),
    })),
    {
      note: 'plugin error code an object whose toString is not a function',
      input: JSON.stringify(event('roomd-7', { videoroom: 'joined', error_code: { toString: 1 } })),
    },
    {
      note: 'plugin error code an object with neither toString nor valueOf',
      input: `{"janus":"success","transaction":"t","plugindata":{"plugin":"${PLUGIN}","data":{"error_code":{"toString":null,"valueOf":null}}}}`,
    },
    {
      note: 'plugin data an array',
      input: `{"janus":"event","sender":1,"plugindata":{"plugin":"${PLUGIN}","data":[1,2]}}`,
    },
    {
      note: 'deep nesting in plugin data',
      input: `{"janus":"event","plugindata":{"plugin":"p","data":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}}`,
    },
    { note: 'ids past 2^53', input: '{"janus":"success","transaction":"t","data":{"id":9007199254740993}}' },
    { note: 'an id that overflows to Infinity', input: '{"janus":"webrtcup","session_id":1e999,"sender":1}' },
    {
      note: '__proto__ in the envelope',
      input: '{"janus":"ack","transaction":"t","__proto__":{"polluted":true}}',
    },
    { note: 'transaction of 65 characters', input: `{"janus":"ack","transaction":"${'t'.repeat(65)}"}` },
    {
      note: 'a message just over the size limit',
      input: `{"janus":"hangup","sender":1,"x":"${'x'.repeat(MAX_JANUS_MESSAGE_BYTES)}"}`,
    },
    {
      note: '1001 publishers',
      input: JSON.stringify(
        event(undefined, {
          videoroom: 'event',
          room: ROOM,
          publishers: Array.from({ length: 1001 }, (_, i) => ({ id: i + 1 })),
        }),
      ),
    },
  ],
};
