// The media worker's pipe protocol (docs/decisions/0013-media-worker.md §The pipe): every kind
// round-trips, and no byte sequence — from a crashed worker or a confused roomd — makes a decoder
// throw: it is a message or a typed transport.worker_message_invalid, and framing is bounded.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import {
  decodeFromWorker,
  decodeToWorker,
  encodeFromWorker,
  encodeToWorker,
  type FromWorker,
  FrameReader,
  MAX_FRAME_BODY,
  type ToWorker,
  WORKER_PROTOCOL_VERSION,
} from '../../../src/transport/worker-protocol.ts';

const candidate = {
  candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host',
  sdpMid: '0',
  sdpMLineIndex: 0,
};

const toWorker: ToWorker[] = [
  { type: 'create-pc', pc: 1, iceServers: [] },
  { type: 'create-pc', pc: 2, iceServers: [{ urls: ['stun:a', 'turn:b'], username: 'u', credential: 'c' }] },
  { type: 'close-pc', pc: 7 },
  { type: 'create-channel', pc: 1, ch: 3, label: 'media', ordered: false, maxRetransmits: 3 },
  { type: 'create-channel', pc: 1, ch: 4, label: 'x', ordered: true },
  { type: 'request', req: 9, pc: 1, op: 'create-offer' },
  { type: 'request', req: 10, pc: 1, op: 'accept-offer', sdp: 'v=0\r\n' },
  { type: 'request', req: 11, pc: 1, op: 'accept-answer', sdp: 'v=0\r\n' },
  { type: 'request', req: 12, pc: 1, op: 'add-ice', candidate },
  { type: 'send', ch: 3, data: new Uint8Array([1, 2, 3]) },
  { type: 'send', ch: -5, data: new Uint8Array(64 * 1024).fill(7) },
  { type: 'send', ch: 3, data: new Uint8Array(0) },
  { type: 'close-channel', ch: -2 },
  { type: 'ping', n: 1 },
  { type: 'shutdown' },
];

const fromWorker: FromWorker[] = [
  { type: 'ready', pid: 1234 },
  { type: 'reply', req: 1, ok: true, sdp: 'v=0\r\n' },
  { type: 'reply', req: 2, ok: true },
  { type: 'reply', req: 3, ok: false, message: 'nope' },
  { type: 'pc-state', pc: 1, state: 'connected' },
  { type: 'ice', pc: 1, candidate: { candidate: 'c', sdpMid: null, sdpMLineIndex: null } },
  { type: 'datachannel', pc: 1, ch: -1, label: 'media' },
  { type: 'channel-open', ch: 3 },
  { type: 'channel-closed', ch: -1 },
  { type: 'message', ch: -1, data: new Uint8Array([9, 8, 7]) },
  { type: 'buffered', ch: 3, taken: 2 ** 40, buffered: 1234 },
  { type: 'pong', n: 5, pcs: 2, channels: 2, invalid: 0, rssBytes: 50_000_000 },
];

function bodyOf(frame: Uint8Array): Uint8Array {
  const { bodies, error } = new FrameReader().push(frame);
  expect(error).toBeNull();
  expect(bodies).toHaveLength(1);
  return bodies[0]!;
}

function jsonBody(kind: number, json: string, version = WORKER_PROTOCOL_VERSION): Uint8Array {
  const text = Buffer.from(json, 'utf8');
  return new Uint8Array([version, kind, ...text]);
}

function expectInvalid(r: { ok: boolean; error?: RoomdError }): void {
  expect(r.ok).toBe(false);
  expect(r.error).toBeInstanceOf(RoomdError);
  expect(r.error?.code).toBe('transport.worker_message_invalid');
}

describe('worker protocol: round trips', () => {
  it('every kind roomd sends decodes back to itself on the worker side', () => {
    for (const m of toWorker) {
      const r = decodeToWorker(bodyOf(encodeToWorker(m)));
      expect(r).toEqual({ ok: true, message: m });
    }
  });

  it('every kind the worker sends decodes back to itself on roomd side', () => {
    for (const m of fromWorker) {
      const r = decodeFromWorker(bodyOf(encodeFromWorker(m)));
      expect(r).toEqual({ ok: true, message: m });
    }
  });

  it('a side never accepts the other side’s kinds', () => {
    for (const m of toWorker) expectInvalid(decodeFromWorker(bodyOf(encodeToWorker(m))));
    for (const m of fromWorker) expectInvalid(decodeToWorker(bodyOf(encodeFromWorker(m))));
  });

  it('refuses to encode a frame over the limit', () => {
    expect(() => encodeToWorker({ type: 'send', ch: 1, data: new Uint8Array(MAX_FRAME_BODY) })).toThrowError(
      expect.objectContaining({ code: 'transport.message_too_large' }),
    );
  });
});

