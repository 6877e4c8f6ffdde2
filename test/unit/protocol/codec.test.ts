// Wire protocol codec: docs/protocol.md "# Wire protocol" §Validation and §Limits.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeServerMessage,
  MAX_E2EE_PAYLOAD_CHARS,
  MAX_SIGNAL_BYTES,
  WIRE_VERSION,
} from '../../../src/protocol/index.ts';
import { ParticipantId } from '../../../src/protocol/schemas.ts';

const join = {
  v: 1,
  type: 'join',
  meetingId: '123-4567-8901',
  passcode: 'abc',
  displayName: 'Board room',
  client: 'room',
  protocol: 1,
  deviceId: 'dev-1',
};

describe('decodeClientMessage', () => {
  it('accepts a valid join and keeps every field', () => {
    const r = decodeClientMessage(JSON.stringify(join));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.message).toEqual(join);
  });

  it('rejects a message over the size limit before parsing it', () => {
    const big = JSON.stringify({ ...join, displayName: 'x'.repeat(MAX_SIGNAL_BYTES) });
    const r = decodeClientMessage(big);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('protocol.too_large');
  });

  it('rejects an unknown wire version with a typed error naming the supported one', () => {
    const r = decodeClientMessage(JSON.stringify({ ...join, v: 2 }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('protocol.unsupported_version');
      expect(r.error.message).toContain(String(WIRE_VERSION));
      expect(r.ref).toBe('join');
    }
  });

  it.each([
    ['not JSON', '{"v":1,'],
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['unknown type', JSON.stringify({ v: 1, type: 'teleport' })],
    ['a missing field', JSON.stringify({ ...join, deviceId: undefined })],
    ['an extra field', JSON.stringify({ ...join, admin: true })],
    ['a bad client type', JSON.stringify({ ...join, client: 'fax' })],
    ['a bad meeting id', JSON.stringify({ ...join, meetingId: '../etc' })],
    ['a negative protocol', JSON.stringify({ ...join, protocol: -1 })],
    ['an empty display name', JSON.stringify({ ...join, displayName: '' })],
    ['a short identity key', JSON.stringify({ ...join, identityKey: 'abc' })],
  ])('rejects %s as malformed', (_name, text) => {
    const r = decodeClientMessage(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('protocol.malformed');
  });

  it('treats an e2ee payload as an opaque string of bounded size', () => {
    const ok = decodeClientMessage(
      JSON.stringify({ v: 1, type: 'e2ee', to: 'leader', payload: '{"not":"parsed"' }),
    );
    expect(ok.ok).toBe(true);
    const objectPayload = decodeClientMessage(
      JSON.stringify({ v: 1, type: 'e2ee', to: 'all', payload: { a: 1 } }),
    );
    expect(objectPayload.ok).toBe(false);
    const tooLong = decodeClientMessage(
      JSON.stringify({ v: 1, type: 'e2ee', to: 'all', payload: 'x'.repeat(MAX_E2EE_PAYLOAD_CHARS + 1) }),
    );
    expect(tooLong.ok).toBe(false);
    const badTarget = decodeClientMessage(
      JSON.stringify({ v: 1, type: 'e2ee', to: 'everyone', payload: '' }),
    );
    expect(badTarget.ok).toBe(false);
  });

  it('does not accept a relay-only field from a client (from on an envelope)', () => {
    const r = decodeClientMessage(JSON.stringify({ v: 1, type: 'e2ee', to: '3', from: '1', payload: 'x' }));
    expect(r.ok).toBe(false);
  });

  it('accepts a binary frame with the same rules', () => {
    const r = decodeClientMessage(new TextEncoder().encode(JSON.stringify({ v: 1, type: 'leave' })));
    expect(r.ok).toBe(true);
  });
});

describe('decodeServerMessage', () => {
  it('accepts each admission variant and refuses a mixed one', () => {
    const admitted = {
      v: 1,
      type: 'admission',
      status: 'admitted',
      participantId: '7',
      instanceId: 'abcdefgh12',
      host: false,
    };
    expect(decodeServerMessage(JSON.stringify(admitted)).ok).toBe(true);
    const refused = {
      v: 1,
      type: 'admission',
      status: 'refused',
      reason: 'client_not_allowed',
      message: 'No phones.',
    };
    expect(decodeServerMessage(JSON.stringify(refused)).ok).toBe(true);
    expect(decodeServerMessage(JSON.stringify({ ...refused, participantId: '7' })).ok).toBe(false);
    expect(decodeServerMessage(JSON.stringify({ ...refused, reason: 'because' })).ok).toBe(false);
  });

  it('refuses a meeting key that is not 32 bytes', () => {
    const key = Buffer.alloc(31).toString('base64url');
    expect(decodeServerMessage(JSON.stringify({ v: 1, type: 'meeting-key', keyId: 1, key })).ok).toBe(false);
  });
});

describe('encode', () => {
  it('adds the version and round-trips', () => {
    const text = encodeClientMessage({ type: 'ping', id: 5 });
    expect(JSON.parse(text)).toEqual({ v: 1, type: 'ping', id: 5 });
    const back = decodeServerMessage(encodeServerMessage({ type: 'pong', id: 5 }));
    expect(back.ok && back.message).toEqual({ v: 1, type: 'pong', id: 5 });
  });

  it('throws instead of sending a malformed message', () => {
    expect(() => encodeServerMessage({ type: 'leader', participantId: 'abc', reason: 'host' })).toThrowError(
      expect.objectContaining({ code: 'protocol.malformed' }),
    );
  });
});

describe('participant ids', () => {
  it('are decimal u32 ≥ 1, the range of the chunk header’s sender field', () => {
    const ok = TypeCompiler.Compile(ParticipantId);
    for (const id of ['1', '9', '999999999', '1000000000', '3999999999', '4294967289', '4294967295'])
      expect(ok.Check(id), id).toBe(true);
    for (const id of ['0', '01', '4294967296', '4294967300', '4295000000', '9999999999', '', '1e3', ' 1'])
      expect(ok.Check(id), id).toBe(false);
  });
});
