// Wrong-passcode budgets over the real relay (docs/protocol.md §Wrong passcodes): while an attacker
// hammers a meeting with wrong passcodes from many sockets, fresh joiners are held back, but the
// room the meeting is booked for (its identity key proven on join and registered with its own token)
// gets straight in. Real WebSockets on loopback; media on fake peers (admission is what matters).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { SystemClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RelayScheduleSource } from '../../../src/meeting/schedule.ts';
import { MeetingSession } from '../../../src/meeting/session.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import { createRelay, type Relay } from '../../../src/relay/server.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

const net = new FakePeerNetwork();
let relay: Relay;
const sessions: MeetingSession[] = [];

beforeAll(async () => {
  relay = createRelay({ peers: net });
  await relay.start();
});

afterAll(async () => {
  for (const s of sessions) await s.leave().catch(() => {});
  await relay.stop();
});

/** One attacker socket: sends a wrong-passcode join each time the last one is answered. */
function hammer(meetingId: string, n: number, stop: { on: boolean }, tally: Record<string, number>) {
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(relay.address.signalUrl);
    let i = 0;
    const send = () =>
      ws.send(
        JSON.stringify({
          v: 1,
          type: 'join',
          meetingId,
          passcode: `guess-${n}-${i++}`,
          displayName: 'Not the room',
          client: 'room',
          protocol: 1,
          // The room's public device id: claimed, never proven, so it counts for nothing.
          deviceId: 'roomd-board-room',
        }),
      );
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type: string; status?: string; reason?: string };
      if (m.type === 'hello') send();
      if (m.type !== 'admission') return;
      const key = m.status === 'refused' ? (m.reason ?? 'refused') : (m.status ?? '?');
      tally[key] = (tally[key] ?? 0) + 1;
      if (stop.on) ws.close();
      else send();
    });
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
}

function session(
  meetingId: string,
  name: string,
  identity: ReturnType<typeof ephemeralIdentity>,
  passcode: string,
) {
  const s = new MeetingSession({
    meetingId,
    passcode,
    relayUrl: relay.address.signalUrl,
    displayName: name,
    clientType: 'room',
    identity,
    peers: net,
    clock: new SystemClock(),
    log: silentLogger(),
  });
  sessions.push(s);
  return s;
}

describe('wrong-passcode budgets over the relay', () => {
  it("the booked room joins while an attacker hammers the meeting's passcode", async () => {
    const host = ephemeralIdentity('host');
    const roomIdentity = ephemeralIdentity('room');
    const m = await relay.registry.create({
      hostIdentityKey: toBase64Url(host.publicKey),
      title: 'Board',
      passcode: '583920',
      room: roomIdentity.deviceId,
    });
    // What an admin and the room do at installation: a room token, and the room registering its key.
    const { token } = await relay.registry.createRoomToken(roomIdentity.deviceId);
    const schedule = await new RelayScheduleSource({
      signalUrl: relay.address.signalUrl,
      room: roomIdentity.deviceId,
      token: () => token,
      identityKey: toBase64Url(roomIdentity.publicKey),
    }).list();
    expect(schedule.map((b) => b.meetingId)).toEqual([m.id]);

    const stop = { on: false };
    const tally: Record<string, number> = {};
    // Six sockets: under the relay's cap of unjoined connections per address (docs/protocol.md §Transport).
    const attackers = Array.from({ length: 6 }, (_, n) => hammer(m.id, n, stop, tally));
    const deadline = Date.now() + 15_000;
    // Wait until the meeting's shared budget is spent: attempts are now held back, not compared.
    while ((tally['locked_out'] ?? 0) < 50) {
      if (Date.now() > deadline) throw new Error(`the attack never hit the budget: ${JSON.stringify(tally)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // Fresh joiners are held back now, whoever they are (pure tests: test/unit/relay/admission.test.ts)...
    const fresh = { meetingId: m.id, address: '127.0.0.1', provenIdentity: 'x'.repeat(43), trusted: false };
    expect(relay.core.lockout.status(fresh).retryAfterMs).toBeGreaterThan(0);
    // ...but not the host and the booked room: both get in during the attack, at once.
    const hostSession = session(m.id, 'Host', host, '583920');
    await hostSession.join();
    const room = session(m.id, 'Board room', roomIdentity, schedule[0]!.passcode!);
    const snap = await room.join();
    expect(snap.status).not.toBe('failed');
    expect(room.participantId).not.toBeNull();
    expect(room.counters.reconnects).toBe(0);
    stop.on = true;
    await Promise.all(attackers);
    // Of all the guesses, only the meeting budget's free ones and a few after waits were compared.
    expect(tally['bad_passcode']).toBeLessThanOrEqual(25);
    expect(tally['admitted'] ?? 0).toBe(0);
    expect(tally['waiting'] ?? 0).toBe(0);
  });
});
