/**
 * `media-lost` (docs/protocol.md §Session flow): when the relay's end of a participant's media
 * connection fails — its media worker died, ICE failed — the relay closes it and tells the client,
 * which offers a new one at once on the same admission. The far end here never notices anything by
 * itself (its connection stays `connected`, what it sends goes nowhere), as a wrtc client may never
 * notice that the relay's worker process is gone: without the message it would wait forever.
 * In-memory peer connections, a real relay and real signaling sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createRelay, type Relay } from '../../../src/relay/server.ts';
import { FakePeerConnection, FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { hostKey, type Participant, participant, until, waitFor } from './helpers.ts';

let relay: Relay | undefined;
const people: Participant[] = [];

afterEach(async () => {
  await Promise.all(people.splice(0).map((p) => p.client.close()));
  await relay?.stop();
  relay = undefined;
});

function relayEnd(r: Relay, meetingId: string, participantId: string): FakePeerConnection {
  const pc = r.core.live.get(meetingId)?.participants.get(participantId)?.pc;
  if (!(pc instanceof FakePeerConnection)) throw new Error('no media connection at the relay');
  return pc;
}

describe('media-lost', () => {
  it("the relay's end fails: the client is told, offers again on the same admission, and media flows", async () => {
    const net = new FakePeerNetwork();
    relay = createRelay({ peers: net });
    await relay.start();
    const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'pass', title: 'Lost' });
    const a = participant(relay.address.signalUrl, net, m.id, { host: true, name: 'A' });
    const b = participant(relay.address.signalUrl, net, m.id, { name: 'B' });
    people.push(a, b);
    await Promise.all([waitFor(a.client.events, 'media-open'), waitFor(b.client.events, 'media-open')]);
    const aId = a.client.participantId!;

    const errors: unknown[] = [];
    a.client.events.on('relay-error', (e) => errors.push(e));
    const reopened = waitFor(a.client.events, 'media-open');
    const dead = relayEnd(relay, m.id, aId);
    dead.fail();
    await reopened;

    expect(a.client.mediaLost).toBe(1);
    expect(a.client.participantId).toBe(aId);
    expect(relay.stats().mediaConnectionsLost).toBe(1);
    // A relay on in-memory peers has no media worker to report.
    expect(relay.stats().mediaWorker).toBeNull();
    expect(relayEnd(relay, m.id, aId)).not.toBe(dead);
    // No error came with it: a lost connection is not a refused message.
    expect(errors).toEqual([]);
    expect(b.client.mediaLost).toBe(0);

    // Media both ways on the new connection.
    const frame = new Uint8Array(3000).fill(7);
    a.sendFrame(frame, { kind: 'video', streamId: 1, keyframe: true });
    b.sendFrame(frame, { kind: 'video', streamId: 1, keyframe: true });
    await until(() => a.frames.length >= 1 && b.frames.some((f) => f.sender === Number(aId)));
  });

  it('an offer the relay cannot answer is also answered with media-lost, and the client offers again', async () => {
    const net = new FakePeerNetwork();
    relay = createRelay({ peers: net });
    await relay.start();
    const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'pass', title: 'Setup' });
    const a = participant(relay.address.signalUrl, net, m.id, { host: true, name: 'A' });
    people.push(a);
    await waitFor(a.client.events, 'media-open');
    // The next offer names no connection the fake network knows: the relay's answer fails.
    const refused = waitFor(a.client.events, 'relay-error', (e) => e.ref === 'sdp');
    a.client.signaling.send({ type: 'sdp', sdpType: 'offer', sdp: 'fake-offer nobody' });
    expect((await refused).code).toBe('transport.open_failed');
    await until(() => a.client.mediaLost === 1);
    await waitFor(a.client.events, 'media-open');
    expect(relay.stats().mediaConnectionsLost).toBe(1);
  });
});
