// Media fan-out with bounded per-receiver buffers: docs/protocol.md §Media chunks, decision 0006.
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { chunkFrame, decodeMediaHeader, encodeMediaChunk } from '../../../src/protocol/index.ts';
import type { FakeDataChannel } from '../../../src/transport/fake-peer.ts';
import { MediaChannel } from '../../../src/transport/media-channel.ts';
import { MEDIA_CHANNEL_LABEL, mediaChannelOptions } from '../../../src/transport/peer.ts';
import { makeCore, type TestClient } from './harness.ts';

async function connectMedia(h: Awaited<ReturnType<typeof makeCore>>, c: TestClient) {
  const pc = h.net.create();
  const channel = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions()) as FakeDataChannel;
  const received: Uint8Array[] = [];
  channel.onMessage((d) => received.push(d));
  const offer = await pc.createOffer();
  c.send({ type: 'sdp', sdpType: 'offer', sdp: offer.sdp });
  for (let i = 0; i < 5 && c.last('sdp') === undefined; i++) await tick();
  await pc.acceptAnswer({ type: 'answer', sdp: c.last('sdp')!.sdp });
  for (let i = 0; i < 5 && channel.readyState !== 'open'; i++) await tick();
  return { pc, channel, media: new MediaChannel(channel), received };
}

async function setup(n: number, receiverBufferBytes = 512 * 1024) {
  const h = await makeCore({ core: { receiverBufferBytes } });
  const m = await h.meeting();
  const clients: TestClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = h.client();
    if (i === 0) c.joinAsHost(m.id);
    else c.join(m.id);
    clients.push(c);
  }
  const media = [];
  for (const c of clients) media.push(await connectMedia(h, c));
  return { h, clients, media };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

describe('media fan-out', () => {
  it('forwards every chunk to every other participant with the sender id set, never back to the sender', async () => {
    const { h, clients, media } = await setup(3);
    const frame = new Uint8Array(40_000).fill(7);
    const chunks = chunkFrame(frame, { kind: 'video', streamId: 0, keyframe: true, frameNumber: 1 });
    expect(media[1]!.media.trySendAll(chunks)).toBe(true);
    await flush();
    expect(media[1]!.received).toHaveLength(0);
    for (const i of [0, 2]) {
      expect(media[i]!.received).toHaveLength(chunks.length);
      for (const c of media[i]!.received) {
        expect(decodeMediaHeader(c).sender).toBe(Number(clients[1]!.participantId));
        expect(c.byteLength).toBeLessThanOrEqual(16 * 1024);
      }
    }
    expect(h.core.stats().media).toMatchObject({
      chunksIn: chunks.length,
      chunksForwarded: 2 * chunks.length,
      chunksDropped: 0,
    });
    for (const m of media) m.pc.close();
    h.core.closeAll();
    expect(h.net.openCount).toBe(0);
  });

  it('drops for a slow receiver at its buffer bound, whole frames at a time, and counts it', async () => {
    const { h, clients, media } = await setup(3, 64 * 1024);
    // participant 2's inbound link stalls: the relay-side channel to it stops draining
    const relayPc = h.core.live.values().next().value!.participants.get(clients[2]!.participantId!)!;
    (relayPc.media!.channel as FakeDataChannel).pause();
    let sent = 0;
    for (let f = 0; f < 20; f++) {
      const chunks = chunkFrame(new Uint8Array(30_000), {
        kind: 'video',
        streamId: 0,
        keyframe: false,
        frameNumber: f,
      });
      sent += chunks.length;
      media[1]!.media.trySendAll(chunks);
      await flush();
    }
    const slow = relayPc.stats;
    const slowChannel = relayPc.media!.channel as FakeDataChannel;
    expect(slowChannel.bufferedAmount).toBeLessThanOrEqual(64 * 1024);
    expect(slow.chunksDropped).toBeGreaterThan(0);
    expect(slow.framesDropped).toBeGreaterThan(0);
    expect(slow.chunksForwarded + slow.chunksDropped).toBe(sent);
    // once a chunk of a frame is dropped, the rest of that frame is too: what went out is a prefix
    const byFrame = new Map<number, number[]>();
    for (const c of slowChannel.sent) {
      const hd = decodeMediaHeader(c);
      byFrame.set(hd.frameNumber, [...(byFrame.get(hd.frameNumber) ?? []), hd.chunkIndex]);
    }
    for (const idx of byFrame.values()) expect(idx).toEqual(idx.map((_, i) => i));
    // the fast receiver got everything
    expect(media[0]!.received).toHaveLength(sent);
    for (const m of media) m.pc.close();
    h.core.closeAll();
  });

  it('drops malformed chunks without forwarding them', async () => {
    const { h, media } = await setup(2);
    media[1]!.channel.send(new Uint8Array([9, 9, 9]));
    media[1]!.channel.send(
      encodeMediaChunk(
        {
          kind: 'audio',
          streamId: 0,
          keyframe: false,
          sender: 0,
          frameNumber: 0,
          chunkIndex: 0,
          chunkCount: 1,
        },
        new Uint8Array(10),
      ),
    );
    await flush();
    expect(media[0]!.received).toHaveLength(1);
    expect(h.core.stats().media.malformed).toBe(1);
    for (const m of media) m.pc.close();
    h.core.closeAll();
  });

  it('lets a test hook tamper, replay and drop chunks per receiver', async () => {
    let n = 0;
    const h0 = await makeCore({
      hooks: {
        media: (chunk, ctx) => {
          n++;
          if (ctx.to === '1') return [chunk, chunk];
          return null;
        },
      },
    });
    const m = await h0.meeting();
    const a = h0.client();
    a.joinAsHost(m.id);
    const b = h0.client();
    b.join(m.id);
    const c = h0.client();
    c.join(m.id);
    const ma = await connectMedia(h0, a);
    const mb = await connectMedia(h0, b);
    const mc = await connectMedia(h0, c);
    mb.media.trySend(
      chunkFrame(new Uint8Array(100), { kind: 'audio', streamId: 0, keyframe: false, frameNumber: 0 })[0]!,
    );
    await flush();
    expect(n).toBe(2);
    expect(ma.received).toHaveLength(2);
    expect(mc.received).toHaveLength(0);
    for (const x of [ma, mb, mc]) x.pc.close();
    h0.core.closeAll();
  });

  it('a second media channel on one connection is closed unread: nothing of it is forwarded', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const other = h.client();
    other.join(m.id);
    const rx = await connectMedia(h, other);
    // The host's connection carries two channels labelled media.
    const pc = h.net.create();
    const first = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions()) as FakeDataChannel;
    const second = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions()) as FakeDataChannel;
    const offer = await pc.createOffer();
    host.send({ type: 'sdp', sdpType: 'offer', sdp: offer.sdp });
    for (let i = 0; i < 5 && host.last('sdp') === undefined; i++) await tick();
    await pc.acceptAnswer({ type: 'answer', sdp: host.last('sdp')!.sdp });
    await flush();
    expect(first.readyState).toBe('open');
    expect(second.readyState).not.toBe('open');
    const frame = chunkFrame(new Uint8Array(100), {
      kind: 'video',
      streamId: 1,
      keyframe: true,
      frameNumber: 0,
    });
    expect(new MediaChannel(first).trySendAll(frame)).toBe(true);
    await flush();
    expect(rx.received).toHaveLength(1);
    h.core.closeAll();
  });

  it('big meetings: silent audio is not forwarded, audio without a level always is, a frame whole or not at all', async () => {
    const h = await makeCore({ core: { bigMeeting: { lastN: 1, loudest: 1 } } });
    const m = await h.meeting();
    const clients: TestClient[] = [];
    for (let i = 0; i < 3; i++) {
      const c = h.client();
      if (i === 0) c.joinAsHost(m.id);
      else c.join(m.id);
      clients.push(c);
    }
    const media = [];
    for (const c of clients) media.push(await connectMedia(h, c));
    const audio = (frameNumber: number, audioLevel: number | undefined, bytes = 100) =>
      chunkFrame(
        new Uint8Array(bytes),
        {
          kind: 'audio',
          streamId: 0,
          keyframe: true,
          frameNumber,
          ...(audioLevel === undefined ? {} : { audioLevel }),
        },
        4096,
      );
    // Quiet (level 90): not speech, not forwarded in a big meeting.
    expect(media[1]!.media.trySendAll(audio(0, 90))).toBe(true);
    await flush();
    expect(media[0]!.received).toHaveLength(0);
    expect(h.core.stats().media.audioNotSelected).toBe(1);
    // No level (127: the sender measures none): forwarded, whatever the meeting.
    expect(media[1]!.media.trySendAll(audio(1, undefined))).toBe(true);
    await flush();
    expect(media[0]!.received).toHaveLength(1);
    // A loud three-chunk frame: all three forwarded, to both others.
    const loud = audio(2, 10, 10_000);
    expect(loud).toHaveLength(3);
    expect(media[1]!.media.trySendAll(loud)).toBe(true);
    await flush();
    expect(media[0]!.received).toHaveLength(4);
    expect(media[2]!.received).toHaveLength(4);
    h.core.closeAll();
  });
});

