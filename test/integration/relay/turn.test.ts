/**
 * TURN (docs/protocol.md §ICE servers, docs/admin.md §TURN): a relay configured with coturn's
 * shared secret hands each participant time-limited credentials, and media flows when the
 * participants may use TURN relay candidates only (`iceTransportPolicy: 'relay'`, set by this test
 * on their peer connections) — over UDP and over TCP to coturn. coturn's log shows the allocations,
 * made with each participant's own username. A wrong secret only fails TURN: nothing crashes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import type { PeerConnectionFactory } from '../../../src/transport/peer.ts';
import { type CoturnFixture, startCoturn } from '../../helpers/coturn.ts';
import {
  allSecure,
  expectMediaOn,
  framesFlow,
  type Harness,
  sharedJanus,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';

let turn: CoturnFixture;
let h: Harness | undefined;

beforeAll(async () => {
  turn = await startCoturn();
});
afterAll(async () => {
  await turn?.stop();
  await stopSharedJanus();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The same factory with every connection limited to TURN relay candidates. */
function relayOnly(f: PeerConnectionFactory): PeerConnectionFactory {
  return {
    create: (options = {}) => f.create({ ...options, iceTransportPolicy: 'relay' }),
    get openCount() {
      return f.openCount;
    },
  };
}

const idOf = (username: string) => username.slice(username.indexOf(':') + 1);
/** The participant ids coturn granted an allocation to (usernames are `<expiry>:<id>`). */
const allocatedIds = () => new Set(turn.allocations().users.map(idOf));
/** The host and a far end, both limited to relay candidates, joined and secure. */
async function twoRelayOnly(harness: Harness, note = ''): Promise<HeadlessParticipant[]> {
  const id = await harness.meeting();
  const peers = relayOnly(harness.peers);
  const people = [
    harness.participant(id, 'Host', { identity: harness.host, client: 'room', peers }),
    harness.participant(id, 'Far end', { peers }),
  ];
  await Promise.all(people.map((p) => p.join()));
  await waitFor(() => allSecure(people), `both participants secure${note}`, 30_000);
  return people;
}

/** The participant ids coturn refused credentials of. */
const refusedIds = () => new Set(turn.allocations().refused.map(idOf));

describe.each(['udp', 'tcp'] as const)('media through TURN over %s', (transport) => {
  it('two participants limited to relay candidates reach e2ee and exchange frames through coturn', async () => {
    h = await startHarness({
      relay: {
        turn: { urls: [`turn:${turn.address}:${turn.port}?transport=${transport}`], secret: turn.secret },
      },
    });
    const people = await twoRelayOnly(h);
    await framesFlow(people, 5);
    expect(people.reduce((s, p) => s + p.badTotal(), 0)).toBe(0);
    // Both media connections were relayed by coturn, each with its participant's own credentials.
    const ids = people.map((p) => p.session.participantId!);
    const allocated = allocatedIds();
    expect(ids.filter((pid) => !allocated.has(pid))).toEqual([]);
    expect(h.relay.stats().media.chunksIn).toBeGreaterThan(0);
    // Each says how its media goes: through TURN, over the transport it was given.
    for (const p of people) expect(await p.session.relay.mediaPath()).toBe(`turn-${transport}`);
    if (transport === 'tcp') {
      // A TCP allocation ends when its client closes, and coturn then logs what it relayed to the
      // peer (a UDP one only times out, minutes later).
      await h.close();
      h = undefined;
      const relayed = (pid: string) =>
        [...turn.relayedBytes()].reduce((sum, [user, bytes]) => sum + (idOf(user) === pid ? bytes : 0), 0);
      await waitFor(
        () => ids.every((pid) => relayed(pid) > 5_000),
        'coturn logging the bytes it relayed',
        10_000,
      );
    }
  });
});

it('a relay with the wrong secret only fails TURN: coturn refuses, nothing crashes, the meeting stays secure', async () => {
  h = await startHarness({
    relay: { turn: { urls: [`turn:${turn.address}:${turn.port}?transport=udp`], secret: 'not-the-secret' } },
  });
  const allocatedBefore = turn.allocations().users.length;
  const people = await twoRelayOnly(h, ' (signaling only)');
  // Each participant's media worker tried its credentials and coturn refused them.
  const ids = people.map((p) => p.session.participantId!);
  await waitFor(
    () => ids.every((pid) => refusedIds().has(pid)),
    "coturn refusing both participants' credentials",
    20_000,
  );
  expect(turn.allocations().users.length).toBe(allocatedBefore);
  // Limited to relay candidates and refused by TURN, no media connection came up: no frame arrived.
  expect(people[0]!.okFrom(ids[1]!) + people[1]!.okFrom(ids[0]!)).toBe(0);
  expect(h.relay.stats().signaling.guardTrips).toBe(0);
  expect(h.peers.counters.restarts).toBe(0);
  expect(h.peers.counters.guardTrips).toBe(0);
});

it('on the Janus plane, both media connections of each participant (uplink and downlink) go through TURN', async () => {
  // Janus is in a network namespace behind a veth pair; this coturn listens on the host's end of it.
  const janus = await sharedJanus();
  const turnJ = await startCoturn({ address: janus.hostAddress });
  try {
    h = await startHarness({
      plane: 'janus',
      relay: { turn: { urls: [`turn:${turnJ.address}:${turnJ.port}?transport=udp`], secret: turnJ.secret } },
    });
    const people = await twoRelayOnly(h);
    // Frames from the other participant arrive on the downlink, which Janus offers: limited to relay
    // candidates, it connects only with the TURN servers the relay handed out.
    await framesFlow(people, 5);
    expectMediaOn(h, 2);
    const ids = people.map((p) => p.session.participantId!);
    const allocated = new Set(turnJ.allocations().users.map(idOf));
    expect(ids.filter((pid) => !allocated.has(pid))).toEqual([]);
    await h.close();
    h = undefined;
  } finally {
    await turnJ.stop();
  }
});
