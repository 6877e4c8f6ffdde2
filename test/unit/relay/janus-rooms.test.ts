/**
 * The life of the Janus plane's VideoRoom rooms (docs/decisions/0018-media-planes.md): every room
 * the plane creates is destroyed — when its occurrence ends, even with offers still queued, and
 * after a lost session once a session on the instance opens again (Janus keeps rooms until then).
 * The fake Janus keeps its rooms across sockets, as the real one does.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { JanusConnect, JanusSocketListeners } from '../../../src/relay/janus/client.ts';
import { JanusInstancePlane } from '../../../src/relay/janus/plane.ts';
import { JanusMediaPlane } from '../../../src/relay/janus/pool.ts';
import { LiveMeeting } from '../../../src/relay/live-meeting.ts';
import type { MeetingRecord } from '../../../src/relay/registry.ts';
import { flush, join, tick } from './janus-fixtures.ts';

interface Wire {
  janus: string;
  transaction: string;
  body?: { request?: string; room?: number; id?: number; ptype?: string };
}

/**
 * One Janus instance: rooms outlive sockets; `blip` closes the socket with Janus still running,
 * `mute` stops the socket carrying anything (without closing it) until `unmute`.
 */
function fakeJanus() {
  const rooms = new Set<number>();
  const created: number[] = [];
  const destroyed: number[] = [];
  let socket: JanusSocketListeners | undefined;
  let muted = false;
  let refuseCreates = 0;
  let next = 100;
  const answer = (m: Wire): Record<string, unknown> => {
    const t = m.transaction;
    const plugin = (data: Record<string, unknown>, janus = 'success', jsep?: unknown) => ({
      janus,
      transaction: t,
      sender: 1,
      plugindata: { plugin: 'janus.plugin.videoroom', data },
      ...(jsep === undefined ? {} : { jsep }),
    });
    switch (m.janus) {
      case 'create':
      case 'attach':
        return { janus: 'success', transaction: t, data: { id: next++ } };
      case 'message': {
        const b = m.body ?? {};
        const room = b.room ?? -1;
        if (b.request === 'create') {
          if (refuseCreates > 0) {
            refuseCreates--;
            return plugin({ videoroom: 'event', error_code: 499, error: 'refused' });
          }
          if (rooms.has(room)) return plugin({ videoroom: 'event', error_code: 427, error: 'exists' });
          rooms.add(room);
          created.push(room);
          return plugin({ videoroom: 'created', room });
        }
        if (b.request === 'destroy') {
          if (!rooms.delete(room))
            return plugin({ videoroom: 'event', error_code: 426, error: 'no such room' });
          destroyed.push(room);
          return plugin({ videoroom: 'destroyed', room });
        }
        if (b.request === 'join') return plugin({ videoroom: 'joined', room, id: b.id }, 'event');
        if (b.request === 'publish')
          return plugin({ videoroom: 'event', configured: 'ok' }, 'event', { type: 'answer', sdp: 'v=0 a' });
        return { janus: 'error', transaction: t, error: { code: 490, reason: 'unexpected' } };
      }
      case 'trickle':
      case 'keepalive':
        return { janus: 'ack', transaction: t };
      default:
        return { janus: 'success', transaction: t };
    }
  };
  const connect: JanusConnect = async (_url, on) => {
    socket = on;
    return {
      send: (text) => {
        if (muted) return;
        const reply = answer(JSON.parse(text) as Wire);
        setImmediate(() => {
          if (socket === on) on.message(JSON.stringify(reply));
        });
      },
      close: () => {
        if (socket === on) socket = undefined;
      },
    };
  };
  return {
    connect,
    rooms,
    created,
    destroyed,
    blip: () => {
      const s = socket;
      socket = undefined;
      s?.close();
    },
    refuseNextCreate: () => {
      refuseCreates = 1;
    },
    mute: () => {
      muted = true;
    },
    unmute: () => {
      muted = false;
    },
  };
}

function instancePlane(j: ReturnType<typeof fakeJanus>) {
  return new JanusInstancePlane({
    url: 'ws://janus.test',
    clock: new FakeClock(),
    logger: silentLogger(),
    maxPublishers: 10,
    connect: j.connect,
  });
}

