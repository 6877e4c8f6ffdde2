/**
 * Placement over several Janus instances (docs/decisions/0018-media-planes.md, "Several instances"):
 * the pure choice of an instance and the health reducer, then the relay's plane over two fake
 * Janus instances, one of which goes away mid-meeting.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { JanusConnect, JanusSocketListeners } from '../../../src/relay/janus/client.ts';
import { nextHealth, placeMeeting } from '../../../src/relay/janus/placement.ts';
import { JanusMediaPlane } from '../../../src/relay/janus/pool.ts';
import { flush, join, meeting } from './janus-fixtures.ts';

describe('placeMeeting', () => {
  const up = (participants: number, rooms = 0) => ({ up: true, participants, rooms });
  const down = (participants: number, rooms = 0) => ({ up: false, participants, rooms });

  it('picks the instance that is up with the fewest participants, then the fewest rooms, then the first', () => {
    expect(placeMeeting([up(5), up(2), up(3)])).toBe(1);
    expect(placeMeeting([up(2, 3), up(2, 1), up(2, 1)])).toBe(1);
    expect(placeMeeting([up(0), up(0)])).toBe(0);
  });

  it('never picks an instance that is down while one is up, however loaded', () => {
    expect(placeMeeting([down(0), up(40, 9)])).toBe(1);
    expect(placeMeeting([up(40), down(0), down(0)])).toBe(0);
  });

  it('with none up, picks the least loaded of all (its setup fails and is retried), and none of none', () => {
    expect(placeMeeting([down(3), down(1)])).toBe(1);
    expect(placeMeeting([])).toBeUndefined();
  });
});

describe('nextHealth', () => {
  it('a lost session takes the instance down and moves its meetings; a new one brings it up', () => {
    expect(nextHealth('up', 'session-lost')).toEqual({ health: 'down', evacuate: true, wentDown: true });
    // A failed probe of an instance already down is not another outage.
    expect(nextHealth('down', 'session-lost')).toEqual({ health: 'down', evacuate: true, wentDown: false });
    expect(nextHealth('down', 'session-opened')).toEqual({ health: 'up', evacuate: false, wentDown: false });
    expect(nextHealth('up', 'session-opened')).toEqual({ health: 'up', evacuate: false, wentDown: false });
  });
});

// ---- the plane over fake instances ---------------------------------------------------------------

interface Wire {
  janus: string;
  transaction: string;
  body?: { request?: string; room?: number; id?: number; ptype?: string };
  [k: string]: unknown;
}

/** Janus instances that answer every request the plane makes, by URL; `kill` closes one's socket. */
function fakeJanuses() {
  const alive = new Map<string, boolean>();
  const sockets = new Map<string, JanusSocketListeners>();
  const requests: { url: string; m: Wire }[] = [];
  let next = 100;
  const answer = (m: Wire): Record<string, unknown> | undefined => {
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
      case 'detach':
      case 'destroy':
        return { janus: 'success', transaction: t };
      case 'keepalive':
      case 'trickle':
        return { janus: 'ack', transaction: t };
      case 'message': {
        const b = m.body ?? {};
        if (b.request === 'create') return plugin({ videoroom: 'created', room: b.room });
        if (b.request === 'destroy') return plugin({ videoroom: 'destroyed', room: b.room });
        if (b.request === 'join' && b.ptype === 'publisher')
          return plugin({ videoroom: 'joined', room: b.room, id: b.id }, 'event');
        if (b.request === 'publish')
          return plugin({ videoroom: 'event', configured: 'ok' }, 'event', { type: 'answer', sdp: 'v=0 a' });
        return undefined;
      }
      default:
        return undefined;
    }
  };
  const connect: JanusConnect = async (url, on) => {
    if (alive.get(url) !== true) throw new RoomdError('transport.open_failed', { message: `no ${url}` });
    sockets.set(url, on);
    return {
      send: (text) => {
        const m = JSON.parse(text) as Wire;
        requests.push({ url, m });
        const reply = answer(m);
        if (reply !== undefined) queueMicrotask(() => on.message(JSON.stringify(reply)));
      },
      close: () => {},
    };
  };
  return {
    connect,
    requests,
    start: (url: string) => alive.set(url, true),
    kill: (url: string) => {
      alive.set(url, false);
      sockets.get(url)?.close();
    },
  };
}

