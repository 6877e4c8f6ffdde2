/**
 * The media worker crashes mid-meeting (docs/decisions/0013-media-worker.md): a participant whose
 * wrtc runs in a worker process loses that process to SIGSEGV. roomd's own process carries on, the
 * worker is restarted, the participant's relay client opens a new media connection on the same
 * admission, and it is back to shield `e2ee` with the others decrypting its frames again — without
 * rejoining. And when the relay's worker dies, the relay tells every participant that its media
 * connection is gone (`media-lost`, docs/protocol.md §Session flow) and each opens a new one at once.
 * The participant's crash runs on both of the relay's media planes (docs/decisions/0018-media-planes.md:
 * on Janus its uplink and its downlink both die and are both set up again); the relay's worker
 * exists on the embedded plane only. Recovery times are measured and printed, not asserted.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.ts';
import { WorkerPeerConnectionFactory } from '../../../src/transport/worker-peer.ts';
import {
  allSecure,
  type Harness,
  PLANES,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
const factories: WorkerPeerConnectionFactory[] = [];

afterEach(async () => {
  await h?.close();
  h = undefined;
  await Promise.all(factories.splice(0).map((f) => f.close()));
});
afterAll(stopSharedJanus);

function workerFactory(): WorkerPeerConnectionFactory {
  const f = new WorkerPeerConnectionFactory({ logger: silentLogger() });
  factories.push(f);
  return f;
}

describe.each(PLANES)('media worker crash mid-meeting (%s media plane)', (plane) => {
  it('the participant is back to e2ee and seen by the others after its worker dies of SIGSEGV', async () => {
    h = await startHarness({ plane });
    const id = await h.meeting();
    const roomPeers = workerFactory();
    const othersPeers = workerFactory();
    const room = h.participant(id, 'Room', { identity: h.host, client: 'room', peers: roomPeers });
    const others = [
      h.participant(id, 'A', { peers: othersPeers }),
      h.participant(id, 'B', { peers: othersPeers }),
    ];
    const people = [room, ...others];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(() => allSecure(people), 'secure before the crash', 30_000);
    const roomId = room.session.participantId!;
    const otherIds = others.map((p) => p.session.participantId!);
    await waitFor(
      () => others.every((o) => o.okFrom(roomId) > 5) && otherIds.every((o) => room.okFrom(o) > 5),
      'media flowing before the crash',
      20_000,
    );

    const pid = roomPeers.workerPid!;
    expect(pid).toBeGreaterThan(0);
    expect(pid).not.toBe(process.pid);
    const seenBefore = others.map((o) => o.okFrom(roomId));
    const gotBefore = otherIds.map((o) => room.okFrom(o));
    const t0 = performance.now();
    process.kill(pid, 'SIGSEGV');

    await waitFor(() => roomPeers.counters.deaths === 1, 'the death noticed', 10_000);
    const noticedMs = performance.now() - t0;
    // Until the new media connection is up nothing from the room reaches the others.
    await waitFor(() => roomPeers.counters.restarts === 1, 'the worker restarted', 10_000);
    await waitFor(
      () =>
        allSecure(people) &&
        others.every((o, i) => o.okFrom(roomId) > seenBefore[i]! + 5) &&
        otherIds.every((o, i) => room.okFrom(o) > gotBefore[i]! + 5),
      'e2ee again, the others decrypting the room and the room decrypting them',
      30_000,
    );
    const recoveredMs = performance.now() - t0;
    process.stdout.write(
      `[media-worker] ${plane}: SIGSEGV to worker ${pid}: death noticed after ${noticedMs.toFixed(0)} ms, ` +
        `media both ways again after ${recoveredMs.toFixed(0)} ms (new worker ${roomPeers.workerPid})\n`,
    );

    // The same participant, never rejoined: the crash stayed below the E2EE session.
    expect(room.session.participantId).toBe(roomId);
    expect(room.session.counters.reconnects).toBe(0);
    expect(room.session.snapshot.shield).toBe('e2ee');
    expect(roomPeers.workerPid).not.toBe(pid);
    expect(roomPeers.counters).toMatchObject({ deaths: 1, restarts: 1, invalidMessages: 0 });
    // The others' worker never noticed anything.
    expect(othersPeers.counters).toMatchObject({ deaths: 0, restarts: 0 });
    expect(people.reduce((s, p) => s + p.badTotal(), 0)).toBe(0);
  }, 90_000);
});

describe('relay media worker crash mid-meeting (embedded media plane)', () => {
  it('when the relay’s media worker dies, every participant is told and opens a new media connection', async () => {
    h = await startHarness();
    const relayPeers = h.relay.peers as WorkerPeerConnectionFactory;
    const id = await h.meeting();
    const peers = workerFactory();
    const people = [
      h.participant(id, 'Room', { identity: h.host, client: 'room', peers }),
      h.participant(id, 'A', { peers }),
    ];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(() => allSecure(people), 'secure before the crash', 30_000);
    const [a, b] = people.map((p) => p.session.participantId!) as [string, string];
    await waitFor(() => people[0]!.okFrom(b) > 5 && people[1]!.okFrom(a) > 5, 'media flowing', 20_000);
    const before = [people[0]!.okFrom(b), people[1]!.okFrom(a)];
    const pid = relayPeers.workerPid!;
    const t0 = performance.now();
    process.kill(pid, 'SIGSEGV');
    // The relay's ends fail with its worker; it tells each participant, who offers again at once.
    await waitFor(
      () =>
        allSecure(people) && people[0]!.okFrom(b) > before[0]! + 5 && people[1]!.okFrom(a) > before[1]! + 5,
      'media both ways through the new relay worker',
      45_000,
    );
    process.stdout.write(
      `[media-worker] SIGSEGV to the relay's worker ${pid}: media both ways again after ` +
        `${(performance.now() - t0).toFixed(0)} ms\n`,
    );
    expect(relayPeers.counters).toMatchObject({ deaths: 1, restarts: 1 });
    expect(h.relay.stats().mediaConnectionsLost).toBe(2);
    expect(h.relay.stats().mediaWorker).toMatchObject({ deaths: 1, restarts: 1 });
    expect(peers.counters.deaths).toBe(0);
    expect(people.every((p) => p.session.counters.reconnects === 0)).toBe(true);
  }, 90_000);
});
