/**
 * The relay's side of big meetings without sockets (docs/protocol.md §Big meetings): `video-layer`
 * past last N, `audio-level` reports feeding the speakers, and `media-behind` held to one change a
 * second on the Janus plane (a stub plane records what it is told), ignored on the embedded one.
 */
import { describe, expect, it } from 'vitest';
import { EmbeddedMediaPlane, type MediaPlane } from '../../../src/relay/media-plane.ts';
import { makeCore } from './harness.ts';

/** A Janus-kind plane that only records which meetings' selection changed. */
function recordingPlane(): MediaPlane & { changes: number } {
  const embedded = new EmbeddedMediaPlane();
  const plane = {
    changes: 0,
    kind: 'janus' as const,
    offer: () => {},
    candidate: () => {},
    downAnswer: () => {},
    detach: () => {},
    end: () => {},
    selectionChanged: () => {
      plane.changes++;
    },
    stats: () => embedded.stats(),
    close: async () => {},
  };
  return plane as unknown as MediaPlane & { changes: number };
}

async function meetingOf(n: number, plane?: MediaPlane, lastN = 2) {
  const h = await makeCore({ core: { bigMeeting: { lastN }, ...(plane ? { mediaPlane: plane } : {}) } });
  const m = await h.meeting();
  const clients = [];
  for (let i = 0; i < n; i++) {
    const c = h.client();
    if (i === 0) c.joinAsHost(m.id);
    else c.join(m.id, { passcode: 'pass' });
    clients.push(c);
  }
  return { h, clients, live: h.core.live.get(m.id)! };
}

describe('big meetings on the relay', () => {
  it('past last N the later joiners are asked for the small layer; a report-shaped speech onset promotes', async () => {
    const { h, clients } = await meetingOf(3);
    const layer = (i: number) => clients[i]!.inbox.filter((m) => m.type === 'video-layer').at(-1);
    expect(layer(0)).toBeUndefined();
    expect(layer(1)).toBeUndefined();
    expect(layer(2)).toMatchObject({ layer: 'small' });
    clients[2]!.send({ type: 'audio-level', level: 20 });
    h.clock.advance(100);
    clients[2]!.send({ type: 'audio-level', level: 20 });
    expect(layer(2)).toMatchObject({ layer: 'full' });
    expect(layer(1)).toMatchObject({ layer: 'small' });
    expect(h.core.stats().videoLayerChanges).toBe(3);
  });

  it('media-behind: at most one change a second, the latest word winning; the plane told each time', async () => {
    const plane = recordingPlane();
    const { h, clients, live } = await meetingOf(3, plane, 9);
    const slow = live.participants.get(clients[1]!.participantId!)!;
    clients[1]!.send({ type: 'media-behind', behind: true });
    expect(slow.behind).toBe(true);
    expect(plane.changes).toBe(1);
    clients[1]!.send({ type: 'media-behind', behind: false });
    clients[1]!.send({ type: 'media-behind', behind: true });
    clients[1]!.send({ type: 'media-behind', behind: false });
    expect(slow.behind).toBe(true);
    h.clock.advance(999);
    expect(slow.behind).toBe(true);
    h.clock.advance(1);
    expect(slow.behind).toBe(false);
    expect(plane.changes).toBe(2);
    expect(h.core.stats()).toMatchObject({ downlinksBehind: 1, behindDeferred: 1 });
    // A leaver's pending change dies with it.
    clients[1]!.send({ type: 'media-behind', behind: true });
    clients[1]!.conn.closed();
    h.clock.advance(5000);
    expect(plane.changes).toBe(2);
  });

  it('the embedded plane ignores media-behind: it bounds every receiver itself', async () => {
    const { clients, live } = await meetingOf(2);
    clients[1]!.send({ type: 'media-behind', behind: true });
    expect(live.participants.get(clients[1]!.participantId!)!.behind).toBe(false);
  });
});
