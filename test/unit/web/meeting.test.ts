/**
 * The web client's meeting shell (web/src/meeting.ts) over a fake socket: it joins as an E2EE web
 * client with proofs made by its own key, drops what fails validation, ends on a refusal with the
 * relay's words, and leaves politely. The E2EE session itself is the shared one (its own tests);
 * the real relay and browser are in test/e2e/web-client.test.ts.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { E2EE_PROTOCOL_VERSION } from '../../../src/e2ee/index.ts';
import {
  decodeClientMessage,
  encodeServerMessage,
  fromBase64Url,
  toBase64Url,
} from '../../../src/protocol/codec.ts';
import { hostProofMessage, identityProofMessage } from '../../../src/protocol/host-proof.ts';
import type { ClientMessage, ServerMessage, WithoutV } from '../../../src/protocol/schemas.ts';
import { type SignalHandlers, WebMeeting, type WebMeetingEvents } from '../../../web/src/meeting.ts';

const MEETING = '123-4567-8901';

class FakeSocket {
  readyState = 1;
  readonly sent: ClientMessage[] = [];
  closedWith: number | null = null;
  constructor(
    readonly url: string,
    readonly on: SignalHandlers,
  ) {}
  send(text: string): void {
    const d = decodeClientMessage(text);
    if (!d.ok) throw new Error(`the client sent an invalid message: ${d.error.message}`);
    this.sent.push(d.message);
  }
  close(code = 1005): void {
    this.readyState = 3;
    this.closedWith = code;
  }
  relay(m: WithoutV<ServerMessage>): void {
    this.on.message(encodeServerMessage(m));
  }
}

function setup() {
  const secretKey = ed25519.utils.randomSecretKey();
  const identity = { deviceId: 'web-test', publicKey: ed25519.getPublicKey(secretKey), secretKey };
  const sockets: FakeSocket[] = [];
  const clock = new FakeClock();
  const meeting = new WebMeeting({
    signalUrl: 'ws://relay.test/v1/signal',
    meetingId: MEETING,
    passcode: '4242',
    displayName: 'Ada',
    identity,
    clock,
    openSocket: (url, on) => {
      const s = new FakeSocket(url, on);
      sockets.push(s);
      return s;
    },
  });
  const ended: WebMeetingEvents['ended'][] = [];
  meeting.events.on('ended', (e) => ended.push(e));
  const socket = (): FakeSocket => {
    const s = sockets[0];
    if (s === undefined) throw new Error('no socket opened');
    return s;
  };
  return { meeting, identity, sockets, socket, ended, clock };
}

const NONCE = toBase64Url(new Uint8Array(32).fill(9));

describe('the web meeting shell', () => {
  it('answers hello with a web join at the E2EE protocol version, proven by its own key', () => {
    const { meeting, identity, socket } = setup();
    meeting.join();
    expect(socket().url).toBe('ws://relay.test/v1/signal');
    socket().relay({ type: 'hello', versions: { min: 1, max: 1 }, nonce: NONCE, relay: 'test' });
    const join = socket().sent[0];
    if (join?.type !== 'join') throw new Error('no join sent');
    expect(join).toMatchObject({
      meetingId: MEETING,
      passcode: '4242',
      displayName: 'Ada',
      client: 'web',
      protocol: E2EE_PROTOCOL_VERSION,
      deviceId: 'web-test',
      identityKey: toBase64Url(identity.publicKey),
    });
    expect(E2EE_PROTOCOL_VERSION).toBeGreaterThanOrEqual(1);
    const nonce = fromBase64Url(NONCE);
    expect(
      ed25519.verify(
        fromBase64Url(join.identityProof ?? ''),
        identityProofMessage(nonce, MEETING),
        identity.publicKey,
      ),
    ).toBe(true);
    expect(
      ed25519.verify(
        fromBase64Url(join.hostProof ?? ''),
        hostProofMessage(nonce, MEETING),
        identity.publicKey,
      ),
    ).toBe(true);
    expect(meeting.snapshot.status).toBe('connecting');
  });

  it('drops and counts what fails validation, binary included, without throwing', () => {
    const { meeting, socket } = setup();
    meeting.join();
    socket().on.message('{"v":1,"type":"hello"}');
    socket().on.message('not json');
    socket().on.message(new Uint8Array([1, 2, 3]));
    expect(meeting.rejected).toBe(3);
    expect(socket().sent).toEqual([]);
  });

  it('ends, failed, with the relay’s words when refused', () => {
    const { meeting, socket, ended } = setup();
    meeting.join();
    socket().relay({ type: 'hello', versions: { min: 1, max: 1 }, nonce: NONCE, relay: 'test' });
    socket().relay({
      type: 'admission',
      status: 'refused',
      reason: 'bad_passcode',
      message: 'The passcode is wrong.',
    });
    expect(ended).toHaveLength(1);
    expect(ended[0]?.status).toBe('failed');
    expect(ended[0]?.error?.message).toContain('The passcode is wrong.');
    expect(socket().closedWith).toBe(1000);
  });

  it('leaves politely: a leave message, a normal close, ended as left', () => {
    const { meeting, socket, ended } = setup();
    meeting.join();
    socket().relay({ type: 'hello', versions: { min: 1, max: 1 }, nonce: NONCE, relay: 'test' });
    socket().relay({
      type: 'admission',
      status: 'admitted',
      participantId: '7',
      instanceId: 'inst-0001',
      host: false,
    });
    meeting.leave();
    expect(socket().sent.map((m) => m.type)).toEqual(['join', 'leave']);
    expect(socket().closedWith).toBe(1000);
    expect(ended).toEqual([{ status: 'left', error: null }]);
  });

  it('a socket lost in the meeting is reconnected after a backoff and joins again as a new participant', () => {
    const { meeting, socket, sockets, ended, clock } = setup();
    meeting.join();
    socket().relay({ type: 'hello', versions: { min: 1, max: 1 }, nonce: NONCE, relay: 'test' });
    socket().relay({
      type: 'admission',
      status: 'admitted',
      participantId: '7',
      instanceId: 'inst-0001',
      host: false,
    });
    socket().on.close(1006);
    expect(ended).toEqual([]);
    expect(meeting.snapshot.status).toBe('reconnecting');
    expect(meeting.snapshot.error?.message).toMatch(/1006/);
    expect(sockets).toHaveLength(1);
    clock.advance(1000);
    expect(sockets).toHaveLength(2);
    const again = sockets[1];
    again?.relay({ type: 'hello', versions: { min: 1, max: 1 }, nonce: NONCE, relay: 'test' });
    expect(again?.sent.map((m) => m.type)).toEqual(['join']);
    // Leaving while away: no socket to tell, ended as left, no further attempt.
    again?.on.close(1006);
    meeting.leave();
    clock.advance(20_000);
    expect(sockets).toHaveLength(2);
    expect(ended).toEqual([{ status: 'left', error: null }]);
  });
});