describe('Janus rooms of an occurrence', () => {
  it('offer, offer again, leave alone: the room is destroyed and none is made after the end', async () => {
    const j = fakeJanus();
    const plane = instancePlane(j);
    await plane.client.ready();
    const m = new LiveMeeting({ id: 'm' } as MeetingRecord);
    const a = join(m, '1');
    plane.offer(a.host, a.p, 'v=0 one');
    await tick();
    plane.offer(a.host, a.p, 'v=0 two');
    plane.detach(a.p);
    m.participants.delete('1');
    plane.end(m);
    await flush();
    expect(j.created).toHaveLength(1);
    expect(j.destroyed).toEqual(j.created);
    expect(j.rooms.size).toBe(0);
    expect(plane.counts().rooms).toBe(0);
    await plane.close();
  });

  it('an offer still queued when its participant left makes no room', async () => {
    const j = fakeJanus();
    const plane = instancePlane(j);
    await plane.client.ready();
    const m = new LiveMeeting({ id: 'm' } as MeetingRecord);
    const a = join(m, '1');
    join(m, '2'); // still in the meeting: it does not end
    j.refuseNextCreate();
    plane.offer(a.host, a.p, 'v=0 one');
    await tick();
    plane.offer(a.host, a.p, 'v=0 two');
    plane.detach(a.p);
    m.participants.delete('1');
    await flush();
    expect(j.created).toEqual([]);
    expect(plane.counts().rooms).toBe(0);
    await plane.close();
  });

  it('an offer after the occurrence ended creates no room; one under way when it ended is destroyed', async () => {
    const j = fakeJanus();
    const plane = instancePlane(j);
    await plane.client.ready();
    const m = new LiveMeeting({ id: 'm' } as MeetingRecord);
    const a = join(m, '1');
    plane.offer(a.host, a.p, 'v=0 one');
    await tick();
    plane.end(m); // the room's creation is under way
    plane.offer(a.host, a.p, 'v=0 two');
    await flush();
    expect(j.created).toHaveLength(1);
    expect(j.destroyed).toEqual(j.created);
    expect(plane.counts().rooms).toBe(0);
    expect(a.sent).toContainEqual({ type: 'media-lost', reason: 'setup_failed' });
    await plane.close();
  });
});

describe('Janus rooms of a lost session', () => {
  it('are destroyed once a session on the instance opens again; "no such room" counts as done', async () => {
    const j = fakeJanus();
    const clock = new FakeClock();
    const plane = new JanusMediaPlane({
      urls: ['ws://janus.test'],
      clock,
      logger: silentLogger(),
      maxPublishers: 10,
      connect: j.connect,
      probeMs: 1000,
    });
    await flush();
    const meetings = ['m1', 'm2', 'm3'].map((id) => new LiveMeeting({ id } as MeetingRecord));
    const people = meetings.map((m) => join(m, '1'));
    for (const x of people) plane.offer(x.host, x.p, 'v=0 offer');
    await flush();
    expect(j.rooms.size).toBe(3);
    expect(plane.stats().janus?.rooms).toBe(3);
    // Someone else already removed one of them: destroying it is answered 426.
    j.rooms.delete(j.created[0]!);

    // The socket goes, Janus stays: its rooms stay too.
    j.blip();
    await flush();
    for (const x of people) expect(x.sent).toContainEqual({ type: 'media-lost', reason: 'failed' });
    expect(plane.stats().janus?.rooms).toBe(0);
    expect(j.rooms.size).toBe(2);

    // The probe opens a new session, which destroys what the old one left.
    clock.advance(1000);
    await flush();
    expect(plane.stats().janus?.instances[0]?.health).toBe('up');
    expect(j.rooms.size).toBe(0);
    expect(j.destroyed.sort()).toEqual(j.created.slice(1).sort());

    // Done is done: the next lost session has nothing of theirs left to destroy.
    const destroys = j.destroyed.length;
    j.blip();
    await flush();
    clock.advance(1000);
    await flush();
    expect(plane.stats().janus?.instances[0]?.health).toBe('up');
    expect(j.destroyed).toHaveLength(destroys);

    // The meetings come back in new rooms, and ending them leaves nothing on Janus.
    for (const x of people) plane.offer(x.host, x.p, 'v=0 again');
    await flush();
    expect(j.rooms.size).toBe(3);
    for (const x of people) {
      plane.detach(x.p);
      x.p.meeting.participants.delete(x.p.id);
      plane.end(x.p.meeting);
    }
    await flush();
    expect(j.rooms.size).toBe(0);
    expect([...j.destroyed].sort()).toEqual(j.created.slice(1).sort());
    await plane.close();
  });

  it('after a keepalive goes unanswered, the next session destroys the rooms of the old one', async () => {
    const j = fakeJanus();
    const clock = new FakeClock();
    const plane = new JanusInstancePlane({
      url: 'ws://janus.test',
      clock,
      logger: silentLogger(),
      maxPublishers: 10,
      connect: j.connect,
      requestTimeoutMs: 1000,
    });
    await plane.client.ready();
    const m = new LiveMeeting({ id: 'm' } as MeetingRecord);
    const a = join(m, '1');
    plane.offer(a.host, a.p, 'v=0 offer');
    await flush();
    expect(j.rooms.size).toBe(1);
    // The socket stops carrying anything (Janus still up); the keepalive times out.
    j.mute();
    clock.advance(25_000);
    clock.advance(1000);
    await flush();
    expect(a.sent).toContainEqual({ type: 'media-lost', reason: 'failed' });
    expect(plane.counts()).toMatchObject({ connected: false, rooms: 0 });
    expect(j.rooms.size).toBe(1);
    j.unmute();
    await plane.client.ready();
    plane.sessionOpened();
    await flush();
    expect(j.rooms.size).toBe(0);
    expect(j.destroyed).toEqual(j.created);
    await plane.close();
  });
});