describe('a receiver whose queue is too long to drain in time', () => {
  it('gets no new video frame while its queue would take over RECEIVER_QUEUE_MS; audio still goes', async () => {
    const { h, clients, media } = await setup(2, 1024 * 1024);
    const slow = h.core.live.values().next().value!.participants.get(clients[0]!.participantId!)!;
    const channel = slow.media!.channel as FakeDataChannel;
    channel.pause();
    let frame = 0;
    const video = () =>
      media[1]!.media.trySendAll(
        chunkFrame(new Uint8Array(30_000), {
          kind: 'video',
          streamId: 1,
          keyframe: false,
          frameNumber: frame++,
        }),
      );
    // 150 KB queued for the receiver, which drains nothing for a second: well under the byte bound.
    for (let i = 0; i < 5; i++) video();
    await flush();
    h.clock.advance(600);
    video();
    await flush();
    h.clock.advance(600);
    video();
    await flush();
    const late = h.core.stats().media.framesLate;
    expect(late).toBeGreaterThan(0);
    expect(channel.bufferedAmount).toBeLessThan(1024 * 1024);
    // Audio is never judged late.
    const before = channel.sent.length;
    media[1]!.media.trySendAll(
      chunkFrame(new Uint8Array(100), { kind: 'audio', streamId: 0, keyframe: false, frameNumber: 0 }),
    );
    await flush();
    expect(channel.sent.length).toBe(before + 1);
    // Once it drains again, video flows.
    channel.resume();
    await flush();
    h.clock.advance(600);
    video();
    await flush();
    h.clock.advance(600);
    video();
    await flush();
    expect(h.core.stats().media.framesLate).toBe(late);
    for (const m of media) m.pc.close();
    h.core.closeAll();
  });
});
