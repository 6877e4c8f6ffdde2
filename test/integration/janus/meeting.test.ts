/**
 * Meetings whose media goes through Janus (docs/decisions/0018-media-planes.md): the real relay with
 * `mediaPlane: janus`, real Janus in a network namespace, headless participants in media workers.
 * What only this plane has: Janus dying mid-meeting, and a relay lying in `media-feeds`. Meetings,
 * leaves, rekeys, reconnects and the E2EE-message attacks run on both planes in
 * test/integration/meeting/ (`describe.each(PLANES)`).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RelayHooks } from '../../../src/relay/index.ts';
import {
  allSecure,
  FAST_E2EE,
  framesFlow,
  type Harness,
  sharedJanus,
  startHarness,
  stopSharedJanus,
  waitFor,
} from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(stopSharedJanus);

const onJanus = (hooks: RelayHooks = {}) => startHarness({ hooks, plane: 'janus' });

describe('E2EE meetings on the Janus media plane', () => {
  it('Janus crashing mid-meeting: everyone is told, offers again, and media flows through the new Janus', async () => {
    h = await onJanus();
    const id = await h.meeting();
    const people = [h.participant(id, 'Host', { identity: h.host, client: 'room' }), h.participant(id, 'A')];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(() => allSecure(people), 'two secure', 30_000);
    await framesFlow(people);
    const lostBefore = people.map((p) => p.session.relay.mediaLost);
    const crashedAt = Date.now();
    await (await sharedJanus()).restart();
    await waitFor(
      () => people.every((p, i) => p.session.relay.mediaLost > lostBefore[i]!),
      'media-lost at both',
    );
    await framesFlow(people, 5, 'frames through the new Janus');
    console.log(
      `[media planes] Janus killed and restarted: frames flowing again ${Date.now() - crashedAt} ms later`,
    );
    expect(h.relay.stats().mediaPlane.janus?.reconnects).toBeGreaterThanOrEqual(1);
    expect(allSecure(people)).toBe(true);
  });

  it('a relay that maps one feed to another participant: receivers refuse the frames and never show e2ee', async () => {
    const attack = { on: false, victim: '', from: '', as: '' };
    h = await onJanus({
      outgoing(body, ctx) {
        if (!attack.on || body.type !== 'media-feeds' || ctx.participantId !== attack.victim) return body;
        // The victim is told the Host's feed is A's: its chunks arrive labelled as A.
        const feeds = body.feeds.map((f) =>
          f.participantId === attack.from ? { ...f, participantId: attack.as } : f,
        );
        return { ...body, feeds };
      },
    });
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { identity: h.host, client: 'room' });
    const a = h.participant(id, 'A');
    const victim = h.participant(id, 'Victim', { e2eeParams: { ...FAST_E2EE, integrityAlarmMs: 2500 } });
    const people = [host, a, victim];
    for (const p of people) await p.join();
    await waitFor(() => allSecure(people), 'three secure', 30_000);
    attack.victim = victim.session.participantId!;
    attack.from = host.session.participantId!;
    attack.as = a.session.participantId!;
    attack.on = true;
    // A feed map is sent whenever the meeting's feeds change: make one change, B joining.
    const b = h.participant(id, 'B');
    await b.join();
    await waitFor(
      () => victim.session.snapshot.shield === 'partial',
      'integrity alarm at the victim',
      30_000,
    );
    const shields: string[] = [];
    const off = victim.session.events.on('state', (s) => shields.push(s.shield));
    await waitFor(
      () => victim.session.snapshot.alarms.join(' ').includes('labelled with the wrong sender'),
      'the relabelled-frames alarm',
      20_000,
    );
    // Which kinds arrived mislabelled first depends on timing; every one of them is refused.
    const refused = Object.values(victim.media.decryptFailures).reduce((n, k) => n + k, 0);
    expect(refused).toBeGreaterThan(0);
    const fromHost = victim.okFrom(attack.from);
    await framesFlow([a, host], 5);
    // Nothing of the Host's decrypted at the victim while mislabelled, and its shield stayed down.
    expect(victim.okFrom(attack.from)).toBe(fromHost);
    expect(shields).not.toContain('e2ee');
    expect(victim.session.snapshot.shield).not.toBe('e2ee');
    off();
  });

  it('ten people: every downlink carries the other nine feeds, and everyone decrypts everyone', async () => {
    // One data channel per publisher on a Janus downlink: more than a media worker once allowed.
    h = await onJanus();
    const id = await h.meeting();
    const people = [h.participant(id, 'Host', { identity: h.host, client: 'room' })];
    for (let i = 1; i < 10; i++) people.push(h.participant(id, `P${i}`, { videoFps: 5, audioFps: 10 }));
    for (const p of people) await p.join();
    await waitFor(() => allSecure(people), 'ten secure', 60_000);
    await framesFlow(people, 3, 'frames between all ten');
    expect(h.relay.stats().mediaPlane.janus?.subscribers).toBe(10);
  });

  it('a receiver that says it is behind gets the three most recent speakers only, and everyone again once caught up', async () => {
    h = await onJanus();
    const id = await h.meeting();
    const speaking = new Set<string>();
    const person = (name: string, extra = {}) =>
      h!.participant(id, name, { audioLevel: () => (speaking.has(name) ? 20 : 100), ...extra });
    const people = [
      person('Host', { identity: h.host, client: 'room' }),
      person('A'),
      person('B'),
      person('C'),
      person('Slow'),
    ];
    for (const p of people) await p.join();
    await waitFor(() => allSecure(people), 'five secure', 30_000);
    await framesFlow(people);
    const slow = people[4]!;
    const ids = people.map((p) => p.session.participantId!);
    // C speaks last: the most recent speakers are C, then Host and A (the earliest joiners).
    speaking.add('C');
    await waitFor(() => people[3]!.session.relay.levelReports >= 2, "C's speech reported");
    slow.session.relay.downlinkBehind(true);
    await waitFor(() => h!.relay.stats().downlinksBehind === 1, 'the relay told');
    // B is not among the three: its feed leaves Slow's downlink while the speakers' keep coming.
    let fromB = -1;
    for (let round = 0; round < 10 && fromB !== 0; round++) {
      const before = slow.okFrom(ids[2]!);
      await framesFlow([slow, people[3]!, people[0]!, people[1]!], 5, 'the speakers at Slow');
      fromB = slow.okFrom(ids[2]!) - before;
    }
    expect(fromB).toBe(0);
    expect(allSecure(people)).toBe(true);
    slow.session.relay.downlinkBehind(false);
    await framesFlow(people, 5, 'everyone at everyone again');
  });
});
