/** One sharer at a time, decided the same way on every screen (docs/protocol.md "# Content sharing"). */
import { describe, expect, it } from 'vitest';
import { parseDataMessage } from '../../../src/meeting/data-message.ts';
import { currentSharer, ShareChannel, type ShareMember } from '../../../src/meeting/share.ts';

/** Several members' channels joined by an in-memory data stream that delivers on `pump()`. */
function meeting(spec: Record<string, { host?: boolean }>) {
  const ids = Object.keys(spec);
  const channels = new Map<string, ShareChannel>();
  const preempted: string[] = [];
  const present = new Set(ids);
  const silent = new Set<string>();
  const queue: { from: string; payload: Uint8Array }[] = [];
  let now = 0;
  const pump = () => {
    while (queue.length > 0) {
      const { from, payload } = queue.shift()!;
      const msg = parseDataMessage(payload)!;
      for (const [other, c] of channels) if (other !== from && present.has(other)) c.receive(from, msg, now);
    }
  };
  for (const id of ids) {
    const ch = new ShareChannel({
      send: (payload) => {
        queue.push({ from: id, payload });
        return true;
      },
      members: (): ShareMember[] =>
        [...present].map((m) => ({ id: m, self: m === id, host: spec[m]?.host === true })),
    });
    ch.onPreempted(() => preempted.push(id));
    channels.set(id, ch);
  }
  return {
    ch: (id: string) => channels.get(id)!,
    preempted,
    pump,
    leave: (id: string) => present.delete(id),
    join: (id: string) => present.add(id),
    /** `id` stays listed but sends nothing more (its process hangs). */
    hang: (id: string) => silent.add(id),
    at: () => now,
    advance(ms: number) {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + 500);
        for (const [id, c] of channels) if (present.has(id) && !silent.has(id)) c.tick(now);
        pump();
      }
    },
    sharers: () => ids.filter((id) => present.has(id)).map((id) => channels.get(id)!.sharer(now)?.id ?? null),
  };
}

describe('currentSharer', () => {
  it('first come keeps it; a host takes over; ties go to the lower id', () => {
    expect(currentSharer([])).toBeNull();
    expect(
      currentSharer([
        { id: 'b', since: 1, host: false },
        { id: 'a', since: 2, host: false },
      ])?.id,
    ).toBe('b');
    expect(
      currentSharer([
        { id: 'b', since: 1, host: false },
        { id: 'h', since: 5, host: true },
      ])?.id,
    ).toBe('h');
    expect(
      currentSharer([
        { id: 'h1', since: 5, host: true },
        { id: 'h2', since: 9, host: true },
      ])?.id,
    ).toBe('h2');
    expect(
      currentSharer([
        { id: 'b', since: 3, host: false },
        { id: 'a', since: 3, host: false },
      ])?.id,
    ).toBe('a');
  });
});

describe('ShareChannel', () => {
  it('everyone sees the one sharer; a second non-host is refused', () => {
    const m = meeting({ room: {}, a: {}, b: {} });
    expect(m.ch('a').start(m.at(), 1000)).toEqual({ ok: true });
    m.pump();
    expect(m.sharers()).toEqual(['a', 'a', 'a']);
    expect(m.ch('room').start(m.at(), 2000)).toEqual({ ok: false, code: 'meeting.share_busy' });
    expect(m.ch('room').sharing).toBe(false);
  });

  it('the host takes over; the one sharing is told to stop', () => {
    const m = meeting({ room: {}, host: { host: true } });
    m.ch('room').start(m.at(), 1000);
    m.pump();
    expect(m.ch('host').start(m.at(), 2000)).toEqual({ ok: true });
    m.pump();
    expect(m.preempted).toEqual(['room']);
    expect(m.ch('room').sharing).toBe(false);
    expect(m.sharers()).toEqual(['host', 'host']);
  });

  it('two starting at once settle on one, the same everywhere', () => {
    const m = meeting({ a: {}, b: {}, c: {} });
    // Both decide before hearing the other: the earlier claim wins, the other stops.
    expect(m.ch('b').start(m.at(), 1500)).toEqual({ ok: true });
    expect(m.ch('a').start(m.at(), 1000)).toEqual({ ok: true });
    m.pump();
    m.advance(1000);
    expect(m.sharers()).toEqual(['a', 'a', 'a']);
    expect(m.preempted).toEqual(['b']);
  });

  it('a sharer who stops, leaves or falls silent is gone for everyone', () => {
    const m = meeting({ room: {}, a: {}, b: {} });
    m.ch('a').start(m.at(), 1000);
    m.pump();
    m.ch('a').stop(m.at());
    m.pump();
    expect(m.sharers()).toEqual([null, null, null]);
    m.ch('b').start(m.at(), 2000);
    m.pump();
    expect(m.ch('room').sharer(m.at())?.id).toBe('b');
    m.leave('b');
    expect(m.sharers()).toEqual([null, null]);
    // Still listed but silent (its device hung): gone 10 s after its last claim.
    m.ch('a').start(m.at(), 3000);
    m.pump();
    m.hang('a');
    m.advance(9500);
    expect(m.ch('room').sharer(m.at())?.id).toBe('a');
    m.advance(1000);
    expect(m.ch('room').sharer(m.at())).toBeNull();
  });

  it('claims are repeated while sharing, so a late joiner learns who shares', () => {
    const m = meeting({ a: {}, late: {} });
    m.leave('late');
    m.ch('a').start(m.at(), 1000);
    m.pump();
    m.join('late');
    expect(m.ch('late').sharer(m.at())).toBeNull();
    m.advance(3000);
    expect(m.ch('late').sharer(m.at())?.id).toBe('a');
  });

  it('malformed share messages are counted and ignored', () => {
    const m = meeting({ a: {}, b: {} });
    const msg = (o: Record<string, unknown>) => ({ v: 1, type: 'share', ...o }) as never;
    m.ch('a').receive('b', msg({ seq: -1, sharing: true, since: 1 }), 0);
    m.ch('a').receive('b', msg({ seq: 1, sharing: 'yes', since: 1 }), 0);
    m.ch('a').receive('b', msg({ seq: 1, sharing: true, since: Number.NaN }), 0);
    expect(m.ch('a').refused).toBe(3);
    expect(m.ch('a').sharer(0)).toBeNull();
  });
});