describe('JanusMediaPlane over several instances', () => {
  const A = 'ws://a.test';
  const B = 'ws://b.test';

  it('spreads meetings by load, moves the meetings of an instance that dies, and brings it back by probing', async () => {
    const j = fakeJanuses();
    j.start(A);
    j.start(B);
    const clock = new FakeClock();
    const plane = new JanusMediaPlane({
      urls: [A, B],
      clock,
      logger: silentLogger(),
      maxPublishers: 10,
      connect: j.connect,
      probeMs: 1000,
    });
    await flush();
    expect(plane.stats().janus?.instancesUp).toBe(2);

    const m1 = meeting('m1');
    const a1 = join(m1, 'a1');
    const a2 = join(m1, 'a2');
    plane.offer(a1.host, a1.p, 'v=0 offer');
    plane.offer(a2.host, a2.p, 'v=0 offer');
    await flush();
    const m2 = meeting('m2');
    const b1 = join(m2, 'b1');
    plane.offer(b1.host, b1.p, 'v=0 offer');
    await flush();

    let s = plane.stats().janus!;
    expect(s.instances.map((i) => [i.url, i.meetings, i.participants, i.rooms])).toEqual([
      [A, 1, 2, 1],
      [B, 1, 1, 1],
    ]);
    expect(a1.sent).toContainEqual({ type: 'sdp', sdpType: 'answer', sdp: 'v=0 a' });
    expect(b1.sent).toContainEqual({ type: 'sdp', sdpType: 'answer', sdp: 'v=0 a' });

    // A third meeting goes where there are fewer participants: B.
    const m3 = meeting('m3');
    const c1 = join(m3, 'c1');
    plane.offer(c1.host, c1.p, 'v=0 offer');
    await flush();
    expect(plane.stats().janus!.instances[1]!.meetings).toBe(2);

    // A dies: its participants are told, its meeting is unplaced, and their new offers land on B.
    j.kill(A);
    await flush();
    s = plane.stats().janus!;
    expect(s.instances[0]).toMatchObject({ health: 'down', meetings: 0, downs: 1, rooms: 0 });
    expect(s.instancesUp).toBe(1);
    expect(s.meetingsMoved).toBe(1);
    for (const x of [a1, a2]) expect(x.sent).toContainEqual({ type: 'media-lost', reason: 'failed' });
    expect(b1.sent).not.toContainEqual(expect.objectContaining({ type: 'media-lost' }));

    const before = j.requests.length;
    plane.offer(a1.host, a1.p, 'v=0 offer');
    plane.offer(a2.host, a2.p, 'v=0 offer');
    await flush();
    expect(j.requests.slice(before).every((r) => r.url === B)).toBe(true);
    s = plane.stats().janus!;
    expect(s.instances[1]).toMatchObject({ meetings: 3, participants: 4, rooms: 3 });

    // Probes bring A back; new meetings go there again (it is the least loaded).
    j.start(A);
    clock.advance(1000);
    await flush();
    expect(plane.stats().janus!.instances[0]!.health).toBe('up');
    const m4 = meeting('m4');
    const d1 = join(m4, 'd1');
    plane.offer(d1.host, d1.p, 'v=0 offer');
    await flush();
    expect(plane.stats().janus!.instances[0]).toMatchObject({ meetings: 1, rooms: 1 });

    for (const m of [m1, m2, m3, m4]) {
      for (const p of m.participants.values()) plane.detach(p);
      plane.end(m);
    }
    await flush();
    await plane.close();
    expect(plane.stats().janus!.rooms).toBe(0);
  });

  it('with every instance down, a meeting still goes somewhere and its setup fails as media-lost', async () => {
    const j = fakeJanuses();
    const clock = new FakeClock();
    const plane = new JanusMediaPlane({
      urls: [A, B],
      clock,
      logger: silentLogger(),
      maxPublishers: 10,
      connect: j.connect,
    });
    await flush();
    expect(plane.stats().janus?.instancesUp).toBe(0);
    const m = meeting('m');
    const x = join(m, 'x');
    plane.offer(x.host, x.p, 'v=0 offer');
    await flush();
    expect(x.sent).toContainEqual({ type: 'media-lost', reason: 'setup_failed' });
    expect(plane.stats().janus?.requestsFailed).toBe(1);
    await plane.close();
  });

  it('refuses to be built without an instance', () => {
    expect(
      () =>
        new JanusMediaPlane({ urls: [], clock: new FakeClock(), logger: silentLogger(), maxPublishers: 2 }),
    ).toThrow(RoomdError);
  });
});
