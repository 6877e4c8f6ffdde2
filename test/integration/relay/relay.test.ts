// The relay over real wrtc on loopback (docs/protocol.md §Transport, §Session flow): participants
// join through the signaling socket, exchange opaque E2EE envelopes and media chunks through the
// relay's peer connections; admission rules; a restart keeps schedules and clients come back;
// nothing left open.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelay, type Relay } from '../../../src/relay/server.ts';
import { WorkerPeerConnectionFactory } from '../../../src/transport/worker-peer.ts';
import { hostKey, type Participant, participant, until, waitFor } from './helpers.ts';

let dir: string;
let relay: Relay;
const clientPeers = new WorkerPeerConnectionFactory();
const everyone: Participant[] = [];
const join = (...args: Parameters<typeof participant>): Participant => {
  const p = participant(...args);
  everyone.push(p);
  return p;
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'roomd-relay-it-'));
  relay = createRelay({ stateDir: dir });
  await relay.start();
});

afterAll(async () => {
  for (const p of everyone) await p.client.close();
  await relay.stop();
  await rm(dir, { recursive: true, force: true });
  expect(clientPeers.openCount).toBe(0);
  expect(relay.peers.openCount).toBe(0);
  await clientPeers.close();
});

describe('relay over wrtc', () => {
  it('three participants exchange envelopes and media through the relay', async () => {
    const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'pass', title: 'Three' });
    const url = relay.address.signalUrl;
    const host = join(url, clientPeers, m.id, { host: true, name: 'host' });
    await waitFor(host.client.events, 'media-open');
    const a = join(url, clientPeers, m.id, { name: 'a' });
    const b = join(url, clientPeers, m.id, { name: 'b', client: 'desktop' });
    await Promise.all([waitFor(a.client.events, 'media-open'), waitFor(b.client.events, 'media-open')]);
    await until(() => host.client.participantId !== undefined && b.client.participantId !== undefined);

    // envelopes: to the leader (the host), to all, to one; from is set by the relay
    a.client.sendE2ee('leader', '{"binding":"opaque"}');
    await until(() => host.envelopes.length === 1);
    expect(host.envelopes[0]).toMatchObject({
      from: a.client.participantId,
      to: 'leader',
      payload: '{"binding":"opaque"}',
    });
    host.client.sendE2ee('all', 'heartbeat-1');
    host.client.sendE2ee(b.client.participantId!, 'wrapped-for-b');
    await until(() => a.envelopes.length === 1 && b.envelopes.length === 2);
    expect(a.envelopes.map((e) => e.payload)).toEqual(['heartbeat-1']);
    expect(b.envelopes.map((e) => e.payload)).toEqual(['heartbeat-1', 'wrapped-for-b']);

    // media: each sends two frames (one over 16 KiB, chunked); the other two get both, intact
    const senders = [host, a, b];
    for (const [i, s] of senders.entries()) {
      for (const size of [1200, 50_000]) {
        const frame = new Uint8Array(size).fill(i + 1);
        expect(s.sendFrame(frame, { kind: 'video', streamId: 1, keyframe: size > 1200 })).toBe(true);
      }
    }
    await until(() => senders.every((s) => s.frames.length === 4));
    for (const [i, s] of senders.entries()) {
      const others = senders.filter((_, j) => j !== i).map((o) => Number(o.client.participantId));
      expect(new Set(s.frames.map((f) => f.sender))).toEqual(new Set(others));
      for (const f of s.frames) {
        const senderIndex = senders.findIndex((o) => Number(o.client.participantId) === f.sender);
        expect(f.data.every((byte) => byte === senderIndex + 1)).toBe(true);
      }
    }
    expect(relay.stats().media.chunksDropped).toBe(0);

    // keyframe request routed to the sender
    b.client.requestKeyframe(a.client.participantId!, 0);
    const kf = await waitFor(a.client.events, 'keyframe-request');
    expect(kf.from).toBe(b.client.participantId);

    for (const p of senders) await p.client.leave();
  });

  it('refuses a phone from an E2EE meeting and admits it to an enhanced one', async () => {
    const url = relay.address.signalUrl;
    const e2ee = await relay.registry.create({
      hostIdentityKey: hostKey,
      passcode: 'pass',
      encryption: 'e2ee',
    });
    const enhanced = await relay.registry.create({
      hostIdentityKey: hostKey,
      passcode: 'pass',
      encryption: 'enhanced',
    });
    const h1 = join(url, clientPeers, e2ee.id, { host: true, name: 'h1' });
    const h2 = join(url, clientPeers, enhanced.id, { host: true, name: 'h2' });
    await Promise.all([waitFor(h1.client.events, 'admission'), waitFor(h2.client.events, 'meeting-key')]);
    const phone = join(url, clientPeers, e2ee.id, { name: 'phone', client: 'phone', protocol: 0 });
    const refused = await waitFor(phone.client.events, 'admission');
    expect(refused).toMatchObject({ status: 'refused', reason: 'client_not_allowed' });
    expect(refused.status === 'refused' && refused.message).toMatch(/Telephone dial-in cannot join/);
    const phone2 = join(url, clientPeers, enhanced.id, { name: 'phone2', client: 'phone', protocol: 0 });
    const key = await waitFor(phone2.client.events, 'meeting-key');
    expect(key.key).toHaveLength(32);
    for (const p of [h1, h2, phone, phone2]) await p.client.leave();
  });

  it('makes a participant wait until the host joins', async () => {
    const url = relay.address.signalUrl;
    const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'pass' });
    const early = join(url, clientPeers, m.id, { name: 'early' });
    const waiting = await waitFor(early.client.events, 'admission');
    expect(waiting).toMatchObject({ status: 'waiting', reason: 'waiting_for_host' });
    expect(early.client.participantId).toBeUndefined();
    const admittedP = waitFor(early.client.events, 'admission', (a) => a.status === 'admitted');
    const leaderP = waitFor(early.client.events, 'leader');
    const openP = waitFor(early.client.events, 'media-open');
    const host = join(url, clientPeers, m.id, { host: true, name: 'host2' });
    const hostAdmitted = await waitFor(host.client.events, 'admission');
    expect((await admittedP).status).toBe('admitted');
    const leader = await leaderP;
    expect(hostAdmitted.status === 'admitted' && leader.participantId === hostAdmitted.participantId).toBe(
      true,
    );
    await openP;
    for (const p of [early, host]) await p.client.leave();
  });

  it('ten wrong passcodes from one device (unproven) leave the right passcode free to join', async () => {
    // docs/protocol.md §Wrong passcodes: a claimed device id never counts; the address and meeting
    // budgets allow 20 free failures before any wait.
    const url = relay.address.signalUrl;
    const m = await relay.registry.create({ hostIdentityKey: hostKey, passcode: 'right' });
    const reasons: string[] = [];
    for (let i = 0; i <= 10; i++) {
      const p = join(url, clientPeers, m.id, { name: 'guesser', passcode: i < 10 ? `wrong-${i}` : 'right' });
      const a = await waitFor(p.client.events, 'admission');
      reasons.push(a.status === 'refused' ? a.reason : a.status);
      await p.client.close();
    }
    expect(reasons).toEqual([...Array(10).fill('bad_passcode'), 'waiting']);
  });

  it('keeps scheduled meetings across a relay restart and clients rejoin on their own', async () => {
    const m = await relay.registry.create({
      hostIdentityKey: hostKey,
      passcode: 'pass',
      title: 'Scheduled',
      start: '2030-01-01T09:00:00Z',
      end: '2030-01-01T10:00:00Z',
      room: 'Board room',
    });
    const port = relay.address.port;
    const host = join(relay.address.signalUrl, clientPeers, m.id, {
      host: true,
      name: 'rehost',
      reconnect: true,
    });
    const first = await waitFor(host.client.events, 'admission', (a) => a.status === 'admitted');
    await relay.stop();
    await waitFor(host.client.events, 'disconnected');
    expect(clientPeers.openCount).toBe(everyone.filter((p) => p.client.mediaOpen).length);
    relay = createRelay({ stateDir: dir, port });
    await relay.start();
    expect(relay.registry.get(m.id)).toMatchObject({
      title: 'Scheduled',
      room: 'Board room',
      start: '2030-01-01T09:00:00Z',
    });
    const again = await waitFor(host.client.events, 'admission', (a) => a.status === 'admitted');
    expect(
      again.status === 'admitted' && first.status === 'admitted' && again.instanceId !== first.instanceId,
    ).toBe(true);
    await waitFor(host.client.events, 'media-open');
    await host.client.leave();
  });
});
