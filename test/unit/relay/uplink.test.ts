/**
 * Uplink reports (docs/protocol.md §Uplink reports): the relay tells each sender, at most every
 * UPLINK_REPORT_MS, the newest frame of each of its streams that arrived and how long ago — from
 * the cleartext headers alone, only to that sender, whatever becomes of the chunks after.
 */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { chunkFrame, decodeMediaHeader } from '../../../src/protocol/index.ts';
import { UPLINK_REPORT_MS } from '../../../src/protocol/schemas.ts';
import { newerFrame, newUplinkState, observeUplink } from '../../../src/relay/uplink.ts';
import type { FakeDataChannel } from '../../../src/transport/fake-peer.ts';
import { MediaChannel } from '../../../src/transport/media-channel.ts';
import { MEDIA_CHANNEL_LABEL, mediaChannelOptions } from '../../../src/transport/peer.ts';
import { makeCore, type TestClient } from './harness.ts';

const header = (streamId: number, frameNumber: number) => ({
  kind: 'video' as const,
  streamId,
  keyframe: false,
  audioLevel: 127,
  sender: 0,
  frameNumber,
  chunkIndex: 0,
  chunkCount: 1,
});

describe('observeUplink', () => {
  it('reports at most every UPLINK_REPORT_MS, the newest frame per stream and its age', () => {
    const s = newUplinkState();
    expect(observeUplink(s, header(1, 10), 1000)).toEqual({
      type: 'uplink',
      streams: [{ streamId: 1, frameNumber: 10, ageMs: 0 }],
    });
    expect(observeUplink(s, header(1, 11), 1050)).toBeNull();
    expect(observeUplink(s, header(0, 500), 1100)).toBeNull();
    // An older frame arriving late (the channel is unordered) does not move the newest back.
    expect(observeUplink(s, header(1, 9), 1150)).toBeNull();
    expect(observeUplink(s, header(0, 501), 1000 + UPLINK_REPORT_MS)).toEqual({
      type: 'uplink',
      streams: [
        { streamId: 1, frameNumber: 11, ageMs: 150 },
        { streamId: 0, frameNumber: 501, ageMs: 0 },
      ],
    });
  });

  it('follows frame numbers across the wrap, tracks at most 8 streams, leaves out what is too old', () => {
    expect(newerFrame(0, 0xffff_ffff)).toBe(true);
    expect(newerFrame(0xffff_ffff, 0)).toBe(false);
    expect(newerFrame(5, 5)).toBe(false);
    const s = newUplinkState();
    observeUplink(s, header(1, 0xffff_fffe), 0);
    for (let id = 0; id < 20; id++) observeUplink(s, header(id, 0), 1);
    expect(s.streams.size).toBe(8);
    expect(s.streams.get(1)!.frameNumber).toBe(0);
    // A ninth stream id while the eight are all silent: no empty report.
    expect(observeUplink(s, header(30, 1), 20_000)).toBeNull();
    const report = observeUplink(s, header(2, 1), 20_000);
    expect(report).toEqual({ type: 'uplink', streams: [{ streamId: 2, frameNumber: 1, ageMs: 0 }] });
  });
});

async function connectMedia(h: Awaited<ReturnType<typeof makeCore>>, c: TestClient) {
  const pc = h.net.create();
  const channel = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions()) as FakeDataChannel;
  const offer = await pc.createOffer();
  c.send({ type: 'sdp', sdpType: 'offer', sdp: offer.sdp });
  for (let i = 0; i < 5 && c.last('sdp') === undefined; i++) await tick();
  await pc.acceptAnswer({ type: 'answer', sdp: c.last('sdp')!.sdp });
  for (let i = 0; i < 5 && channel.readyState !== 'open'; i++) await tick();
  return { pc, media: new MediaChannel(channel) };
}

describe('the relay reports each sender its uplink', () => {
  it('to the sender only, from every well-formed chunk, at the report interval', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const a = h.client();
    a.joinAsHost(m.id);
    const b = h.client();
    b.join(m.id);
    const ma = await connectMedia(h, a);
    const mb = await connectMedia(h, b);
    const send = (frameNumber: number, size = 20_000) => {
      const chunks = chunkFrame(new Uint8Array(size), {
        kind: 'video',
        streamId: 1,
        keyframe: false,
        frameNumber,
      });
      expect(ma.media.trySendAll(chunks)).toBe(true);
      return chunks;
    };
    send(0);
    for (let i = 0; i < 5; i++) await tick();
    expect(a.all('uplink')).toEqual([
      { v: 1, type: 'uplink', streams: [{ streamId: 1, frameNumber: 0, ageMs: 0 }] },
    ]);
    // Frames within the interval: no report until a chunk arrives after it.
    send(1);
    h.clock.advance(UPLINK_REPORT_MS - 1);
    send(2);
    for (let i = 0; i < 5; i++) await tick();
    expect(a.all('uplink')).toHaveLength(1);
    h.clock.advance(1);
    const last = send(3);
    for (let i = 0; i < 5; i++) await tick();
    expect(a.all('uplink')).toHaveLength(2);
    expect(a.last('uplink')!.streams).toEqual([
      { streamId: 1, frameNumber: decodeMediaHeader(last[0]!).frameNumber, ageMs: 0 },
    ]);
    // The receiver hears nothing about the sender's uplink, and has sent nothing itself.
    expect(b.all('uplink')).toEqual([]);
    expect(h.core.stats().media.uplinkReports).toBe(2);
    ma.pc.close();
    mb.pc.close();
    h.core.closeAll();
  });
});
