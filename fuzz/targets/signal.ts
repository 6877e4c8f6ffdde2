/**
 * Signalling codec, both directions (src/protocol/codec.ts, docs/protocol.md "# Wire protocol"
 * §Validation): every WebSocket message the relay gets from a client and the client gets from the
 * relay. decode never throws; it returns a message or `{ ok: false, error }` with a protocol.*
 * RoomdError. Invariants: a valid message survives encode → decode unchanged; whatever decodes
 * carries `v` and a known `type`, re-encodes, and decodes again to the same value.
 */
import type { TSchema } from '@sinclair/typebox';
import fc from 'fast-check';
import {
  type DecodeResult,
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeServerMessage,
} from '../../src/protocol/codec.ts';
import { WIRE_VERSION } from '../../src/protocol/limits.ts';
import { ClientMessages, ServerMessages } from '../../src/protocol/schemas.ts';
import { asWire, mutatedJsonText } from '../lib/mutate.ts';
import { schemaArbitrary } from '../lib/schema-arb.ts';
import { type FuzzTarget, invariant, sameValue, typed, typedResult } from '../lib/target.ts';

type Input = string | Uint8Array | { readonly valid: Record<string, unknown> };

const B32 = 'q'.repeat(43);

/** Hand-written realistic messages (as docs/protocol.md shows them). */
const CLIENT_EXAMPLES: Record<string, unknown>[] = [
  {
    v: 1,
    type: 'join',
    meetingId: '123-4567-8901',
    passcode: 'abc',
    displayName: 'Board room',
    client: 'room',
    protocol: 1,
    deviceId: 'dev-1',
    identityKey: B32,
  },
  { v: 1, type: 'e2ee', to: 'leader', payload: '{"t":"e2ee.binding","v":1}' },
  { v: 1, type: 'sdp', sdpType: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' },
  {
    v: 1,
    type: 'ice',
    candidate: 'candidate:1 1 udp 2122260223 10.0.0.2 54321 typ host',
    sdpMid: '0',
    sdpMLineIndex: 0,
  },
  { v: 1, type: 'keyframe-request', to: '17', streamId: 1 },
  // The Janus plane's downlink connection (docs/protocol.md §Media planes).
  {
    v: 1,
    type: 'media-down-answer',
    sdp: 'v=0\r\no=- 2 2 IN IP4 10.0.0.2\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=sctp-port:5000\r\n',
  },
  {
    v: 1,
    type: 'media-down-ice',
    candidate: 'candidate:2 1 udp 2122260223 10.0.0.2 40123 typ host',
    sdpMid: '0',
    sdpMLineIndex: 0,
  },
  { v: 1, type: 'media-down-ice', candidate: '', sdpMid: null, sdpMLineIndex: null },
  { v: 1, type: 'feature-request', feature: 'recording' },
  // Big meetings on the Janus plane (docs/protocol.md §Big meetings).
  { v: 1, type: 'audio-level', level: 0 },
  { v: 1, type: 'audio-level', level: 127 },
  { v: 1, type: 'media-behind', behind: true },
  { v: 1, type: 'leave' },
  { v: 1, type: 'ping', id: 7 },
];

const SERVER_EXAMPLES: Record<string, unknown>[] = [
  { v: 1, type: 'hello', versions: { min: 1, max: 1 }, nonce: B32, relay: 'roomd-relay' },
  { v: 1, type: 'admission', status: 'admitted', participantId: '3', instanceId: 'inst-0001', host: false },
  { v: 1, type: 'admission', status: 'refused', reason: 'bad_passcode', message: 'no', attemptsLeft: 2 },
  {
    v: 1,
    type: 'meeting-info',
    meetingId: '123-4567-8901',
    instanceId: 'inst-0001',
    title: 'Weekly',
    encryption: 'e2ee',
    disabledFeatures: [{ feature: 'recording', reason: 'E2EE' }],
    hostPresent: true,
  },
  {
    v: 1,
    type: 'roster',
    version: 4,
    participants: [
      {
        participantId: '3',
        displayName: 'Board room',
        client: 'room',
        protocol: 1,
        deviceId: 'dev-1',
        identityKey: B32,
        host: true,
        e2eeCapable: true,
        joinedAt: 1_700_000_000_000,
      },
    ],
  },
  { v: 1, type: 'leader', participantId: '3', reason: 'host' },
  { v: 1, type: 'meeting-key', keyId: 1, key: B32 },
  { v: 1, type: 'e2ee', to: 'all', from: '3', payload: '{"t":"e2ee.heartbeat"}' },
  { v: 1, type: 'error', code: 'relay.rate_limited', message: 'slow down', ref: 'e2ee' },
  { v: 1, type: 'pong', id: 7 },
  { v: 1, type: 'media-ready' },
  // The Janus plane's downlink (docs/protocol.md §Media planes): the feed map, then Janus's offer.
  {
    v: 1,
    type: 'media-feeds',
    feeds: [
      { feed: 4_503_599_627_370_497, participantId: '3' },
      { feed: 1, participantId: '17' },
      { feed: Number.MAX_SAFE_INTEGER, participantId: '4294967295' },
    ],
  },
  { v: 1, type: 'media-feeds', feeds: [] },
  {
    v: 1,
    type: 'media-down-offer',
    sdp: 'v=0\r\no=- 1700000000 1 IN IP4 10.0.0.1\r\ns=VideoRoom 1234\r\nt=0 0\r\na=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 10.0.0.1\r\na=mid:0\r\na=sctp-port:5000\r\na=candidate:1 1 udp 2015363327 10.0.0.1 20000 typ host\r\n',
  },
  { v: 1, type: 'media-lost', reason: 'failed' },
  { v: 1, type: 'video-layer', layer: 'small' },
  { v: 1, type: 'video-layer', layer: 'full' },
];

function schemaArbitraries(schemas: Record<string, TSchema>): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(...Object.values(schemas).map((s) => schemaArbitrary(s))) as fc.Arbitrary<
    Record<string, unknown>
  >;
}