describe('worker protocol: hostile bodies', () => {
  it('rejects a wrong version, an unknown kind and short bodies', () => {
    expectInvalid(decodeFromWorker(jsonBody(64, '{"pid":1}', 2)));
    expectInvalid(decodeFromWorker(jsonBody(200, '{}')));
    expectInvalid(decodeFromWorker(new Uint8Array([])));
    expectInvalid(decodeFromWorker(new Uint8Array([1])));
    expectInvalid(decodeToWorker(new Uint8Array([1, 5, 0, 0]))); // send without a whole channel id
  });

  it('rejects bodies that are not UTF-8, not JSON, too deep, or off their schema', () => {
    expectInvalid(decodeFromWorker(new Uint8Array([1, 64, 0xff, 0xfe])));
    expectInvalid(decodeFromWorker(jsonBody(64, '{"pid":')));
    expectInvalid(decodeFromWorker(jsonBody(64, '[1]')));
    expectInvalid(decodeFromWorker(jsonBody(64, 'null')));
    expectInvalid(decodeFromWorker(jsonBody(64, `{"pid":${'['.repeat(5000)}`)));
    expectInvalid(decodeFromWorker(jsonBody(64, '{"pid":1,"extra":true}')));
    expectInvalid(decodeFromWorker(jsonBody(64, '{"pid":-1}')));
    expectInvalid(decodeFromWorker(jsonBody(66, '{"pc":1,"state":"exploded"}')));
    expectInvalid(decodeFromWorker(jsonBody(66, '{"pc":0,"state":"closed"}')));
    expectInvalid(decodeFromWorker(jsonBody(68, '{"pc":1,"ch":3,"label":"x"}'))); // worker channels are negative
    expectInvalid(decodeFromWorker(jsonBody(65, '{"req":1,"ok":true,"sdp":1}')));
    expectInvalid(decodeFromWorker(jsonBody(65, `{"req":1,"ok":false,"message":"${'x'.repeat(600)}"}`)));
    expectInvalid(
      decodeFromWorker(
        jsonBody(
          67,
          `{"pc":1,"candidate":{"candidate":"${'c'.repeat(3000)}","sdpMid":null,"sdpMLineIndex":null}}`,
        ),
      ),
    );
    expectInvalid(
      decodeToWorker(jsonBody(1, `{"pc":1,"iceServers":[${'{"urls":"s"},'.repeat(8)}{"urls":"s"}]}`)),
    );
    expectInvalid(decodeToWorker(jsonBody(4, '{"req":1,"pc":1,"op":"self-destruct"}')));
    expectInvalid(decodeToWorker(jsonBody(6, '{"ch":0}')));
  });

  it('rejects binary kinds with a bad channel id or bad counts', () => {
    const buffered = (ch: number, taken: number, buffered: number) => {
      const b = Buffer.alloc(22);
      b[0] = 1;
      b[1] = 72;
      b.writeInt32BE(ch, 2);
      b.writeDoubleBE(taken, 6);
      b.writeDoubleBE(buffered, 14);
      return new Uint8Array(b);
    };
    expect(decodeFromWorker(buffered(1, 10, 0)).ok).toBe(true);
    expectInvalid(decodeFromWorker(buffered(0, 10, 0)));
    expectInvalid(decodeFromWorker(buffered(1, Number.NaN, 0)));
    expectInvalid(decodeFromWorker(buffered(1, -1, 0)));
    expectInvalid(decodeFromWorker(buffered(1, 1.5, 0)));
    expectInvalid(decodeFromWorker(buffered(1, 0, Number.POSITIVE_INFINITY)));
    expectInvalid(decodeFromWorker(buffered(1, 2 ** 60, 0)));
    expectInvalid(decodeFromWorker(buffered(1, 0, 0).subarray(0, 21)));
    const message = new Uint8Array([1, 71, 0x80, 0, 0, 0, 1]); // channel -2^31 is outside the id range
    expectInvalid(decodeFromWorker(message));
  });

  it('never throws on any bytes, and any success is a known kind', () => {
    const kinds = [...toWorker, ...fromWorker].map((m) => m.type);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          // Mostly-valid headers, so the decoders get past the first checks.
          fc
            .tuple(
              fc.integer({ min: 1, max: 8 }),
              fc.integer({ min: 64, max: 73 }),
              fc.uint8Array({ maxLength: 200 }),
            )
            .map(([a, k, rest]) => new Uint8Array([1, a % 2 === 0 ? k : k - 63, ...rest])),
          fc
            .tuple(fc.integer({ min: 0, max: 80 }), fc.json({ maxDepth: 4 }))
            .map(([k, json]) => jsonBody(k, json)),
        ),
        (body) => {
          for (const decode of [decodeToWorker, decodeFromWorker]) {
            const r = decode(body);
            if (r.ok) expect(kinds).toContain(r.message.type);
            else expect(r.error.code).toBe('transport.worker_message_invalid');
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('FrameReader', () => {
  it('reassembles frames split at every byte boundary and keeps no more than one partial frame', () => {
    const frames = fromWorker.map(encodeFromWorker);
    const stream = Buffer.concat(frames);
    for (const step of [1, 2, 3, 7, 64, stream.byteLength]) {
      const reader = new FrameReader();
      const bodies: Uint8Array[] = [];
      for (let i = 0; i < stream.byteLength; i += step) {
        const { bodies: got, error } = reader.push(stream.subarray(i, i + step));
        expect(error).toBeNull();
        bodies.push(...got.map((b) => b.slice()));
      }
      expect(bodies.map((b) => decodeFromWorker(b))).toEqual(
        fromWorker.map((m) => ({ ok: true, message: m })),
      );
    }
  });

  it('breaks for good on a zero or oversized length, keeping the frames before it', () => {
    const good = encodeFromWorker({ type: 'channel-open', ch: 1 });
    for (const len of [0, MAX_FRAME_BODY + 1, 0xffffffff]) {
      const bad = Buffer.alloc(4);
      bad.writeUInt32BE(len);
      const reader = new FrameReader();
      const r = reader.push(Buffer.concat([good, bad, good]));
      expect(r.bodies).toHaveLength(1);
      expect(r.error?.code).toBe('transport.worker_message_invalid');
      expect(reader.broken).toBe(true);
      expect(reader.push(good)).toEqual({ bodies: [], error: r.error });
    }
  });

  it('never throws and never yields a body over the limit, whatever the stream', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }), (chunks) => {
        const reader = new FrameReader(64);
        for (const c of chunks) {
          const { bodies } = reader.push(c);
          for (const b of bodies) expect(b.byteLength).toBeLessThanOrEqual(64);
        }
      }),
    );
  });
});
