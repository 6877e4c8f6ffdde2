/**
 * Meetings whose media goes through Janus (docs/decisions/0018-media-planes.md): the real relay with
 * `mediaPlane: janus`, real Janus in a network namespace, headless participants in media workers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JanusFixture, startJanus } from '../../helpers/janus.ts';
import { allSecure, type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import type { RelayHooks } from '../../../src/relay/index.ts';
import { FAST_E2EE } from '../../helpers/meeting-harness.ts';

let janus: JanusFixture;
let h: Harness | undefined;

beforeAll(async () => {
  janus = await startJanus();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await janus?.stop();
});

const onJanus = (hooks: RelayHooks = {}) =>
  startHarness({ hooks, relay: { mediaPlane: { kind: 'janus', url: janus.url } } });

/** Waits until every one of `people` decrypted `more` fresh frames from every other one. */
async function framesFlow(people: HeadlessParticipant[], more = 3, what = 'frames flowing'): Promise<void> {
  const ids = people.map((p) => p.session.participantId!);
  const before = people.map((p) => ids.map((other) => p.okFrom(other)));
  await waitFor(
    () =>
      people.every((p, i) => ids.every((other, j) => i === j || p.okFrom(other) >= before[i]![j]! + more)),
    what,
    20_000,
  );
}

describe('E2EE meetings on the Janus media plane', () => {
  for (const n of [2, 3]) {
    it(`${n} participants go e2ee with one security code and decrypt each other's media`, async () => {
      h = await startHarness({ relay: { mediaPlane: { kind: 'janus', url: janus.url } } });
      const id = await h.meeting();
      const people = [h.participant(id, 'Host', { identity: h.host, client: 'room' })];
      for (let i = 1; i < n; i++) people.push(h.participant(id, `P${i}`));
      await Promise.all(people.map((p) => p.join()));
      await waitFor(() => allSecure(people), `${n} participants secure`, 30_000);
      const ids = people.map((p) => p.session.participantId!);
      const before = people.map((p) => ids.map((other) => p.okFrom(other)));
      await waitFor(
        () =>
          people.every((p, i) => ids.every((other, j) => i === j || p.okFrom(other) > before[i]![j]! + 2)),
        'frames flowing between everyone through Janus',
        20_000,
      );
      expect(people.reduce((s, p) => s + p.badTotal(), 0)).toBe(0);
      const stats = h.relay.stats();
      expect(stats.mediaPlane.kind).toBe('janus');
      expect(stats.mediaPlane.janus?.publishers).toBe(n);
      // Nothing went through the relay's own fan-out.
      expect(stats.media.chunksIn).toBe(0);
    });
  }

  it('a leaver is dropped from the feeds and the rekeyed meeting carries on', async () => {
    h = await onJanus();
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { identity: h.host, client: 'room' });
    const stay = h.participant(id, 'Stays');
    const leaver = h.participant(id, 'Leaves');
    await Promise.all([host.join(), stay.join(), leaver.join()]);
    await waitFor(() => allSecure([host, stay, leaver]), 'three secure', 30_000);
    await framesFlow([host, stay, leaver]);
    const epoch = host.session.sendEpoch;
    const leaverId = leaver.session.participantId!;
    await leaver.leave();
    await waitFor(
      () => host.session.sendEpoch > epoch && stay.session.sendEpoch > epoch && allSecure([host, stay]),
      'two secure after the rekey',
      30_000,
    );
    await framesFlow([host, stay], 5, 'frames after the rekey');
    await waitFor(() => h!.relay.stats().mediaPlane.janus?.publishers === 2, 'two publishers left');
    const fromLeaver = host.okFrom(leaverId);
    await framesFlow([host, stay], 5);
    expect(host.okFrom(leaverId)).toBe(fromLeaver);
    expect(host.badTotal() + stay.badTotal()).toBe(0);
    expect(host.session.relay.downlinkCounters.unmappedChunks).toBe(0);
  });

  it('a participant whose connection drops comes back with a new id and media both ways', async () => {
    h = await onJanus();
    const id = await h.meeting();
    const people = [
      h.participant(id, 'Host', { identity: h.host, client: 'room' }),
      h.participant(id, 'A'),
      h.participant(id, 'B'),
    ];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(() => allSecure(people), 'three secure', 30_000);
    const a = people[1]!;
    const old = a.session.participantId!;
    for (const conn of h.relay.core.connections)
      if (conn.participant?.id === old) conn.terminate(1011, 'test');
    await waitFor(
      () => a.session.participantId !== undefined && a.session.participantId !== old,
      'A back with a new id',
      20_000,
    );
    await waitFor(() => allSecure(people), 'three secure again', 30_000);
    await framesFlow(people, 5, 'frames both ways after the reconnect');
    expect(people.reduce((n, p) => n + p.badTotal(), 0)).toBe(0);
    await waitFor(() => h!.relay.stats().mediaPlane.janus?.publishers === 3, 'three publishers');
  });

  it('Janus crashing mid-meeting: everyone is told, offers again, and media flows through the new Janus', async () => {
    h = await onJanus();
    const id = await h.meeting();
    const people = [h.participant(id, 'Host', { identity: h.host, client: 'room' }), h.participant(id, 'A')];
    await Promise.all(people.map((p) => p.join()));
    await waitFor(() => allSecure(people), 'two secure', 30_000);
    await framesFlow(people);
    const lostBefore = people.map((p) => p.session.relay.mediaLost);
    const crashedAt = Date.now();
    await janus.restart();
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
    expect(victim.media.decryptFailures.audio).toBeGreaterThan(0);
    const fromHost = victim.okFrom(attack.from);
    await framesFlow([a, host], 5);
    // Nothing of the Host's decrypted at the victim while mislabelled, and its shield stayed down.
    expect(victim.okFrom(attack.from)).toBe(fromHost);
    expect(shields).not.toContain('e2ee');
    expect(victim.session.snapshot.shield).not.toBe('e2ee');
    off();
  });
});
