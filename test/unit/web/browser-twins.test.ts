/**
 * The browser twins of Node-only modules (docs/decisions/0022-one-core-in-node-and-browser.md): each
 * `.browser.ts` exports what its Node twin exports and agrees with it on the same inputs, and the
 * web-platform encodings agree with Node's Buffer.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url, encodeBase64Url, utf8Length } from '../../../src/core/encoding.ts';
import * as edNode from '../../../src/e2ee/ed25519.ts';
import * as edWeb from '../../../src/e2ee/ed25519.browser.ts';
import * as aeadNode from '../../../src/e2ee/sframe/aead.ts';
import * as aeadWeb from '../../../src/e2ee/sframe/aead.browser.ts';
import { SFrameReceiveKey, SFrameSendKey } from '../../../src/e2ee/sframe/keys.ts';
import { ClientMessages, ServerMessages } from '../../../src/protocol/schemas.ts';
import * as checkNode from '../../../src/protocol/schema-check.ts';
import * as checkWeb from '../../../src/protocol/schema-check.browser.ts';

describe('browser twins export what their Node twins export', () => {
  it.each([
    ['ed25519', edNode, edWeb, []],
    ['sframe/aead', aeadNode, aeadWeb, ['nativeAead']],
    ['protocol/schema-check', checkNode, checkWeb, []],
  ] as const)('%s', (_name, node, web, nodeOnly) => {
    const nodeNames = Object.keys(node).filter((k) => !(nodeOnly as readonly string[]).includes(k));
    expect(Object.keys(web).sort()).toEqual(nodeNames.sort());
  });

  it('the browser default AEAD is the pure one, the Node default the native one', () => {
    expect(aeadWeb.defaultAead.name).toBe('noble');
    expect(aeadNode.defaultAead.name).toBe('native');
  });
});

describe('encodings on web primitives', () => {
  it('base64url encodes as Buffer does and decodes back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(decodeBase64Url(text)).toEqual(bytes);
      }),
    );
  });

  it('strict decoding refuses padding, other alphabets, impossible lengths and spare bits', () => {
    for (const bad of ['AA==', 'A+/A', 'A', 'AB', 'AAB', 'ä', 'AA AA']) {
      expect(decodeBase64Url(bad), bad).toBeNull();
    }
    expect(decodeBase64Url('AA')).toEqual(new Uint8Array([0]));
    expect(decodeBase64Url('AB', { canonical: false })).toEqual(new Uint8Array([0]));
  });

  it('UTF-8 length matches Buffer.byteLength, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
    );
    for (const s of ['\ud800', 'a\udc00b', '\ud83d\ude00', '\ud83d'])
      expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });
});

describe('Ed25519 verification agrees', () => {
  const sk = ed25519.utils.randomSecretKey();
  const pk = ed25519.getPublicKey(sk);
  const msg = new TextEncoder().encode('roomd');
  const sig = ed25519.sign(msg, sk);

  it('on good, tampered and malformed signatures and keys', () => {
    const flipped = sig.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    const offCurve = new Uint8Array(32).fill(0xff);
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
      [sig, msg, pk],
      [flipped, msg, pk],
      [sig, new TextEncoder().encode('roomd!'), pk],
      [sig, msg, offCurve],
      [sig.subarray(0, 63), msg, pk],
      [sig, msg, pk.subarray(0, 31)],
    ];
    const results = cases.map(([s, m, k]) => edWeb.verifyEd25519(s, m, k));
    expect(results).toEqual(cases.map(([s, m, k]) => edNode.verifyEd25519(s, m, k)));
    expect(results[0]).toBe(true);
  });
});

describe('SFrame with the browser default interoperates with Node', () => {
  it('frames sealed by one open with the other, both ways', () => {
    const base = new Uint8Array(32).fill(3);
    const pt = new TextEncoder().encode('a video frame');
    const a = new SFrameSendKey(5, 7n, base, { aead: aeadWeb.defaultAead }).seal(pt);
    expect(new Uint8Array(new SFrameReceiveKey(5, 7n, base, { aead: aeadNode.defaultAead }).open(a))).toEqual(
      pt,
    );
    const b = new SFrameSendKey(5, 7n, base, { aead: aeadNode.defaultAead }).seal(pt);
    expect(new SFrameReceiveKey(5, 7n, base, { aead: aeadWeb.defaultAead }).open(b)).toEqual(pt);
  });
});

describe('signaling schema checks agree', () => {
  const samples: [Record<string, import('@sinclair/typebox').TSchema>, unknown][] = [
    [ClientMessages, { v: 1, type: 'ping', id: 3 }],
    [ClientMessages, { v: 1, type: 'ping', id: 'x' }],
    [ClientMessages, { v: 1, type: 'leave' }],
    [ClientMessages, { v: 1, type: 'leave', extra: true }],
    [
      ClientMessages,
      {
        v: 1,
        type: 'join',
        meetingId: '123-4567-8901',
        displayName: 'Ada',
        client: 'web',
        protocol: 1,
        deviceId: 'web-1',
      },
    ],
    [ServerMessages, { v: 1, type: 'pong', id: 1 }],
    [ServerMessages, { v: 1, type: 'hello', nonce: 'short' }],
  ];

  it('Node (compiled) and browser (interpreted) give the same verdict and first error path', () => {
    for (const [schemas, value] of samples) {
      const type = (value as { type: string }).type;
      const schema = schemas[type];
      if (schema === undefined) throw new Error(`no schema ${type}`);
      const n = checkNode.compileCheck(schema);
      const w = checkWeb.compileCheck(schema);
      expect(w.Check(value), type).toBe(n.Check(value));
      expect(w.Errors(value).First()?.path).toBe(n.Errors(value).First()?.path);
    }
  });
});
