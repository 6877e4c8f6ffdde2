/**
 * Janus as a data-channel relay, driven by roomd's JanusClient (docs/decisions/0018-media-planes.md):
 * two media workers publish into one VideoRoom and subscribe to each other, and media chunks cross
 * byte for byte, each downlink channel labelled with its publisher's feed id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { JanusClient } from '../../../src/relay/janus/client.ts';
import * as vr from '../../../src/relay/janus/videoroom.ts';
import { encodeMediaChunk } from '../../../src/protocol/media-header.ts';
import type { DataChannel, PeerConnection } from '../../../src/transport/peer.ts';
import { mediaChannelOptions, MEDIA_CHANNEL_LABEL } from '../../../src/transport/peer.ts';
import { WorkerPeerConnectionFactory } from '../../../src/transport/worker-peer.ts';
import { type JanusFixture, startJanus } from '../../helpers/janus.ts';
import { waitFor } from '../../helpers/meeting-harness.ts';

let janus: JanusFixture;
let client: JanusClient;
const log = silentLogger();
const peers = new WorkerPeerConnectionFactory({ logger: log });
const open: PeerConnection[] = [];

beforeAll(async () => {
  janus = await startJanus();
  client = new JanusClient({ url: janus.url, clock: new SystemClock(), logger: log });
});

afterAll(async () => {
  for (const pc of open) pc.close();
  client?.close();
  await peers.close();
  await janus?.stop();
});

async function publisher(
  room: number,
  feed: number,
): Promise<{ pc: PeerConnection; channel: DataChannel; handle: number }> {
  const handle = await client.attach(vr.VIDEOROOM_PLUGIN);
  await vr.joinPublisher(client, handle, room, feed);
  const pc = peers.create();
  open.push(pc);
  pc.onIceCandidate((c) => void client.trickle(handle, c));
  const channel = pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions());
  const offer = await pc.createOffer();
  const answer = await vr.publish(client, handle, offer);
  await pc.acceptAnswer(answer);
  return { pc, channel, handle };
}

async function subscriber(room: number, feeds: number[], got: Map<string, Uint8Array[]>): Promise<number> {
  const handle = await client.attach(vr.VIDEOROOM_PLUGIN);
  const offer = await vr.joinSubscriber(client, handle, room, feeds);
  const pc = peers.create();
  open.push(pc);
  pc.onIceCandidate((c) => void client.trickle(handle, c));
  pc.onDataChannel((ch) => {
    ch.onMessage((data) => {
      const list = got.get(ch.label) ?? [];
      list.push(data);
      got.set(ch.label, list);
    });
  });
  // Without a channel of the subscriber's own, Janus delivers nothing.
  pc.createDataChannel('JanusDataChannel', { ordered: true });
  const answer = await pc.acceptOffer(offer);
  await vr.start(client, handle, answer);
  return handle;
}

describe('Janus VideoRoom through JanusClient', () => {
  it('two workers exchange media chunks byte for byte through a room', async () => {
    const admin = await client.attach(vr.VIDEOROOM_PLUGIN);
    const room = 1000 + Math.floor(Math.random() * 1e6);
    await vr.createRoom(client, admin, room, 10);
    const a = await publisher(room, 11);
    const b = await publisher(room, 22);
    await waitFor(() => a.channel.readyState === 'open' && b.channel.readyState === 'open', 'uplinks open');
    const gotA = new Map<string, Uint8Array[]>();
    const gotB = new Map<string, Uint8Array[]>();
    await subscriber(room, [22], gotA);
    const sb = await subscriber(room, [11], gotB);
    // Data sent before a subscriber's association is up is lost: send until both have some.
    const chunk = (n: number) =>
      encodeMediaChunk(
        {
          kind: 'video',
          streamId: 1,
          keyframe: n === 0,
          sender: 0,
          frameNumber: n,
          chunkIndex: 0,
          chunkCount: 1,
        },
        new Uint8Array(16_000).fill(n & 0xff),
      );
    let n = 0;
    await waitFor(
      () => {
        a.channel.send(chunk(n));
        b.channel.send(chunk(n));
        n++;
        return (gotA.get('22')?.length ?? 0) > 3 && (gotB.get('11')?.length ?? 0) > 3;
      },
      'chunks both ways',
      20_000,
    );
    const first = gotB.get('11')![0]!;
    expect(first.byteLength).toBe(16_016);
    expect(first[4]).toBe(0); // Janus leaves the sender field as the client sent it
    expect(first.subarray(16).every((x) => x === first[16])).toBe(true);
    // A third publisher later: the started subscriber gets it by `update`, no new offer.
    const c = await publisher(room, 33);
    await waitFor(() => c.channel.readyState === 'open', 'third uplink open');
    expect(await vr.update(client, sb, [33], [])).toBeUndefined();
    await waitFor(
      () => {
        c.channel.send(chunk(n++));
        return (gotB.get('33')?.length ?? 0) > 3;
      },
      'chunks from a feed added by update',
      20_000,
    );
    await vr.destroyRoom(client, admin, room);
    expect(client.counters.malformed).toBe(0);
  });
});