function withoutV(m: Record<string, unknown>): Record<string, unknown> {
  const { v: _v, ...rest } = m;
  return rest;
}

function signalTarget(
  name: string,
  side: string,
  schemas: Record<string, TSchema>,
  examples: Record<string, unknown>[],
  decode: (data: string | Uint8Array) => DecodeResult<unknown>,
  encode: (m: never) => string,
): FuzzTarget<Input> {
  const enc = encode as (m: Record<string, unknown>) => string;
  const checkDecoded = (r: DecodeResult<unknown>) => {
    typedResult(r, ['protocol.']);
    if (!r.ok) {
      invariant(r.ref === undefined || r.ref.length <= 64, 'error ref longer than 64 characters');
      return;
    }
    const m = r.message as Record<string, unknown>;
    invariant(m['v'] === WIRE_VERSION, 'decoded message without the wire version');
    invariant(typeof m['type'] === 'string' && Object.hasOwn(schemas, m['type']), 'decoded an unknown type');
    // What decodes must be sendable again, and mean the same.
    const again = typed(['protocol.too_large'], () => enc(withoutV(m)));
    if (!again.ok) return;
    const back = decode(again.value);
    invariant(back.ok && sameValue(back.message, m), 'a decoded message does not survive encode → decode');
  };
  return {
    name,
    about: `src/protocol/codec.ts decode${side}Message: message or { ok: false, error: protocol.* }`,
    arbitrary: () => {
      const valid = schemaArbitraries(schemas);
      const seeds = [...examples, ...fc.sample(valid, { numRuns: 40, seed: 1 })];
      return fc.oneof(
        { weight: 4, arbitrary: valid.map((m) => ({ valid: m })) },
        { weight: 14, arbitrary: asWire(mutatedJsonText(seeds)) },
        { weight: 1, arbitrary: asWire(fc.string({ unit: 'binary', maxLength: 64 })) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
      );
    },
    run(input) {
      if (typeof input === 'string' || input instanceof Uint8Array) {
        checkDecoded(decode(input));
        return;
      }
      const text = typed(['protocol.too_large'], () => enc(withoutV(input.valid)));
      if (!text.ok) return;
      const r = decode(text.value);
      invariant(r.ok, `a valid message was refused: ${r.ok ? '' : r.error.message}`);
      invariant(sameValue(r.message, input.valid), 'a valid message does not survive encode → decode');
      checkDecoded(r);
    },
    fromBytes: (bytes) => bytes,
    seeds: () => [
      ...examples
        .filter((m, i) => i < 3 || String(m['type']).startsWith('media-'))
        .map((m) => ({ note: `valid ${String(m['type'])}`, input: JSON.stringify(m) })),
      { note: 'deep array nesting', input: `${'['.repeat(20_000)}${']'.repeat(20_000)}` },
      {
        note: 'deep nesting in the version field',
        input: `{"v":${'['.repeat(20_000)}${']'.repeat(20_000)},"type":"join"}`,
      },
      {
        note: 'deep nesting in a string field',
        input: `{"v":1,"type":"sdp","sdpType":"offer","sdp":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
      },
      { note: '__proto__ member', input: `{"v":1,"type":"leave","__proto__":{"polluted":true}}` },
      { note: 'duplicate type member', input: `{"type":"leave","v":1,"type":"join"}` },
      { note: 'invalid UTF-8 bytes', input: Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d) },
      { note: 'a number that overflows to Infinity', input: '{"v":1e999999,"type":"ping","id":1}' },
    ],
  };
}

export const signalClient = signalTarget(
  'signal-client',
  'Client',
  ClientMessages,
  CLIENT_EXAMPLES,
  decodeClientMessage,
  encodeClientMessage,
);

export const signalServer = signalTarget(
  'signal-server',
  'Server',
  ServerMessages,
  SERVER_EXAMPLES,
  decodeServerMessage,
  encodeServerMessage,
);
