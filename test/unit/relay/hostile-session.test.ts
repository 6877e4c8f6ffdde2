// Hostile clients against the relay's connection logic, in memory on a fake clock (docs/protocol.md
// "# Wire protocol" §Transport, §Limits, §Validation): deep nesting and binary frames get typed
// errors, the rate-limit notice goes out once per episode, unjoined connections time out, the
// per-address caps hold, and an unexpected error closes only the connection that caused it.
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { encodeMediaChunk } from '../../../src/protocol/index.ts';
import { UNJOINED_EVICTED_CLOSE } from '../../../src/relay/core.ts';
import { GUARD_TRIP_CLOSE, JOIN_TIMEOUT_CLOSE } from '../../../src/relay/session.ts';
import type { FakeDataChannel } from '../../../src/transport/fake-peer.ts';
import { MEDIA_CHANNEL_LABEL, mediaChannelOptions } from '../../../src/transport/peer.ts';
import { makeCore, type TestClient } from './harness.ts';

const deep = (n: number) => `{"v":${'['.repeat(n)}${']'.repeat(n)},"type":"ping","id":1}`;

describe('relay session against hostile input', () => {
  it('answers a 5,000-deep message with protocol.malformed and keeps serving that client and others', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const attacker = h.client();
    attacker.raw(deep(5000));
    expect(attacker.last('error')).toMatchObject({ code: 'protocol.malformed' });
    expect(attacker.closedWith).toBeUndefined();
    attacker.send({ type: 'ping', id: 7 });
    expect(attacker.last('pong')?.id).toBe(7);
    host.send({ type: 'ping', id: 8 });
    expect(host.last('pong')?.id).toBe(8);
    expect(h.core.stats().signaling).toMatchObject({ messagesRejected: 1, guardTrips: 0 });
  });

  it('refuses a binary frame with a typed error and counts it', async () => {
    const h = await makeCore();
    const c = h.client();
    c.conn.receive(new TextEncoder().encode('{"v":1,"type":"ping","id":1}'));
    expect(c.last('error')).toMatchObject({ code: 'protocol.malformed' });
    expect(c.last('pong')).toBeUndefined();
    expect(h.core.stats().signaling).toMatchObject({ binaryFrames: 1, messagesRejected: 1 });
  });

  it('tells a flooding client once per episode; the episode ends only when the bucket is full again', async () => {
    const h = await makeCore({ core: { limits: { burst: 10, perSecond: 10, joinTimeoutMs: Infinity } } });
    const c = h.client();
    const notices = () => c.all('error').filter((e) => e.code === 'relay.rate_limited').length;
    for (let i = 0; i < 30; i++) c.send({ type: 'ping', id: i });
    expect(c.all('pong')).toHaveLength(10);
    expect(notices()).toBe(1);
    // A token comes back every 100 ms: the flood keeps going through the trickle, still one notice.
    for (let round = 0; round < 20; round++) {
      h.clock.advance(100);
      for (let i = 0; i < 5; i++) c.send({ type: 'ping', id: 1000 + round * 5 + i });
    }
    expect(c.all('pong')).toHaveLength(30);
    expect(notices()).toBe(1);
    // Quiet until the bucket is full: a new flood is a new episode.
    h.clock.advance(1000);
    for (let i = 0; i < 30; i++) c.send({ type: 'ping', id: 5000 + i });
    expect(notices()).toBe(2);
    expect(h.core.stats().signaling).toMatchObject({ rateLimitEpisodes: 2 });
    expect(h.core.stats().signaling.rateLimitedMessages).toBe(20 + 20 * 4 + 20);
  });

  it('closes a connection that does not join in time, and one whose refused join is not followed up', async () => {
    const h = await makeCore({ core: { limits: { joinTimeoutMs: 10_000 } } });
    const m = await h.meeting();
    const idle = h.client();
    const refused = h.client();
    const host = h.client();
    h.clock.advance(9_000);
    host.joinAsHost(m.id);
    refused.join(m.id, { passcode: 'wrong' });
    expect(refused.last('admission')?.status).toBe('refused');
    h.clock.advance(1_001);
    expect(idle.closedWith).toEqual({ code: JOIN_TIMEOUT_CLOSE, reason: 'no join in time' });
    // a refused join gives the client another full timeout to correct itself
    expect(refused.closedWith).toBeUndefined();
    h.clock.advance(9_000);
    expect(refused.closedWith?.code).toBe(JOIN_TIMEOUT_CLOSE);
    expect(host.closedWith).toBeUndefined();
    expect(h.core.stats().signaling.joinTimeouts).toBe(2);
  });

  it('keeps a connection waiting for the host past the join timeout', async () => {
    const h = await makeCore({ core: { limits: { joinTimeoutMs: 10_000 } } });
    const m = await h.meeting();
    const waiting = h.client();
    waiting.join(m.id);
    expect(waiting.last('admission')?.status).toBe('waiting');
    h.clock.advance(60_000);
    expect(waiting.closedWith).toBeUndefined();
  });

  it('caps connections per address; over the unjoined cap the oldest unjoined one makes room', async () => {
    const h = await makeCore({
      core: { limits: { maxConnectionsPerAddress: 3, maxUnjoinedPerAddress: 2, joinTimeoutMs: Infinity } },
    });
    const m = await h.meeting();
    const addr = '198.51.100.9';
    const squatter = h.client(addr);
    const second = h.client(addr);
    // A neighbour holding every unjoined slot cannot keep a newcomer out: its oldest socket goes.
    expect(h.core.refuseAddress(addr)).toBeUndefined();
    expect(squatter.closedWith?.code).toBe(UNJOINED_EVICTED_CLOSE);
    expect(second.closedWith).toBeUndefined();
    const room = h.client(addr);
    room.joinAsHost(m.id);
    expect(room.last('admission')?.status).toBe('admitted');
    expect(h.core.refuseAddress('198.51.100.10')).toBeUndefined();
    h.client(addr);
    // Three open (one joined, two not): the total cap refuses the next one outright.
    expect(h.core.refuseAddress(addr)).toMatch(/too many connections/);
    expect(h.core.stats().signaling.addressRefusals).toBe(1);
    expect(h.core.stats().signaling.unjoinedEvicted).toBe(1);
    expect(room.closedWith).toBeUndefined();
  });

  it('does not cap an address listed as uncapped (a reverse proxy)', async () => {
    const proxy = '127.0.0.1';
    const h = await makeCore({
      core: {
        limits: { maxConnectionsPerAddress: 1, maxUnjoinedPerAddress: 1, uncappedAddresses: [proxy] },
      },
    });
    for (let i = 0; i < 5; i++) h.client(proxy);
    expect(h.core.refuseAddress(proxy)).toBeUndefined();
    h.client('203.0.113.4');
    expect(h.core.refuseAddress('203.0.113.4')).toBeDefined();
  });

  it('closes with 1011 only the connection whose message hit an unexpected error', async () => {
    const h = await makeCore({
      hooks: {
        incoming: (msg) => {
          if (msg.type === 'feature-request') throw new TypeError('a bug somewhere');
          return msg;
        },
      },
    });
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const a = h.client();
    a.join(m.id);
    a.send({ type: 'feature-request', feature: 'recording' });
    expect(a.closedWith).toEqual({ code: GUARD_TRIP_CLOSE, reason: 'internal error' });
    expect(a.conn.state).toBe('closed');
    expect(h.core.stats()).toMatchObject({ participants: 1, signaling: { guardTrips: 1 } });
    host.send({ type: 'ping', id: 3 });
    expect(host.last('pong')?.id).toBe(3);
    expect(host.last('roster')?.participants).toHaveLength(1);
  });

  it('closes with 1011 only the participant whose media chunk hit an unexpected error', async () => {
    const h = await makeCore({
      hooks: {
        media: () => {
          throw new RangeError('a bug in the fan-out');
        },
      },
    });
    const m = await h.meeting();
    const clients: TestClient[] = [h.client(), h.client()];
    clients[0]!.joinAsHost(m.id);
    clients[1]!.join(m.id);
    const channels: FakeDataChannel[] = [];
    for (const c of clients) {
      const pc = h.net.create();
      const channel = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions()) as FakeDataChannel;
      channels.push(channel);
      const offer = await pc.createOffer();
      c.send({ type: 'sdp', sdpType: 'offer', sdp: offer.sdp });
      for (let i = 0; i < 5 && c.last('sdp') === undefined; i++) await tick();
      await pc.acceptAnswer({ type: 'answer', sdp: c.last('sdp')!.sdp });
      for (let i = 0; i < 5 && channel.readyState !== 'open'; i++) await tick();
    }
    const header = {
      kind: 'audio' as const,
      streamId: 0,
      keyframe: false,
      sender: 0,
      frameNumber: 0,
      chunkIndex: 0,
      chunkCount: 1,
    };
    channels[1]!.send(encodeMediaChunk(header, new Uint8Array(10)));
    for (let i = 0; i < 5 && clients[1]!.closedWith === undefined; i++) await tick();
    expect(clients[1]!.closedWith?.code).toBe(GUARD_TRIP_CLOSE);
    expect(clients[0]!.closedWith).toBeUndefined();
    expect(h.core.stats()).toMatchObject({ participants: 1, signaling: { guardTrips: 1 } });
    h.core.closeAll();
  });
});
